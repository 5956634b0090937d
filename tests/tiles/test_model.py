"""The engine's input: what a layer may hold, checked before any tile is made."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, Point, Polygon, box

from trame.tiles import TileLayer, build_tiles


def test_coverage_needs_polygons_and_a_broken_coverage_is_reported(tmp_path):
    kwargs = dict(minzoom=8, maxzoom=9, directory=tmp_path / "t", name="x", workers=1)
    kwargs |= dict(pmtiles_path=tmp_path / "t.pmtiles", progress=False)
    line = TileLayer("l", np.array([LineString([(0, 0), (1, 1)])]), [{}], coverage=True)
    with pytest.raises(ValueError, match="coverage=True needs polygons"):
        build_tiles([line], **kwargs)
    overlapping = TileLayer(
        "c", np.array([box(0, 0, 2000, 2000), box(1000, 0, 3000, 2000)]), [{}, {}], coverage=True
    )
    stats = build_tiles([overlapping], **kwargs)
    assert any("pas un pavage valide" in note for note in stats.notes)


def test_rejects_properties_mapbox_vector_tile_would_drop(tmp_path):
    layer = TileLayer("bad", np.array([Point(0, 0)], dtype=object), [{"name": None}])
    with pytest.raises(TypeError, match="name"):
        build_tiles(
            [layer],
            minzoom=0,
            maxzoom=1,
            directory=tmp_path / "t",
            pmtiles_path=tmp_path / "t.pmtiles",
            name="x",
            workers=1,
            progress=False,
        )


def test_mixed_kinds_are_refused(tmp_path):
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    mixed = TileLayer("mixed", np.array([Point(0, 0), bowtie], dtype=object), [{}, {}])
    with pytest.raises(ValueError, match="mixes geometry types"):
        build_tiles(
            [mixed], minzoom=0, maxzoom=1, directory=tmp_path / "t",
            pmtiles_path=tmp_path / "t.pmtiles", name="x", workers=1, progress=False,
        )  # fmt: skip


def test_a_warm_process_checks_a_coverage_again_only_when_its_shapes_change():
    """A renamed commune changes the communes' properties, not their shapes: the coverage's
    check (and its note) is kept; a moved border is checked again."""
    from trame import memo
    from trame.tiles.model import prepare_layer

    shapes = np.array([box(0, 0, 2000, 2000), box(1000, 0, 3000, 2000)], dtype=object)
    with memo.kept():
        for names, made in ((("a", "b"), 1), (("a", "B"), 0)):
            with memo.one_build():
                layer = TileLayer("c", shapes, [{"nom": n} for n in names], coverage=True)
                assert "pas un pavage valide (2 polygones" in prepare_layer(layer).notes[0]
                assert memo.made().get("prepared shapes", 0) == made
        with memo.one_build():
            apart = np.array([box(0, 0, 1000, 2000), box(1000, 0, 3000, 2000)], dtype=object)
            assert prepare_layer(TileLayer("c", apart, [{}, {}], coverage=True)).notes == ()
            assert memo.made()["prepared shapes"] == 1
