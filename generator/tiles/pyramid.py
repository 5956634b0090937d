"""The tile pyramid: which tiles to make, cut into tasks, run on an executor, written out.

The driver (this module) finds the occupied tiles level by level and splits the work at a zoom
``r`` (:mod:`.levels`): each occupied tile of zoom ``r`` becomes a subtree task (its features
clipped once; the worker simplifies and renders zooms ``r..maxzoom`` under it), and the few
coarser zooms become block tasks fed with features the driver simplified (cheap there).
Polygon coverages (``TileLayer.coverage``, the communes) are the exception: the driver
simplifies them as a whole for every zoom and hands each task its part, so a shared border is
simplified once and is the same on both sides, in every task and tile.

Tasks are made lazily, as the executor takes them (:func:`generator.parallel.map_unordered`:
at most ``4 * workers`` in flight), so the workers start at once and memory stays flat. An
incremental run takes the tasks whose key it knows from the previous run (:mod:`.reuse`).
Output bytes depend only on the input: features keep their input order, properties are sorted and gzip carries no timestamp, so any executor
and any number of workers give the same files.

Measured against tippecanoe and at region scale: ``benchmarks/`` and ``docs/scale.md``.
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import shapely
from tqdm import tqdm

from .. import parallel
from ..parallel import map_unordered
from .archive import TileArchive, pmtiles_header
from .grid import BUFFER, tile_bounds
from .levels import Level, occupied, split_zoom
from .model import PreparedLayer, StatsCollector, TileLayer, TileStats, prepare_layer
from .render import (
    BLOCK_SHIFT,
    MAX_TILE_BYTES,
    BlockTask,
    LayerChunk,
    RenderedTile,
    SubtreeTask,
    render_block,
    render_subtree,
)
from .reuse import PreviousTiles, TaskKeys, previous_archive
from .shape import simplify_for_zoom

__all__ = ["PreviousTiles", "TileLayer", "TileStats", "build_tiles"]

LEAD_FRACTION = 4
"""The coarse zooms' block tasks are made after the first 1/LEAD_FRACTION of the subtree tasks
(the biggest): see :func:`_jobs`."""

Job = tuple[Callable[..., list[RenderedTile]], BlockTask | SubtreeTask, str | None]
"""A task to run: its function, its inputs (cut) and its key (None: no key wanted)."""


def _tile_task(job: Job) -> tuple[str | None, list[RenderedTile]]:
    """Runs on a worker: a task's tiles, with the task's key (None: no key wanted)."""
    function, task, key = job
    return key, function(task)


def _chunks(
    layers: Sequence[PreparedLayer],
    geoms: Sequence[np.ndarray],
    indices: Sequence[np.ndarray],
    area: tuple[float, float, float, float],
) -> tuple[LayerChunk, ...]:
    """The features ``indices`` of each layer (geometries from ``geoms``) clipped to ``area``."""
    return tuple(
        LayerChunk(
            layer.name,
            layer.kind,
            g[index],
            [layer.properties[i] for i in index],
            layer.extents[index],
            layer.coverage,
            minzoom=layer.minzoom,
        ).clip(area)
        for layer, g, index in zip(layers, geoms, indices, strict=True)
    )


def _subtree_chunks(
    layers: Sequence[PreparedLayer],
    coverages: dict[int, list[np.ndarray | None]],
    indices: Sequence[np.ndarray],
    area: tuple[float, float, float, float],
    zooms: range,
) -> tuple[LayerChunk, ...]:
    """A subtree's features: full resolution, clipped to ``area``, for the worker to simplify;
    coverage layers come already simplified (as a whole) for each of the subtree's zooms."""
    chunks = []
    for k, (layer, index) in enumerate(zip(layers, indices, strict=True)):
        chunk = LayerChunk(
            layer.name,
            layer.kind,
            layer.geometries[index],
            [layer.properties[i] for i in index],
            layer.extents[index],
            layer.coverage,
            minzoom=layer.minzoom,
        )
        if layer.coverage:
            # Same features at every zoom (a part may be empty at some zoom: skipped later).
            per_zoom = {z: shapely.clip_by_rect(coverages[z][k][index], *area) for z in zooms}
            present = np.flatnonzero(
                np.any([~shapely.is_empty(g) for g in per_zoom.values()], axis=0)
            )
            chunk = chunk.select(present)
            chunk = dataclasses.replace(
                chunk,
                geometries=per_zoom[zooms[-1]][present],
                zooms={z: g[present] for z, g in per_zoom.items()},
            )
        else:
            chunk = chunk.clip(area)
        chunks.append(chunk)
    return tuple(chunks)


