"""What a warm process keeps of the coarse zooms' tiles: each layer's part of each tile.

A tile of a coarse zoom holds the features of a wide area: every one of Nord's 2,996 at zooms
0–6. One moved feature makes all its ancestor tiles again, and each of them used to be cut
and encoded whole, every layer. Yet a layer's part of a tile (its encoded layer message, its
feature count, how many features were thinned out) depends only on that layer's features
meeting the tile, the zoom and the thinning: a process that builds again and again
(:mod:`generator.memo`) keeps each part under a digest of exactly those, and a block task
cuts and encodes only the parts the store lacks (:attr:`BlockTask.known
<generator.tiles.render.BlockTask.known>`). The tile's bytes are the same: its parts are put
together in the same order, and one over the size budget is made again coarser from the
whole chunks, as before.

Measured on Nord (one reservoir moved 150 m, warm process, ``/tmp`` probe timing each task on
the workers): the 11 ancestor tiles of zooms 0–10 took 0.86 s of the workers' 0.97 s per
build, cut and encoded in full; with the parts kept, the same 13 tasks took 0.56 s. What it
costs: the store holds the block zooms' tiles once more, as bytes (every tile's parts are
looked up each build, so those of the tiles taken from the previous run are kept too).

The finer zooms' tasks (subtrees) hold most of a territory's tiles: their parts are keyed and
kept only for the tiles an incremental run makes, so the store holds the tiles of the places
being edited, not the tileset. The second time a place changes, its subtree tasks carry only
the changed layers: Nord, the same reservoir moved again, the two subtree tasks took
0.030–0.050 s each instead of 0.067–0.080 s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import memo
from .render import Part
from .reuse import TaskKeys

NAME = "tile layer"


class LayerParts:
    """The parts a warm process keeps for the tiles of the block zooms (off in a fresh
    process, or without task keys)."""

    def __init__(self, keys: TaskKeys | None) -> None:
        self.keys = keys if memo.active() else None
        self.by_tile: dict[tuple[int, int, int], list[bytes]] = {}
        self.found: dict[tuple[int, int, int], list[Part | None]] = {}

    @property
    def on(self) -> bool:
        return self.keys is not None

    def add(self, z: int, x: int, y: int, parameters: tuple, indices: Sequence[np.ndarray]) -> None:
        """Key tile (z, x, y)'s parts (with the tile key's parameters and feature indices) and
        look them up: what the store has for a tile taken from the previous run stays kept."""
        if self.keys is None:
            return
        keys = self.keys.layer_keys(NAME, parameters, indices, (z, x, y))
        self.by_tile[z, x, y] = keys
        self.found[z, x, y] = memo.lookup(NAME, keys)

    def known(
        self, z: int, tiles: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], dict[int, Part]] | None:
        """Per tile (x, y) of zoom ``z``, the parts the store has (None when off)."""
        if self.keys is None:
            return None
        known = {}
        for x, y in tiles:
            parts = {n: p for n, p in enumerate(self.found.get((z, x, y), ())) if p is not None}
            if parts:
                known[x, y] = parts
        return known

    def keep(self, z: int, x: int, y: int, parts: tuple[Part, ...]) -> None:
        """Keep a tile's parts the store lacked."""
        keys, found = self.by_tile.get((z, x, y)), self.found.get((z, x, y))
        if keys is None or found is None:
            return
        missing = [n for n, part in enumerate(found) if part is None]
        memo.keep(NAME, [keys[n] for n in missing], [parts[n] for n in missing])
