"""Nothing lost without a word: features that no legend item shows are counted and named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import shapely

from trame.config import Communes, Config, LegendItem, Source, Style, Tiles
from trame.filters import parse_filter
from trame.pages import environment, render_processing_report
from trame.read import Layer
from trame.unmatched import count_unmatched
from trame.validate import ValidationReport

RESERVOIRS = Source(path=Path("/donnees/N_SRCE_RESERVOIR_S_000.shp"))
WATER = Source(path=Path("/donnees/srce.gpkg"), layer="cours_eau")


def item(item_id: str, source: Source, filter_text: str | None, id_field: str) -> LegendItem:
    return LegendItem(
        id=item_id, label=item_id.replace("-", " ").capitalize(), description="", source=source,
        geometry="polygon", style=Style(color="#2e7d32"), id_field=id_field,
        filter=parse_filter(filter_text) if filter_text else None,
    )  # fmt: skip


def layer(source: Source, rows: list[dict]) -> Layer:
    geometries = np.array([shapely.box(i, 0, i + 1, 1) for i in range(len(rows))], dtype=object)
    return Layer(source=str(source.path), geometries=geometries, attributes=rows, crs="EPSG:2154")


RESERVOIR_ROWS = [
    {"ID_RESV": "R1", "OBJ_ASSI": "01"},
    {"ID_RESV": "R2", "OBJ_ASSI": "02"},
    {"ID_RESV": "R3", "OBJ_ASSI": None},
    {"ID_RESV": "R4", "OBJ_ASSI": "03"},
    {"ID_RESV": None, "OBJ_ASSI": ""},
]
WATER_ROWS = [
    {"ID_CEAU": "C1", "EST_RESERV": "T", "EST_CORRID": "T"},
    {"ID_CEAU": "C2", "EST_RESERV": "F", "EST_CORRID": "T"},
    {"ID_CEAU": "C3", "EST_RESERV": "F", "EST_CORRID": "F"},
    {"ID_CEAU": "C4", "EST_RESERV": "X", "EST_CORRID": None},
]
LEGEND = (
    item("reservoirs-a-preserver", RESERVOIRS, "OBJ_ASSI == '01'", "ID_RESV"),
    item("reservoirs-a-renaturer", RESERVOIRS, "OBJ_ASSI == '02'", "ID_RESV"),
    item("cours-eau-reservoirs", WATER, "EST_RESERV == 'T'", "ID_CEAU"),
    item("cours-eau-corridors", WATER, "EST_CORRID == 'T'", "ID_CEAU"),
)
LAYERS = {
    (RESERVOIRS.path, None): layer(RESERVOIRS, RESERVOIR_ROWS),
    (WATER.path, "cours_eau"): layer(WATER, WATER_ROWS),
}


def test_features_no_item_picks_are_counted_per_layer_and_named():
    reservoirs, water = count_unmatched(LAYERS, LEGEND)
    assert (reservoirs.read, reservoirs.shown) == (5, 2)
    assert [u.id for u in reservoirs.unmatched] == ["R3", "R4", "objet n° 5"]
    assert reservoirs.unmatched[1].values == {"OBJ_ASSI": "03"}
    assert reservoirs.items == ("reservoirs-a-preserver", "reservoirs-a-renaturer")
    assert reservoirs.name == "N_SRCE_RESERVOIR_S_000.shp"
    assert water.name == "srce.gpkg (couche cours_eau)"
    assert (water.shown, [u.id for u in water.unmatched]) == (2, ["C3", "C4"])
    warning = reservoirs.warning()
    assert warning is not None and "3 objet(s) sur 5" in warning
    assert "R3 (OBJ_ASSI = vide)" in warning and "R4 (OBJ_ASSI = '03')" in warning


def test_deliberately_excluded_features_are_counted_as_such():
    excluded = {"cours-eau-corridors": parse_filter("EST_RESERV == 'F' and EST_CORRID == 'F'")}
    _, water = count_unmatched(LAYERS, LEGEND, excluded)
    assert water.excluded == ("C3",)
    assert [u.id for u in water.unmatched] == ["C4"]
    assert water.as_dict()["excluded"] == 1 and water.as_dict()["unmatched"] == 1


def test_an_item_without_filter_shows_its_whole_layer():
    legend = (item("reservoirs", RESERVOIRS, None, "ID_RESV"),)
    (reservoirs,) = count_unmatched(LAYERS, legend)
    assert (reservoirs.shown, reservoirs.unmatched, reservoirs.warning()) == (5, (), None)


def test_report_log_and_page_name_the_unmatched_features(tmp_path):
    report = ValidationReport()
    report.sources = count_unmatched(LAYERS, LEGEND)
    assert sum("ne correspondent à aucun élément de légende" in w for w in report.warnings) == 2
    saved = report.as_dict()["sources"]
    assert [f["id"] for f in saved[0]["unmatched_features"]] == ["R3", "R4", "objet n° 5"]

    text = tmp_path / "texte.md"
    text.write_text("Texte.", encoding="utf-8")
    config = Config(
        name="T", slug="t", fictitious=False, data_date=dt.date(2016, 9, 30), sources=(),
        licence="", communes=Communes(source=Source(path=tmp_path), insee_field="code", name_field="nom"),
        legend=LEGEND,
        tiles=Tiles(name="t"), explanatory_text=text, config_path=tmp_path,
    )  # fmt: skip
    page = render_processing_report(environment(), config, report, {})
    assert "Objets sans élément de légende" in page
    assert "N_SRCE_RESERVOIR_S_000.shp" in page and "/donnees" not in page
    assert "R4 (OBJ_ASSI = &#39;03&#39;)" in page
    assert "Reservoirs a preserver ; Reservoirs a renaturer" in page
