"""Figures against an independent computation on known geometries (areas by hand)."""

from pathlib import Path

import numpy as np
import pytest
import shapely

from trame.config import LegendItem, Source, Style
from trame.features import ItemFeatures, select_features
from trame.figures import FeaturesIndex
from trame.read import Layer
from trame.validate import LayerReport

X0, Y0 = 700_000.0, 7_000_000.0  # Lambert-93 metres
COMMUNE = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)  # exactly 100 ha


def item(kind: str, item_id: str = "item") -> LegendItem:
    return LegendItem(
        id=item_id, label=item_id, description="", source=Source(path=Path("unused")),
        geometry=kind, style=Style(color="#000000"), id_field="ID",
    )  # fmt: skip


def features(kind: str, geometries: list, ids: list[str]) -> ItemFeatures:
    return ItemFeatures(
        item=item(kind), geometries=np.array(geometries, dtype=object), ids=ids,
        attributes=[{"ID": i} for i in ids],
    )  # fmt: skip


def test_polygon_area_is_the_union_inside_the_commune():
    reservoirs = features(
        "polygon",
        [
            shapely.box(X0, Y0, X0 + 500, Y0 + 1000),  # 50 ha, inside
            shapely.box(X0 + 250, Y0, X0 + 750, Y0 + 1000),  # 50 ha, overlaps the first by 25 ha
            shapely.box(X0 + 900, Y0 + 900, X0 + 1100, Y0 + 1100),  # 4 ha, 1 ha inside
            shapely.box(X0 + 2000, Y0, X0 + 3000, Y0 + 1000),  # outside
            shapely.box(X0 + 1000, Y0, X0 + 1200, Y0 + 1000),  # touches the border only
        ],
        ["A", "B", "C", "D", "E"],
    )
    [figures] = FeaturesIndex([reservoirs]).figures(COMMUNE)
    assert figures.count == 3
    assert figures.area_ha == pytest.approx(75 + 1)  # union: 0..750 × 1000 m + 100 × 100 m
    assert figures.share_pct == pytest.approx(76.0)
    assert [e.id for e in figures.elements] == ["A", "B", "C"]
    assert [e.area_ha for e in figures.elements] == pytest.approx([50, 50, 1])
    assert set(figures.as_dict()) == {"label", "count", "area_ha", "share_pct"}


def test_line_length_inside_the_commune():
    corridors = features(
        "line",
        [
            shapely.LineString([(X0 - 500, Y0 + 500), (X0 + 1500, Y0 + 500)]),  # 1 km inside
            shapely.LineString([(X0 + 100, Y0 + 100), (X0 + 100, Y0 + 400)]),  # 0.3 km inside
            shapely.LineString([(X0 - 500, Y0 - 500), (X0 - 100, Y0 - 100)]),  # outside
        ],
        ["L1", "L2", "L3"],
    )
    [figures] = FeaturesIndex([corridors]).figures(COMMUNE)
    assert figures.count == 2
    assert figures.length_km == pytest.approx(1.3)
    assert set(figures.as_dict()) == {"label", "count", "length_km"}


def test_points_inside_are_counted():
    obstacles = features(
        "point",
        [
            shapely.Point(X0 + 10, Y0 + 10),
            shapely.Point(X0 + 990, Y0 + 500),
            shapely.Point(X0 - 1, Y0),
        ],
        ["P1", "P2", "P3"],
    )
    [figures] = FeaturesIndex([obstacles]).figures(COMMUNE)
    assert figures.count == 2
    assert figures.as_dict() == {"label": "item", "count": 2}


def test_an_empty_item_gives_zero():
    [figures] = FeaturesIndex([features("polygon", [], [])]).figures(COMMUNE)
    assert (figures.count, figures.area_ha, figures.share_pct) == (0, 0.0, 0.0)


def test_one_index_for_every_item_gives_each_item_its_own_figures():
    """Items indexed together (one query, one intersection per commune) get exactly the figures
    each gets alone, in legend order, even with an empty item between them and the same ids
    in two items."""
    polygons = features(
        "polygon",
        [shapely.box(X0, Y0, X0 + 500, Y0 + 1000), shapely.box(X0 + 900, Y0, X0 + 1100, Y0 + 100)],
        ["A", "B"],
    )
    empty = features("line", [], [])
    lines = features(
        "line",
        [
            shapely.LineString([(X0 - 10, Y0 + 10), (X0 + 600, Y0 + 10)]),
            shapely.LineString([(X0 + 5000, Y0), (X0 + 6000, Y0)]),
        ],
        ["A", "Z"],
    )
    points = features("point", [shapely.Point(X0 + 1, Y0 + 1), shapely.Point(X0 + 2, Y0 + 2)],
                      ["P", "Q"])  # fmt: skip
    items = [polygons, empty, lines, points]
    together = FeaturesIndex(items).figures(COMMUNE)
    alone = [FeaturesIndex([f]).figures(COMMUNE)[0] for f in items]
    assert together == alone
    assert [f.covered for f in together] == [f.covered for f in alone]
    assert [[e.geometry.wkb for e in f.elements] for f in together] == [
        [e.geometry.wkb for e in f.elements] for f in alone
    ]
    assert [f.count for f in together] == [2, 0, 1, 2]


def test_selection_filters_repairs_and_clips():
    from trame.filters import parse_filter

    bow_tie = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    layer = Layer(
        source="test.gpkg",
        geometries=np.array(
            [
                bow_tie,
                shapely.box(X0 + 900, Y0, X0 + 1100, Y0 + 100),  # crosses the edge
                shapely.box(X0 + 5000, Y0, X0 + 5100, Y0 + 100),  # outside
                None,
                shapely.box(X0, Y0, X0 + 10, Y0 + 10),  # filtered out
            ],
            dtype=object,
        ),
        attributes=[{"ID": f"F{i}", "OBJ": "01" if i < 4 else "02"} for i in range(5)],
        crs="EPSG:2154",
    )
    chosen_item = LegendItem(
        id="reservoirs", label="R", description="", source=Source(path=Path("unused")), geometry="polygon",
        style=Style(color="#000000"), id_field="ID", filter=parse_filter("OBJ == '01'"),
    )  # fmt: skip
    report = LayerReport(name="reservoirs", source="test.gpkg")
    selected = select_features(chosen_item, layer, COMMUNE, report)
    assert selected.ids == ["F0", "F1"]
    assert all(shapely.is_valid(selected.geometries))
    assert selected.geometries[1].area == pytest.approx(100 * 100)  # clipped to the territory
    assert (report.read, report.repaired, report.empty, report.outside, report.clipped) == (
        4, 1, 1, 1, 1,
    )  # fmt: skip
    assert any("F0" in w and "géométrie invalide" in w and "réparée" in w for w in report.warnings)
