"""What an incremental tile run takes from the previous one: the tasks' keys (from their
inputs, before any cutting), the previous run's record of tasks and tiles, and its archive's
gzipped tiles. Used by :func:`generator.tiles.pyramid.build_tiles`.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .. import memo
from ..files import sha256_rows
from .archive import DIRECTORIES, directories_key, entry_places, tile_ids
from .levels import Level
from .model import PreparedLayer


@dataclass(frozen=True)
class PreviousTiles:
    """A previous run's output, for an incremental run: a task whose key (:class:`TaskKeys`)
    is one recorded here makes the same tiles, so they are taken from here (files hard-linked,
    gzipped bytes read from the archive) instead of being cut and made again."""

    directory: Path
    pmtiles_path: Path
    record: dict[str, list[list]]
    """``TileStats.record`` of that run."""
    cascade_dir: Path | None = None
    """Where it saved its coverages' cascade and its coarse features (:mod:`.cascade`,
    :mod:`.coarse`), if it did."""


def _digests(layer: PreparedLayer) -> tuple[np.ndarray, bytes]:
    """Each feature's digest (its geometry's digest and its properties), and for a coverage
    the digest of all its geometries' (b"" for another layer). The geometries' digests are
    :func:`generator.memo.digests`: a warm process hashes only the geometries it has not seen
    (Nord, a reservoir moved: hashing the 692 reservoirs' WKB again held the GIL ~0.01 s of
    the tile thread per build, py-spy ``--gil``)."""
    shapes = memo.digests(layer.geometries)
    digests = sha256_rows(
        shape.tobytes() + repr(properties).encode()
        for shape, properties in zip(shapes, layer.properties, strict=True)
    )
    digests.setflags(write=False)  # (kept by a warm process: shared by later builds)
    return digests, hashlib.sha256(shapes.tobytes()).digest() if layer.coverage else b""


class TaskKeys:
    """A key per task, from the task's inputs before they are cut: its parameters, then for
    each layer the digests of the features the task gets (geometry, properties), in order,
    and for a coverage layer the digest of all its geometries (it is simplified as a whole, so
    a task's part of it depends on every feature). A task's tiles are a function of these
    alone: an incremental run cuts and makes only the tasks whose key is new.

    ``wholes``: per layer, that digest of a coverage's geometries (b"" for another layer).

    Measured on Nord (one reservoir moved, py-spy at 200 Hz): cutting every task and hashing it
    pickled took ~2 s of the driver's thread and ~1 s of hashing; these keys take ~0.1 s."""

    def __init__(self, layers: Sequence[PreparedLayer]) -> None:
        self.features, self.headers, self.wholes = [], [], []
        for layer in layers:
            # (a warm process keeps them with the prepared layer, given back unchanged when
            # its features are: Nord, a reservoir moved, ~0.05 s of the tile thread per build)
            digests, whole = memo.of_object("feature digests", layer, partial(_digests, layer))
            header = (f"{layer.name}\0{layer.kind.name}\0{layer.coverage}\0{layer.minzoom}\0"
                      .encode() + whole)  # fmt: skip
            self.features.append(digests)
            self.headers.append(header)
            self.wholes.append(whole)
        self.parts: list[dict[tuple[int, int, int], bytes]] | None = None
        """Per layer, its part of each tile's key, by tile: a warm process keeps them with the
        prepared layer (a tile's features in a layer are those of the layer alone that meet
        it). Nord, a reservoir moved: the 3,706 tile keys took ~0.09 s of the tile thread per
        warm build (py-spy, 200 Hz). Not kept in a cold build (France: ~1.9 million parts)."""
        if memo.active():
            self.parts = [memo.of_object("tile key parts", layer, dict) for layer in layers]

    def fill(self, levels: dict[int, Level], zooms: range, minzooms: Sequence[int]) -> None:
        """A warm process: every tile's part of each layer whose parts are not kept yet (a
        layer that changed, a new object), at once, zoom by zoom, instead of tile by tile as
        :meth:`_parts` does (layer by layer, slicing every layer's features of each tile).
        Nord, a reservoir moved: keying the 3,706 tiles held the GIL ~0.08 s per warm build
        (py-spy ``--gil``, 250 Hz), most of it for the one changed layer's parts."""
        if self.parts is None:
            return
        for n, known in enumerate(self.parts):
            if known:
                continue
            for z in zooms:
                level = levels[z]
                starts = level.starts[n] if z >= minzooms[n] else np.zeros(len(level) + 1, int)
                rows = self.features[n][level.features[n]].tobytes() if z >= minzooms[n] else b""
                ends = starts.tolist()
                for i, (x, y) in enumerate(level.xy.tolist()):
                    a, b = ends[i], ends[i + 1]
                    known[z, x, y] = _part(self.headers[n], b - a, rows[32 * a : 32 * b])

    def layer_keys(
        self, task: str, parameters: tuple, indices: Sequence[np.ndarray],
        tile: tuple[int, int, int] | None = None,
    ) -> list[bytes]:  # fmt: skip
        """One key per layer, of its part alone: the layer's part of :meth:`key`, with the
        task (kept parts of ``tile`` reused, as there)."""
        task_part = repr((task, parameters)).encode()
        return [hashlib.sha256(task_part + part).digest() for part in self._parts(indices, tile)]

    def known_key(self, task: str, parameters: tuple, tile: tuple[int, int, int]) -> str | None:
        """:meth:`key` of ``tile`` from its layers' parts kept by a warm process, when every
        one is (None otherwise)."""
        if self.parts is None:
            return None
        found = [known.get(tile) for known in self.parts]
        return None if None in found else _combined(task, parameters, found)  # type: ignore[arg-type]

    def key(
        self, task: str, parameters: tuple, indices: Sequence[np.ndarray],
        tile: tuple[int, int, int] | None = None,
    ) -> str:  # fmt: skip
        """The digest of the task (or of ``tile``, ``indices`` being its features) and of each
        layer's part: its header and its features' digests."""
        return _combined(task, parameters, self._parts(indices, tile))

    def _parts(
        self, indices: Sequence[np.ndarray], tile: tuple[int, int, int] | None
    ) -> list[bytes]:
        """Each layer's part of a key: the digest of its header and of the digests of its
        features ``indices``; a warm process keeps those of each tile."""
        out = []
        for n, index in enumerate(indices):
            known = None if self.parts is None or tile is None else self.parts[n]
            part = None if known is None else known.get(tile)  # type: ignore[arg-type]
            if part is None:
                part = _part(self.headers[n], len(index), self.features[n][index].tobytes())
                if known is not None:
                    known[tile] = part  # type: ignore[index]
            out.append(part)
        return out


def _part(header: bytes, count: int, digests: bytes) -> bytes:
    """A layer's part of a key: its header, then its ``count`` features' ``digests``."""
    digest = hashlib.sha256(header + count.to_bytes(8, "little"))
    digest.update(digests)
    return digest.digest()


def _combined(task: str, parameters: tuple, parts: Sequence[bytes]) -> str:
    return hashlib.sha256(repr((task, parameters)).encode() + b"".join(parts)).hexdigest()


class OldTiles:
    """The previous run's gzipped tiles, in its PMTiles archive: where each one is, read from
    its directories in one pass when first asked for (the reader's ``get`` walks them again
    for every tile), and its bytes as views of the mapped file, not copies. ``tiles``: the
    (z, x, y) of that run's tiles (its record's), their ids found at once, zoom by zoom."""

    def __init__(self, path: Path, tiles: Iterable[tuple[int, int, int]] = ()):
        self.path = path
        self.tiles = tiles
        self.places: dict[tuple[int, int, int], tuple[int, int]] | None = None
        """(z, x, y) -> (offset, length) of its bytes in the file."""
        self._by_id: dict[int, tuple[int, int]] = {}
        self._data: memoryview | None = None

    def _read(self) -> None:
        from pmtiles.tile import deserialize_directory, deserialize_header

        with self.path.open("rb") as file:  # (the mapping keeps the file open)
            mapped = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        data = memoryview(mapped)
        header = deserialize_header(data[:127])
        tiles, leaves = header["tile_data_offset"], header["leaf_directory_offset"]

        def read() -> dict[int, tuple[int, int]]:
            entries = []
            todo = [(header["root_offset"], header["root_length"])]
            while todo:
                offset, length = todo.pop()
                for entry in deserialize_directory(data[offset : offset + length]):
                    if entry.run_length == 0:
                        todo.append((leaves + entry.offset, entry.length))
                    entries.append(entry)
            return entry_places(entries, tiles)

        # (a warm process knows those of the archive its previous build wrote: Nord's 3,706
        # tiles took ~0.02–0.03 s to read back)
        self._by_id = memo.value(DIRECTORIES, lambda: directories_key(data), read)
        self._data, self.places = data, {}
        self._find(sorted(set(self.tiles)))

    def _find(self, tiles: Sequence[tuple[int, int, int]]) -> None:
        assert self.places is not None
        by_zoom: dict[int, list[tuple[int, int, int]]] = {}
        for tile in tiles:
            by_zoom.setdefault(tile[0], []).append(tile)
        for z, at in by_zoom.items():
            xy = np.array([t[1:] for t in at], dtype=np.int64).reshape(-1, 2)
            for tile, tile_id in zip(at, tile_ids(z, xy[:, 0], xy[:, 1]).tolist(), strict=True):
                if tile_id in self._by_id:
                    self.places[tile] = self._by_id[tile_id]

    def get_many(self, tiles: Sequence[tuple[int, int, int]]) -> list[memoryview]:
        """The gzipped bytes of tiles (z, x, y) of the previous run."""
        if self._data is None:
            self._read()
        assert self.places is not None and self._data is not None
        self._find([t for t in tiles if t not in self.places])  # (not in ``tiles``: rare)
        return [self._data[a : a + n] for a, n in map(self.places.__getitem__, tiles)]


@contextlib.contextmanager
def previous_archive(previous: PreviousTiles | None) -> Iterator[OldTiles | None]:
    """The previous run's PMTiles archive, for reading its gzipped tiles."""
    if previous is None:
        yield None
        return
    tiles = ((row[0], row[1], row[2]) for rows in previous.record.values() for row in rows)
    yield OldTiles(previous.pmtiles_path, tiles)