def _jobs(
    layers: Sequence[PreparedLayer],
    levels: dict[int, Level],
    minzoom: int,
    maxzoom: int,
    r: int,
    thin: bool,
    keys: TaskKeys | None = None,
    taken: Callable[[str], bool] = lambda key: False,
    taken_block: Callable[[str, dict], frozenset | None] = lambda key, tiles: None,
) -> Iterator[Job]:
    """Subtree tasks, biggest first (they are the bulk of the work); after the first quarter of
    them, the block tasks of the coarse zooms, simplified here zoom after zoom from fine to
    coarse (a cascade, as the workers do) while the workers are busy with the big subtrees.
    Tasks are made as the executor takes them, so the first ones start at once; each comes
    with its key (``keys``), and a task whose tiles are ``taken`` from a previous run (called
    with its key) is not cut at all, nor the coarse zooms simplified when every block is. A
    coarse block also has a key per tile (the tile's own features): ``taken_block`` (called
    with the block's key and {(z, x, y): tile key}) takes the block whole, or else the tiles
    a previous run made, and returns the (x, y) of the tiles left to make (None: all of
    them), so that one changed feature remakes only the coarse tiles it meets.

    Coverage layers are simplified here, as a whole, for every zoom (a cascade from the finest):
    each shared border once, the same in every task and tile."""
    first = max(r, minzoom)
    coverages: dict[int, list[np.ndarray | None]] = {}

    def fine_coverages() -> None:
        """The coverages' cascade, from maxzoom to ``first`` (once, when a task needs it)."""
        if coverages:
            return
        previous = [layer.geometries if layer.coverage else None for layer in layers]
        for z in range(maxzoom, first - 1, -1):
            previous = coverages[z] = [
                None if g is None else simplify_for_zoom(g, la.kind, z, True)
                for g, la in zip(previous, layers, strict=True)
            ]

    def key(task: str, parameters: tuple, indices: list[np.ndarray]) -> str | None:
        return None if keys is None else keys.key(task, parameters, indices)

    sizes = [shapely.get_num_coordinates(layer.geometries) for layer in layers]
    subtrees = sorted(
        (-sum(int(n[i].sum()) for n, i in zip(sizes, indices, strict=True)), x, y, indices)
        for x, y, indices in levels[r].tiles()
    )
    zooms = range(first, maxzoom + 1)

    def subtree_jobs(part: list) -> Iterator[Job]:
        for _, x, y, indices in part:
            k = key("subtree", (r, x, y, first, maxzoom, thin), indices)
            if k is not None and taken(k):
                continue
            fine_coverages()
            area = tile_bounds(r, x, y, BUFFER)
            chunks = _subtree_chunks(layers, coverages, indices, area, zooms)
            yield render_subtree, SubtreeTask((r, x, y), first, maxzoom, chunks, thin), k

    def present(z: int, indices: list[np.ndarray]) -> list[np.ndarray]:
        """(a layer is not in the tiles of zooms under its own minzoom: no feature)"""
        return [i if z >= la.minzoom else i[:0] for i, la in zip(indices, layers, strict=True)]

    def block_jobs() -> Iterator[Job]:
        todo: dict[int, list] = {}
        for z in range(r - 1, minzoom - 1, -1):
            b = max(z - BLOCK_SHIFT, 0)
            shift = z - b
            tile_keys: dict[tuple[int, int], dict[tuple[int, int, int], str]] = {}
            tile_features: dict[tuple[int, int], list[np.ndarray]] = {}
            if keys is not None:
                for x, y, indices in levels[z].tiles():
                    tile_features[x, y] = present(z, indices)
                    k = keys.key("tile", (z, x, y, thin and z < maxzoom), tile_features[x, y])
                    tile_keys.setdefault((x >> shift, y >> shift), {})[z, x, y] = k
            for bx, by, indices in levels[b].tiles():
                indices = present(z, indices)
                k = key("block", (z, b, bx, by, thin and z < maxzoom), indices)
                only = None
                if k is not None:
                    only = taken_block(k, tile_keys.get((bx, by), {}))
                    if only is not None and not only:
                        continue  # every tile taken
                    if only is not None:  # only the features of the tiles to make
                        indices = [
                            np.unique(np.concatenate([tile_features[t][n] for t in only]))
                            for n in range(len(layers))
                        ]
                todo.setdefault(z, []).append((b, bx, by, indices, k, only))
        if not todo:
            return
        fine_coverages()
        geoms = [layer.geometries for layer in layers]
        for z in range(r - 1, min(todo) - 1, -1):
            # (a coverage continues its cascade; the others start it from their full resolution)
            geoms = [
                g[:0] if z < la.minzoom  # (not in these tiles: nothing to simplify)
                else simplify_for_zoom(coverages[z + 1][k] if la.coverage else g, la.kind, z,
                                       la.coverage)
                for k, (g, la) in enumerate(zip(geoms, layers, strict=True))
            ]  # fmt: skip
            coverages[z] = geoms
            for b, bx, by, indices, k, only in todo.get(z, []):
                shift = z - b
                chunks = _chunks(layers, geoms, indices, tile_bounds(b, bx, by, BUFFER << shift))
                tiles = (bx << shift, by << shift, ((bx + 1) << shift) - 1,
                         ((by + 1) << shift) - 1)  # fmt: skip
                task = BlockTask(z, tiles, chunks, thin and z < maxzoom, only=only)
                yield render_block, task, k

    # The coarse zooms' cascade runs here, in the driver: after the biggest subtrees, while the
    # workers are busy with them, not after the last (smallest) ones, when they would wait for
    # it. The task order changes no byte (tiles are written by their z/x/y).
    lead = -(-len(subtrees) // LEAD_FRACTION)
    yield from subtree_jobs(subtrees[:lead])
    yield from block_jobs()
    yield from subtree_jobs(subtrees[lead:])


def build_tiles(
    layers: Sequence[TileLayer],
    *,
    minzoom: int,
    maxzoom: int,
    directory: Path,
    pmtiles_path: Path,
    name: str,
    description: str = "",
    attribution: str = "",
    executor: cf.Executor | None = None,
    workers: int | None = None,
    progress: bool = True,
    thin: bool = True,
    previous: PreviousTiles | None = None,
    keep_record: bool = False,
) -> TileStats:
    """Write every non-empty tile of zooms ``minzoom..maxzoom`` to ``directory/{z}/{x}/{y}.pbf``
    (plain MVT) and, gzipped, to the PMTiles archive ``pmtiles_path``; return tile statistics.

    Work runs on ``executor`` if given (any ``concurrent.futures.Executor``, e.g. a Dask
    client's ``get_executor()``; ``workers`` then only sizes how many tasks are kept in flight,
    so pass the cluster's worker count), else on a process pool of ``workers`` processes
    (default: all cores); ``workers=1`` runs in this process. The output does not depend on
    the executor or the number of workers.

    ``previous``: a previous run to take unchanged tasks' tiles from; ``keep_record``: return
    in ``TileStats.record`` what a later run needs for that (costs a hash of each task).

    ``thin``: at every zoom but ``maxzoom``, leave out of a tile the sub-pixel features that
    share their pixel with a larger one of the same layer (counted in the statistics; see
    :mod:`trame.tiles.render`). ``False`` keeps every feature in every tile it touches.
    """
    if not 0 <= minzoom <= maxzoom <= 24:
        raise ValueError(f"need 0 <= minzoom <= maxzoom <= 24, got {minzoom}..{maxzoom}")
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layer names must be unique: {names}")
    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    prepared = [prepare_layer(layer) for layer in layers]
    everything = np.concatenate([layer.geometries for layer in prepared] + [np.empty(0, object)])
    if not len(everything):
        raise ValueError("no geometry in any layer: nothing to tile")
    levels = occupied(prepared, maxzoom)
    r = split_zoom(levels, minzoom, maxzoom)
    n_tasks = len(levels[r]) + sum(len(levels[max(z - BLOCK_SHIFT, 0)]) for z in range(minzoom, r))
    metadata = {
        "name": name,
        "description": description,
        "attribution": attribution,
        "format": "pbf",
        "type": "overlay",
        "vector_layers": [
            {
                "id": layer.name,
                "fields": layer.fields,
                "minzoom": max(minzoom, layer.minzoom),
                "maxzoom": maxzoom,
            }
            for layer in prepared
        ],
    }
    stats = StatsCollector()
    record: dict[str, list[list]] = {}
    reused = 0
    with (
        parallel.pool(workers, executor) as workers_pool,
        TileArchive(directory, pmtiles_path) as archive,
        tqdm(total=n_tasks, unit="tâche", desc=f"tuiles {name}", disable=not progress) as bar,
        previous_archive(previous) as old,
    ):

        def take(tiles: list[list]) -> None:
            """Tiles of the previous run (entries of its record) into this one."""
            assert previous is not None
            archive.link_batch(previous.directory, [(z, x, y) for z, x, y, *_ in tiles],
                               [old.get(z, x, y) for z, x, y, *_ in tiles])  # fmt: skip
            for z, x, y, raw, gz, features, thinned, level, _ in tiles:
                thinned = tuple(map(tuple, thinned))
                stats.add(z, x, y, raw, gz, features, thinned, level, MAX_TILE_BYTES)

        block_tiles: dict[str, dict[tuple[int, int, int], str]] = {}
        """A coarse block's tiles and their keys, by the block's key."""
        partial: dict[str, list[list]] = {}
        """The tiles taken from the previous run for a block whose other tiles are made."""

        def keep(key: str, tiles: list[list]) -> None:
            """Record a task's tiles; a coarse block's also under each tile's own key (an
            empty list for a tile with nothing in it)."""
            record[key] = tiles
            made = {(z, x, y): tile for tile in tiles for z, x, y in [tile[:3]]}
            for zxy, tile_key in block_tiles.get(key, {}).items():
                record[tile_key] = [made[zxy]] if zxy in made else []

        def taken(key: str) -> bool:
            """Take the task's tiles from the previous run, if it made them."""
            nonlocal reused
            if previous is None or key not in previous.record:
                return False
            take(previous.record[key])
            keep(key, previous.record[key])
            reused += 1
            bar.update(1)
            return True

        def taken_block(key: str, tiles: dict[tuple[int, int, int], str]) -> frozenset | None:
            """A coarse block: taken whole if the previous run made it, else the tiles it made
            are; the (x, y) of the others, to make (None: all of them, no previous run). Its
            tiles' keys are kept in the record either way, for the run after this one."""
            nonlocal reused
            block_tiles[key] = tiles
            if taken(key):
                return frozenset()
            if previous is None:
                return None
            found = [tile for k in tiles.values() for tile in previous.record.get(k, ())]
            take(found)
            partial[key] = found
            left = frozenset((x, y) for (_, x, y), k in tiles.items() if k not in previous.record)
            if not left:
                keep(key, partial.pop(key))
                reused += 1
                bar.update(1)
            return left

        keys = TaskKeys(prepared) if previous is not None or keep_record else None
        jobs = _jobs(prepared, levels, minzoom, maxzoom, r, thin, keys, taken, taken_block)
        fresh = ((_tile_task, job) for job in jobs)
        for key, tiles in map_unordered(None, fresh, workers_pool):
            archive.add_batch([(t.z, t.x, t.y, t.data, t.gzipped) for t in tiles])
            for t in tiles:
                stats.add(
                    t.z, t.x, t.y, len(t.data), len(t.gzipped), t.features, t.thinned, t.level,
                    MAX_TILE_BYTES,
                )  # fmt: skip
            if key is not None:
                keep(key, partial.pop(key, []) + [
                    [t.z, t.x, t.y, len(t.data), len(t.gzipped), t.features,
                     [list(pair) for pair in t.thinned], t.level,
                     hashlib.sha256(t.data).hexdigest()]
                    for t in tiles
                ])  # fmt: skip
            bar.update(1)
        header = pmtiles_header(tuple(shapely.total_bounds(everything)), minzoom, maxzoom)
        archive.finish(header, metadata)
    result = stats.result(
        time.perf_counter() - started,
        n_tasks,
        range(minzoom, maxzoom + 1),
        names,
        [note for layer in prepared for note in layer.notes]
        + [
            f"couche {layer.name!r} : absente des tuiles des zooms {minzoom} à "
            f"{min(layer.minzoom, maxzoom + 1) - 1} (son zoom minimal est {layer.minzoom})"
            for layer in prepared
            if layer.minzoom > minzoom
        ],
    )
    return dataclasses.replace(result, record=dict(sorted(record.items())), reused=reused)
