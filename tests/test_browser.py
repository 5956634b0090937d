"""The built demo site in a real browser (Debian's Chromium, headless, WebGL on SwiftShader).

The map must draw features read from the site's own tiles, with no console or map error and
no request to any other host than the local server (every visit blocks and records them); the
legend toggles the items, the table of elements and clicks show their attributes, neighbours
open their page, the view is a permalink, the search finds communes, the page prints on one
sheet, fits a 375 px screen and reads fine without JavaScript.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import (
    LOCAL_HOST,
    PHONE,
    SEARCH_READY,
    assert_clean,
    assert_hidden_on_the_map,
    commune_detail,
    communes,
    layer_visibility,
    phone_page_with_a_slow_map,
    rendered,
    richest_commune,
    wait_for_map,
)

pytestmark = pytest.mark.browser


def style(site: Path) -> dict[str, Any]:
    return json.loads((site / "api" / "style.json").read_text(encoding="utf-8"))


def item_labels(site: Path) -> dict[str, dict[str, Any]]:
    """item id -> {label, fields: {FIELD: Libellé}} from the style's metadata."""
    labels = {}
    for layer in style(site)["layers"]:
        meta = layer.get("metadata") or {}
        if "trame:item" in meta and "trame:label" in meta:  # the communes' layer has no item
            labels[meta["trame:item"]] = {
                "label": meta["trame:label"], "fields": dict(meta["trame:fields"]),
            }  # fmt: skip
    return labels


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
    # the static map painted first, and is hidden once the interactive one is ready
    assert page.locator("figure.trame-carte-statique img").evaluate("i => i.complete")
    assert not page.locator("figure.trame-carte-statique").is_visible()
    # commune names: HTML labels over the map, hidden from screen readers; no glyphs, no text layer
    label = page.locator(".trame-etiquette--courante")
    assert label.inner_text() == commune["nom"] and label.is_visible()
    assert page.locator(".trame-etiquettes").get_attribute("aria-hidden") == "true"
    assert "glyphs" not in style(site)
    assert all(layer["type"] != "symbol" for layer in style(site)["layers"])
    assert not any(re.search(r"glyph|font", url) for url in record.requests)
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


def test_legend_symbols_are_drawn_from_the_map_style(visit: Any, site: Path) -> None:
    record = visit(communes(site)[0]["url"])
    page = record.page
    paints: dict[str, str] = {}
    for layer in style(site)["layers"]:
        item = (layer.get("metadata") or {}).get("trame:item")
        if item:
            paints[item] = paints.get(item, "") + json.dumps(layer.get("paint", {})).lower()
    symbols = page.eval_on_selector_all(
        ".trame-legende li[data-item]",
        """l => l.map(li => [li.dataset.item,
                [...li.querySelectorAll('svg [fill], svg [stroke]')]
                  .flatMap(e => [e.getAttribute('fill'), e.getAttribute('stroke')])
                  .filter(c => c && c.startsWith('#'))])""",
    )
    assert {item for item, _ in symbols} == set(paints) | {"communes"}
    for item, colours in symbols:
        if item != "communes":
            assert colours and all(c.lower() in paints[item] for c in colours), item


