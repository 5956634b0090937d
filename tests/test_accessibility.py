"""Accessibility measured in a real browser (Chromium, headless) on the built demo site.

axe-core (node_modules, the npm lock's copy) runs on the WCAG 2.1 A and AA rules: zero violation
on the home page, a commune page, the search with its results open, a phone-sized commune page
and every narrative page. A keyboard-only walk reaches the skip link, the search, the legend
toggles and the element list, each with a visible focus ring. Pages declare French, headings
follow in order, and the phone layout folds the legend (screenshot kept in the test's folder).
Every visit blocks and records requests to other hosts than 127.0.0.1: there must be none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import (
    LEGEND_READY,
    PHONE,
    SEARCH_READY,
    assert_clean,
    axe_violations,
    communes,
    focused,
    richest_commune,
    wait_for_map,
)

pytestmark = pytest.mark.browser

NARRATIVE_PAGES = ["communes/", "accessibilite/", "traitement/"]  # the others share their layout


def test_axe_home_page(visit: Any) -> None:
    record = visit("")
    wait_for_map(record)
    assert axe_violations(record.page) == []
    assert_clean(record)


def test_axe_commune_page(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    # with a popup open and an item hidden, too
    page.locator("table.trame-elements tbody th button").first.click()
    page.locator(".maplibregl-popup").wait_for()
    page.locator(".trame-legende input[type=checkbox]").nth(1).uncheck()
    assert axe_violations(page) == []
    assert_clean(record)


def test_axe_search_results_open(visit: Any, site: Path) -> None:
    record = visit(communes(site)[0]["url"])
    page = record.page
    page.wait_for_selector(SEARCH_READY, state="attached")
    page.locator("#recherche-commune").fill("sa")
    page.locator("#recherche-resultats [role=option]").first.wait_for()
    page.keyboard.press("ArrowDown")
    assert page.locator("#recherche-commune").get_attribute("aria-activedescendant")
    assert axe_violations(page) == []
    assert_clean(record)


def test_axe_phone_commune_page(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"], **PHONE)
    record.page.wait_for_selector(LEGEND_READY)
    assert axe_violations(record.page) == []
    assert_clean(record)


def test_axe_narrative_pages(visit: Any) -> None:
    problems = {}
    for path in NARRATIVE_PAGES:
        record = visit(path)
        violations = axe_violations(record.page)
        if violations:
            problems[path] = violations
        assert_clean(record)
    assert problems == {}


def test_keyboard_only_walk_reaches_everything_with_a_visible_focus(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"])
    wait_for_map(record)
    page = record.page
    stops = []
    for _ in range(150):
        page.keyboard.press("Tab")
        stop = focused(page)
        if stop["tag"] == "body" or (stops and stop == stops[0]):
            break
        stops.append(stop)
    assert stops[0]["text"] == "Aller au contenu", "the skip link comes first"
    without_ring = [s for s in stops if not s["ring"]]
    assert without_ring == [], "every focused element shows a focus ring"

    def first(predicate: Any) -> int:
        return next(i for i, s in enumerate(stops) if predicate(s))

    search = first(lambda s: s["id"] == "recherche-commune")
    legend = first(lambda s: "trame-legende__bouton" in s["cls"])
    boxes = [i for i, s in enumerate(stops) if s["type"] == "checkbox"]
    legend_items = page.eval_on_selector_all(
        ".trame-legende li[data-item]", "l => l.map(li => li.dataset.item)"
    )
    assert [stops[i]["item"] for i in boxes] == legend_items, "one toggle per legend item"
    elements = [i for i, s in enumerate(stops) if "trame-element" in s["cls"]]
    assert len(elements) == page.locator("table.trame-elements tbody tr").count()
    map_canvas = first(lambda s: s["tag"] == "canvas")
    assert 0 < search < legend < boxes[0] < elements[0]
    assert search < map_canvas < elements[0], "the map itself takes the focus (arrow keys)"
    assert_clean(record)


def test_french_pages_with_headings_in_order(visit: Any, site: Path) -> None:
    commune, _ = richest_commune(site)
    for path in ["", commune["url"], "accessibilite/", "communes/"]:
        record = visit(path)
        page = record.page
        assert page.evaluate("document.documentElement.lang") == "fr"
        levels = page.eval_on_selector_all(
            "h1, h2, h3, h4, h5, h6", "l => l.map(h => +h.tagName[1])"
        )
        assert levels[0] == 1 and levels.count(1) == 1, f"{path}: one h1, first"
        jumps = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
        assert jumps == [], f"{path}: no heading level skipped {levels}"
        assert page.locator("meta[name=description]").get_attribute("content")
        assert_clean(record)


def test_accessibility_statement_is_linked_from_every_page(visit: Any) -> None:
    record = visit("")
    page = record.page
    assert (
        page.get_by_role("navigation", name="Menu principal")
        .get_by_role("link", name="Accessibilité")
        .is_visible()
    )
    page.get_by_role("link", name="Accessibilité : non conforme").click()
    page.wait_for_url("**/accessibilite/")
    text = page.locator("main").inner_text()
    for words in (
        "Déclaration d'accessibilité", "RGAA", "version 4.1", "non conforme", "axe-core",
        "clavier", "375 pixels", "sans JavaScript", "carte statique", "Défenseur des droits",
    ):  # fmt: skip
        assert words in text, words
    assert_clean(record)


def test_phone_layout_folds_the_legend(visit: Any, site: Path, tmp_path: Path) -> None:
    commune, _ = richest_commune(site)
    record = visit(commune["url"], **PHONE)
    page = record.page
    page.wait_for_selector(LEGEND_READY)
    toggle = page.get_by_role("button", name="Légende")
    assert toggle.get_attribute("aria-expanded") == "false", "folded by default on a phone"
    assert page.locator(".trame-legende ul").is_hidden()
    assert page.locator("h1").is_visible()
    assert page.locator("figure.trame-carte-statique img").is_visible()
    assert page.get_by_role("button", name="Afficher la carte interactive").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=tmp_path / "telephone-replie.png", full_page=True)

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.locator(".trame-legende li").first.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=tmp_path / "telephone-deplie.png", full_page=True)
    assert (tmp_path / "telephone-replie.png").stat().st_size > 10_000
    assert_clean(record)
