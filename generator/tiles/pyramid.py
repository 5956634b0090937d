"""The tile pyramid: which tiles to make, cut into tasks, run on an executor, written out.

The driver (this module) finds the occupied tiles level by level with STRtrees and splits the
work at a zoom ``r``: each occupied tile of zoom ``r`` becomes a subtree task (its features
clipped once; the worker simplifies and renders zooms ``r..maxzoom`` under it), and the few
coarser zooms become block tasks fed with features the driver simplified (cheap there).
Output bytes depend only on the input: features keep their input order, properties are sorted
and gzip carries no timestamp, so any executor and any number of workers give the same files.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import shapely
from tqdm import tqdm

from .archive import TileArchive, pmtiles_header
from .grid import BUFFER, tile_bounds
from .model import PreparedLayer, StatsCollector, TileLayer, TileStats, prepare_layer
from .render import (
    BLOCK_SHIFT,
    BlockTask,
    LayerChunk,
    RenderedTile,
    SubtreeTask,
    render_block,
    render_subtree,
)
from .shape import simplify_for_zoom

__all__ = ["TileLayer", "TileStats", "build_tiles"]

MAX_SUBTREE_DEPTH = 6
"""A subtree task spans at most this many zooms below its root (4**6 tiles at the bottom)."""

SUBTREES = 32
"""Wanted number of subtree tasks: enough to balance a few workers. A constant, not derived
from the worker count, because the split zoom shapes the output (simplification is per
subtree) and the bytes must not depend on how many workers made them."""

Occupied = list[tuple[int, int, list[np.ndarray]]]  # x, y, feature indices per layer
Job = tuple[Callable[..., list[RenderedTile]], BlockTask | SubtreeTask]


def _occupied(layers: Sequence[PreparedLayer], maxzoom: int) -> dict[int, Occupied]:
    """Tiles (with their buffer) touching some feature, per zoom, found top-down: only the
    children of an occupied tile are queried, so sparse data over a large area stays cheap."""
    trees = [shapely.STRtree(layer.geometries) for layer in layers]
    levels: dict[int, Occupied] = {}
    candidates = [(0, 0)]
    for z in range(maxzoom + 1):
        boxes = shapely.box(*np.array([tile_bounds(z, x, y, BUFFER) for x, y in candidates]).T)
        hits = []
        for tree in trees:
            box_i, geom_i = tree.query(boxes)
            order = np.lexsort((geom_i, box_i))
            cuts = np.searchsorted(box_i[order], range(1, len(boxes)))
            hits.append(np.split(geom_i[order], cuts))
        levels[z] = [
            (x, y, [h[i] for h in hits])
            for i, (x, y) in enumerate(candidates)
            if any(len(h[i]) for h in hits)
        ]
        candidates = [
            (2 * x + i, 2 * y + j) for x, y, _ in levels[z] for i in (0, 1) for j in (0, 1)
        ]
    return levels


def _split_zoom(levels: dict[int, Occupied], minzoom: int, maxzoom: int) -> int:
    """The coarsest zoom with about SUBTREES occupied tiles, but not so coarse that subtrees get
    too deep. Zooms below it are few tiles of simplified data."""
    for z in range(max(minzoom, maxzoom - MAX_SUBTREE_DEPTH), maxzoom + 1):
        if len(levels[z]) >= SUBTREES:
            return z
    return maxzoom


def _chunks(
    layers: Sequence[PreparedLayer],
    geoms: Sequence[np.ndarray],
    indices: Sequence[np.ndarray],
    area: tuple[float, float, float, float],
    whole_coverages: bool = False,
) -> tuple[LayerChunk, ...]:
    """The features ``indices`` of each layer (geometries from ``geoms``) clipped to ``area``
    (coverage layers only selected, if ``whole_coverages``: the task will simplify them)."""
    return tuple(
        LayerChunk(
            layer.name,
            layer.kind,
            g[index],
            [layer.properties[i] for i in index],
            None if layer.ids is None else layer.ids[index],
            layer.extents[index],
            layer.coverage,
        ).clip(area, whole=whole_coverages and layer.coverage)
        for layer, g, index in zip(layers, geoms, indices, strict=True)
    )


def _jobs(
    layers: Sequence[PreparedLayer],
    levels: dict[int, Occupied],
    minzoom: int,
    maxzoom: int,
    r: int,
    thin: bool,
) -> Iterator[Job]:
    """Subtree tasks first, biggest first (they are the bulk of the work), then the block tasks
    of the coarse zooms, simplified here zoom after zoom from fine to coarse (a cascade, as the
    workers do), while the workers are busy."""
    originals = [layer.geometries for layer in layers]
    subtrees = []
    for x, y, indices in levels[r]:
        chunks = _chunks(layers, originals, indices, tile_bounds(r, x, y, BUFFER), True)
        size = sum(int(shapely.get_num_coordinates(c.geometries).sum()) for c in chunks)
        subtrees.append((-size, x, y, chunks))
    for _, x, y, chunks in sorted(subtrees, key=lambda s: s[:3]):
        yield render_subtree, SubtreeTask((r, x, y), max(r, minzoom), maxzoom, chunks, thin)
    geoms = originals
    for z in range(r - 1, minzoom - 1, -1):
        geoms = [
            simplify_for_zoom(g, la.kind, z, la.coverage)
            for g, la in zip(geoms, layers, strict=True)
        ]
        b = max(z - BLOCK_SHIFT, 0)
        shift = z - b
        for bx, by, indices in levels[b]:
            chunks = _chunks(layers, geoms, indices, tile_bounds(b, bx, by, BUFFER << shift))
            tiles = (bx << shift, by << shift, ((bx + 1) << shift) - 1, ((by + 1) << shift) - 1)
            yield render_block, BlockTask(z, tiles, chunks, thin and z < maxzoom)


def _run(jobs: Iterator[Job], executor: cf.Executor | None, workers: int) -> Iterator[list]:
    """Results of the jobs in completion order, with at most ``4 * workers`` tasks in flight so
    memory stays flat whatever the executor. ``workers == 1`` and no executor: in process."""
    if executor is None and workers == 1:
        yield from (function(task) for function, task in jobs)
        return
    own = executor is None
    pool = cf.ProcessPoolExecutor(max_workers=workers) if own else executor
    pending: set[cf.Future] = set()
    try:
        for function, task in jobs:
            pending.add(pool.submit(function, task))
            if len(pending) >= 4 * workers:
                done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                yield from (future.result() for future in done)
        while pending:
            done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            yield from (future.result() for future in done)
    finally:
        for future in pending:  # after a failure: do not leave work queued on a shared pool
            future.cancel()
        if own:
            pool.shutdown(cancel_futures=True)


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
) -> TileStats:
    """Write every non-empty tile of zooms ``minzoom..maxzoom`` to ``directory/{z}/{x}/{y}.pbf``
    (plain MVT) and, gzipped, to the PMTiles archive ``pmtiles_path``; return tile statistics.

    Work runs on ``executor`` if given (any ``concurrent.futures.Executor``, e.g. a Dask
    client's ``get_executor()``; ``workers`` then only sizes how many tasks are kept in flight,
    so pass the cluster's worker count), else on a process pool of ``workers`` processes
    (default: all cores); ``workers=1`` runs in this process. The output does not depend on
    the executor or the number of workers.

    ``thin``: at every zoom but ``maxzoom``, leave out of a tile the sub-pixel features that
    share their pixel with a larger one of the same layer (counted in the statistics; see
    :mod:`generator.tiles.render`). ``False`` keeps every feature in every tile it touches.
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
    levels = _occupied(prepared, maxzoom)
    r = _split_zoom(levels, minzoom, maxzoom)
    n_tasks = len(levels[r]) + sum(len(levels[max(z - BLOCK_SHIFT, 0)]) for z in range(minzoom, r))
    metadata = {
        "name": name,
        "description": description,
        "attribution": attribution,
        "format": "pbf",
        "type": "overlay",
        "vector_layers": [
            {"id": layer.name, "fields": layer.fields, "minzoom": minzoom, "maxzoom": maxzoom}
            for layer in prepared
        ],
    }
    stats = StatsCollector()
    with (
        TileArchive(directory, pmtiles_path) as archive,
        tqdm(total=n_tasks, unit="task", desc=f"tiles {name}", disable=not progress) as bar,
    ):
        jobs = _jobs(prepared, levels, minzoom, maxzoom, r, thin)
        for tiles in _run(jobs, executor, workers):
            for t in tiles:
                archive.add(t.z, t.x, t.y, t.data, t.gzipped)
                stats.add(t.z, t.x, t.y, len(t.data), len(t.gzipped), t.features, t.thinned)
            bar.update(1)
        header = pmtiles_header(tuple(shapely.total_bounds(everything)), minzoom, maxzoom)
        archive.finish(header, metadata)
    return stats.result(
        time.perf_counter() - started,
        n_tasks,
        range(minzoom, maxzoom + 1),
        names,
        [note for layer in prepared for note in layer.notes],
    )
