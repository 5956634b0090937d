"""Shared fixtures and helpers. Test modules import the helpers (``from conftest import …``);
pytest finds the fixtures. Tests that need ../shared/data skip with a clear message when it is
absent; the browser fixtures (one demo site, one local server and one Chromium for the session,
every page in a fresh context that blocks and records any request not to 127.0.0.1) skip when
Chromium is not installed.

The two releases (test_releases.py, test_releases_browser.py): a second edition of the demo,
made in a copy of layers/demo, removes one obstacle, adds one, changes another's attributes,
and merges commune 00005 into 00006.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pyogrio.raw
import pytest
import shapely

from trame.config import Communes, Config, LegendItem, Source, Style, Tiles

PROJECT = Path(__file__).resolve().parent.parent
SHARED_DATA = next(
    (p / "shared" / "data" for p in PROJECT.parents if (p / "shared" / "data").is_dir()),
    PROJECT.parent / "shared" / "data",
)
"""``../shared/data``, or the nearest ``shared/data`` further up (a git worktree lives deeper)."""


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}; these tests need ../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory, built once for the whole test session."""
    from trame.build import build_site

    root = tmp_path_factory.mktemp("demo")
    site = root / "site"
    build_site(
        PROJECT / "layers" / "demo.yml", None, site, quiet=True, workers=1,
        tiles_dir=root / "tiles", pdf=True,
    )  # fmt: skip
    return site


@pytest.fixture
def hostile() -> str:
    """A name that breaks out of HTML attributes, scripts and Markdown if it is not escaped."""
    return '"><img src=x onerror=alert(1)></script><script>alert(2)</script>*_x_*'


@pytest.fixture
def hostile_config(hostile: str, tmp_path: Path) -> Config:
    """A one-item config whose name and sources are :func:`hostile`, with an explanatory text."""
    text = tmp_path / "texte.md"
    text.write_text("### Le SRCE\n\nTexte explicatif.", encoding="utf-8")
    item = LegendItem(
        id="reservoirs", label="Réservoir <b>", description="", source=Source(path=tmp_path),
        geometry="polygon", style=Style(color="#2e7d32"), id_field="ID",
        fields={"ID": "Identifiant", "NOM": "Nom"},
    )  # fmt: skip
    return Config(
        name=hostile, slug="t", fictitious=True, data_date=dt.date(2016, 9, 30), sources=(hostile,),
        licence="Licence Ouverte", communes=Communes(source=Source(path=tmp_path), insee_field="code", name_field="nom"),
        legend=(item,), tiles=Tiles(name="t"), explanatory_text=text, config_path=tmp_path,
    )  # fmt: skip


@pytest.fixture
def territory(tmp_path: Path) -> Path:
    """A copy of the demo config, legend, text and data in a temporary folder, to edit."""
    return copy_demo(tmp_path / "layers")


def copy_demo(layers: Path) -> Path:
    """Copy the demo config, legends, texts and data into ``layers``; return the config's path."""
    for folder in ("demo", "legendes", "textes"):
        shutil.copytree(PROJECT / "layers" / folder, layers / folder)
    shutil.copy(PROJECT / "layers" / "demo.yml", layers / "demo.yml")
    return layers / "demo.yml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/expected/ from what the build publishes (review the diff after)",
    )


# Releases ----------------------------------------------------------------------------------------

FIRST, SECOND = "2016-09", "2017-01"
REMOVED, MODIFIED, TEMPLATE, ADDED = (
    "FICTIF-OP0001",
    "FICTIF-OP0002",
    "FICTIF-OP0003",
    "FICTIF-OP9999",
)
OLD, NEW = "00005", "00006"


def second_edition(config: Path) -> None:
    """Edit the copy of the demo data: one point removed, one added, one modified; 00005 merged
    into 00006 (one polygon, the union of both), with renamed_communes in the config."""
    data = config.parent / "demo"
    gpkg = data / "srce_fictif.gpkg"
    meta, _, geometries, values = pyogrio.raw.read(gpkg, layer="obstacles_ponctuels")
    values = [np.array(v, dtype=object) for v in values]
    ids = list(values[0])
    nature = list(meta["fields"]).index("NATURE")
    values[nature][ids.index(MODIFIED)] = "Écluse"
    template = ids.index(TEMPLATE)
    moved = shapely.affinity.translate(shapely.from_wkb(geometries[template]), 150.0, 0.0)
    keep = [i for i, identifier in enumerate(ids) if identifier != REMOVED]
    new_values = [np.append(v[keep], v[template]) for v in values]
    new_values[0][-1] = ADDED
    new_geometries = np.append(geometries[keep], shapely.to_wkb(moved))
    pyogrio.raw.write(
        gpkg, new_geometries, new_values, fields=meta["fields"], layer="obstacles_ponctuels",
        driver="GPKG", crs=meta["crs"], geometry_type="Point", layer_options={"OVERWRITE": "YES"},
    )  # fmt: skip
    communes_path = data / "communes.geojson"
    communes = json.loads(communes_path.read_text(encoding="utf-8"))
    features = {f["properties"]["code"]: f for f in communes["features"]}
    union = shapely.union(
        shapely.geometry.shape(features[OLD]["geometry"]),
        shapely.geometry.shape(features[NEW]["geometry"]),
    )
    features[NEW]["geometry"] = shapely.geometry.mapping(union)
    communes["features"] = [f for f in communes["features"] if f["properties"]["code"] != OLD]
    communes_path.write_text(json.dumps(communes, ensure_ascii=False), encoding="utf-8")
    text = config.read_text(encoding="utf-8").replace(
        "data_date: 2016-09-30", "data_date: 2017-01-15"
    )
    assert "2017-01-15" in text
    config.write_text(text + f'\nrenamed_communes: {{"{OLD}": "{NEW}"}}\n', encoding="utf-8")


