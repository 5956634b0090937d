"""Chunks of neighbouring communes, each with the data its communes' outputs read.

A chunk is a few dozen neighbouring communes (close on the ground, so they share most of their
data) with everything their outputs read: every feature and every commune whose bounds meet one
of their static maps' windows (which contain the communes themselves), in the territory's order.
A commune's outputs only ever depend on those full geometries, never on which other communes
share its chunk: the bytes are the same whatever the chunk size, the number of workers or the
kind of executor (tested).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import shapely

from .. import staticmap
from ..config import Config
from ..features import ItemFeatures
from ..releases.info import ReleaseInfo
from ..territory import Commune, Territory
from ..theme import ThemeSpec
from ..wkb import Packed, pack, unpack


@dataclass(frozen=True)
class Shared:
    """What every chunk needs besides its data; the same for every task."""

    config: Config
    theme: ThemeSpec
    pdf: bool = False
    """The PDF map sheets are built too: the pages link to them."""
    release: ReleaseInfo | None = None
    """The release being built: its sections of the pages, its files (changes, embed page)."""


@dataclass(frozen=True)
class Chunk:
    neighbours: list[Commune]
    """Every commune whose bounds meet a window of the chunk's maps, in INSEE order."""
    own: list[int]
    """The chunk's communes: their positions in ``neighbours``."""
    features: list[ItemFeatures]
    """Per legend item, the features whose bounds meet a window, in the territory's order."""
    shared: Shared
    target: str | None
    """Where to write the files (workers on this machine), or None: send them back."""

    def __reduce__(self) -> tuple:
        # The neighbours' geometries packed whole (see generator.wkb), like the features'.
        communes = [dataclasses.replace(c, geometry=None) for c in self.neighbours]
        geometries = pack(np.array([c.geometry for c in self.neighbours], dtype=object))
        return (_chunk, (communes, geometries, self.own, self.features, self.shared, self.target))


def _chunk(
    communes: list[Commune], geometries: Packed, own: list[int], features: list[ItemFeatures],
    shared: Shared, target: str | None,
) -> Chunk:  # fmt: skip
    neighbours = [dataclasses.replace(c, geometry=g) for c, g in
                  zip(communes, unpack(geometries).tolist(), strict=True)]  # fmt: skip
    return Chunk(neighbours, own, features, shared, target)


def spatial_order(geometries: np.ndarray) -> np.ndarray:
    """Positions sorted along a Z-order curve of the geometries' bounds' centres, so that
    consecutive communes are neighbours on the ground (ties: original order)."""
    if not len(geometries):
        return np.zeros(0, dtype=np.int64)
    bounds = shapely.bounds(geometries)
    centres = np.column_stack(
        [(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2]
    )
    low, high = centres.min(axis=0), centres.max(axis=0)
    grid = ((centres - low) / np.maximum(high - low, 1e-9) * 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    keys = spread(grid[:, 0]) | (spread(grid[:, 1]) << np.uint64(1))
    return np.lexsort((np.arange(len(keys)), keys))


class Chunker:
    """Cuts the territory into chunks, each with the data its communes' outputs read."""

    def __init__(self, territory: Territory, shared: Shared, target: str | None):
        self.territory, self.shared, self.target = territory, shared, target
        self.commune_geometries = np.array([c.geometry for c in territory.communes], dtype=object)
        self.commune_tree = shapely.STRtree(self.commune_geometries)
        self.feature_trees = [shapely.STRtree(f.geometries) for f in territory.features]

    def chunk(self, positions: np.ndarray) -> Chunk:
        windows = np.array(
            [staticmap.map_window(g)[0] for g in self.commune_geometries[positions]], dtype=object
        )
        near = np.unique(self.commune_tree.query(windows)[1])
        features = []
        for item_features, tree in zip(self.territory.features, self.feature_trees, strict=True):
            index = np.unique(tree.query(windows)[1])
            features.append(
                ItemFeatures(
                    item_features.item,
                    item_features.geometries[index],
                    [item_features.ids[i] for i in index],
                    [item_features.attributes[i] for i in index],
                )
            )
        neighbours = [self.territory.communes[i] for i in near]
        own = np.searchsorted(near, np.sort(positions)).tolist()
        shared = self.shared
        if shared.release is not None:
            insees = [self.territory.communes[i].insee for i in positions]
            shared = dataclasses.replace(shared, release=shared.release.for_communes(insees))
        return Chunk(neighbours, own, features, shared, self.target)
