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
    page = render_commune_list(environment(), hostile_config, [commune])
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
