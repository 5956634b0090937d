"""The coverage layers (the communes) simplified as a whole for every zoom: a cascade from the
finest zoom (each zoom simplified from the one above), made once per run by the driver, and
kept beside the tiles so that the next run with the same coverage reads it instead.

Measured on Hauts-de-France (3,808 communes; py-spy at 100 Hz, an incremental run after one
moved reservoir, tenth-session machine): the driver spent 9.2 s of a 20.6 s tile step in
``coverage_simplify`` for the coarse zooms, and ~2 s more checking which zooms need it, although
the communes had not changed. With the saved cascade read instead, the same tile step took
13.5 and 17.0 s (two runs); the file weighs 30 MB for the region, 248 MB for France.

The file (``save`` / ``use``) is a NumPy ``.npz``: per zoom and layer the features' WKB
(exact doubles: the geometries read back are those saved, so the bytes of the tiles are the
same), under the cascade's key; a file with another key, or unreadable, is not used.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .. import memo
from .model import PreparedLayer
from .shape import simplify_for_zoom

COVERAGE_FILE = "communes-simplifiees.npz"


class CoverageCascade:
    """``at(z)``: {layer number: that coverage layer's geometries simplified for zoom ``z``},
    made from the zoom above, down from ``maxzoom`` (the full geometries simplified once).
    A layer is empty at the coarse zooms under its own minzoom (``z < split``, the zooms made
    of blocks: nothing there needs it), never at the split zoom and finer (a subtree keeps the
    features present at any of its zooms)."""

    def __init__(self, layers: Sequence[PreparedLayer], maxzoom: int, split: int) -> None:
        self.layers, self.maxzoom, self.split = layers, maxzoom, split
        self.numbers = [k for k, layer in enumerate(layers) if layer.coverage]
        self.zooms: dict[int, dict[int, np.ndarray]] = {}
        self.source: Path | None = None
        """A previous run's file of this same cascade (see :meth:`use`)."""

    def key(self, wholes: Sequence[bytes]) -> str:
        """What the cascade depends on: each coverage layer's geometries (``wholes``, their
        digest per layer: ``TaskKeys.wholes``), kind and minzoom, maxzoom and the split zoom."""
        digest = hashlib.sha256(repr((self.maxzoom, self.split)).encode())
        for k in self.numbers:
            layer = self.layers[k]
            digest.update(f"{k}\0{layer.kind.name}\0{layer.minzoom}\0".encode() + wholes[k])
        return digest.hexdigest()

    def at(self, z: int) -> dict[int, np.ndarray]:
        """The coverages at zoom ``z`` (and every zoom above it, made on the way)."""
        if self.source is not None and not self.zooms and not self._read(self.source):
            self.source = None
        for zoom in range(min(self.zooms, default=self.maxzoom + 1) - 1, z - 1, -1):
            above = self.zooms.get(zoom + 1)
            self.zooms[zoom] = {
                k: (
                    self.layers[k].geometries[:0]
                    if zoom < self.split and zoom < self.layers[k].minzoom
                    else simplify_for_zoom(
                        self.layers[k].geometries if above is None else above[k],
                        self.layers[k].kind, zoom, True,
                    )
                )
                for k in self.numbers
            }  # fmt: skip
        return self.zooms[z]

    def save(self, path: Path, key: str, minzoom: int) -> bool:
        """Write every zoom down to ``minzoom`` under ``key`` to ``path``, if they were all
        made or read (a run that needed only a few does not save a part); True if written."""
        if not self.numbers or any(z not in self.zooms for z in range(minzoom, self.maxzoom + 1)):
            return False
        arrays = {"key": np.frombuffer(key.encode(), dtype=np.uint8)}
        for z, per_layer in self.zooms.items():
            for k, geometries in per_layer.items():
                arrays |= wkb_arrays(f"{z}-{k}", geometries)
        with path.open("wb") as file:
            np.savez(file, **arrays)
        return True

    def use(self, path: Path, key: str) -> bool:
        """Take the zooms from ``path`` (when first needed) if it was saved under ``key``."""
        if saved_key(path) == key:
            self.source = path
        return self.source is not None

    def _read(self, path: Path) -> bool:
        """Every zoom from ``path``; False if it is not readable or not whole."""
        zooms: dict[int, dict[int, np.ndarray]] = {}
        try:
            with np.load(path) as saved:
                for name in saved.files:
                    if name.endswith("-sizes"):
                        z, k = map(int, name.split("-")[:2])
                        zooms.setdefault(z, {})[k] = read_wkb(saved, f"{z}-{k}")
        except UNREADABLE:
            return False
        expected = {k: len(self.layers[k].geometries) for k in self.numbers}
        if not zooms or any(
            {k: len(g) for k, g in per_layer.items()} != expected for per_layer in zooms.values()
        ):
            return False
        self.zooms.update(zooms)  # (in place: it may be kept by a warm process, see pyramid)
        return True


UNREADABLE = (OSError, ValueError, KeyError, UnicodeDecodeError, zipfile.BadZipFile,
              shapely.errors.GEOSException)  # fmt: skip
"""What reading a saved file that is cut short, or not one of these, raises."""


def wkb_arrays(name: str, geometries: np.ndarray) -> dict[str, np.ndarray]:
    """``geometries`` as two arrays for an ``.npz``: their WKB sizes and bytes, one after the
    other (WKB keeps the exact doubles)."""
    wkb = memo.wkb(geometries)  # (a warm process saves the same features at every build)
    return {
        f"{name}-sizes": np.array([len(b) for b in wkb], dtype=np.int64),
        f"{name}-wkb": np.frombuffer(b"".join(wkb), dtype=np.uint8),
    }


def read_wkb(saved: Any, name: str) -> np.ndarray:
    """The geometries :func:`wkb_arrays` wrote under ``name``."""
    ends = np.cumsum(saved[f"{name}-sizes"]).tolist()
    data = saved[f"{name}-wkb"].tobytes()
    parts = [data[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    return shapely.from_wkb(np.array(parts, dtype=object))


def saved_key(path: Path) -> str | None:
    """The key a file was saved under, None if it is not readable."""
    try:
        with np.load(path) as saved:
            return saved["key"].tobytes().decode()
    except UNREADABLE:
        return None
