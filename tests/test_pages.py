"""Page rendering: French figures, and data that reaches the page as text, never as markup."""

import shapely

from trame.figures import CommuneView, Element, ItemFigures
from trame.french import french_number
from trame.pages import (
    environment,
    explication_markdown,
    render_commune,
    render_commune_list,
    sentence,
)
from trame.territory import Commune


def test_french_number():
    assert french_number(1234.56) == "1\u202f234,6"
    assert french_number(9, 1) == "9,0"
    assert french_number(0.125, 2) == "0,12"


def test_sentences():
    polygons = ItemFigures("r", "Réservoirs", "polygon", 3, area_ha=124.5, share_pct=9.0)
    assert sentence(polygons) == "Réservoirs : 3 éléments, 124,5 ha, soit 9,0 % de la commune."
    lines = ItemFigures("c", "Corridors", "line", 1, length_km=2.265)
    assert sentence(lines) == "Corridors : 1 élément, 2,27 km dans la commune."
    assert sentence(ItemFigures("o", "Obstacles", "point", 0)) == (
        "Obstacles : aucun élément sur la commune."
    )


def test_data_reaches_the_page_as_escaped_text(hostile, hostile_config):
    commune = Commune(
        insee="59606", name=hostile, slug="evil", postcodes=("59300",),
        geometry=shapely.box(0, 0, 1000, 1000),
    )  # fmt: skip
    element = Element(id=hostile, attributes={"ID": hostile, "NOM": hostile}, area_ha=1.0)
    figures = [
        ItemFigures("reservoirs", "Réservoir <b>", "polygon", 1, 1.0, 1.0, elements=[element])
    ]
    page = render_commune(
        environment(), hostile_config, CommuneView(commune, figures, (0, 0, 1, 1)),
        "<h2>Explication</h2>",
    )  # fmt: skip
    body = page.content
    assert "<script>" not in body and "<img src=x" not in body and "<b>" not in body
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in body
    assert "Réservoir &lt;b&gt;" in body
    assert "<h2>Explication</h2>" in body  # the explanatory section, rendered once by MkDocs
    assert 'data-insee="59606"' in body and 'data-root="../../"' in body
    assert page.title.startswith(hostile) and page.meta["title"] == page.title
    assert page.src_uri == "communes/59606-evil.md"


def test_the_explanatory_section_is_the_operators_markdown(hostile_config):
    assert "### Le SRCE" in explication_markdown(environment(), hostile_config)


def test_the_commune_list_carries_names_as_escaped_text(hostile, hostile_config):
    """The commune list is HTML put into the theme as is (no Markdown pass that could read
    ``*_x_*`` as emphasis): names reach it escaped, nothing else."""
    commune = Commune("59606", hostile, "evil", (), shapely.box(0, 0, 10, 10))
    [page] = render_commune_list(environment(), hostile_config, [commune])
    assert "<script>" not in page.content and "<img src=x" not in page.content
    assert "*_x_*" in page.content and "&lt;script&gt;" in page.content
    assert page.src_uri == "communes/index.md" and page.meta["title"] == "Les communes"


def test_the_legend_names_the_communes_with_the_style_label(hostile_config, monkeypatch):
    monkeypatch.setattr("trame.pages.COMMUNES_LABEL", "Limite communale (test)")
    commune = Commune("59606", "Évin", "evin", (), shapely.box(0, 0, 10, 10))
    page = render_commune(environment(), hostile_config, CommuneView(commune, [], (0, 0, 1, 1)), "")
    assert '<li data-item="communes">' in page.content
    assert "<span>Limite communale (test)</span>" in page.content


def test_the_home_page_lists_the_communes_of_a_small_territory_only(hostile_config):
    """Up to HOME_LIST_MAX communes the home page lists them; beyond, it points to the list
    page and the search field (a long list made Nord's home page score 77 in performance)."""
    from trame import pages

    def home(n: int) -> str:
        communes = [
            Commune(f"59{i:03d}", f"Commune {i}", f"commune-{i}", (), shapely.box(i, 0, i + 1, 1))
            for i in range(n)
        ]
        return pages.render_index(
            environment(), hostile_config, communes, (0.0, 0.0, 1.0, 1.0), [], "<p>x</p>"
        ).content

    small, large = home(pages.HOME_LIST_MAX), home(pages.HOME_LIST_MAX + 1)
    assert small.count('<li><a href="./communes/59') == pages.HOME_LIST_MAX
    assert 'href="./communes/"' not in small
    assert '<li><a href="./communes/59' not in large
    assert f'<a href="./communes/">liste des {pages.HOME_LIST_MAX + 1} communes</a>' in large
    assert f"({pages.HOME_LIST_MAX + 1} communes)" in large
    assert "1\u202f234 communes" in home(1234)


def _communes(codes):
    return [Commune(code, f"Commune {code}", f"commune-{code}", (), shapely.box(0, 0, 1, 1))
            for code in codes]  # fmt: skip


def test_a_large_territory_lists_its_communes_by_departement(hostile_config, monkeypatch):
    """Over LIST_PAGE_MAX communes in several départements: ``communes/`` lists the
    départements, each département page lists its own communes; every commune is on exactly one
    page, and every link of the first page leads to one of the others."""
    monkeypatch.setattr("trame.pages.LIST_PAGE_MAX", 5)
    codes = ["59001", "59002", "62001", "2A004", "97101", "62002"]
    names = {"59": "Nord", "62": "Pas-de-Calais", "2A": "Corse-du-Sud"}
    index, *parts = render_commune_list(environment(), hostile_config, _communes(codes), names)
    assert index.src_uri == "communes/index.md"
    assert [p.src_uri for p in parts] == [
        "communes/departement-2a/index.md", "communes/departement-59/index.md",
        "communes/departement-62/index.md", "communes/departement-971/index.md",
    ]  # fmt: skip
    for part in parts:  # linked from the first page, relative to it
        folder = part.src_uri.removeprefix("communes/").removesuffix("index.md")
        assert f'href="{folder}"' in index.content
    assert 'Pas-de-Calais</a> <span class="trame-code">62</span> — 2 communes' in index.content
    assert "Département 971</a>" in index.content  # no name known: said plainly
    assert "Commune 59001" not in index.content
    listed = [c for p in parts for c in codes if f">Commune {c}</a>" in p.content]
    assert sorted(listed) == sorted(codes)  # each commune once, on its département's page
    assert 'href="../../communes/62002-commune-62002/"' in parts[2].content
    assert parts[1].title == "Les communes — Nord (59)"


def test_a_smaller_territory_or_one_departement_keeps_one_list(hostile_config, monkeypatch):
    monkeypatch.setattr("trame.pages.LIST_PAGE_MAX", 5)
    for codes in (["59001", "62001", "62002"], [f"59{i:03}" for i in range(1, 9)]):
        [page] = render_commune_list(environment(), hostile_config, _communes(codes), {})
        assert all(f">Commune {c}</a>" in page.content for c in codes)


def test_the_processing_report_counts_the_points_the_territory_map_leaves_out(hostile_config):
    from trame.pages import render_processing_report
    from trame.validate import ValidationReport

    page = render_processing_report(
        environment(), hostile_config, ValidationReport(), {}, {"reservoirs": 1234}
    )
    assert "Carte statique du territoire" in page
    assert "Réservoir &lt;b&gt; : 1\u202f234</li>" in page
    quiet = render_processing_report(environment(), hostile_config, ValidationReport(), {}, {})
    assert "Aucun point n'y est omis." in quiet
