"""What a process that builds again and again (``trame serve --watch``) keeps from one build to
the next: the results of pure computations, under a digest of their inputs.

A build in a fresh process keeps nothing: :func:`kept` turns the store on around the watch
loop (and the benchmark that times it). A key is a digest of the very inputs (SHA-256 of the
geometries' WKB and of the parameters), never a file date, so a result is used only for the
inputs it was computed from, and a warm build's bytes are a cold build's. At the end of each
build (:func:`one_build`) the entries it did not use are dropped: the store holds one
build's worth, not a history.

Measured on Nord (one reservoir moved, warm process, py-spy at 200 Hz over five builds): the
driver spent, per build, about 0.3 s reprojecting the tile layers, 0.25 s looking for
overlapping communes and uniting them, 0.2 s on the territory map's borders and 0.2 s
reading back the cascades the previous build had just written, all on inputs that had not
changed (see ``docs/scale.md``).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import itertools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import shapely

from .files import index_json_bytes, parse_json, sha256_rows

T = TypeVar("T")


class _Store:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, bytes], Any] = {}
        self.used: set[tuple[str, bytes]] = set()
        self.made: Counter[str] = Counter()
        """Per name, the results computed since the build began (what the store lacked)."""
        self.by_object: dict[str, dict[int, tuple[Any, bytes]]] = {"digest": {}, "wkb": {}}
        """A geometry object's digest and WKB (by its ``id``, with the object itself, kept
        alive and compared): one step's geometries hashed again by the next are not, nor, in
        the next build, the geometries the store gives back unchanged."""
        self.asked: dict[str, set[int]] = {"digest": set(), "wkb": set()}
        """The objects this build asked about: the next build keeps only those."""
        self.build: int | None = None
        """The current (or last) build's number (see :func:`build_number`)."""
        self.later: list[Callable[[], None]] | None = None
        """During a build, what :func:`after_build` left for its end."""
        self.collected_at = 0
        """How many objects the cycle collector tracked after the last full collection of a
        sweep (see :data:`FULL_COLLECTION_GROWTH`)."""


_store: _Store | None = None
_builds = itertools.count(1)
"""Builds' numbers: they only grow in a process (its workers keep what they made by them)."""
_lock = threading.Lock()
"""Builds call the store from several threads (the tiles run alongside the communes, each
legend item is selected in a thread): what they read and write of it is done under this lock;
a computation runs outside it (two threads may then make the same result; either is kept)."""


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """Keep results from one build to the next while in this block (one process, many builds)."""
    global _store
    previous, _store = _store, _Store()
    try:
        yield
    finally:
        _swept()
        _store = previous
        gc.unfreeze()  # (what the builds left frozen: see _sweep)


def active() -> bool:
    return _store is not None


def build_number() -> int | None:
    """The current build's number (1, 2, … in this process, whatever the store), None without
    a store: what the tile workers date what they keep by (:mod:`generator.tiles.pairs`)."""
    return _store.build if _store is not None else None


def made() -> dict[str, int]:
    """Per name, the results the current build (or the last one) computed instead of finding
    them: what a warm build had to redo."""
    return dict(sorted(_store.made.items())) if _store is not None else {}


_sweeper: threading.Thread | None = None
"""The thread dropping what the last build did not use (see :func:`one_build`)."""


@contextlib.contextmanager
def one_build() -> Iterator[None]:
    """Around one build: at its end, what it did not use is dropped, in a thread, once the
    build is done (the next build, or leaving :func:`kept`, waits for it). Nord, a reservoir
    moved (py-spy, 200 Hz, twelve warm builds): the sweep took ~0.02 s at the end of each
    build, after its site was written.

    During the build, Python's cycle collector leaves alone what the store and the process
    held when it began (``gc.freeze``; reference counting still frees them): its full
    collections walked them all, ~0.04–0.05 s each, one or two per warm Nord build (``/tmp``
    probe timing ``gc.callbacks``). The full collection is made after the build, in the
    sweep's thread, with everything (``gc.unfreeze``), when the objects frozen have grown
    enough since the last one (:data:`FULL_COLLECTION_GROWTH`); else they stay frozen."""
    global _sweeper
    _swept()
    if _store is not None:
        _store.made = Counter()
        _store.build = next(_builds)
        _store.later = []
        gc.freeze()
    try:
        yield
    finally:
        if _store is not None:
            used, asked, later = _store.used, _store.asked, _store.later or []
            _store.used, _store.asked = set(), {kind: set() for kind in asked}
            _store.later = None
            _sweeper = threading.Thread(
                target=_sweep, args=(_store, used, asked, later), name="trame-memo", daemon=True
            )
            _sweeper.start()


