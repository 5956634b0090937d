"""The occupied tiles: found layer by layer (kept per layer by a warm process), they must be
those a walk of every layer at once finds, in the same order."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from trame import memo
from trame.tiles.grid import BUFFER, tiles_bounds
from trame.tiles.levels import occupied
from trame.tiles.model import TileLayer, prepare_layer

MAXZOOM = 9


def _all_at_once(layers, maxzoom):
    """The walk as it was written first: every layer queried for the children of the tiles
    any layer touches."""
    trees = [shapely.STRtree(layer.geometries) for layer in layers]
    out = {}
    candidates = np.zeros((1, 2), dtype=np.int64)
    for z in range(maxzoom + 1):
        boxes = shapely.box(*tiles_bounds(z, candidates, BUFFER).T)
        found, counts = [], np.zeros(len(candidates), dtype=np.int64)
        for tree in trees:
            box_i, geom_i = tree.query(boxes)
            order = np.lexsort((geom_i, box_i))
            found.append((box_i[order], geom_i[order]))
            counts += np.bincount(box_i, minlength=len(candidates))
        hit = counts > 0
        features, starts = [], []
        for box_i, geom_i in found:
            features.append(geom_i[hit[box_i]])
            per_tile = np.bincount(box_i, minlength=len(candidates))[hit]
            starts.append(np.concatenate([[0], np.cumsum(per_tile)]))
        xy = candidates[hit]
        out[z] = (xy, features, starts)
        candidates = ((2 * xy)[:, None, :] + np.array([(0, 0), (0, 1), (1, 0), (1, 1)])).reshape(
            -1, 2
        )
    return out


def _layers(seed):
    rng = np.random.default_rng(seed)
    # Small clusters far apart (sparse tiles), over a few hundred km of Web Mercator metres.
    centres = rng.uniform(-4e5, 4e5, size=(4, 2))
    points = shapely.points(centres[rng.integers(0, 4, 60)] + rng.normal(0, 2e4, (60, 2)))
    boxes = [shapely.box(x, y, x + w, y + h) for (x, y), (w, h) in
             zip(centres[rng.integers(0, 4, 15)] + rng.normal(0, 3e4, (15, 2)),
                 rng.uniform(100, 4e4, (15, 2)), strict=True)]  # fmt: skip
    lines = shapely.linestrings(rng.uniform(-4e5, 4e5, (8, 3, 2)))
    return [
        prepare_layer(TileLayer(name, np.array(list(geoms), dtype=object), [{}] * len(geoms)))
        for name, geoms in (
            ("points", points),
            ("boxes", boxes),
            ("lines", lines),
            ("none", np.empty(0, dtype=object)),
        )  # fmt: skip
    ]


def _check(levels, expected):
    for z, (xy, features, starts) in expected.items():
        assert levels[z].xy.tolist() == xy.tolist()
        for mine, theirs in zip(levels[z].features, features, strict=True):
            assert mine.tolist() == theirs.tolist()
        for mine, theirs in zip(levels[z].starts, starts, strict=True):
            assert mine.tolist() == theirs.tolist()


@pytest.mark.parametrize("seed", range(6))
def test_layer_by_layer_finds_the_tiles_of_a_walk_of_every_layer(seed):
    layers = _layers(seed)
    expected = _all_at_once(layers, MAXZOOM)
    levels = occupied(layers, MAXZOOM)
    _check(levels, expected)
    assert sum(len(level) for level in levels.values()) > 4 * MAXZOOM  # (not a trivial case)


def test_a_warm_process_finds_again_only_the_changed_layer():
    layers = _layers(7)
    with memo.kept():
        with memo.one_build():
            occupied(layers, MAXZOOM)
            assert memo.made()["occupied tiles"] == len(layers)
        moved = shapely.transform(layers[1].geometries, lambda c: c + 5e4)
        layers[1] = prepare_layer(TileLayer("boxes", moved, [{}] * len(moved)))
        with memo.one_build():
            levels = occupied(layers, MAXZOOM)
            assert memo.made()["occupied tiles"] == 1
    _check(levels, _all_at_once(layers, MAXZOOM))
