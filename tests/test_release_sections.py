"""A commune page's changes table, as :mod:`trame.releases.sections` words it."""

from __future__ import annotations

from pathlib import Path

from trame.config import load_config
from trame.releases.changes import CommuneChanges, ElementChange
from trame.releases.info import ReleaseInfo
from trame.releases.sections import (
    changes_view,
    commune_sections,
    counts_sentence,
    figure_text,
    script_json,
)

PROJECT = Path(__file__).resolve().parent.parent


def _info() -> ReleaseInfo:
    return ReleaseInfo(
        load_config(PROJECT / "layers" / "demo.yml"), "2026-2", "2026-06-01", None, []
    )


def _found(previous: str | None, elements: list[ElementChange]) -> CommuneChanges:
    figures = [
        {"item": "reservoirs-a-preserver", "label": "Réservoirs", "kind": "polygon",
         "before": {"count": 1, "area_ha": 2.0, "share_pct": 1.5}, "after": {"count": 2, "area_ha": 3.25, "share_pct": 2.0}},
        {"item": "corridors-ecologiques", "label": "Corridors", "kind": "line",
         "before": {"count": 1, "length_km": 1.0}, "after": {"count": 1, "length_km": 1.0}},
    ]  # fmt: skip
    return CommuneChanges(
        "59001", "Abscon", "communes/59001-abscon/", "2026-2", previous, [], elements, figures
    )


def test_a_first_release_has_no_changes_table():
    assert changes_view(_info(), _found(None, [])) is None
    assert changes_view(_info(), None) is None


def test_each_change_is_worded_with_the_legend_fields():
    elements = [
        ElementChange("added", "reservoirs-a-preserver", "R9", "Réservoirs", None,
                      {"ID_RESV": "R9", "NOM_RESV": "Marais", "MILMAJ_NAT": ""}),
        ElementChange("modified", "reservoirs-a-preserver", "R1", "Réservoirs",
                      {"NOM_RESV": "Bois"}, {"NOM_RESV": None}, ["NOM_RESV"], moved_m=12.5),
        ElementChange("removed", "inconnu", "X1", "Autre", {"CODE": "X1"}, None),
    ]  # fmt: skip
    view = changes_view(_info(), _found("2026-1", elements))
    rows = {row["id"]: row for row in view["rows"]}
    # Added: its attributes by their labels, without the identifier nor the empty ones.
    assert rows["R9"]["word"] == "Ajouté" and rows["R9"]["details"] == "Nom : Marais"
    # Modified: before → after, "(vide)" for an empty value, and how far the outline moved.
    assert rows["R1"]["details"] == "Nom : Bois → (vide) ; tracé déplacé de 12,5 m au plus"
    # An item no longer in the legend keeps its raw field names.
    assert rows["X1"]["word"] == "Supprimé" and rows["X1"]["details"] == "CODE : X1"
    assert view["summary"] == "1 ajout, 1 suppression, 1 modification"
    # Only the figures that changed are listed.
    assert view["figures"] == [
        {
            "label": "Réservoirs",
            "before": "2,0 ha (1,5 %), 1 élément",
            "after": "3,2 ha (2,0 %), 2 éléments",
        }
    ]
    assert view["geojson"] == "api/changes/59001.geojson"


def test_counts_and_figures_in_french():
    assert counts_sentence({"added": 2, "removed": 0, "modified": 0}) == "2 ajouts"
    assert counts_sentence({"added": 0, "removed": 0, "modified": 0}) == "aucun changement"
    assert figure_text(None) == "—"
    assert figure_text({"count": 0}) == "0 élément"


def test_json_inside_a_script_cannot_close_it():
    text = script_json({"name": "</script><b>&"})
    assert "<" not in text and ">" not in text and "&" not in text


def test_a_page_links_its_earlier_versions_and_those_of_the_communes_merged_into_it():
    """Each earlier release that had the page (under its slug then) gets a link, then the
    current one; a commune merged into this one gets links to its own earlier pages."""
    import shapely

    from trame.releases.history import Release
    from trame.releases.renamed import Merger
    from trame.territory import Commune

    prior = [Release(f"2024-{n}", f"2024-0{n}-01", "2024-01-01", "", "") for n in (1, 2)]
    info = ReleaseInfo(
        load_config(PROJECT / "layers" / "demo.yml"), "2026", "2026-06-01", None, prior,
        mergers={"59002": Merger("59002", "59001")}, merged_names={"59002": ("Ancienne", "ancienne")},
        _pages={"2024-1": {"59001": "abscon-avant", "59002": "ancienne"}, "2024-2": {"59001": "abscon"}},
    )  # fmt: skip
    commune = Commune("59001", "Abscon", "abscon", ("59215",), shapely.Point(0, 0))
    sections = commune_sections(info, commune, None)
    up = "../../../../versions"  # from versions/2026/communes/59001-abscon/
    assert [(v["id"], v["current"], v["href"]) for v in sections["versions"]] == [
        ("2024-1", False, f"{up}/2024-1/communes/59001-abscon-avant/"),
        ("2024-2", False, f"{up}/2024-2/communes/59001-abscon/"),
        ("2026", True, f"{up}/2026/communes/59001-abscon/"),
    ]
    assert [(p["insee"], p["name"], p["id"], p["href"]) for p in sections["before_merger"]] == [
        ("59002", "Ancienne", "2024-1", f"{up}/2024-1/communes/59002-ancienne/")
    ]
    assert sections["changes"] is None  # nothing compared: no changes table