def after_build(task: Callable[[], None]) -> None:
    """``task()`` (tidying that nothing of the build reads, such as removing its staging
    folder) at the end of the current build in the sweep's thread, if a warm process is
    building: the next build, or leaving :func:`kept`, waits for it; else at once. Nord, a
    reservoir moved: removing the staging folder took ~0.02 s at the end of each warm build
    (``/tmp`` probe, a timeline of the build's steps)."""
    if _store is not None and _store.later is not None:
        _store.later.append(task)
    else:
        task()


def _sweep(
    store: _Store, used: set[tuple[str, bytes]], asked: dict[str, set[int]],
    later: list[Callable[[], None]],
) -> None:  # fmt: skip
    """What the build left for its end (:func:`after_build`); then keep only the entries of
    ``used`` and the objects of ``asked`` (under the lock: what reads the store meanwhile,
    such as the next build's planning, waits for it); then the full collection of cycles the
    build did not make (see :func:`one_build`)."""
    for task in later:
        task()
    with _lock:
        store.entries = {k: v for k, v in store.entries.items() if k in used}
        for kind, ids in asked.items():
            table = store.by_object[kind]
            store.by_object[kind] = {i: v for i, v in table.items() if i in ids}
    _collect(store)


FULL_COLLECTION_GROWTH = 1.25
"""A sweep makes a full collection only when the objects frozen during the build outnumber by
this much those the collector tracked after the last one (CPython's own rule for its full
collections: a quarter more long-lived objects); else they stay frozen until then. Nord,
warm builds alternating a moved reservoir and a renamed commune (``/tmp`` probe): each
sweep's full collection walked ~129,000 objects in 36–66 ms and found 87–131 unreachable;
with a quick edit (a commune renamed: ~0.03 s) the next build waited ~0.07 s for it."""


def _collect(store: _Store) -> None:
    """The full collection of cycles, with every object, when due (see above)."""
    if gc.get_freeze_count() > FULL_COLLECTION_GROWTH * store.collected_at:
        gc.unfreeze()
        gc.collect()
        store.collected_at = len(gc.get_objects())


def _swept() -> None:
    """Wait for the last build's sweep, if one is under way."""
    global _sweeper
    if _sweeper is not None:
        _sweeper.join()
        _sweeper = None


def digests(geometries: np.ndarray) -> np.ndarray:
    """SHA-256 of each geometry's WKB (exact doubles), as an (n, 32) array of bytes. With the
    store on, a geometry object already hashed is not hashed again (shapely's geometries are
    immutable). Nord, a reservoir moved, four warm builds (``/tmp`` probe): 10,873 geometries
    asked for per build, hashed in 0.21–0.25 s without this, 0.16 s with it within a build,
    ~0 since the read features are kept too."""
    geometries = np.asarray(geometries, dtype=object)
    if _store is None:
        return sha256_rows(shapely.to_wkb(geometries))
    rows = _per_object("digest", geometries, lambda g: list(sha256_rows(shapely.to_wkb(g))))
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), 32)


def wkb(geometries: np.ndarray) -> list[bytes]:
    """``shapely.to_wkb`` of each geometry; with the store on, kept by geometry object as
    :func:`digests` (Nord, a reservoir moved: the coarse features saved at every build, ~33,000
    geometries, took ~0.06 s of the tile thread to encode)."""
    geometries = np.asarray(geometries, dtype=object)
    if _store is None:
        return list(shapely.to_wkb(geometries))
    return _per_object("wkb", geometries, lambda g: list(shapely.to_wkb(g)))


def _per_object(
    kind: str, geometries: np.ndarray, compute: Callable[[np.ndarray], list]
) -> list[bytes]:
    assert _store is not None
    table, ids = _store.by_object[kind], [id(g) for g in geometries]
    with _lock:
        known = [table.get(i) for i in ids]
        _store.asked[kind].update(ids)
    rows = [
        k[1] if k is not None and k[0] is g else None
        for k, g in zip(known, geometries, strict=True)
    ]
    missing = [i for i, row in enumerate(rows) if row is None]
    if missing:
        made = compute(geometries[missing])
        with _lock:
            for i, row in zip(missing, made, strict=True):
                rows[i] = bytes(row)
                table[ids[i]] = (geometries[i], rows[i])
    return rows