def test_legend_toggles_each_item_by_mouse_and_keyboard(visit: Any, site: Path) -> None:
    commune, items = richest_commune(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    item = sorted(items)[0]
    box = page.locator(f".trame-legende li[data-item='{item}'] input[type=checkbox]")
    assert box.is_checked()

    page.locator(f".trame-legende li[data-item='{item}'] label").click()  # mouse
    assert not box.is_checked()
    assert_hidden_on_the_map(page, item)

    box.focus()
    page.keyboard.press("Space")  # keyboard
    assert box.is_checked()
    assert layer_visibility(page, item) == {"visible"}

    contour = page.locator(".trame-legende li[data-item='communes'] input")
    contour.click()
    assert (
        page.evaluate("window.trameCarte.getLayoutProperty('communes-contour', 'visibility')")
        == "none"
    )
    assert_clean(record)


def test_element_chosen_in_the_table_shows_with_its_french_labels(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    detail = commune_detail(site, commune["insee"])
    labels = item_labels(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    element = detail["elements"][0]
    button = page.locator("table.trame-elements tbody th button").first
    assert button.inner_text() == element["id"]

    button.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".maplibregl-popup")
    popup.wait_for()
    fields = labels[element["item"]]["fields"]
    assert popup.locator(".trame-fiche__titre").inner_text() == labels[element["item"]]["label"]
    shown = dict(
        zip(
            popup.locator("dt").all_inner_texts(),
            popup.locator("dd").all_inner_texts(),
            strict=True,
        )
    )
    expected = {
        label: str(element["attributes"][name])
        for name, label in fields.items()
        if element["attributes"].get(name) not in (None, "")
    }
    assert shown == expected, "configured French labels, values as text"
    assert list(shown) == [label for label in fields.values() if label in expected], "order"
    assert popup.locator("dd *").count() == 0, "values are text, never HTML"
    highlight = page.evaluate(
        "(item) => JSON.stringify(window.trameCarte.getFilter(item + '-surbrillance'))",
        element["item"],
    )
    assert element["id"] in highlight, "the element is outlined on the map"
    assert page.evaluate(
        "document.querySelector('.maplibregl-popup').contains(document.activeElement)"
    )

    page.keyboard.press("Escape")
    assert popup.count() == 0
    assert page.evaluate("document.activeElement.textContent") == element["id"], "focus returns"
    assert_clean(record)


def test_clicking_an_element_on_the_map_shows_its_attributes(visit: Any, site: Path) -> None:
    labels = item_labels(site)
    points = [i for i, d in labels.items() if "ponctuel" in i]
    commune = next(
        c
        for c in communes(site)
        if any(e["item"] in points for e in commune_detail(site, c["insee"])["elements"])
    )
    element = next(
        e for e in commune_detail(site, commune["insee"])["elements"] if e["item"] in points
    )
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    page.locator("table.trame-elements button", has_text=element["id"]).click()
    page.locator(".maplibregl-popup").wait_for()
    page.wait_for_function("!window.trameCarte.isMoving()")
    page.keyboard.press("Escape")  # focus goes back to the table: bring the map back into view
    page.locator(".trame-carte").scroll_into_view_if_needed()
    # the obstacle is a point: the popup was anchored on it; click right there on the canvas
    x, y = page.evaluate(
        """(id) => {
            const f = window.trameCarte.querySourceFeatures('trame', {sourceLayer: 'obstacles-ponctuels',
                filter: ['==', ['get', 'id'], id]})[0];
            const p = window.trameCarte.project(f.geometry.coordinates);
            const r = window.trameCarte.getCanvas().getBoundingClientRect();
            return [r.left + p.x, r.top + p.y];
        }""",
        element["id"],
    )
    page.mouse.click(x, y)
    popup = page.locator(".maplibregl-popup")
    popup.wait_for()
    assert element["id"] in popup.inner_text()
    assert labels[element["item"]]["label"] in popup.inner_text()
    assert_clean(record)


def test_clicking_a_neighbour_opens_its_page(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    target = page.evaluate(
        """(insee) => {
            const map = window.trameCarte, canvas = map.getCanvas();
            const w = canvas.clientWidth, h = canvas.clientHeight;
            const items = map.getStyle().layers.filter((l) => (l.metadata || {})['trame:item'])
              .map((l) => l.id);
            for (let y = 40; y < h - 40; y += 15) for (let x = 40; x < w - 60; x += 15) {
                const [c] = map.queryRenderedFeatures([x, y], {layers: ['communes-fond']});
                if (!c || c.properties.insee === insee) continue;
                if (map.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]], {layers: items}).length)
                    continue;
                const r = canvas.getBoundingClientRect();
                return {x: r.left + x, y: r.top + y, insee: c.properties.insee};
            }
            return null;
        }""",
        commune["insee"],
    )
    assert target, "a neighbouring commune is visible around the commune"
    neighbour = next(c for c in communes(site) if c["insee"] == target["insee"])
    page.mouse.click(target["x"], target["y"])
    page.wait_for_url(re.compile(re.escape(neighbour["url"]) + "$"))
    assert neighbour["nom"] in page.locator("h1").inner_text()
    assert_clean(record)


def test_map_controls_in_french_and_permalink_reopens_the_view(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    for label in ("Zoomer", "Dézoomer", "Afficher la carte en plein écran"):
        assert page.get_by_role("button", name=label, exact=True).is_visible(), label
    assert re.search(r"\d+\s*(m|km)", page.locator(".maplibregl-ctrl-scale").inner_text())

    page.evaluate(
        """(b) => window.trameCarte.jumpTo({center: [(b[0] + b[2]) / 2 + 0.003, (b[1] + b[3]) / 2],
                                            zoom: 14.25})""",
        commune["bbox"],
    )
    page.wait_for_function("location.hash.startsWith('#carte=14.25/')")
    hash_ = page.evaluate("location.hash")
    link = page.get_by_role("link", name="Lien vers cette vue")
    assert link.get_attribute("href") == hash_
    center = page.evaluate("window.trameCarte.getCenter().toArray()")

    again = visit(commune["url"] + hash_)
    wait_for_map(again)
    assert again.page.evaluate("window.trameCarte.getZoom()") == pytest.approx(14.25, abs=0.01)
    reopened = again.page.evaluate("window.trameCarte.getCenter().toArray()")
    assert reopened == pytest.approx(center, abs=1e-4)
    assert_clean(record)
    assert_clean(again)


def test_commune_page_fits_a_small_phone(visit: Any, site: Path) -> None:
    commune = communes(site)[0]
    record = visit(commune["url"], **PHONE)
    page = record.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, "no horizontal scroll"
    # on a phone the static map comes first (in the frame after the text's) and MapLibre is not
    # even downloaded until asked for
    page.locator("figure.trame-carte-statique img").wait_for(state="visible", timeout=5_000)
    page.wait_for_load_state("networkidle")
    assert not any("maplibre-gl.mjs" in url for url in record.requests)
    page.get_by_role("button", name="Afficher la carte interactive").click()
    wait_for_map(record)
    box = page.locator(".trame-carte").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert box["width"] >= 300 and box["height"] >= 250
    assert page.locator(".trame-carte canvas").is_visible()
    assert not page.locator("figure.trame-carte-statique").is_visible()
    assert len(rendered(page)) > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
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
    record = visit(commune["url"], **PHONE, javascript=False)
    page = record.page
    assert commune["nom"] in page.locator("h1").inner_text()
    legend = page.locator(".trame-legende li")
    assert legend.count() > 1
    assert legend.first.is_visible()
    assert page.locator(".trame-legende .trame-chiffre").first.is_visible()
    assert page.locator("main table").is_visible()
    assert "Données fictives de démonstration" in page.get_by_role("note").inner_text()
    assert not page.locator(".trame-carte").is_visible(), "no empty map box without JavaScript"
    static = page.locator("figure.trame-carte-statique img")
    assert static.is_visible() and static.evaluate("i => i.naturalWidth") > 0
    assert not page.locator("#recherche-commune").is_visible()
    assert page.get_by_role("link", name="Trouver une commune dans la liste").is_visible()
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


# --- Search ------------------------------------------------------------------------------------


def suggestions(page: Any, text: str) -> list[str]:
    page.locator("#recherche-commune").fill(text)
    page.wait_for_function(
        "(t) => document.querySelector('#recherche-resultats').dataset.requete === t", arg=text
    )
    if page.locator("#recherche-resultats").is_hidden():
        return []
    return page.locator("#recherche-resultats .recherche__nom").all_inner_texts()


def test_search_by_name_code_and_postcode_with_the_keyboard(visit: Any, site: Path) -> None:
    by_name = {c["nom"]: c for c in communes(site)}
    queremont, epinoy = by_name["Quérémont"], by_name["L'Épinoy-sur-Rhonelle"]
    record = visit("a-propos/")
    page = record.page
    page.wait_for_selector(SEARCH_READY, state="attached")
    page.locator("#recherche-commune").focus()
    assert suggestions(page, "quer")[0] == "Quérémont"
    assert suggestions(page, "QUÉR")[0] == "Quérémont", "case and accents do not matter"
    assert suggestions(page, "Queremont") == ["Quérémont"]
    assert suggestions(page, queremont["insee"]) == ["Quérémont"], "INSEE code"
    assert suggestions(page, epinoy["codes_postaux"][-1]) == [epinoy["nom"]], "postal code"
    assert epinoy["nom"] in suggestions(page, "epinoy"), "a later word of the name"
    assert suggestions(page, "zzz") == []
    assert page.locator("[data-recherche-statut]").inner_text() == "Aucune commune trouvée."

    suggestions(page, "sa")
    field = page.locator("#recherche-commune")
    assert field.get_attribute("aria-expanded") == "true"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    active = field.get_attribute("aria-activedescendant")
    option = page.locator(f"#{active}")
    assert option.get_attribute("aria-selected") == "true"
    chosen = option.locator(".recherche__nom").inner_text()
    page.keyboard.press("Escape")
    assert field.get_attribute("aria-expanded") == "false"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(by_name[chosen]["url"]) + "$"))
    assert chosen in page.locator("h1").inner_text()
    assert_clean(record)


def test_search_finds_valenciennes_communes(visit: Any, valenciennes_url: str) -> None:
    record = visit("", base=valenciennes_url)
    page = record.page
    page.wait_for_selector(SEARCH_READY, state="attached")
    page.locator("#recherche-commune").focus()
    assert suggestions(page, "valenc")[0] == "Valenciennes"
    for text in ("Condé", "conde", "CONDE-SUR"):
        assert suggestions(page, text)[0] == "Condé-sur-l'Escaut", text
    assert "Valenciennes" in suggestions(page, "59300")
    assert suggestions(page, "59606") == ["Valenciennes"]
    assert suggestions(page, "st saulve") == ["Saint-Saulve"], "st for saint"
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"communes/\d{5}-saint-saulve/$"))
    assert_clean(record)


