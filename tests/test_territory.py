from pathlib import Path

import numpy as np
import pytest
import shapely

from trame.config import Communes, Source
from trame.errors import UserError
from trame.read import Layer
from trame.territory import communes_from_layer, overlaps, slugify, union
from trame.validate import LayerReport

CONFIG = Communes(source=Source(path=Path("unused")), insee_field="code", name_field="nom",
                  postcodes_field="cp")  # fmt: skip


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Valenciennes", "valenciennes"),
        ("Condé-sur-l'Escaut", "conde-sur-l-escaut"),
        ("Saint-Saulve", "saint-saulve"),
        ("Œuilly", "oeuilly"),
        ("../../etc/passwd", "etc-passwd"),
        ("a/b\x00c", "a-b-c"),
        ("<script>", "script"),
        ("!!!", "commune"),
        ("x" * 300, "x" * 60),
    ],
)
def test_slugify_makes_one_safe_path_segment(name, slug):
    assert slugify(name) == slug


def layer(rows):
    boxes = [
        shapely.box(700_000 + i * 1000, 7_000_000, 701_000 + i * 1000, 7_001_000)
        for i in range(len(rows))
    ]
    return Layer(
        source="communes.geojson",
        geometries=np.array(boxes, dtype=object),
        attributes=rows,
        crs="EPSG:2154",
    )


def test_communes_are_sorted_with_postcodes():
    communes, outline = communes_from_layer(
        layer([{"code": "59606", "nom": "Valenciennes", "cp": "59300"}, {"code": "59014", "nom": "Anzin", "cp": "59410;59411"}]),
        CONFIG, LayerReport("communes", "x"),
    )  # fmt: skip
    assert [c.insee for c in communes] == ["59014", "59606"]
    assert communes[0].postcodes == ("59410", "59411")
    assert communes[1].path == "communes/59606-valenciennes/"
    assert communes[1].area_ha == pytest.approx(100)
    assert outline.equals(shapely.union_all([c.geometry for c in communes]))


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [{"code": "59606", "nom": "A", "cp": ""}, {"code": "59606", "nom": "B", "cp": ""}],
            "ont le même code INSEE 59606",
        ),
        ([{"code": None, "nom": "A", "cp": ""}], "code INSEE '' du champ 'code' absent"),
        ([{"code": "../x", "nom": "A", "cp": ""}], "mal formé"),
        ([{"code": "59606", "nom": " ", "cp": ""}], "sans nom dans le champ 'nom'"),
        ([{"insee": "59606", "nom": "A", "cp": ""}], "champ 'code' introuvable"),
    ],
)
def test_bad_communes_are_refused(rows, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        communes_from_layer(layer(rows), CONFIG, LayerReport("communes", "x"))


def test_overlapping_communes_are_reported():
    overlapping = layer(
        [{"code": "59001", "nom": "A", "cp": ""}, {"code": "59002", "nom": "B", "cp": ""}]
    )
    overlapping.geometries[1] = shapely.box(700_500, 7_000_000, 701_500, 7_001_000)  # half on A
    report = LayerReport("communes", "x")
    communes_from_layer(overlapping, CONFIG, report)
    assert report.warnings == [
        "les communes 59001 A et 59002 B se chevauchent sur 50,00 ha : leurs chiffres comptent "
        "cette surface deux fois ; corrigez leurs contours dans le fichier"
    ]


def test_overlaps_are_the_pairs_sharing_some_area():
    """Against every pair intersected: boxes on a 1 m grid that touch, nest, share a border
    or overlap (by more or less than the 1 m² threshold)."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        corners = rng.integers(0, 12, size=(12, 2)).astype(float)
        sizes = rng.integers(1, 6, size=(12, 2)).astype(float)
        boxes = shapely.box(*corners.T, *(corners + sizes).T)
        expected = [
            (i, j, float(shapely.area(shapely.intersection(boxes[i], boxes[j]))) / 10_000)
            for i in range(len(boxes))
            for j in range(i + 1, len(boxes))
            if shapely.area(shapely.intersection(boxes[i], boxes[j])) > 1.0
        ]
        assert sorted(overlaps(boxes)) == expected
    nested = shapely.box([0, 1], [0, 1], [10, 3], [10, 3])  # (one inside the other)
    assert overlaps(nested) == [(0, 1, 0.0004)]


def test_union_is_the_same_made_either_way(monkeypatch):
    """A valid coverage is merged by its shared edges, anything else by a general union: the
    same normalised outline (here a grid of squares with a hole and an island)."""
    import trame.territory

    cells = [
        shapely.box(x, y, x + 1, y + 1) for x in range(5) for y in range(4) if (x, y) != (2, 1)
    ]
    grid = np.array([*cells, shapely.box(8, 8, 9, 9)], dtype=object)
    assert shapely.coverage_is_valid(grid)
    calls = []
    general = shapely.union_all
    monkeypatch.setattr(
        trame.territory.shapely, "union_all", lambda g: calls.append(1) or general(g)
    )
    merged = union(grid)
    assert calls == []  # (the coverage's way)
    assert merged.equals_exact(shapely.normalize(general(grid)), 0)
    overlapping = np.append(grid, shapely.box(0.5, 0.5, 1.5, 1.5))
    assert union(overlapping).equals_exact(shapely.normalize(general(overlapping)), 0)
    assert calls == [1]


def test_adjacent_communes_do_not_overlap():
    report = LayerReport("communes", "x")
    communes_from_layer(
        layer([{"code": "59001", "nom": "A", "cp": ""}, {"code": "59002", "nom": "B", "cp": ""}]),
        CONFIG,
        report,
    )
    assert report.warnings == []


def test_each_item_selects_against_its_own_outline(monkeypatch):
    """select_features prepares the outline it gets, and a prepared geometry is not safe to
    share between threads (GEOS builds its indexes lazily): each item's thread gets a copy."""
    import trame.territory
    from trame.config import load_config
    from trame.paths import DEMO_CONFIG

    seen = []
    select = trame.territory.select_features

    def spy(item, layer, outline, report):
        seen.append(outline)
        return select(item, layer, outline, report)

    monkeypatch.setattr(trame.territory, "select_features", spy)
    territory = trame.territory.load_territory(load_config(DEMO_CONFIG))
    assert len(seen) == len(territory.features) > 1
    assert len({id(outline) for outline in seen}) == len(seen)
    assert all(outline is not territory.outline for outline in seen)
    assert all(outline.equals_exact(territory.outline, 0) for outline in seen)
