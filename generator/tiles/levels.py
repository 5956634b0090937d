"""Where the features are: the occupied tiles of every zoom, found top-down with STRtrees,
and the zoom at which the pyramid is split into subtree tasks (below it) and block tasks (the
coarse zooms). Used by :func:`generator.tiles.pyramid.build_tiles`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from .grid import BUFFER, tiles_bounds
from .model import PreparedLayer

MAX_SUBTREE_DEPTH = 6
"""A subtree task spans at most this many zooms below its root (4**6 tiles at the bottom)."""

SUBTREES = 32
"""Wanted number of subtree tasks: enough to balance a few workers. A constant, not derived
from the worker count, because the split zoom shapes the output (simplification is per
subtree) and the bytes must not depend on how many workers made them."""


@dataclass(frozen=True)
class Level:
    """The occupied tiles of one zoom and, per layer, the features whose bounds touch each
    (``features[k][starts[k][i]:starts[k][i + 1]]`` for tile ``i`` and layer ``k``)."""

    xy: np.ndarray
    features: list[np.ndarray]
    starts: list[np.ndarray]

    def __len__(self) -> int:
        return len(self.xy)

    def indices(self, i: int) -> list[np.ndarray]:
        """The feature indices per layer of occupied tile ``i``."""
        return [f[s[i] : s[i + 1]] for f, s in zip(self.features, self.starts, strict=True)]

    def tiles(self) -> Iterator[tuple[int, int, list[np.ndarray]]]:
        """x, y and the feature indices per layer of each occupied tile."""
        for i, (x, y) in enumerate(self.xy.tolist()):
            yield x, y, self.indices(i)


def occupied(layers: Sequence[PreparedLayer], maxzoom: int) -> dict[int, Level]:
    """Tiles (with their buffer) touching some feature, per zoom, found top-down: only the
    children of an occupied tile are queried, so sparse data over a large area stays cheap."""
    trees = [shapely.STRtree(layer.geometries) for layer in layers]
    levels: dict[int, Level] = {}
    candidates = np.zeros((1, 2), dtype=np.int64)
    for z in range(maxzoom + 1):
        boxes = shapely.box(*tiles_bounds(z, candidates, BUFFER).T)
        found, counts = [], np.zeros(len(candidates), dtype=np.int64)
        for tree in trees:
            box_i, geom_i = tree.query(boxes)
            order = np.lexsort((geom_i, box_i))
            found.append((box_i[order], geom_i[order]))
            counts += np.bincount(box_i, minlength=len(candidates))
        occupied = counts > 0
        features, starts = [], []
        for box_i, geom_i in found:
            features.append(geom_i[occupied[box_i]])
            per_tile = np.bincount(box_i, minlength=len(candidates))[occupied]
            starts.append(np.concatenate([[0], np.cumsum(per_tile)]))
        xy = candidates[occupied]
        levels[z] = Level(xy, features, starts)
        children = (2 * xy)[:, None, :] + np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
        candidates = children.reshape(-1, 2)
    return levels


def split_zoom(levels: dict[int, Level], minzoom: int, maxzoom: int) -> int:
    """The coarsest zoom with about SUBTREES occupied tiles, but not so coarse that subtrees get
    too deep. Zooms below it are few tiles of simplified data."""
    for z in range(max(minzoom, maxzoom - MAX_SUBTREE_DEPTH), maxzoom + 1):
        if len(levels[z]) >= SUBTREES:
            return z
    return maxzoom
