"""Where tiles go: ``{z}/{x}/{y}.pbf`` files and one PMTiles v3 archive, behind one small seam.

The engine writes into a new, empty directory and refuses one that holds anything: staging the
output and swapping it into place is the caller's job (the build's tile step does it once, for
the tiles, the archive and the tile report together).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gzip
import hashlib
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import numpy as np
from pmtiles.tile import Compression, Entry, TileType
from pmtiles.writer import finalize_header

from .. import memo
from .grid import HALF_WORLD, Bounds, lonlat

DIRECTORIES = "pmtiles directories"
"""The store's name of an archive's tile places (:func:`entry_places`), by its header and
directories (:func:`directories_key`): a warm process's next build reads back the archive
this one wrote (:class:`generator.tiles.reuse.OldTiles`)."""


def pmtiles_header(bounds: Bounds, minzoom: int, maxzoom: int) -> dict:
    """Header fields the writer does not fill: bounds (E7, rounded outwards) and centre."""
    minx, miny, maxx, maxy = bounds
    (west, south), (east, north) = lonlat(minx, miny), lonlat(maxx, maxy)
    span = max(maxx - minx, maxy - miny, 1e-9)
    center_zoom = min(max(int(math.log2(2 * HALF_WORLD / span)), minzoom), maxzoom)
    center_lon, center_lat = lonlat((minx + maxx) / 2, (miny + maxy) / 2)
    return {
        "tile_type": TileType.MVT,
        "tile_compression": Compression.GZIP,
        "min_zoom": minzoom,
        "max_zoom": maxzoom,
        "min_lon_e7": math.floor(west * 1e7),
        "min_lat_e7": math.floor(south * 1e7),
        "max_lon_e7": math.ceil(east * 1e7),
        "max_lat_e7": math.ceil(north * 1e7),
        "center_zoom": center_zoom,
        "center_lon_e7": round(center_lon * 1e7),
        "center_lat_e7": round(center_lat * 1e7),
    }


def tile_ids(z: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """PMTiles tile ids (``pmtiles.tile.zxy_to_tileid``) of many tiles of zoom ``z`` at once:
    that function is a Python loop per tile, which made it a tenth of the driver's time."""
    x, y = np.asarray(x, dtype=np.int64).copy(), np.asarray(y, dtype=np.int64).copy()
    acc = np.full(len(x), ((1 << (2 * z)) - 1) // 3, dtype=np.int64)
    for a in range(z - 1, -1, -1):
        s = 1 << a
        rx, ry = x & s, y & s
        acc += ((3 * rx) ^ ry) << a
        flip = (ry == 0) & (rx != 0)
        x[flip], y[flip] = s - 1 - x[flip], s - 1 - y[flip]
        swap = ry == 0
        x[swap], y[swap] = y[swap], x[swap].copy()
    return acc


def directories_key(data: bytes | memoryview) -> bytes:
    """What an archive's tile places depend on: its header and directories (root and leaves),
    from its bytes (or a view of them, which may stop after the directories)."""
    from pmtiles.tile import deserialize_header

    header = deserialize_header(data[:127])
    root, leaves = header["root_offset"], header["leaf_directory_offset"]
    return memo.key(bytes(data[:127]), bytes(data[root : root + header["root_length"]]),
                    bytes(data[leaves : leaves + header["leaf_directory_length"]]))  # fmt: skip


def entry_places(entries: Iterable[Any], tile_data_offset: int) -> dict[int, tuple[int, int]]:
    """Tile id -> (offset in the file, length) of an archive's tiles, from the entries of its
    directories (leaf pointers, of run length 0, left out)."""
    entries = list(entries)
    found = {  # (most entries are one tile: a comprehension, then the runs)
        entry.tile_id: (tile_data_offset + entry.offset, entry.length)
        for entry in entries
        if entry.run_length == 1
    }
    for entry in entries:
        if entry.run_length > 1:
            place = (tile_data_offset + entry.offset, entry.length)
            found.update(
                dict.fromkeys(range(entry.tile_id, entry.tile_id + entry.run_length), place)
            )
    return found


def _put_files(
    folders: list[str], files: list[tuple[str, Any]], put: Callable[[str, Any], None]
) -> None:
    """Make ``folders``, then ``put(a, b)`` for each pair of ``files``: ``_write_file(path,
    data)`` for new tiles, ``os.link(source, target)`` for those of a previous run."""
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
    for a, b in files:
        put(a, b)


def _write_new_file(path: str, data: bytes) -> None:
    """:func:`_write_file` into a new file (a new inode): the one at ``path``, if any, may be
    hard-linked from a site or a release's history, which must keep its bytes."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    _write_file(path, data)


def _write_file(path: str, data: bytes) -> None:
    """Raw os calls: on the test VMs, Python's buffered ``open()`` cost ten times more kernel
    time per small file (3.6 s against 0.35 s for 10 000 tiles)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _write_batch(
    directory: Path | str, in_place: bool, tiles: Iterable[tuple[int, int, int, bytes]]
) -> Callable[[], None]:
    """What writes the raw bytes of ``tiles`` (z, x, y, bytes) to ``directory/{z}/{x}/{y}.pbf``
    (new files when the tree is updated in place: see :func:`_write_new_file`)."""
    files, folders = [], set()
    for z, x, y, data in tiles:
        folder = f"{directory}{os.sep}{z}{os.sep}{x}"
        folders.add(folder)
        files.append((f"{folder}{os.sep}{y}.pbf", data))
    # (each batch makes the folders it writes into: other threads' or workers' may share them)
    write = _write_new_file if in_place else _write_file
    return functools.partial(_put_files, sorted(folders), files, write)


def write_tile_files(directory: str, in_place: bool, tiles: list[Any]) -> list[Any]:
    """Runs on a worker that shares the driver's disk: write the files of the made tiles
    (:func:`_write_batch`) and give the tiles back without their raw bytes, their length and
    digest in their place (``RenderedTile.written``). The driver's threads wrote every tile
    file and received every tile's raw bytes: Nord's cold tile step, the driver 1.9 s of user
    and 0.9–1.2 s of kernel time, as much as the two workers together (3.0 s), which were busy
    ~85 % of the tasks' time; after, the driver's kernel time 0.20–0.25 s, the step 3.30–3.46 s
    → 3.11–3.16 s (``/tmp`` probe, ``getrusage``, three runs each)."""
    _write_batch(directory, in_place, [(t.z, t.x, t.y, t.data) for t in tiles if not t.redo])()
    return [
        t if t.redo else dataclasses.replace(
            t, data=b"", written=(len(t.data), hashlib.sha256(t.data).hexdigest())
        )
        for t in tiles
    ]  # fmt: skip


class TileArchive:
    """Collects tiles as they come (any order) and writes both outputs.

    Raw tiles go to files in the (new) directory, written by a few threads (creating a small
    file costs more wall time than encoding the tile on some disks), a batch of tiles per
    thread job; gzipped ones wait until :meth:`finish`, because PMTiles wants them in
    ascending tile id: appended to a spool file beside the archive (half a gigabyte for
    metropolitan France, kept out of memory), with their place in it here.
    """

    def __init__(
        self, directory: Path, pmtiles_path: Path,
        in_place: Iterable[tuple[int, int, int]] | None = None,
    ) -> None:  # fmt: skip
        self.directory = Path(directory)
        self.pmtiles_path = Path(pmtiles_path)
        self.in_place = None if in_place is None else set(in_place)
        """The tiles already in ``directory`` (a previous run's tree, updated in place: a
        tile made again is written anew, one taken is left as it is, one this run does not
        have is removed at :meth:`finish`); None for a new, empty directory."""
        self.gzipped: dict[tuple[int, int, int], tuple[int, int, bytes] | bytes | memoryview] = {}
        """(z, x, y) -> (offset, length, SHA-256) of its gzipped bytes in the spool file, or,
        for a tile of a previous run, its bytes in that run's archive (not copied: ~0.04 s of
        the tile thread for Nord's 3,706 tiles, taken at every incremental run)."""
        self._spool_path = self.pmtiles_path.with_name(f".{self.pmtiles_path.name}.gzipped")
        self._spool: BinaryIO | None = None
        self._writer = ThreadPoolExecutor(max_workers=4, thread_name_prefix="tile-writer")
        self._writes: list[Future] = []
        self._taken: list[tuple[int, int, int]] = []
        """The tiles left where they are in the tree updated in place (see :meth:`finish`)."""
        self._trees: dict[Path, bool] = {}

    def _keep(self, z: int, x: int, y: int, gzipped: bytes) -> None:
        if self._spool is None:
            self._spool_path.parent.mkdir(parents=True, exist_ok=True)
            self._spool = self._spool_path.open("w+b")
        digest = hashlib.sha256(gzipped).digest()  # (for the archive to store it once)
        self.gzipped[z, x, y] = (self._spool.tell(), len(gzipped), digest)
        self._spool.write(gzipped)

    def __enter__(self) -> TileArchive:
        if self.in_place is not None:
            if not self.directory.is_dir():
                raise FileNotFoundError(f"{self.directory}: no tiles to update in place")
            return self
        if self.directory.exists() and any(self.directory.iterdir()):
            raise FileExistsError(f"{self.directory} is not empty; tiles go to a new directory")
        self.directory.mkdir(parents=True, exist_ok=True)
        return self

    def add_batch(self, tiles: Sequence[tuple[int, int, int, bytes, bytes]]) -> None:
        """Tiles as (z, x, y, raw bytes, gzipped bytes); the files are written in the
        background (one thread job for the whole batch)."""
        if not tiles:
            return
        for z, x, y, _, gzipped in tiles:
            self._keep(z, x, y, gzipped)
        batch = [(z, x, y, data) for z, x, y, data, _ in tiles]
        self._writes.append(
            self._writer.submit(_write_batch(self.directory, self.in_place is not None, batch))
        )

    def add_written(self, tiles: Sequence[tuple[int, int, int, bytes]]) -> None:
        """Tiles as (z, x, y, gzipped bytes) whose files a worker wrote
        (:func:`write_tile_files`)."""
        for z, x, y, gzipped in tiles:
            self._keep(z, x, y, gzipped)

    def link_batch(
        self, source: Path, tiles: Sequence[tuple[int, int, int]],
        gzipped: Sequence[bytes | memoryview],
    ) -> None:  # fmt: skip
        """Tiles of a previous run: their files hard-linked from ``source`` (same layout), or
        left where they are when the tree is updated in place (``source`` is then that very
        tree); their ``gzipped`` bytes kept for the archive."""
        if self.in_place is not None:
            assert self._same_tree(source), source
            for (z, x, y), data in zip(tiles, gzipped, strict=True):
                self.gzipped[z, x, y] = data
                self._taken.append((z, x, y))
            return
        files, folders = [], set()
        for (z, x, y), data in zip(tiles, gzipped, strict=True):
            folder = f"{self.directory}{os.sep}{z}{os.sep}{x}"
            folders.add(folder)
            files.append((f"{source}{os.sep}{z}{os.sep}{x}{os.sep}{y}.pbf",
                          f"{folder}{os.sep}{y}.pbf"))  # fmt: skip
            self.gzipped[z, x, y] = data
        self._writes.append(self._writer.submit(_put_files, sorted(folders), files, os.link))

    def _same_tree(self, source: Path) -> bool:
        """``source`` is this very tree (resolved once per source: ~100 batches per run)."""
        if source not in self._trees:
            self._trees[source] = Path(source).resolve() == self.directory.resolve()
        return self._trees[source]

    def finish(self, header: dict, metadata: dict) -> None:
        """Write the PMTiles archive once every tile file is written."""
        if not self.gzipped:
            raise ValueError("no tile has any feature: nothing to write")
        for write in self._writes:
            write.result()  # re-raises a failed write
        if self._spool is not None:
            self._spool.flush()  # (read back below, with pread)
        if self.in_place is not None:
            self._remove_stale()
            self._restore_missing()
        self.pmtiles_path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(list(self.gzipped), dtype=np.int64).reshape(-1, 3)
        ids = np.zeros(len(keys), dtype=np.int64)
        for z in np.unique(keys[:, 0]).tolist():
            at = keys[:, 0] == z
            ids[at] = tile_ids(z, keys[at, 1], keys[at, 2])
        where = list(self.gzipped.values())
        # pmtiles' Writer, but for where the tiles' bytes wait: it spools them into a
        # temporary file, then copies that file after the directories it makes last. Here
        # the archive is laid out from the tiles' digests, then each distinct tile is read
        # where it is (the spool; a previous archive) and written once. Nord, a reservoir
        # moved, a warm process: the Writer took ~0.2 s of the tile thread (its small writes
        # then its 6 MB copy, on a thread sharing the interpreter); the same bytes (tested).
        entries: list[Entry] = []
        first: dict[bytes, int] = {}
        """The offset of each distinct tile content (by digest) in the tile data."""
        written: list[Any] = []
        """The places of the distinct contents, in the order of the tile data."""
        size = 0
        for i in np.argsort(ids, kind="stable").tolist():
            tile_id, place = int(ids[i]), where[i]
            if isinstance(place, tuple):
                length, digest = place[1], place[2]
            else:
                length, digest = len(place), hashlib.sha256(place).digest()
            found = first.get(digest)
            if found is None:
                entries.append(Entry(tile_id, size, length, 1))
                first[digest] = size
                written.append(place)
                size += length
            elif entries[-1].tile_id + entries[-1].run_length == tile_id and (
                entries[-1].offset == found
            ):
                entries[-1].run_length += 1  # (a run of the same tile)
            else:
                entries.append(Entry(tile_id, found, length, 1))
        parts = finalize_header(header, len(ids), entries, len(first), metadata, True, size)
        with self.pmtiles_path.open("wb", buffering=1 << 20) as f:
            f.writelines(parts)
            f.writelines(self._bytes(place) for place in written)
        if memo.active():  # (the next build of a warm process reads them back: ~0.02 s, Nord)
            memo.keep(DIRECTORIES, [directories_key(b"".join(parts))],
                      [entry_places(entries, header["tile_data_offset"])])  # fmt: skip

    def _bytes(self, place: tuple[int, int, bytes] | bytes | memoryview) -> bytes | memoryview:
        """A tile's gzipped bytes, from the spool file (read, not mapped: France's is half a
        gigabyte, which a mapping would count in the build's memory) or as given (a previous
        archive's)."""
        if not isinstance(place, tuple):
            return place
        assert self._spool is not None
        return os.pread(self._spool.fileno(), place[1], place[0])

    def _remove_stale(self) -> None:
        """Updated in place: remove the previous run's tiles this run does not have, and the
        folders that leaves empty."""
        assert self.in_place is not None
        folders = set()
        for z, x, y in sorted(self.in_place - self.gzipped.keys()):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self.directory}{os.sep}{z}{os.sep}{x}{os.sep}{y}.pbf")
            folders.add((z, x))
        for z, x in sorted(folders):
            folder = self.directory / str(z) / str(x)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                if not any(folder.parent.iterdir()):
                    folder.parent.rmdir()

    def _restore_missing(self) -> None:
        """A tile taken from the tree updated in place whose file is gone (removed by hand
        from the tile folder) is written again from its gzipped bytes: the site must not lack
        it. (One listing per folder, not one ``stat`` per tile: Nord's 3,706 tiles taken are
        in ~230 folders.)"""
        by_folder: dict[str, list[tuple[int, int, int]]] = {}
        for z, x, y in self._taken:
            by_folder.setdefault(f"{self.directory}{os.sep}{z}{os.sep}{x}", []).append((z, x, y))
        for folder, tiles in by_folder.items():
            try:
                there = set(os.listdir(folder))
            except FileNotFoundError:
                there = set()
            for z, x, y in tiles:
                if f"{y}.pbf" not in there:
                    os.makedirs(folder, exist_ok=True)
                    _write_file(f"{folder}{os.sep}{y}.pbf",
                                gzip.decompress(self._bytes(self.gzipped[z, x, y])))  # fmt: skip

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._writer.shutdown(wait=True, cancel_futures=True)
        if self._spool is not None:
            self._spool.close()
            self._spool_path.unlink(missing_ok=True)
