"""The geometry kinds table: its facts checked against shapely, and the modules that read it."""

import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import shapely

from trame.config import GEOMETRY_KINDS
from trame.kinds import (
    KINDS,
    LINE,
    MEASURES,
    POINT,
    POLYGON,
    kind,
    kind_of_types,
    measure_of_figures,
    single_parts,
)
from trame.validate import LayerReport, clean_geometries

EXAMPLES = {
    "polygon": [shapely.box(0, 0, 1, 1), shapely.box(2, 0, 3, 1)],
    "line": [shapely.LineString([(0, 0), (1, 1)]), shapely.LineString([(2, 0), (3, 1)])],
    "point": [shapely.Point(0, 0), shapely.Point(2, 1)],
}


def test_one_row_per_configurable_kind():
    assert set(KINDS) == set(GEOMETRY_KINDS)
    assert [KINDS[name].name for name in GEOMETRY_KINDS] == list(GEOMETRY_KINDS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_row_agrees_with_shapely(name):
    row = KINDS[name]
    parts = np.array(EXAMPLES[name], dtype=object)
    multi = row.collect(parts)
    assert shapely.get_type_id(parts[0]) == row.single
    assert shapely.get_type_id(multi) == row.multi
    assert shapely.get_dimensions(multi) == row.dimension
    assert kind_of_types({row.single, row.multi}) is row
    assert shapely.get_type_id(row.swatch(0, 0, 24)) == row.single  # the legend shows the kind


def test_kinds_cross_processes_as_themselves():
    """Tile tasks are pickled to worker processes; the engine compares kinds by identity."""
    for row in (POLYGON, LINE, POINT):
        assert pickle.loads(pickle.dumps(row)) is row
        assert kind(row.name) is row and kind(row) is row


def test_mixed_types_belong_to_no_kind():
    assert kind_of_types({POINT.single, POLYGON.single}) is None


def test_single_parts_reach_into_nested_collections():
    nested = shapely.GeometryCollection(
        [shapely.MultiPolygon(EXAMPLES["polygon"]), shapely.MultiLineString(EXAMPLES["line"])]
    )
    types = shapely.get_type_id(single_parts(nested)).tolist()
    assert types == [POLYGON.single] * 2 + [LINE.single] * 2


def test_a_repair_returning_a_multipolygon_inside_a_collection_keeps_its_polygons():
    """make_valid turns a ring that runs out and back along a spike into a collection of a
    multipolygon and lines: the polygons are the feature, not a wrong geometry type."""
    spiky = shapely.from_wkt("POLYGON ((0 0, 2 0, 2 2, 0 2, 0 0, 3 3, 4 3, 4 4, 3 4, 3 3, 0 0))")
    repaired = shapely.make_valid(spiky)
    assert repaired.geom_type == "GeometryCollection"
    assert "MultiPolygon" in {g.geom_type for g in repaired.geoms}  # the case under test
    report = LayerReport("reservoirs", "test")
    cleaned, kept = clean_geometries(np.array([spiky], dtype=object), "polygon", ["F0"], report)
    assert list(kept) == [True] and report.wrong_type == 0 and report.repaired == 1
    (polygons,) = cleaned
    assert polygons.geom_type == "MultiPolygon" and polygons.area == pytest.approx(5.0)


def test_a_closed_line_is_kept_as_a_line():
    ring = shapely.LinearRing([(0, 0), (1, 0), (1, 1)])
    report = LayerReport("corridors", "test")
    cleaned, kept = clean_geometries(np.array([ring], dtype=object), "line", ["C0"], report)
    assert list(kept) == [True]
    assert shapely.get_type_id(cleaned[0]) == LINE.single  # what the tile engine accepts


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_kind_measures_its_features(name):
    """Polygons by their area in hectares, lines by their length in kilometres, points by count;
    the API's figures name their measure by its field."""
    row = KINDS[name]
    parts = np.array(EXAMPLES[name], dtype=object)
    by_shapely = {"polygon": shapely.area, "line": shapely.length}.get(name)
    expected = by_shapely(parts) if by_shapely else np.ones(len(parts))
    assert np.array_equal(row.measure.of(parts), expected)
    assert (row.measure.field, row.measure.unit) == {
        "polygon": ("area_ha", "ha"), "line": ("length_km", "km"), "point": (None, "")
    }[name]  # fmt: skip
    assert row.measure.share == (name == "polygon")  # a share of the commune: areas only
    published = {"label": "x", "count": 2} | ({row.measure.field: 1.5} if row.measure.field else {})
    assert measure_of_figures(published) is row.measure
    assert {m.name for m in MEASURES} == {"area", "length", "count"}


GENERATOR = Path(__file__).resolve().parent.parent / "generator"
KIND_NAME_TEST = re.compile(r"""(kind|geometry)\b[^=!\n]*(==|!=)\s*["'](polygon|line|point)["']""")
"""``item.geometry == "polygon"``, ``figures.kind != "line"``… (not MapLibre's layer types)."""


def test_no_module_compares_kind_names():
    """Kinds are read from their row, not compared as strings. Left out: config/declarations.py
    (the declaration, which kinds.py imports) and init/ (kinds of discovered source layers)."""
    found = [
        f"{path.relative_to(GENERATOR)}:{number}: {line.strip()}"
        for path in sorted(GENERATOR.rglob("*.py"))
        if path.relative_to(GENERATOR).as_posix() != "config/declarations.py"
        and "init" not in path.relative_to(GENERATOR).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if KIND_NAME_TEST.search(line)
    ]
    assert len(list(GENERATOR.rglob("*.py"))) > 20  # the scan found the package
    assert KIND_NAME_TEST.search('        if item.geometry == "polygon":')  # it finds them
    assert found == []
