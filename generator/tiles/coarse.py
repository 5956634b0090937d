"""The features of the other layers (not coverages) at the coarse zooms, those of the block
tasks (below the split zoom): each simplified on its own, from full resolution at the zoom
under the split one, then zoom after zoom (a cascade), by the driver. Kept beside the tiles by
feature (its digest, ``TaskKeys.features``), so that a later run simplifies only the features
it does not find there: the coarse tiles a changed feature lies in hold most of a territory.

Measured on Nord (one reservoir moved, cProfile of the tile step in process, tenth-session
machine): the coarse cascade was 0.58 s of the driver's 0.80 s cutting the coarse blocks, for
the 25 tiles made (see ``docs/scale.md``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import memo
from ..files import link_file
from .cascade import UNREADABLE, read_wkb, saved_key, wkb_arrays
from .model import PreparedLayer
from .shape import simplify_for_zoom

FEATURES_FILE = "objets-simplifies.npz"


class CoarseFeatures:
    """``get(k, subset)``: {zoom: the features ``subset`` of layer ``k`` simplified for it}, for
    every coarse zoom the layer is in (``split - 1`` down to its own minzoom and ``minzoom``)."""

    def __init__(
        self, layers: Sequence[PreparedLayer], split: int, minzoom: int,
        digests: Sequence[np.ndarray] | None,
    ) -> None:  # fmt: skip
        self.layers, self.split, self.minzoom, self.digests = layers, split, minzoom, digests
        self.found: dict[str, tuple[dict[bytes, int], dict[int, np.ndarray]]] = {}
        """A previous run's, per layer: {digest: row}, {zoom: geometries by row}."""
        self.read = False
        """Whether the previous run's file was read (when first needed)."""
        self.source: Path | None = None
        """The previous run's file, if made for the same zooms and layers (see :meth:`use`)."""
        self.made: dict[int, tuple[np.ndarray, dict[int, np.ndarray]]] = {}
        """This run's, per layer: (features, {zoom: their geometries})."""

    def zooms(self, k: int) -> range:
        return range(self.split - 1, max(self.layers[k].minzoom, self.minzoom) - 1, -1)

    def key(self) -> str:
        """What a feature's cascade depends on besides the feature: the zooms, the layer."""
        return repr([
            (layer.name, layer.kind.name, list(self.zooms(k)))
            for k, layer in enumerate(self.layers) if not layer.coverage
        ])  # fmt: skip

    def get(self, k: int, subset: np.ndarray) -> dict[int, np.ndarray]:
        """(Called once per layer, with the features of every block to make.) A warm process
        (:mod:`..memo`) keeps each feature's cascade by its digest: it reads the previous run's
        file, or simplifies, only for the features it lacks."""
        warm = memo.active() and self.digests is not None
        if warm and self.source is not None and not self.read:
            self._read(self.source)  # into the store, decoding only the features it lacks
        zooms = self.zooms(k)
        keys = [d.tobytes() for d in self.digests[k][subset]] if warm else []
        kept = memo.lookup(self._memo_name(k), keys) if warm else [None] * len(subset)
        lacking = np.array([value is None for value in kept], dtype=bool)
        out = {z: np.empty(len(subset), dtype=object) for z in zooms}
        if lacking.any():
            made = self._cascades(k, subset[lacking])
            for z in zooms:
                out[z][lacking] = made[z]
            if warm:  # each feature's cascade: its geometry at each zoom
                rows = np.flatnonzero(lacking).tolist()
                cascades = [tuple(made[z][j] for z in zooms) for j in range(len(rows))]
                memo.keep(self._memo_name(k), [keys[i] for i in rows], cascades)
        for i in np.flatnonzero(~lacking).tolist():
            for z, geometry in zip(zooms, kept[i], strict=True):
                out[z][i] = geometry
        self.made[k] = (subset, out)
        return out

    def _memo_name(self, k: int) -> str:
        layer = self.layers[k]
        return f"coarse features {layer.kind.name} {list(self.zooms(k))}"

    def _cascades(self, k: int, subset: np.ndarray) -> dict[int, np.ndarray]:
        """The cascades of the features ``subset``: found in the previous run's file, or made."""
        if self.source is not None and not self.read:
            self._read(self.source)
        layer, zooms = self.layers[k], self.zooms(k)
        rows, found = self.found.get(layer.name, ({}, {}))
        at = np.full(len(subset), -1, dtype=np.intp)
        if self.digests is not None and rows:
            at = np.array([rows.get(d.tobytes(), -1) for d in self.digests[k][subset]],
                          dtype=np.intp).reshape(-1)  # fmt: skip
        hit, miss = np.flatnonzero(at >= 0), np.flatnonzero(at < 0)
        geometries = layer.geometries[subset[miss]]
        out = {}
        for z in zooms:
            geometries = simplify_for_zoom(geometries, layer.kind, z)
            out[z] = np.empty(len(subset), dtype=object)
            out[z][miss] = geometries
            if len(hit):
                out[z][hit] = found[z][at[hit]]
        return out

    def use(self, path: Path) -> bool:
        """Take what a previous run saved in ``path`` (read when first needed), if it was made
        for the same zooms and layers."""
        self.source = path if saved_key(path) == self.key() else None
        return self.source is not None

    def _read(self, path: Path) -> None:
        """The previous run's features, into :attr:`found`; in a warm process, into the store
        instead, and only those it lacks (after the first build, none: it holds every feature
        of the file its previous build wrote)."""
        self.read = True
        found = {}
        try:
            with np.load(path) as saved:
                for k, layer in enumerate(self.layers):
                    if layer.coverage or f"{k}-digests" not in saved.files:
                        continue
                    digests = saved[f"{k}-digests"].reshape(-1, 32)
                    keys = [d.tobytes() for d in digests]
                    if memo.active():
                        lacking = [i for i, v in enumerate(memo.lookup(self._memo_name(k), keys))
                                   if v is None]  # fmt: skip
                        if lacking:
                            zooms = [read_wkb(saved, f"{k}-{z}") for z in self.zooms(k)]
                            memo.keep(self._memo_name(k), [keys[i] for i in lacking],
                                      [tuple(g[i] for g in zooms) for i in lacking])  # fmt: skip
                        continue
                    rows = {key: row for row, key in enumerate(keys)}
                    found[layer.name] = (rows, {z: read_wkb(saved, f"{k}-{z}")
                                                for z in self.zooms(k)})  # fmt: skip
        except UNREADABLE:
            found = {}
        self.found = found

    def save(self, path: Path) -> None:
        """Every feature's cascade this run made or found (for the features still there); the
        previous run's file itself when this run needed none (no feature changed)."""
        if self.digests is None:
            return
        if not self.made and self.source is not None:
            link_file(self.source, path)
            return
        arrays = {"key": np.frombuffer(self.key().encode(), dtype=np.uint8)}
        for k, layer in enumerate(self.layers):
            if layer.coverage:
                continue
            rows, found = self.found.get(layer.name, ({}, {}))
            subset, made = self.made.get(k, (np.empty(0, np.intp), {}))
            digests = self.digests[k]
            # this run's features first, then the previous run's that are still features here
            # (from its file, or, in a warm process that did not read it, from the store)
            others = np.setdiff1d(np.arange(len(digests)), subset)
            at = np.array([rows.get(d.tobytes(), -1) for d in digests[others]], dtype=np.intp)
            kept = memo.lookup(self._memo_name(k), [d.tobytes() for d in digests[others[at < 0]]])
            held = np.array([value is not None for value in kept], dtype=bool)
            stored = others[at < 0][held]
            others, at = others[at >= 0], at[at >= 0]
            arrays[f"{k}-digests"] = np.concatenate(
                [digests[subset], digests[others], digests[stored]]
            ).reshape(-1)
            kept = [value for value in kept if value is not None]
            for i, z in enumerate(self.zooms(k)):
                from_store = np.empty(len(kept), dtype=object)
                from_store[:] = [value[i] for value in kept]
                geometries = np.concatenate([made.get(z, np.empty(0, object)),
                                             found[z][at] if len(at) else np.empty(0, object),
                                             from_store])  # fmt: skip
                arrays |= wkb_arrays(f"{k}-{z}", geometries)
        with path.open("wb") as file:
            np.savez(file, **arrays)
