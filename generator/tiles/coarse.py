"""The features of the other layers (not coverages) at the coarse zooms, those of the block
tasks (below the split zoom): each simplified on its own, from full resolution at the zoom
under the split one, then zoom after zoom (a cascade), by the driver. Kept beside the tiles by
feature (its digest, ``TaskKeys.features``), so that a later run simplifies only the features
it does not find there: the coarse tiles a changed feature lies in hold most of a territory.

Measured on Nord (one reservoir moved, cProfile of the tile step in process, tenth-session
machine): the coarse cascade was 0.58 s of the driver's 0.80 s cutting the coarse blocks, for
the 25 tiles made (see ``docs/scale.md``).

One file per layer (``objets-simplifies/couche-<k>.npz``): a run whose layer has the features
of the previous run's file links that file instead of writing it again. Nord, a reservoir
moved, a warm process: writing every layer's 11 MB again took 0.03–0.04 s of the tile thread's
CPU at each build, for one layer changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import memo
from ..files import link_file
from .cascade import UNREADABLE, read_wkb, wkb_arrays
from .model import PreparedLayer
from .shape import simplify_for_zoom

FEATURES_DIR = "objets-simplifies"


def layer_file(folder: Path, k: int) -> Path:
    """Where layer ``k``'s features are saved in ``folder`` (:data:`FEATURES_DIR`)."""
    return folder / f"couche-{k}.npz"


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
        """The previous run's folder of files, one per layer (see :meth:`use`)."""
        self.made: dict[int, tuple[np.ndarray, dict[int, np.ndarray]]] = {}
        """This run's, per layer: (features, {zoom: their geometries})."""
        self._saved: dict[int, tuple[Path, bytes] | None] = {}
        """Per layer, the previous run's file and its features' digests (:meth:`_previous`)."""

    def zooms(self, k: int) -> range:
        return range(self.split - 1, max(self.layers[k].minzoom, self.minzoom) - 1, -1)

    def key(self, k: int) -> str:
        """What a feature's cascade depends on besides the feature: the zooms, the layer."""
        layer = self.layers[k]
        return repr((layer.name, layer.kind.name, list(self.zooms(k))))

    def get(self, k: int, subset: np.ndarray, record: bool = True) -> dict[int, np.ndarray]:
        """(Called once per layer, with the features of every block to make, which ``record``
        keeps for :meth:`save`; again, not recording, for a block made again whole.) A warm
        process (:mod:`..memo`) keeps each feature's cascade by its digest: it reads the
        previous run's file, or simplifies, only for the features it lacks."""
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
        if record:
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
        """Take what a previous run saved in the folder ``path`` (read when first needed): the
        files of the layers it made for the same zooms."""
        self.source = path if path.is_dir() else None
        return self.source is not None

    def _previous(self, k: int) -> tuple[Path, bytes] | None:
        """The previous run's file of layer ``k``, if saved for the same zooms and layer, and
        the digests of its features (read once per run)."""
        if self.source is None:
            return None
        if k not in self._saved:
            file, self._saved[k] = layer_file(self.source, k), None
            try:
                # (a warm process knows the files it wrote: opening each took ~4 ms)
                key, digests = memo.value(SAVED, lambda: _identity(file), lambda: _header(file))
                if key == self.key(k):
                    self._saved[k] = (file, digests)
            except UNREADABLE:
                pass
        return self._saved[k]

    def _read(self, path: Path) -> None:
        """The previous run's features, into :attr:`found`; in a warm process, into the store
        instead, and only those it lacks (after the first build, none: it holds every feature
        of the files its previous build wrote)."""
        self.read = True
        found = {}
        for k, layer in enumerate(self.layers):
            previous = None if layer.coverage else self._previous(k)
            if previous is None:
                continue
            file, digests = previous
            keys = [digests[i : i + 32] for i in range(0, len(digests), 32)]
            lacking = list(range(len(keys)))
            if memo.active():
                lacking = [i for i, v in enumerate(memo.lookup(self._memo_name(k), keys))
                           if v is None]  # fmt: skip
                if not lacking:
                    continue
            try:
                with np.load(file) as saved:
                    zooms = {z: read_wkb(saved, str(z)) for z in self.zooms(k)}
            except UNREADABLE:
                continue
            if memo.active():
                memo.keep(self._memo_name(k), [keys[i] for i in lacking],
                          [tuple(g[i] for g in zooms.values()) for i in lacking])  # fmt: skip
            else:
                found[layer.name] = ({key: row for row, key in enumerate(keys)}, zooms)
        self.found = found

    def save(self, path: Path) -> None:
        """Into the folder ``path``, per layer, every feature's cascade this run made or found
        (for the features still there), in the layer's order; the previous run's file itself
        when it holds the layer's very features."""
        if self.digests is None:
            return
        path.mkdir(parents=True, exist_ok=True)
        for k, layer in enumerate(self.layers):
            if layer.coverage:
                continue
            digests, previous = self.digests[k], self._previous(k)
            if previous is not None and previous[1] == digests.tobytes():
                link_file(previous[0], layer_file(path, k))
                continue
            zooms = list(self.zooms(k))
            cascades = np.empty((len(zooms), len(digests)), dtype=object)
            have = np.zeros(len(digests), dtype=bool)
            # this run's features, then the previous run's (from its file, or, in a warm
            # process that did not read it, from the store)
            subset, made = self.made.get(k, (np.empty(0, np.intp), {}))
            if len(subset):
                for i, z in enumerate(zooms):
                    cascades[i, subset] = made[z]
                have[subset] = True
            rows, found = self.found.get(layer.name, ({}, {}))
            rest = np.flatnonzero(~have)
            if rows and len(rest):
                at = np.array([rows.get(d.tobytes(), -1) for d in digests[rest]], dtype=np.intp)
                for i, z in enumerate(zooms):
                    cascades[i, rest[at >= 0]] = found[z][at[at >= 0]]
                have[rest[at >= 0]] = True
                rest = rest[at < 0]
            kept = memo.lookup(self._memo_name(k), [d.tobytes() for d in digests[rest]])
            for j, value in zip(rest.tolist(), kept, strict=True):
                if value is not None:
                    for i, geometry in enumerate(value):
                        cascades[i, j] = geometry
                    have[j] = True
            arrays = {"key": np.frombuffer(self.key(k).encode(), dtype=np.uint8),
                      "digests": digests[have].reshape(-1)}  # fmt: skip
            for i, z in enumerate(zooms):
                arrays |= wkb_arrays(str(z), cascades[i, have])
            with layer_file(path, k).open("wb") as file:
                np.savez(file, **arrays)
            if memo.active():
                memo.keep(SAVED, [_identity(layer_file(path, k))],
                          [(self.key(k), arrays["digests"].tobytes())])  # fmt: skip


SAVED = "saved coarse features"
"""The store's name of a saved file's key and digests, by the file's identity."""


def _identity(path: Path) -> bytes:
    """A file as this machine knows it (its device, inode, size and modification time: a
    file written again is another one)."""
    found = path.stat()
    return repr((found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)).encode()


def _header(path: Path) -> tuple[str, bytes]:
    """A saved file's key and its features' digests."""
    with np.load(path) as saved:
        return saved["key"].tobytes().decode(), saved["digests"].tobytes()
