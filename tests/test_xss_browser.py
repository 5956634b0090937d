"""Names and attributes from the data reach every page as text: a hostile data set is built and
opened in Chromium, and nothing in it may run (issue: safe output)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pyogrio.raw
import pytest
import shapely

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/lib/chromium/chromium")
ARGS = [
    "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
HOSTILE = [
    "<script>window.__xss='script'</script>",
    '"><img src=x onerror="window.__xss=\'img\'">',
    "</script><script>window.__xss='close'</script>",
    "<svg onload=\"window.__xss='svg'\">",
]


def poison(territory: Path) -> None:
    communes = territory.parent / "demo" / "communes.geojson"
    data = json.loads(communes.read_text(encoding="utf-8"))
    for feature, name in zip(data["features"], HOSTILE, strict=False):
        feature["properties"]["nom"] = name + " Ville"
    communes.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    gpkg = territory.parent / "demo" / "srce_fictif.gpkg"
    for layer, field in (
        ("obstacles_ponctuels", "NATURE"),
        ("reservoirs_biodiversite", "NOM_RESV"),
    ):
        meta, _, wkb, columns = pyogrio.raw.read(gpkg, layer=layer)
        names = list(meta["fields"])
        columns = list(columns)
        values = columns[names.index(field)].copy()
        for index in range(len(values)):
            values[index] = HOSTILE[index % len(HOSTILE)]
        columns[names.index(field)] = values
        pyogrio.raw.write(
            gpkg, geometry=shapely.to_wkb(shapely.from_wkb(wkb)), field_data=columns, fields=names,
            geometry_type=meta["geometry_type"], crs=meta["crs"], layer=layer, append=False,
        )  # fmt: skip


@pytest.fixture
def hostile_site(territory: Path, tmp_path: Path) -> Path:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    from trame.build import build_site

    poison(territory)
    build_site(territory, None, tmp_path / "site", quiet=True, workers=1, tiles_dir=tmp_path / "t")
    return tmp_path / "site"


def test_hostile_names_and_attributes_never_run(hostile_site: Path) -> None:
    # Another module's session-wide Playwright may own this thread's event loop: run ours in a
    # thread of its own, and re-raise what it found here.
    failures: list[BaseException] = []

    def run() -> None:
        try:
            open_hostile_pages(hostile_site)
        except BaseException as error:  # noqa: BLE001 - handed back to the test's thread
            failures.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the browser did not finish in 120 s"
    if failures:
        raise failures[0]


def open_hostile_pages(hostile_site: Path) -> None:
    from playwright.sync_api import sync_playwright

    from trame.serve import make_server

    server = make_server(hostile_site, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    communes = json.loads((hostile_site / "api" / "communes.json").read_text(encoding="utf-8"))
    hostile_pages = [c["url"] for c in communes if "Ville" in c["nom"]]
    assert len(hostile_pages) == len(HOSTILE)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
            page = browser.new_page()  # the site's CSP applies here (no bypass)
            console_errors: list[str] = []
            page.on(
                "console", lambda m: console_errors.append(m.text) if m.type == "error" else None
            )
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            for path in ["", "communes/", "traitement/", *hostile_pages]:
                page.goto(base + path)
                page.wait_for_load_state("load")
                page.wait_for_timeout(300)
                # the names are shown, as text
                if path in hostile_pages:
                    assert "Ville" in page.inner_text("h1")
                    assert "<script>" in page.inner_text("main") or "<" in page.inner_text("h1")
                # click every element row of the text alternative / popups if the page has them
                for button in page.query_selector_all(".trame-elements button")[:5]:
                    button.click()
                assert page.evaluate("window.__xss === undefined"), f"script ran on {path}"
            assert dialogs == []
            # Under the pages' own Content-Security-Policy, the map still starts and nothing
            # is refused (a refusal is reported as a console error).
            page.goto(base + hostile_pages[0])
            page.wait_for_selector(".trame-carte[data-etat='prete']", timeout=30_000)
            policy = page.get_attribute("meta[http-equiv='Content-Security-Policy']", "content")
            assert policy and "default-src 'self'" in policy and "unsafe-eval" not in policy
            assert console_errors == []
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
