"""What a tile worker of a warm process keeps: each feature's encoded geometry in each tile of
the coarse zooms, under the digest of the feature's geometry as the task gave it.

A warm build that changes one feature makes again the coarse tiles it lies in, for its layer
only (:attr:`BlockTask.omitted`): the other features of that layer in those tiles are cut,
snapped, repaired and encoded again although nothing about them changed. A feature's encoded
geometry in a tile depends only on that geometry (simplified for the zoom and clipped to the
block by the driver: the same bytes from one build to the next when the feature did not
change), its kind, the zoom and the tile; thinning, which depends on the tile's other features,
only decides which of them are written, from their extents. So a worker keeps, per (geometry
digest, kind, zoom, x, y): nothing there (clipped away), there but not encoded yet (thinned
out), or its encoded geometry, and a later task finds them there instead of making them.

Only in a process that builds again and again (``trame serve --watch``: a task then carries
the build's number, see :func:`generator.memo.build_number`) and only for tiles made at the
task's own level (not those made coarser to fit the size budget). A worker keeps what it
used or made in its last :data:`KEEP_BUILDS` builds: the tasks of one build go to whichever
worker is free, so a tile's features may be in either worker's store.

Measured (Nord, the benchmark's reservoir moved 150 m a build, eight warm builds, py-spy over
the workers, nineteenth session): the coarse tasks spent ~125 ms a build in ``make_valid``
(the reservoirs' layer, snapped to the grid of zooms 7 to 10, breaks often), ~58 ms in
``is_valid`` and ~50 ms encoding, for features that had not moved. With this store (the
same edit, twenty warm builds, py-spy at 200 Hz over the workers, twentieth session): the
block tasks' ``make_valid`` ~12 ms a build, ``is_valid`` ~8 ms, encoding ~10 ms. Whole warm
builds, A/B in one process against the code before it: within the host's noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KEEP_BUILDS = 4
"""A worker forgets what it has not used in this many builds (a warm loop alternates edits
of different layers: each one's tiles must survive the others' builds)."""

MISSING = object()
"""Not known: cut and encode it."""
PRESENT = object()
"""In the tile once clipped, not encoded (it was thinned out of the tile then)."""

Key = tuple[bytes, str, int, int, int]
"""(digest of the feature's WKB, kind, z, x, y)."""

_kept: dict[Key, tuple[int, Any]] = {}
"""Per key, the last build that used it, and None (clipped away), :data:`PRESENT` or the
encoded geometry."""
_build = -1


def start(build: int) -> None:
    """A task of build ``build`` begins: forget what was not used in the last builds."""
    global _build, _kept
    if build != _build:
        _build = build
        _kept = {k: v for k, v in _kept.items() if v[0] > build - KEEP_BUILDS}


def lookup(keys: Sequence[Key]) -> list[Any]:
    """What is known of each key (:data:`MISSING` if nothing), marked used by this build."""
    out = []
    for key in keys:
        found = _kept.get(key)
        if found is None:
            out.append(MISSING)
        else:
            if found[0] != _build:
                _kept[key] = (_build, found[1])
            out.append(found[1])
    return out


def keep(keys: Sequence[Key], values: Sequence[Any]) -> None:
    """Remember ``values`` (None, :data:`PRESENT` or encoded geometries) under ``keys``."""
    for key, value in zip(keys, values, strict=True):
        _kept[key] = (_build, value)


def size() -> int:
    """How many (feature, tile) entries this worker keeps (for tests and probes)."""
    return len(_kept)
