"""The built demo site in a real browser (Debian's Chromium, headless, WebGL on SwiftShader).

The map must draw features read from the site's own tiles, with no console or map error and
no request to any other host than the local server; the page must fit a 375 px screen and read
fine without JavaScript.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

PROJECT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOCAL_HOST = "127.0.0.1"
MAP_READY = "document.querySelector('.trame-carte')?.dataset.etat === 'prete'"
MAP_TIMEOUT_MS = 20_000


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory, built once for the session by the real pipeline."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    from generator.build import build_site

    root = tmp_path_factory.mktemp("navigateur")
    output = root / "site"
    build_site(
        config=PROJECT / "layers" / "demo.yml",
        data_dir=PROJECT / "layers" / "demo",
        output=output,
        quiet=True,
        tiles_dir=root / "tiles",
    )
    return output


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    from generator.serve import make_server

    httpd = make_server(site, LOCAL_HOST, 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOCAL_HOST}:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def chromium(site: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Visit:
    """One page in a fresh browser context, with everything that went wrong on the way."""

    page: Any
    response: Any = None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def visit(chromium: Any, base_url: str) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(
        path: str, width: int = 1280, height: int = 800, javascript: bool = True
    ) -> Visit:
        context = chromium.new_context(
            viewport={"width": width, "height": height}, java_script_enabled=javascript
        )
        contexts.append(context)
        page = context.new_page()
        record = Visit(page)

        def route(request_route: Any) -> None:
            url = request_route.request.url
            if urlsplit(url).hostname == LOCAL_HOST:
                request_route.continue_()
            else:
                record.blocked.append(url)
                request_route.abort()

        context.route("**/*", route)
        page.on("request", lambda request: record.requests.append(request.url))
        page.on(
            "console",
            lambda message: (
                record.console_errors.append(message.text) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: record.page_errors.append(str(error)))
        record.response = page.goto(base_url + path)
        return record

    yield open_page
    for context in contexts:
        context.close()


def communes(site: Path) -> list[dict[str, Any]]:
    return json.loads((site / "api" / "communes.json").read_text(encoding="utf-8"))


def richest_commune(site: Path) -> tuple[dict[str, Any], set[str]]:
    """The commune with the most legend items present, and those items' ids."""

    def items(commune: dict[str, Any]) -> set[str]:
        detail = site / "api" / "communes" / f"{commune['insee']}.json"
        data = json.loads(detail.read_text(encoding="utf-8"))
        return {element["item"] for element in data.get("elements", [])}

    return max(((c, items(c)) for c in communes(site)), key=lambda pair: len(pair[1]))


def wait_for_map(record: Visit) -> float:
    """Seconds from now until the map's first `idle` event."""
    started = time.perf_counter()
    record.page.wait_for_function(MAP_READY, timeout=MAP_TIMEOUT_MS)
    return time.perf_counter() - started


def assert_clean(record: Visit) -> None:
    page = record.page
    assert page.evaluate("window.trameErreurs") == [], "map error events"
    assert record.console_errors == [], "console errors"
    assert record.page_errors == [], "uncaught exceptions"
    assert record.blocked == [], "requests to hosts other than the local server"


def rendered(page: Any, layers: list[str] | None = None) -> list[dict[str, Any]]:
    """Rendered features as {layer, item, insee} (optionally only in the given layers)."""
    return page.evaluate(
        """(layers) => window.trameCarte
            .queryRenderedFeatures(layers ? {layers} : undefined)
            .map((f) => ({layer: f.layer.id, item: (f.layer.metadata || {})['trame:item'] || null,
                          insee: f.properties.insee ?? null}))""",
        layers,
    )


def test_commune_page_draws_its_items_from_local_tiles(visit: Any, site: Path) -> None:
    commune, items = richest_commune(site)
    assert items, "the demo should have a commune with at least one legend item"
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page

    features = rendered(page)
    assert len(features) > 0
    drawn_items = {f["item"] for f in features if f["item"]}
    assert items <= drawn_items, f"legend items present in the commune but not drawn: {items}"
    legend_items = set(
        page.eval_on_selector_all(".trame-legende li", "l => l.map(li => li.dataset.item)")
    )
    assert drawn_items <= legend_items, "every drawn item appears in the page's legend"

    selection = rendered(page, ["commune-selection"])
    assert selection and {f["insee"] for f in selection} == {commune["insee"]}
    assert commune["insee"] not in {f["insee"] for f in rendered(page, ["commune-masque"])}

    tiles = [url for url in record.requests if urlsplit(url).path.endswith(".pbf")]
    assert tiles, "tiles are requested from the site itself"
    assert all(url.startswith(f"http://{LOCAL_HOST}:") for url in tiles)
    assert_clean(record)


def test_home_page_map_shows_the_territory_without_selection(visit: Any) -> None:
    record = visit("")
    wait_for_map(record)
    page = record.page
    features = rendered(page)
    assert any(f["layer"] == "communes-fond" for f in features)
    assert any(f["item"] for f in features), "legend items are drawn on the home page"
    assert rendered(page, ["commune-selection"]) == []
    assert rendered(page, ["commune-masque"]) == []
    assert_clean(record)


def test_commune_page_fits_a_small_phone(visit: Any, site: Path) -> None:
    commune = communes(site)[0]
    record = visit(commune["url"], width=375, height=667)
    wait_for_map(record)
    page = record.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no horizontal scroll"
    box = page.locator(".trame-carte").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert box["width"] >= 300 and box["height"] >= 250
    assert page.locator(".trame-carte canvas").is_visible()
    assert len(rendered(page)) > 0
    assert_clean(record)


def test_guard_sees_page_and_worker_requests(visit: Any) -> None:
    """The zero-third-party checks above mean something: both kinds of request are caught.

    198.51.100.0/24 is a documentation range (RFC 5737): nothing is reached even unblocked.
    """
    record = visit("")
    record.page.evaluate(
        """async () => {
            await fetch('http://198.51.100.7/page').catch(() => null);
            const source = "fetch('http://198.51.100.7/worker').finally(() => postMessage(1))";
            const url = URL.createObjectURL(new Blob([source], {type: 'text/javascript'}));
            await new Promise((resolve) => { new Worker(url).onmessage = resolve; });
        }"""
    )
    assert record.blocked == ["http://198.51.100.7/page", "http://198.51.100.7/worker"]


def test_skip_link_comes_first(visit: Any) -> None:
    record = visit("")
    page = record.page
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Aller au contenu"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#contenu"


def test_page_without_javascript_keeps_legend_and_text(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"], width=375, height=667, javascript=False)
    page = record.page
    assert commune["nom"] in page.locator("h1").inner_text()
    legend = page.locator(".trame-legende li")
    assert legend.count() > 1
    assert legend.first.is_visible()
    assert page.locator(".trame-legende .trame-chiffre").first.is_visible()
    assert page.locator("main table").is_visible()
    assert "Données fictives de démonstration" in page.get_by_role("note").inner_text()
    assert not page.locator(".trame-carte").is_visible(), "no empty map box without JavaScript"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not any(urlsplit(url).path.endswith(".pbf") for url in record.requests)
    assert record.blocked == []


def test_missing_page_gets_the_site_404(visit: Any) -> None:
    record = visit("nexiste/pas/")
    page = record.page
    assert record.response.status == 404
    assert page.locator("h1").inner_text() == "Page introuvable"
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px", "theme CSS loaded"
    assert record.blocked == []
