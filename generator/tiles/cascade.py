"""The coarse zooms' cascade of simplifications, kept from one run to the next.

The block tasks of the coarse zooms get their features simplified by the driver zoom after
zoom, from the split zoom down to ``minzoom`` (:func:`generator.tiles.pyramid._jobs`). The
coarsest block holds the whole territory, so an incremental run that changes one feature must
make it again, with every feature simplified at every coarse zoom: on Nord (one reservoir moved,
py-spy at 200 Hz) that cascade took 1.7–2.6 s of the tile thread, the largest part of the
incremental run's tile step. Each feature's simplification is its own (coverages excepted:
they are simplified as a whole and are not kept here), so a run keeps each feature's result per
zoom, keyed by the feature's digest (:class:`generator.tiles.pyramid.TaskKeys`), and the next
run simplifies only the features it does not find: the same geometries, so the same bytes.

Stored beside the tiles as a NumPy ``.npz`` (no pickle): per layer its header, the features'
digests and, per zoom, the geometries packed as WKB (:mod:`generator.wkb`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..kinds import Kind
from ..wkb import pack, unpack
from .shape import simplify_for_zoom


class Cascade:
    """Simplifies the non-coverage layers for the coarse zooms, with what ``previous`` (a file
    :meth:`save` wrote for the same split zoom) already holds. ``digests`` and ``headers``:
    per layer, the features' digests and the layer's header (those of ``TaskKeys``); None:
    nothing is kept or reused."""

    def __init__(
        self, digests: Sequence[np.ndarray] | None, headers: Sequence[bytes] | None,
        split: int, previous: Path | None = None,
    ) -> None:  # fmt: skip
        self.digests, self.headers, self.split = digests, headers, split
        self.previous = previous
        self.made: dict[int, dict[int, np.ndarray]] = {}
        """Zoom -> layer -> the geometries simplified for that zoom (every feature)."""
        self._known: list[tuple[np.ndarray, dict[int, np.ndarray]]] | None = None

    def simplify(self, k: int, geoms: np.ndarray, kind: Kind, z: int) -> np.ndarray:
        """Layer ``k``'s features for zoom ``z`` from ``geoms``, their result for ``z + 1``."""
        if self.digests is None:
            return simplify_for_zoom(geoms, kind, z)
        rows, cached = self._lookup(k, z)
        hit = rows >= 0
        out = np.empty(len(geoms), dtype=object)
        if cached is not None:
            out[hit] = cached[rows[hit]]
        miss = np.flatnonzero(~hit)
        if len(miss):
            out[miss] = simplify_for_zoom(geoms[miss], kind, z)
        self.made.setdefault(z, {})[k] = out
        return out

    def _lookup(self, k: int, z: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Each feature's row in the previous run's zoom ``z`` (-1: not there)."""
        if self._known is None:
            self._known = _load(self.previous, self.split, self.headers, self.digests)
        rows, zooms = self._known[k]
        if z not in zooms:
            return np.full(len(rows), -1, dtype=np.int64), None
        return rows, zooms[z]

    def save(self, path: Path, zooms: range) -> None:
        """Write what this run made for ``zooms`` (every one of them, for every layer it
        simplified), else carry the previous run's file when this run made nothing (every
        coarse block was taken from it, so its features are this run's)."""
        if self.digests is None:
            return
        complete = bool(self.made) and all(z in self.made for z in zooms)
        if not complete:
            if not self.made and self.previous is not None and self.previous.is_file():
                shutil.copyfile(self.previous, path)
            return
        arrays = {"split": np.array([self.split])}
        layers = sorted({k for made in self.made.values() for k in made})
        for k in layers:
            arrays[f"header_{k}"] = np.frombuffer(self.headers[k], dtype=np.uint8)
            arrays[f"digests_{k}"] = self.digests[k]
            for z in zooms:
                data, lengths = pack(self.made[z][k])
                arrays[f"wkb_{k}_{z}"] = np.frombuffer(data, dtype=np.uint8)
                arrays[f"lengths_{k}_{z}"] = lengths
        temporary = path.with_name(f".{path.name}.tmp.npz")
        np.savez(temporary, **arrays)
        os.replace(temporary, path)


def _load(
    path: Path | None, split: int, headers: Sequence[bytes], digests: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, dict[int, np.ndarray]]]:
    """Per layer: each feature's row in the saved geometries (-1: not saved) and the saved
    geometries per zoom; nothing when the file is missing, unreadable or for another split."""
    empty = [(np.full(len(d), -1, dtype=np.int64), {}) for d in digests]
    if path is None or not path.is_file():
        return empty
    try:
        with np.load(path, allow_pickle=False) as saved:
            stored = dict(saved.items())
    except (OSError, ValueError):
        return empty
    if "split" not in stored or int(stored["split"][0]) != split:
        return empty
    by_header = {
        stored[name].tobytes(): name.removeprefix("header_")
        for name in stored
        if name.startswith("header_")
    }
    known = []
    for header, current, nothing in zip(headers, digests, empty, strict=True):
        j = by_header.get(header)
        if j is None:
            known.append(nothing)
            continue
        row_of = {digest: i for i, digest in enumerate(_rows(stored[f"digests_{j}"]))}
        rows = np.fromiter((row_of.get(d, -1) for d in _rows(current)), np.int64, len(current))
        zooms = {}
        for name in stored:
            if name.startswith(f"wkb_{j}_"):
                z = name.rsplit("_", 1)[1]
                zooms[int(z)] = unpack((stored[name].tobytes(), stored[f"lengths_{j}_{z}"]))
        known.append((rows, zooms))
    return known


def _rows(digests: np.ndarray) -> list[bytes]:
    """An (n, 32) array of digests as n byte strings."""
    return [row.tobytes() for row in np.ascontiguousarray(digests, dtype=np.uint8)]