# --- Print -------------------------------------------------------------------------------------


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def test_commune_page_prints_on_one_sheet(visit: Any, site: Path, tmp_path: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    page.emulate_media(media="print")
    visible = [
        ".entete__site", "h1", ".bandeau-fictif", "figure.trame-carte-statique img",
        ".trame-phrases", ".trame-sources", ".trame-adresse",
    ]  # fmt: skip
    for selector in visible:
        assert page.locator(selector).first.is_visible(), selector
    for selector in (".trame-carte", ".navigation", ".recherche", "table.trame-elements", ".pied"):
        assert not page.locator(selector).first.is_visible(), selector
    address = page.locator(".trame-adresse [data-adresse]").inner_text()
    assert address == record.page.url.split("#")[0], "the sheet names its page"
    pdf_link = page.locator(".trame-sources a[href='carte.pdf']")
    assert pdf_link.is_visible() and pdf_link.inner_text().endswith("carte.pdf"), "and its PDF"
    assert page.request.get(pdf_link.evaluate("a => a.href")).body()[:5] == b"%PDF-"
    assert "Date des données" in page.locator(".trame-sources").inner_text()

    a4 = page.pdf(format="A4", landscape=True, print_background=True)
    a3 = page.pdf(format="A3", landscape=True, print_background=True)
    (tmp_path / "a4.pdf").write_bytes(a4)
    (tmp_path / "a3.pdf").write_bytes(a3)
    assert pdf_pages(a4) == 1, f"A4 landscape: one sheet (see {tmp_path / 'a4.pdf'})"
    assert pdf_pages(a3) == 1, f"A3 landscape: one sheet (see {tmp_path / 'a3.pdf'})"
    # @page asks for landscape whatever the paper: the browser's own size is used as is
    css_default = page.pdf(prefer_css_page_size=True, width="210mm", height="297mm")
    width, height = (
        float(v)
        for v in re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", css_default).groups()
    )
    assert width > height, "landscape"


def test_text_first_then_the_static_map_then_the_scripts(chromium: Any, base_url: str) -> None:
    """The home page on a phone (Lighthouse's, 412 × 823): the text paints without the static
    map (slow to rasterise on a slow device), the map comes next, and the page's modules are
    asked for only once it is on screen, so that on a slow line they never delay it. Its file
    comes late here (held 1.5 s), as when a slow machine paints it long after the text."""
    context = chromium.new_context(viewport={"width": 412, "height": 823})
    try:
        page, errors = phone_page_with_a_slow_map(context)
        page.goto(base_url)
        page.wait_for_selector(SEARCH_READY, state="attached")
        first, painted = page.evaluate(
            """() => new Promise((done) => {
                new PerformanceObserver((list) => {
                    const map = list.getEntries().find((e) => e.identifier === 'carte-statique');
                    const paint = performance.getEntriesByName('first-contentful-paint')[0];
                    if (map) done([paint.startTime, map.renderTime]);
                }).observe({type: 'element', buffered: true});
            })"""
        )
        modules = page.evaluate(
            """() => performance.getEntriesByType('resource')
                .filter((e) => e.name.endsWith('.mjs'))
                .map((e) => [new URL(e.name).pathname.split('/').pop(), e.startTime])"""
        )
        hidden = page.evaluate("document.documentElement.dataset.avantPeinture")
    finally:
        context.close()
    assert 0 < first < painted and painted > 1500
    assert hidden is None
    assert "recherche.mjs" in dict(modules)
    assert [name for name, start in modules if start < painted] == [], painted
    assert errors == []


STATIC_MAP_PAINTS = """() => new Promise((done) => {
    const seen = [];
    new PerformanceObserver((list) => {
        for (const e of list.getEntries()) if (e.identifier === 'carte-statique') seen.push(e);
    }).observe({type: 'element', buffered: true});
    setTimeout(() => done(seen.length), 300);
})"""


def test_wide_screen_map_takes_the_static_maps_place_without_painting_it(
    visit: Any, site: Path
) -> None:
    """On a wide screen the interactive map starts at once: the static image is fetched (for
    print) but never painted, its raster would hold the GPU thread that makes the map's WebGL
    context (see disposition.css)."""
    commune = communes(site)[0]
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    assert page.locator("figure.trame-carte-statique img").evaluate("i => i.complete")
    assert page.evaluate(STATIC_MAP_PAINTS) == 0, "the static map was painted"
    assert page.locator(".trame-carte canvas").is_visible()
    assert_clean(record)


def test_wide_screen_without_webgl_shows_the_static_map(chromium: Any, base_url: str) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        context.add_init_script(
            """(() => {
                const original = HTMLCanvasElement.prototype.getContext;
                HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
                    return String(kind).startsWith('webgl') ? null : original.call(this, kind, ...rest);
                };
            })()"""
        )
        page = context.new_page()
        page.goto(base_url)
        message = page.locator(".trame-carte-message")
        message.wait_for(state="visible", timeout=15_000)
        assert "voici la carte statique" in message.inner_text()
        static = page.locator("figure.trame-carte-statique img")
        static.wait_for(state="visible", timeout=5_000)
        assert static.evaluate("i => i.naturalWidth") > 0
        assert not page.locator(".trame-carte").is_visible()
    finally:
        context.close()


def test_wide_screen_shows_the_static_map_when_the_map_module_never_comes(
    chromium: Any, base_url: str
) -> None:
    """The static map is hidden on wide screens only while the interactive map may still come:
    when its module cannot be loaded at all, a CSS animation shows it after 3 s."""
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        context.route("**/carte.mjs", lambda route: route.abort())
        page = context.new_page()
        page.goto(base_url)
        static = page.locator("figure.trame-carte-statique img")
        page.wait_for_timeout(1_000)
        assert not static.is_visible(), "hidden while the map may still start"
        static.wait_for(state="visible", timeout=5_000)
        assert page.locator(".trame-carte").get_attribute("data-etat") is None
    finally:
        context.close()
