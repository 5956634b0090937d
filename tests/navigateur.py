"""Browser fixtures shared by test_browser.py and test_accessibility.py (imported by both).

One demo build, one local server and one Chromium serve the whole session: pytest makes one
fixture instance per importing module, so the instances are cached here. Every page is opened in
a fresh context that blocks and records any request not to 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

PROJECT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT.parent / "shared" / "data"
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
SEARCH_READY = ".recherche[data-pret]"
LEGEND_READY = ".trame-legende--interactive"
MAP_TIMEOUT_MS = 20_000
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 667}

_shared: dict[str, Any] = {}


def _once(key: str, make: Callable[[], Any]) -> Any:
    if key not in _shared:
        _shared[key] = make()
    return _shared[key]


def _serve(site: Path, request: pytest.FixtureRequest) -> str:
    from trame.serve import make_server

    httpd = make_server(site, LOCAL_HOST, 0, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()

    request.addfinalizer(stop)
    return f"http://{LOCAL_HOST}:{httpd.server_address[1]}/"


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory, built once for the session by the real pipeline."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")

    def build() -> Path:
        from trame.build import build_site

        root = tmp_path_factory.mktemp("navigateur")
        output = root / "site"
        build_site(
            config_path=PROJECT / "layers" / "demo.yml",
            data_dir=PROJECT / "layers" / "demo",
            output=output,
            quiet=True,
            tiles_dir=root / "tiles",
        )
        return output

    return _once("site", build)


@pytest.fixture(scope="session")
def base_url(site: Path, request: pytest.FixtureRequest) -> str:
    return _once("base_url", lambda: _serve(site, request))


@pytest.fixture(scope="session")
def valenciennes_url(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """Valenciennes Métropole (real commune names, fictitious layers), when ../shared is here."""
    data = SHARED_DATA / "valenciennes-metropole"
    if not data.is_dir():
        pytest.skip(f"shared test data not found at {data}; this test needs ../shared/data")

    def build() -> str:
        from trame.build import build_site

        root = tmp_path_factory.mktemp("valenciennes")
        build_site(
            config_path=PROJECT / "layers" / "valenciennes-metropole.yml", data_dir=data,
            output=root / "site", quiet=True, tiles_dir=root / "tiles",
        )  # fmt: skip
        return _serve(root / "site", request)

    return _once("valenciennes_url", build)


@pytest.fixture(scope="session")
def chromium(site: Path, request: pytest.FixtureRequest) -> Any:
    def launch() -> Any:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )

        def close() -> None:
            browser.close()
            playwright.stop()

        request.addfinalizer(close)
        return browser

    return _once("chromium", launch)


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
def visit(chromium: Any, base_url: str) -> Iterator[Callable[..., Visit]]:
    """visit(path, width=, height=, javascript=, base=) opens a page; see Visit."""
    contexts: list[Any] = []

    def open_page(
        path: str,
        width: int = WIDE["width"],
        height: int = WIDE["height"],
        javascript: bool = True,
        base: str | None = None,
    ) -> Visit:
        # Playwright's wait_for_function evaluates strings, which the site's CSP forbids:
        # these tests bypass it; test_xss_browser.py checks the pages under their CSP.
        context = chromium.new_context(
            viewport={"width": width, "height": height}, java_script_enabled=javascript,
            bypass_csp=True,
        )  # fmt: skip
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
        record.response = page.goto((base or base_url) + path)
        return record

    yield open_page
    for context in contexts:
        context.close()


def communes(site: Path) -> list[dict[str, Any]]:
    return json.loads((site / "api" / "communes.json").read_text(encoding="utf-8"))


def commune_detail(site: Path, insee: str) -> dict[str, Any]:
    return json.loads((site / "api" / "communes" / f"{insee}.json").read_text(encoding="utf-8"))


def richest_commune(site: Path) -> tuple[dict[str, Any], set[str]]:
    """The commune with the most legend items present, and those items' ids."""

    def items(commune: dict[str, Any]) -> set[str]:
        return {e["item"] for e in commune_detail(site, commune["insee"]).get("elements", [])}

    return max(((c, items(c)) for c in communes(site)), key=lambda pair: len(pair[1]))


def wait_for_map(record: Visit) -> float:
    """Seconds from now until the map's first `idle` event."""
    started = time.perf_counter()
    record.page.wait_for_function(MAP_READY, timeout=MAP_TIMEOUT_MS)
    return time.perf_counter() - started


def assert_clean(record: Visit) -> None:
    page = record.page
    assert page.evaluate("window.trameErreurs || []") == [], "map error events"
    assert record.console_errors == [], "console errors"
    assert record.page_errors == [], "uncaught exceptions"
    assert record.blocked == [], "requests to hosts other than the local server"


def rendered(page: Any, layers: list[str] | None = None) -> list[dict[str, Any]]:
    """Rendered features as {layer, item, insee, id} (optionally only in the given layers)."""
    return page.evaluate(
        """(layers) => window.trameCarte
            .queryRenderedFeatures(layers ? {layers} : undefined)
            .map((f) => ({layer: f.layer.id, item: (f.layer.metadata || {})['trame:item'] || null,
                          insee: f.properties.insee ?? null, id: f.properties.id ?? null}))""",
        layers,
    )
