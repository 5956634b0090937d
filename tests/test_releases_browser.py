"""Releases in Chromium: two releases of the demo (see test_releases.py), served on 127.0.0.1.

The merged commune's old addresses lead to the commune that absorbed it, which says so; a page
of the first release says a newer version exists; the changes are drawn on the map and can be
hidden; the embed page runs inside an iframe of a page from another origin (localhost), under
its Content-Security-Policy.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import (
    CHROMIUM,
    FIRST,
    MAP_TIMEOUT_MS,
    NEW,
    OLD,
    SECOND,
    axe_violations,
    build_release,
    copy_demo,
    second_edition,
    serve,
)

pytestmark = pytest.mark.browser
MAP_READY = '.trame-carte[data-etat="prete"]'


@pytest.fixture(scope="module")
def releases_url(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> str:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    root = tmp_path_factory.mktemp("releases-browser")
    config = copy_demo(root / "layers")
    build_release(config, root, FIRST)
    second_edition(config)
    build_release(config, root, SECOND)
    return serve(root / "site", request)


@pytest.fixture
def browse(chromium: Any) -> Iterator[Any]:
    """browse(url) -> (page, problems): a fresh context, under the pages' own CSP, that blocks
    any host but 127.0.0.1 and localhost and records errors."""
    contexts = []

    def open_page(url: str, bypass_csp: bool = False) -> tuple[Any, list[str]]:
        context = chromium.new_context(
            viewport={"width": 1280, "height": 900}, bypass_csp=bypass_csp
        )
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []

        def route(request_route: Any) -> None:
            if urlsplit(request_route.request.url).hostname in {"127.0.0.1", "localhost"}:
                request_route.continue_()
            else:
                problems.append(f"blocked {request_route.request.url}")
                request_route.abort()

        context.route("**/*", route)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(url)
        return page, problems

    yield open_page
    for context in contexts:
        context.close()


def commune_path(base: str, insee: str) -> str:
    communes = json.loads(
        __import__("urllib.request").request.urlopen(base + "api/communes.json").read()
    )
    return next(c["url"] for c in communes if c["insee"] == insee)


def test_the_merged_communes_old_addresses_work(browse: Any, releases_url: str) -> None:
    target = commune_path(releases_url, NEW)
    versions = json.loads(
        __import__("urllib.request").request.urlopen(releases_url + "api/versions.json").read()
    )
    old_page = versions["merged_communes"][OLD]["pages"][0]["url"]  # versions/<first>/communes/…
    old_slug_path = "communes/" + old_page.rstrip("/").split("/")[-1] + "/"
    for path in (f"communes/{OLD}/", old_slug_path):
        page, problems = browse(releases_url + path)
        page.wait_for_selector(f'[data-trame-fusion="{OLD}"]', timeout=MAP_TIMEOUT_MS)
        assert urlsplit(page.url).path == "/" + target
        notice = page.inner_text(f'[data-trame-fusion="{OLD}"]')
        assert "a fusionné avec" in notice and FIRST in notice
        link = page.get_attribute(f'[data-trame-fusion="{OLD}"] a', "href")
        assert link.endswith(old_page)
        assert problems == []
    # The first release's page of the old commune is still there, and says what is newer.
    page, problems = browse(releases_url + old_page)
    page.wait_for_selector(f'[data-trame-version-recente="{SECOND}"]', timeout=MAP_TIMEOUT_MS)
    current = page.get_attribute("[data-trame-version-recente] a", "href")
    assert current.endswith(old_slug_path)
    page.goto(current)
    page.wait_for_selector(f'[data-trame-fusion="{OLD}"]', timeout=MAP_TIMEOUT_MS)
    assert problems == []


def test_a_frozen_page_says_a_newer_version_exists(browse: Any, releases_url: str) -> None:
    path = commune_path(releases_url, NEW)
    page, problems = browse(f"{releases_url}versions/{FIRST}/{path}")
    page.wait_for_selector(f'[data-trame-version-recente="{SECOND}"]', timeout=MAP_TIMEOUT_MS)
    link = page.get_attribute("[data-trame-version-recente] a", "href")
    assert link == releases_url + path
    citation = page.inner_text("a.trame-citation__adresse")
    assert citation == f"{releases_url}versions/{FIRST}/{path}"  # completed by the script
    embed = page.inner_text("code[data-integrer]")
    assert f'src="{releases_url}{path}integrer/"' in embed and 'title="Trame verte' in embed
    page, more = browse(releases_url + path)
    page.wait_for_selector(MAP_READY, timeout=MAP_TIMEOUT_MS)
    assert page.query_selector("[data-trame-version-recente]") is None
    assert problems == [] and more == []


def test_the_changes_are_drawn_on_the_map_and_can_be_hidden(browse: Any, releases_url: str) -> None:
    changes = json.loads(
        __import__("urllib.request").request.urlopen(releases_url + "api/changes.json").read()
    )
    commune = next(c for c in changes["communes"] if c["modified"])
    page, problems = browse(releases_url + commune["url"])
    page.wait_for_selector(MAP_READY, timeout=MAP_TIMEOUT_MS)
    box = page.wait_for_selector("#afficher-changements", timeout=MAP_TIMEOUT_MS)
    visibility = (
        "() => window.trameCarte.getLayoutProperty('changements-point', 'visibility') || 'visible'"
    )
    assert page.evaluate("window.trameChangements") >= 1
    assert page.evaluate(visibility) == "visible"
    box.focus()
    page.keyboard.press("Space")
    assert page.evaluate(visibility) == "none"
    assert problems == []


@pytest.fixture
def other_origin(tmp_path: Path, releases_url: str) -> Iterator[str]:
    """A town hall's page on http://localhost:<port>/ embedding the demo's embed page."""
    port = urlsplit(releases_url).port
    html = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<title>Mairie</title><link rel="icon" href="data:,"></head><body><h1>Notre commune</h1>
<iframe src="{releases_url}{{path}}" title="Trame verte et bleue" width="960" height="760"
 style="border:0" allowfullscreen></iframe></body></html>"""
    (tmp_path / "template.html").write_text(html, encoding="utf-8")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    assert httpd.server_address[1] != port
    yield f"http://localhost:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_the_embed_page_works_in_an_iframe_of_another_origin(
    browse: Any, releases_url: str, other_origin: str, tmp_path: Path
) -> None:
    path = commune_path(releases_url, NEW) + "integrer/"
    template = (tmp_path / "template.html").read_text(encoding="utf-8")
    (tmp_path / "mairie.html").write_text(template.replace("{path}", path), encoding="utf-8")
    page, problems = browse(other_origin + "mairie.html")
    frame = page.frame_locator("iframe")
    frame.locator(MAP_READY).wait_for(timeout=MAP_TIMEOUT_MS)
    inner = next(f for f in page.frames if f.url.endswith(path))
    assert urlsplit(inner.url).hostname == "127.0.0.1" != urlsplit(page.url).hostname
    assert inner.evaluate("window.trameCarte.queryRenderedFeatures().length") > 0
    assert inner.evaluate("document.title").startswith("Trame verte et bleue à")
    assert inner.evaluate("document.documentElement.lang") == "fr"
    sentences = inner.locator(".trame-phrases li").all_inner_texts()
    assert len(sentences) >= 6  # the text alternative of the map: one sentence per legend item
    assert inner.locator(".trame-legende li").count() >= 7
    assert inner.locator("header.entete, nav.navigation, footer.pied").count() == 0  # no chrome
    canvas = inner.locator(".maplibregl-canvas")
    assert canvas.get_attribute("tabindex") == "0"  # reachable with the keyboard
    canvas.focus()
    before = inner.evaluate("window.trameCarte.getZoom()")
    page.keyboard.press("+")
    # wait_for_function would evaluate a string inside the frame, which its CSP forbids: poll
    for _ in range(MAP_TIMEOUT_MS // 100):
        if inner.evaluate("window.trameCarte.getZoom()") > before:
            break
        page.wait_for_timeout(100)
    assert inner.evaluate("window.trameCarte.getZoom()") > before, "the + key did not zoom in"
    full = inner.locator("a[target=_top]").get_attribute("href")
    assert full == "../"
    assert problems == []


def test_release_pages_pass_axe(browse: Any, releases_url: str) -> None:

    changes = json.loads(
        __import__("urllib.request").request.urlopen(releases_url + "api/changes.json").read()
    )
    changed = next(c for c in changes["communes"] if c["modified"])["url"]
    problems = {}
    for path in ["versions/", "changements/", changed, f"{changed}integrer/",
                 f"versions/{FIRST}/{changed}"]:  # fmt: skip
        page, errors = browse(releases_url + path, bypass_csp=True)
        if page.query_selector(".trame-carte"):
            page.wait_for_selector(MAP_READY, timeout=MAP_TIMEOUT_MS)
        if path.startswith("versions/2"):
            page.wait_for_selector("[data-trame-version-recente]", timeout=MAP_TIMEOUT_MS)
        violations = axe_violations(page)
        if violations or errors:
            problems[path] = violations + errors
    assert problems == {}