def build_release(config: Path, tmp: Path, version: str, **options) -> object:
    """Build ``config`` as release ``version`` into tmp/site (tiles in tmp/tiles)."""
    from trame.build import build_site

    return build_site(
        config, None, tmp / "site", quiet=True, workers=1, tiles_dir=tmp / "tiles",
        version=version, **options,
    )  # fmt: skip


# The browser -------------------------------------------------------------------------------------

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


def serve(site: Path, request: pytest.FixtureRequest) -> str:
    from trame.serve import make_server

    httpd = make_server(site, LOCAL_HOST, 0, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()

    def stop() -> None:
        httpd.shutdown()
        httpd.server_close()

    request.addfinalizer(stop)
    return f"http://{LOCAL_HOST}:{httpd.server_address[1]}/"


@pytest.fixture(scope="session")
def site(demo_site: Path) -> Path:
    """The demo site (:func:`demo_site`), for the browser tests: skipped without Chromium."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    return demo_site


@pytest.fixture(scope="session")
def base_url(site: Path, request: pytest.FixtureRequest) -> str:
    return serve(site, request)


DSFR_LINES = ["Préfet", "du Nord"]
DSFR_SERVICE = "Direction départementale des territoires et de la mer du Nord"


@pytest.fixture(scope="session")
def dsfr_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory in the DSFR theme (``theme: dsfr`` and a ``dsfr:`` block in a copy of
    its config), built once for the session; skipped when the DSFR is not installed."""
    from trame.paths import DSFR_DIST

    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    if not DSFR_DIST.is_dir():
        pytest.skip(
            f"{DSFR_DIST} not found: the npm package @gouvfr/dsfr installs only once its terms "
            "of use are accepted (DSFR_ACCEPT_LICENSE=1 npm ci, see the README)"
        )

    from trame.build import build_site

    root = tmp_path_factory.mktemp("dsfr")
    config = copy_demo(root / "layers")
    config.write_text(
        config.read_text(encoding="utf-8")
        + f"theme: dsfr\ndsfr:\n  marianne: [{', '.join(DSFR_LINES)}]\n  service: {DSFR_SERVICE}\n",
        encoding="utf-8",
    )
    output = root / "site"
    build_site(config, None, output, quiet=True, tiles_dir=root / "tiles")
    return output


@pytest.fixture(scope="session")
def dsfr_base_url(dsfr_site: Path, request: pytest.FixtureRequest) -> str:
    return serve(dsfr_site, request)


@pytest.fixture(scope="session")
def valenciennes_url(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> str:
    """Valenciennes Métropole (real commune names, fictitious layers), when ../shared is here."""
    data = SHARED_DATA / "valenciennes-metropole"
    if not data.is_dir():
        pytest.skip(f"shared test data not found at {data}; this test needs ../shared/data")

    from trame.build import build_site

    root = tmp_path_factory.mktemp("valenciennes")
    build_site(
        config_path=PROJECT / "layers" / "valenciennes-metropole.yml", data_dir=data,
        output=root / "site", quiet=True, tiles_dir=root / "tiles",
    )  # fmt: skip
    return serve(root / "site", request)


@pytest.fixture(scope="session")
def chromium(site: Path, request: pytest.FixtureRequest) -> Any:
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


def phone_page_with_a_slow_map(context: Any) -> tuple[Any, list[str]]:
    """A page of ``context`` (a phone's viewport) collecting its console and page errors, whose
    static map (``carte.svg``) is held 1.5 s, as when a slow machine paints it long after the
    text."""
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def held(route: Any) -> None:
        time.sleep(1.5)
        route.continue_()

    page.route("**/carte.svg", held)
    return page, errors


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


def layer_visibility(page: Any, item: str) -> set[str]:
    return set(
        page.evaluate(
            """(item) => window.trameCarte.getStyle().layers
                .filter((l) => (l.metadata || {})['trame:item'] === item)
                .map((l) => window.trameCarte.getLayoutProperty(l.id, 'visibility') || 'visible')""",
            item,
        )
    )


def assert_hidden_on_the_map(page: Any, item: str) -> None:
    """The item's layers are hidden and, once the map has repainted, none of it is drawn."""
    page.wait_for_function("window.trameCarte.loaded()")
    assert layer_visibility(page, item) == {"none"}
    page.evaluate("window.trameCarte.triggerRepaint()")
    page.wait_for_timeout(100)
    assert item not in {f["item"] for f in rendered(page)}


AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Any) -> list[dict[str, Any]]:
    if not AXE.exists():
        pytest.skip(f"{AXE} not found: install the JavaScript dependencies with `npm ci`")
    page.add_script_tag(path=str(AXE))
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {
                runOnly: {type: 'tag', values: tags}, resultTypes: ['violations'],
            });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' : ' + n.failureSummary),
            }));
        }""",
        WCAG21_AA,
    )


def focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
                || style.boxShadow !== 'none';
            return {
                tag: el.tagName.toLowerCase(), id: el.id, cls: el.className?.baseVal ?? el.className,
                type: el.type || '', text: (el.textContent || '').trim().slice(0, 60),
                label: el.getAttribute('aria-label') || '', ring,
                item: el.closest('[data-item]')?.dataset.item || '',
            };
        }"""
    )