def key(*parts: bytes | str | np.ndarray) -> bytes:
    """One digest of ``parts``: bytes, text, or arrays (their bytes, with their shape)."""
    digest = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            part = repr(part.shape).encode() + np.ascontiguousarray(part).tobytes()
        elif isinstance(part, str):
            part = part.encode()
        digest.update(len(part).to_bytes(8, "little") + part)
    return digest.digest()


def value(name: str, key_: Callable[[], bytes], compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for the same ``name`` and key (``key_()``, computed
    only when the store is on) in this build or the last one."""
    if _store is None:
        return compute()
    entry = (name, key_())
    (found,) = lookup(name, [entry[1]])
    if found is None:
        found = compute()
        keep(name, [entry[1]], [found])
    return found


def of_object(name: str, obj: Any, compute: Callable[[], T]) -> T:
    """``compute()`` of ``obj`` alone, kept with the object itself: found again while a later
    build has the very same object (one the store gave back unchanged), never for another."""
    if _store is None:
        return compute()
    key_ = id(obj).to_bytes(8, "little")
    (found,) = lookup(name, [key_])
    if found is not None and found[0] is obj:
        return found[1]
    result = compute()
    keep(name, [key_], [(obj, result)])  # (holding ``obj``: its id is not reused meanwhile)
    return result


def known_of_object(name: str, obj: Any, result: Any) -> None:
    """Keep ``result`` as what :func:`of_object` would compute of ``obj`` under ``name``: a
    result the caller has at hand (not counted in :func:`made`)."""
    keep(name, [id(obj).to_bytes(8, "little")], [(obj, result)], counted=False)


def each(
    name: str, geometries: np.ndarray, compute: Callable[[np.ndarray], np.ndarray],
    given: bytes = b"",
) -> np.ndarray:  # fmt: skip
    """``compute(geometries)`` for an element-wise ``compute`` (one output per geometry, each
    depending on its own geometry only, and on ``given``, the same for all), called on only
    the geometries the store lacks."""
    geometries = np.asarray(geometries, dtype=object)
    if _store is None or not len(geometries):
        return compute(geometries)
    keys = [row.tobytes() + given for row in digests(geometries)]
    found = lookup(name, keys)
    missing = [i for i, value in enumerate(found) if value is None]
    if missing:
        results = compute(geometries[missing])
        keep(name, [keys[i] for i in missing], results)
        for i, result in zip(missing, results, strict=True):
            found[i] = result
    out = np.empty(len(geometries), dtype=object)
    for i, result in enumerate(found):  # (one by one: a result may be a tuple)
        out[i] = result
    return out


def lookup(name: str, keys: list[bytes]) -> list[Any]:
    """What the store holds for each key (None where it holds nothing, or when it is off)."""
    if _store is None:
        return [None] * len(keys)
    with _lock:
        found = [_store.entries.get((name, k)) for k in keys]
        _store.used.update(
            (name, k) for k, value in zip(keys, found, strict=True) if value is not None
        )
    return found


def keep(name: str, keys: list[bytes], values: Any, counted: bool = True) -> None:
    """Keep ``values`` (not None) under ``keys``, if the store is on (``counted``: as results
    the build computed, see :func:`made`)."""
    if _store is not None:
        with _lock:
            for k, value in zip(keys, values, strict=True):
                _store.entries[name, k] = value
                _store.used.add((name, k))
            if counted:
                _store.made[name] += len(keys)


def write_json(name: str, path: Path, data: Any) -> None:
    """``data`` (without floats: :func:`files.index_json_bytes
    <generator.files.index_json_bytes>`) written to ``path``; with the store on, kept under
    those bytes' digest for :func:`read_json` (a warm process parsed back, at the next build,
    what it had just written: the tile record, the manifest)."""
    written = index_json_bytes(data)
    path.write_bytes(written)
    keep(name, [hashlib.sha256(written).digest()], [data])


def read_json(name: str, path: Path) -> Any:
    """The JSON in ``path``: what :func:`write_json` kept for these very bytes, else parsed
    (OSError or ValueError when it cannot be read)."""
    data = path.read_bytes()
    return value(name, lambda: hashlib.sha256(data).digest(), lambda: parse_json(data))
