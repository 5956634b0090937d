"""Where the features are: the occupied tiles of every zoom, found top-down with STRtrees,
and the zoom at which the pyramid is split into subtree tasks (below it) and block tasks (the
coarse zooms). Used by :func:`generator.tiles.pyramid.build_tiles`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from .. import memo
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
    """Tiles (with their buffer) touching some feature, per zoom: each layer's own (a warm
    process keeps them for the same geometries), merged in the order a top-down walk of the
    quadtree meets them (:func:`_morton`).

    A tile a layer touches lies in a parent the layer touches (a parent's buffered box holds
    its children's), so a layer's tiles are found alone as among all the layers. Nord, a
    reservoir moved, a warm process: the ~0.04–0.08 s of the tile thread finding every
    layer's tiles again was spent for one layer's."""
    own = [
        memo.value(
            "occupied tiles",
            lambda layer=layer: memo.key(memo.digests(layer.geometries), str(maxzoom)),
            lambda layer=layer: _layer_tiles(layer.geometries, maxzoom),
        )
        for layer in layers
    ]
    levels: dict[int, Level] = {}
    for z in range(maxzoom + 1):
        codes = [tiles[z][3] for tiles in own]
        every, first = np.unique(np.concatenate([np.empty(0, np.int64), *codes]),
                                 return_index=True)  # fmt: skip
        xy = np.concatenate([np.empty((0, 2), np.int64), *(t[z][0] for t in own)])[first]
        features, starts = [], []
        for tiles, code in zip(own, codes, strict=True):
            _, found, counts, _ = tiles[z]
            per_tile = np.zeros(len(every), dtype=np.int64)
            per_tile[np.searchsorted(every, code)] = counts
            features.append(found)
            starts.append(np.concatenate([[0], np.cumsum(per_tile)]))
        levels[z] = Level(xy.reshape(-1, 2), features, starts)
    return levels


def _layer_tiles(
    geometries: np.ndarray, maxzoom: int
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Per zoom, the tiles one layer's features touch, found top-down (only the children of a
    touched tile are queried, so sparse data over a large area stays cheap): (their x, y; the
    features of each tile, one after the other, in order; how many each has; their places in
    the walk, :func:`_morton`, kept with them: ~12 ms of each warm Nord build made them again
    for every layer)."""
    tree = shapely.STRtree(geometries)
    out = []
    candidates = np.zeros((1, 2), dtype=np.int64)
    for z in range(maxzoom + 1):
        boxes = shapely.box(*tiles_bounds(z, candidates, BUFFER).T)
        box_i, geom_i = tree.query(boxes)
        order = np.lexsort((geom_i, box_i))
        counts = np.bincount(box_i, minlength=len(candidates))
        xy = candidates[counts > 0]
        tiles = (xy, geom_i[order], counts[counts > 0], _morton(z, xy))
        for array in tiles:
            array.setflags(write=False)  # (kept by a warm process: shared by later builds)
        out.append(tiles)
        children = (2 * xy)[:, None, :] + np.array([(0, 0), (0, 1), (1, 0), (1, 1)])
        candidates = children.reshape(-1, 2)
    return out


def _morton(z: int, xy: np.ndarray) -> np.ndarray:
    """Each tile's place in a top-down walk of zoom ``z``'s quadtree that visits a tile's
    children in the order (0, 0), (0, 1), (1, 0), (1, 1): its x and y bits interleaved, x's
    first (the order :func:`occupied` has always given its tiles)."""
    code = np.zeros(len(xy), dtype=np.int64)
    for bit in range(z):
        code |= ((xy[:, 0] >> bit) & 1) << (2 * bit + 1) | ((xy[:, 1] >> bit) & 1) << (2 * bit)
    return code


def split_zoom(levels: dict[int, Level], minzoom: int, maxzoom: int) -> int:
    """The coarsest zoom with about SUBTREES occupied tiles, but not so coarse that subtrees get
    too deep. Zooms below it are few tiles of simplified data."""
    for z in range(max(minzoom, maxzoom - MAX_SUBTREE_DEPTH), maxzoom + 1):
        if len(levels[z]) >= SUBTREES:
            return z
    return maxzoom
