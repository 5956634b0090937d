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
incremental run takes the tiles whose key it knows from the previous run (:mod:`.reuse`; each
tile has its own key) and its coverages' cascade (:mod:`.cascade`), and makes only the others.
Output bytes depend only on the input: features keep their input order, properties are sorted and gzip carries no timestamp, so any executor
and any number of workers give the same files.

Measured against tippecanoe and at region scale: ``benchmarks/`` and ``docs/scale.md``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import shapely
from tqdm import tqdm

from .. import memo, parallel
from ..files import link_file
from ..parallel import map_unordered
from .archive import TileArchive, pmtiles_header, write_tile_files
from .cascade import COVERAGE_FILE, CoverageCascade
from .coarse import FEATURES_DIR, CoarseFeatures
from .grid import BUFFER, tile_bounds
from .levels import Level, occupied, split_zoom
from .model import (
    SHAPES,
    PreparedLayer,
    StatsCollector,
    TileLayer,
    TileStats,
    prepare_layer,
    shapes_key,
)
from .parts import LayerParts
from .render import (
    BLOCK_SHIFT,
    MAX_TILE_BYTES,
    BlockTask,
    LayerChunk,
    Part,
    RenderedTile,
    SubtreeTask,
    render_block,
    render_subtree,
    shared,
)
from .reuse import PreviousTiles, TaskKeys, previous_archive

__all__ = ["PreviousTiles", "TileLayer", "TileStats", "build_tiles"]

LEAD_FRACTION = 4
"""The coarse zooms' block tasks are made after the first 1/LEAD_FRACTION of the subtree tasks
(the biggest): see :func:`_jobs`."""

Job = tuple[Callable[..., list[RenderedTile]], BlockTask | SubtreeTask, str | None]
"""A task to run: its function, its inputs (cut) and its key (None: no key wanted)."""


def _tile_task(
    job: Job, files: tuple[str, bool] | None = None
) -> tuple[str | None, list[RenderedTile]]:
    """Runs on a worker: a task's tiles, with the task's key (None: no key wanted).
    ``files``: (the tile tree, whether it is updated in place), for a worker on this
    machine: it writes the tiles' files itself (:func:`.archive.write_tile_files`)."""
    function, task, key = job
    tiles = function(task)
    if files is not None:
        tiles = write_tile_files(*files, tiles)
    return key, tiles


def _whole_block(
    task: BlockTask,
    key: str,
    layers: Sequence[PreparedLayer],
    inputs: Callable[[], tuple[list[np.ndarray], list[np.ndarray | None]]],
    indices: Sequence[np.ndarray],
    area: tuple[float, float, float, float],
    only: frozenset[tuple[int, int, int]],
) -> Job:
    """A block task that left layers out (:attr:`BlockTask.omitted`), again with every layer,
    for its tiles ``only`` (those it found over the size budget); ``inputs``: every layer's
    geometries at the block's zoom and the features they are of (see :func:`_chunks`)."""
    chunks = _chunks(layers, *inputs(), indices, area)
    tiles = frozenset((x, y) for _, x, y in only)
    whole = dataclasses.replace(task, layers=chunks, only=tiles, omitted=frozenset())
    return render_block, whole, key


def _whole_subtree(
    task: SubtreeTask,
    key: str,
    layers: Sequence[PreparedLayer],
    cascade: CoverageCascade,
    indices: Sequence[np.ndarray],
    area: tuple[float, float, float, float],
    zooms: range,
    only: frozenset[tuple[int, int, int]],
) -> Job:
    """:func:`_whole_block` for a subtree task."""
    chunks = _subtree_chunks(layers, cascade, indices, area, zooms)
    whole = dataclasses.replace(task, layers=chunks, only=only, omitted=frozenset())
    return render_subtree, whole, key


def _chunks(
    layers: Sequence[PreparedLayer],
    geoms: Sequence[np.ndarray],
    subsets: Sequence[np.ndarray | None] | None,
    indices: Sequence[np.ndarray],
    area: tuple[float, float, float, float],
) -> tuple[LayerChunk, ...]:
    """The features ``indices`` of each layer (geometries from ``geoms``) clipped to ``area``.
    ``subsets``: per layer, the features ``geoms`` hold, if not all (sorted)."""
    subsets = subsets or [None] * len(layers)
    return tuple(
        LayerChunk(
            layer.name,
            layer.kind,
            g[index if subset is None else np.searchsorted(subset, index)],
            [layer.properties[i] for i in index],
            layer.extents[index],
            layer.coverage,
            minzoom=layer.minzoom,
        ).clip(area)
        for layer, g, index, subset in zip(layers, geoms, indices, subsets, strict=True)
    )


def _subtree_chunks(
    layers: Sequence[PreparedLayer],
    cascade: CoverageCascade,
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
            # (zooms that share the coverage's array share its clip: see render.shared)
            clipped = shared({z: cascade.at(z)[k] for z in zooms},
                             lambda g, i=index: shapely.clip_by_rect(g[i], *area))  # fmt: skip
            distinct = {id(g): g for g in clipped.values()}.values()
            present = np.flatnonzero(np.any([~shapely.is_empty(g) for g in distinct], axis=0))
            chunk = chunk.select(present)
            by_zoom = shared(clipped, lambda g, kept=present: g[kept])
            chunk = dataclasses.replace(chunk, geometries=by_zoom[zooms[-1]], zooms=by_zoom)
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
    taken: Callable[[str, dict, bool], frozenset | None] = lambda key, tiles, whole: None,
    cascade: CoverageCascade | None = None,
    coarse: CoarseFeatures | None = None,
    parts: LayerParts | None = None,
    again: dict[str, Callable[[frozenset], Job]] | None = None,
    coarse_made: Callable[[], None] = lambda: None,
) -> Iterator[Job]:
    """Subtree tasks, biggest first (they are the bulk of the work); after the first quarter of
    them, the block tasks of the coarse zooms, simplified here zoom after zoom from fine to
    coarse (a cascade, as the workers do) while the workers are busy with the big subtrees.
    Tasks are made as the executor takes them, so the first ones start at once.

    Each task comes with its key (``keys``), and each of its tiles with its own (the tile's
    features and where it is cut from). ``taken`` (called with the task's key, {(z, x, y):
    tile key} and whether the task's own key may be looked up: a coarse block's, not a
    subtree's, see :func:`build_tiles`) takes from a previous run what it made and returns the
    (z, x, y) of the tiles left to make (None: all of them, no previous run). A task with none
    left is not cut at all, nor the coarse zooms simplified when every block is; one with some
    left is cut with only their features. So one changed feature remakes the tiles it meets,
    at every zoom, and no other.

    Coverage layers are simplified here, as a whole, for every zoom (``cascade``, from the
    finest zoom; made when first needed unless read from a previous run): each shared border
    once, the same in every task and tile.

    A block task whose tiles to make all know some layers' parts (``parts``: a warm process)
    carries only the other layers (:attr:`BlockTask.omitted`); ``again`` gets, under its key,
    what makes it again from whole chunks, for its tiles over the size budget (the given ones).
    Nord, a reservoir moved, warm: the 11 coarse tasks pickled 11.6 MB in 0.15 s of the
    driver, every layer of every block, to cut one.

    ``coarse_made`` is called once the coarse zooms' tasks are all made (``coarse`` will not
    change after that, nor ``cascade`` below the split zoom)."""
    first = max(r, minzoom)
    cascade = cascade or CoverageCascade(layers, maxzoom, r)
    coarse = coarse or CoarseFeatures(layers, r, minzoom, None)
    parts = parts or LayerParts(None)

    def key(
        task: str, parameters: tuple, indices: list[np.ndarray],
        tile: tuple[int, int, int] | None = None,
    ) -> str | None:  # fmt: skip
        return None if keys is None else keys.key(task, parameters, indices, tile)

    def present(z: int, indices: list[np.ndarray]) -> list[np.ndarray]:
        """(a layer is not in the tiles of zooms under its own minzoom: no feature)"""
        return [i if z >= la.minzoom else i[:0] for i, la in zip(indices, layers, strict=True)]

    where: dict[tuple[int, int, int], int] = {}
    """A keyed tile's number in its level."""

    def tile_key(task: str, tile: tuple, z: int, i: int, x: int, y: int) -> str:
        """The key of tile ``i`` of zoom ``z`` (``tile``: its parameters)."""
        assert keys is not None
        # (a warm process knows most tiles' parts: their features are not looked up)
        found = keys.known_key(task, tile, (z, x, y))
        return found or keys.key(task, tile, present(z, levels[z].indices(i)), (z, x, y))

    def block_tile_keys(z: int, group: int) -> dict[tuple, dict]:
        """The key of each occupied tile of zoom ``z``, by the block (tile of zoom ``group``)
        it lies in: {(gx, gy): {(z, x, y): key}} (nothing without ``keys``)."""
        groups: dict[tuple[int, int], dict[tuple[int, int, int], str]] = {}
        if keys is None:
            return groups
        shift, level = z - group, levels[z]
        for i, (x, y) in enumerate(level.xy.tolist()):
            where[z, x, y] = i
            tile = (z, x, y, thin and z < maxzoom)
            groups.setdefault((x >> shift, y >> shift), {})[z, x, y] = tile_key(
                "tile", tile, z, i, x, y
            )
            # (a warm process keeps the layers' parts of a block's tile)
            parts.add(z, x, y, tile, present(z, level.indices(i)))
        return groups

    def features_of(tiles: frozenset[tuple[int, int, int]]) -> list[np.ndarray]:
        """Per layer, the features of some keyed tiles (sorted, each once)."""
        parts: list[list[np.ndarray]] = [[] for _ in layers]
        for z, x, y in sorted(tiles):
            for n, indices in enumerate(present(z, levels[z].indices(where[z, x, y]))):
                parts[n].append(indices)
        return [np.unique(np.concatenate([np.empty(0, np.intp), *p])) for p in parts]

    def to_make(
        k: str | None, tiles: dict, whole: bool, indices: list[np.ndarray]
    ) -> tuple[frozenset | None, list[np.ndarray]] | None:
        """The tiles of task ``k`` left to make (None: all of them) and the features they need;
        None when a previous run made every one (see ``taken``)."""
        left = None if k is None else taken(k, tiles, whole)
        if left is None:
            return None, indices
        return (left, features_of(left)) if left else None

    sizes = [shapely.get_num_coordinates(layer.geometries) for layer in layers]
    subtrees = sorted(
        (-sum(int(n[i].sum()) for n, i in zip(sizes, indices, strict=True)), x, y, indices)
        for x, y, indices in levels[r].tiles()
    )
    zooms = range(first, maxzoom + 1)
    xy = {z: levels[z].xy.tolist() for z in zooms} if keys is not None else {}
    below: dict[int, dict[tuple[int, int], list[int]]] = {}
    """Per zoom of the subtrees, the tiles (their numbers in the level) under each root."""
    for z, tiles in xy.items():
        shift = z - r
        for i, (x, y) in enumerate(tiles):
            below.setdefault(z, {}).setdefault((x >> shift, y >> shift), []).append(i)

    def under(root: tuple[int, int], task: str | None) -> dict[tuple[int, int, int], str]:
        """The key of each tile of a subtree, by (z, x, y). It depends on the tile's features,
        the root it is cut from (a feature is clipped to the root, then simplified alone from
        maxzoom up) and a coverage's whole (in every key). Made as each subtree's task is, not
        all before the first (Nord: 3,845 keys, ~0.06 s before the workers had a task).

        A subtree's tiles are made of its features alone, which its key (``task``) covers: a
        warm process keeps its tiles' keys under it (Nord, a reservoir moved: the tiles of the
        65 unchanged subtrees held the interpreter ~0.025 s per build to be keyed again)."""
        tiles = [(z, i, *xy[z][i]) for z, roots in below.items() for i in roots.get(root, ())]
        for z, i, x, y in tiles:
            where[z, x, y] = i
        if task is None:
            return {}
        return memo.value("subtree tile keys", task.encode, lambda: {
            (z, x, y): tile_key("subtree tile", (z, x, y, r, maxzoom, thin and z < maxzoom),
                                z, i, x, y)
            for z, i, x, y in tiles
        })  # fmt: skip

    # A subtree's features are its root tile's: when every layer is in the root's zoom, its
    # key is made of the parts a warm process keeps for that tile (Nord, a reservoir moved:
    # hashing the 68 subtrees' features again took ~0.04 s of the tile thread per build).
    rooted = keys is not None and all(layer.minzoom <= r for layer in layers)

    def subtree_jobs(part: list) -> Iterator[Job]:
        for _, x, y, indices in part:
            parameters = (r, x, y, first, maxzoom, thin)
            k = key("subtree", parameters, indices, (r, x, y) if rooted else None)
            made = to_make(k, under((x, y), k), False, indices)
            if made is None:
                continue  # every tile taken
            only, indices = made
            area = tile_bounds(r, x, y, BUFFER)
            known, omitted = subtree_parts(only)
            lean = [i[:0] if n in omitted else i for n, i in enumerate(indices)]
            chunks = _subtree_chunks(layers, cascade, lean, area, zooms)
            task = SubtreeTask((r, x, y), first, maxzoom, chunks, thin, only, known=known,
                               parts=known is not None, omitted=omitted)  # fmt: skip
            if omitted and again is not None and k is not None:
                again[k] = functools.partial(
                    _whole_subtree, task, k, layers, cascade, indices, area, zooms
                )
            yield render_subtree, task, k

    def subtree_parts(
        only: frozenset[tuple[int, int, int]] | None,
    ) -> tuple[dict[tuple[int, int, int], dict[int, Part]] | None, frozenset[int]]:
        """A warm process's known parts of a subtree's tiles to make (keyed here, for those
        tiles alone: a subtree's tiles are most of a territory's) and the layers every one of
        them knows, left out of the task."""
        if only is None or not parts.on:
            return None, frozenset()
        known: dict[tuple[int, int, int], dict[int, Part]] = {}
        for z, tx, ty in sorted(only):
            inputs = present(z, levels[z].indices(where[z, tx, ty]))
            parts.add(z, tx, ty, (z, tx, ty, r, maxzoom, thin and z < maxzoom), inputs)
            found = (parts.known(z, [(tx, ty)]) or {}).get((tx, ty))
            if found:
                known[z, tx, ty] = found
        omitted = frozenset(
            n for n in range(len(layers)) if all(n in known.get(t, ()) for t in only)
        )
        return known, omitted

    def block_jobs() -> Iterator[Job]:
        todo: dict[int, list] = {}
        remember = memo.build_number()  # (a warm process's workers keep what they make)
        for z in range(r - 1, minzoom - 1, -1):
            b = max(z - BLOCK_SHIFT, 0)
            shift = z - b
            blocks = block_tile_keys(z, b)
            for bx, by, indices in levels[b].tiles():
                indices = present(z, indices)
                k = key("block", (z, b, bx, by, thin and z < maxzoom), indices)
                made = to_make(k, blocks.get((bx, by), {}), True, indices)
                if made is None:
                    continue  # every tile taken
                left, indices = made
                only = None if left is None else frozenset((x, y) for _, x, y in left)
                tiles = sorted(only) if only is not None else [
                    (x, y) for _, x, y in blocks.get((bx, by), {})
                ]  # fmt: skip
                known = parts.known(z, tiles)
                omitted: frozenset[int] = frozenset()
                if only is not None and known:  # (only the tiles named: no other in the block)
                    omitted = frozenset(
                        n for n in range(len(layers)) if all(n in known.get(t, ()) for t in tiles)
                    )
                todo.setdefault(z, []).append((b, bx, by, indices, k, only, known, omitted))
        if not todo:
            return
        # Only the features some block to make carries are simplified (each alone, but for a
        # coverage): in an incremental run, those of the few tiles left to make, in the layers
        # they do not know (Nord, a reservoir moved, warm: looking up every layer's features
        # of the blocks to make held the tile thread ~0.015 s per build for one layer's).
        subsets = [
            None if layer.coverage else np.unique(np.concatenate(
                [np.empty(0, np.intp)]
                + [job[3][n] for jobs in todo.values() for job in jobs if n not in job[7]]
            ))
            for n, layer in enumerate(layers)
        ]  # fmt: skip
        others = [None if s is None else coarse.get(n, s) for n, s in enumerate(subsets)]

        def whole_inputs(
            z: int, indices: list[np.ndarray]
        ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
            """Every layer's geometries at zoom ``z`` of a block's features ``indices`` (each
            layer's sorted, each feature once), for the block made again whole."""
            coverage = cascade.at(z)
            geoms = [
                coverage[n] if la.coverage
                else coarse.get(n, i, record=False).get(z, la.geometries[:0])
                for n, (la, i) in enumerate(zip(layers, indices, strict=True))
            ]  # fmt: skip
            return geoms, [
                None if la.coverage else i for la, i in zip(layers, indices, strict=True)
            ]

        for z in range(r - 1, min(todo) - 1, -1):
            # (a coverage comes from its cascade, the others from theirs, feature by feature;
            # a layer is in no tile of the zooms under its own minzoom)
            coverage = cascade.at(z)
            geoms = [
                coverage[k] if la.coverage else others[k].get(z, la.geometries[:0])
                for k, la in enumerate(layers)
            ]
            for b, bx, by, indices, k, only, known, omitted in todo.get(z, []):
                shift = z - b
                area = tile_bounds(b, bx, by, BUFFER << shift)
                lean = [i[:0] if n in omitted else i for n, i in enumerate(indices)]
                chunks = _chunks(layers, geoms, subsets, lean, area)
                tiles = (bx << shift, by << shift, ((bx + 1) << shift) - 1,
                         ((by + 1) << shift) - 1)  # fmt: skip
                task = BlockTask(z, tiles, chunks, thin and z < maxzoom, only=only,
                                 known=known, parts=parts.on, omitted=omitted,
                                 remember=remember)  # fmt: skip
                if omitted and again is not None and k is not None:
                    again[k] = functools.partial(
                        _whole_block, task, k, layers,
                        functools.partial(whole_inputs, z, indices), indices, area,
                    )  # fmt: skip
                yield render_block, task, k

    # The coarse zooms' cascade runs here, in the driver: after the biggest subtrees, while the
    # workers are busy with them, not after the last (smallest) ones, when they would wait for
    # it. The task order changes no byte (tiles are written by their z/x/y).
    lead = -(-len(subtrees) // LEAD_FRACTION)
    yield from subtree_jobs(subtrees[:lead])
    yield from block_jobs()
    coarse_made()
    yield from subtree_jobs(subtrees[lead:])


def _prepared(layer: TileLayer) -> PreparedLayer:
    """:func:`prepare_layer`; a warm process keeps it for the same geometries and properties
    (Nord, a reservoir moved: checking every feature's properties and validity, and the
    communes' coverage, took 0.16 s of the tile thread per warm build, py-spy, 200 Hz)."""
    geometries = np.asarray(layer.geometries, dtype=object)
    if geometries.ndim != 1 or shapely.is_missing(geometries).any():
        return prepare_layer(layer)  # (no WKB to key a missing geometry by)
    # (its checked shapes are kept while it is: the build after, a new property finds them)
    memo.lookup(SHAPES, [shapes_key(layer.name, geometries, layer.coverage)])
    return memo.value(
        "prepared layer",
        lambda: memo.key(
            repr((layer.name, layer.coverage, layer.minzoom)),
            memo.digests(geometries),
            repr(layer.properties),
        ),
        lambda: prepare_layer(layer),
    )


def _in_place(previous: PreviousTiles | None, directory: Path) -> list[tuple[int, int, int]] | None:
    """The previous run's tiles when its tree is ``directory`` itself (updated in place)."""
    if previous is None or Path(previous.directory).resolve() != Path(directory).resolve():
        return None
    return [(z, x, y) for tiles in previous.record.values() for z, x, y, *_ in tiles]


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
    pool: parallel.Pool | None = None,
    progress: bool = True,
    thin: bool = True,
    previous: PreviousTiles | None = None,
    keep_record: bool = False,
    cascade_dir: Path | None = None,
) -> TileStats:
    """Write every non-empty tile of zooms ``minzoom..maxzoom`` to ``directory/{z}/{x}/{y}.pbf``
    (plain MVT) and, gzipped, to the PMTiles archive ``pmtiles_path``; return tile statistics.

    Work runs on ``executor`` if given (any ``concurrent.futures.Executor``, e.g. a Dask
    client's ``get_executor()``; ``workers`` then only sizes how many tasks are kept in flight,
    so pass the cluster's worker count), else on a process pool of ``workers`` processes
    (default: all cores); ``workers=1`` runs in this process; or on ``pool``, a build's
    (:func:`generator.parallel.pool`: whether its workers share this disk). The output does
    not depend on the executor or the number of workers.

    ``previous``: a previous run to take unchanged tiles from (and its coverages' cascade, if
    it saved one for the same coverages); ``keep_record``: return in ``TileStats.record`` what
    a later run needs for that (costs a hash of each task and tile); ``cascade_dir``: where to
    save the coverages' cascade and the coarse zooms' features for a later run (see
    :mod:`.cascade`, :mod:`.coarse`; with ``keep_record`` or ``previous`` only: they are
    keyed with the tiles' digests).

    ``thin``: at every zoom but ``maxzoom``, leave out of a tile the sub-pixel features that
    share their pixel with a larger one of the same layer (counted in the statistics; see
    :mod:`trame.tiles.render`). ``False`` keeps every feature in every tile it touches.
    """
    if not 0 <= minzoom <= maxzoom <= 24:
        raise ValueError(f"need 0 <= minzoom <= maxzoom <= 24, got {minzoom}..{maxzoom}")
    names = [layer.name for layer in layers]
    if len(set(names)) != len(names):
        raise ValueError(f"layer names must be unique: {names}")
    if previous is not None and Path(pmtiles_path).resolve() == previous.pmtiles_path.resolve():
        # (the previous archive's tiles are read from the mapped file until the new one is
        # written: writing over it would pull them from under the reader)
        raise ValueError(f"{pmtiles_path}: write the new archive beside the previous one")
    started = time.perf_counter()
    workers = (pool.workers if pool is not None else workers) or os.cpu_count() or 1
    # (GEOS releases the GIL: Nord's seven layers checked in 0.05 s instead of 0.09 s)
    with cf.ThreadPoolExecutor(min(workers, len(layers) or 1)) as threads:
        prepared = list(threads.map(_prepared, layers))
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
    reused = made = 0
    with (
        parallel.pool(workers, executor)
        if pool is None
        else contextlib.nullcontext(pool) as workers_pool,
        TileArchive(directory, pmtiles_path, in_place=_in_place(previous, directory)) as archive,
        tqdm(total=n_tasks, unit="tâche", desc=f"tuiles {name}", disable=not progress) as bar,
        previous_archive(previous) as old,
    ):

        def take(tiles: list[list]) -> None:
            """Tiles of the previous run (entries of its record) into this one."""
            assert previous is not None
            coords = [(z, x, y) for z, x, y, *_ in tiles]
            archive.link_batch(previous.directory, coords, old.get_many(coords))
            for z, x, y, raw, gz, features, thinned, level, _ in tiles:
                thinned = tuple(map(tuple, thinned))
                stats.add(z, x, y, raw, gz, features, thinned, level, MAX_TILE_BYTES)

        task_tiles: dict[str, dict[tuple[int, int, int], str]] = {}
        """A task's tiles and their keys, by the task's key."""
        partial: dict[str, list[list]] = {}
        """The tiles taken from the previous run for a task whose other tiles are made."""
        by_tile: set[str] = set()
        """Tasks recorded under their tiles' keys only (a subtree's tiles are many: recording
        them under the task's key too would double the record)."""

        def keep(key: str, tiles: list[list]) -> None:
            """Record a task's tiles under each tile's own key (an empty list for a tile with
            nothing in it) and, but for a subtree, under the task's key. A tile made under no
            tile key (not expected: a tile holds only the features whose bounds meet it) is
            recorded under the task's key, which then makes a later run remake the task."""
            made = {(z, x, y): tile for tile in tiles for z, x, y in [tile[:3]]}
            keyed = task_tiles.get(key, {})
            for zxy, tile_key in keyed.items():
                record[tile_key] = [made[zxy]] if zxy in made else []
            stray = [tile for zxy, tile in made.items() if zxy not in keyed]
            if key not in by_tile or stray:
                record[key] = tiles if key not in by_tile else stray

        def taken(key: str, tiles: dict[tuple[int, int, int], str], whole: bool
                  ) -> frozenset | None:  # fmt: skip
            """Take a task's tiles from the previous run: all of them if it recorded the task
            (``whole``: its key is looked up), else those whose key it recorded; return the
            (z, x, y) of the others, to make (None: all of them). The tiles' keys are recorded
            either way, for the run after this one."""
            nonlocal reused
            task_tiles[key] = tiles
            if not whole:
                by_tile.add(key)
            if previous is None or (not whole and key in previous.record):
                return None  # (a subtree recorded whole had a stray tile: made again)
            if whole and key in previous.record:
                found = previous.record[key]
                left: frozenset = frozenset()
            else:
                found = [tile for k in tiles.values() for tile in previous.record.get(k, ())]
                left = frozenset(zxy for zxy, k in tiles.items() if k not in previous.record)
            if left:
                take(found)
                partial[key] = found
            else:  # (linked while the workers make the tiles left to make: see take_one)
                deferred.append((key, found))
                reused += 1
                bar.update(1)
            return left

        deferred: list[tuple[str, list[list]]] = []
        """Tasks taken whole from the previous run, to link and record."""

        def take_one() -> bool:
            """Link and record a task taken whole; whether some are left. An incremental run's
            first tasks to make are not held up by linking the others' tiles (Nord, a reservoir
            moved, warm: its first task started ~0.27 s after the tile step did)."""
            if deferred:
                key, found = deferred.pop()
                take(found)
                keep(key, found)
            return bool(deferred)

        keys = TaskKeys(prepared) if previous is not None or keep_record else None
        if keys is not None:
            keys.fill(levels, range(minzoom, maxzoom + 1), [layer.minzoom for layer in prepared])
        cascade = CoverageCascade(prepared, maxzoom, r)
        coarse = CoarseFeatures(prepared, r, minzoom, None if keys is None else keys.features)
        before = None if previous is None else previous.cascade_dir
        cascade_key = None
        if cascade.numbers and keys is not None and (cascade_dir or before):
            cascade_key = cascade.key(keys.wholes)
            # (a warm process keeps the zooms it made or read: the same for the same key)
            cascade.zooms = memo.value("coverage cascade", cascade_key.encode, dict)
            if before is not None:
                cascade.use(before / COVERAGE_FILE, cascade_key)
        if before is not None:
            coarse.use(before / FEATURES_DIR)
        parts = LayerParts(keys)
        again: dict[str, Callable[[frozenset], Job]] = {}

        def save() -> None:
            """The coverages' cascade and the coarse features, for a later run."""
            if cascade_dir is not None and cascade_key is not None:
                if cascade.source is not None:  # (same coverages: the same file)
                    link_file(cascade.source, cascade_dir / COVERAGE_FILE)
                else:
                    cascade.save(cascade_dir / COVERAGE_FILE, cascade_key, minzoom)
            if cascade_dir is not None:
                coarse.save(cascade_dir / FEATURES_DIR)

        saving = cf.ThreadPoolExecutor(1, thread_name_prefix="trame-save")
        saved: list[cf.Future[None]] = []

        def coarse_made() -> None:
            """Save them in a thread while the workers make the subtrees left, once nothing
            will change them (Nord: ~0.07 s that came after the last tile); else at the end.
            Every zoom of the cascade made (or none to make, or taken whole from a file):
            a later subtree task only reads it."""
            whole = all(z in cascade.zooms for z in range(minzoom, maxzoom + 1))
            if not cascade.numbers or whole or cascade.source is not None:
                saved.append(saving.submit(save))

        jobs = _jobs(prepared, levels, minzoom, maxzoom, r, thin, keys, taken, cascade, coarse,
                     parts, again, coarse_made)  # fmt: skip
        held: dict[str, list[list]] = {}
        """The tiles made of a task whose other tiles are made again (see ``redo``)."""
        redo: dict[str, frozenset[tuple[int, int]]] = {}
        """Per task that left layers out, its tiles over the size budget: made again from
        whole chunks once every task has run (rare: a tile newly over the budget)."""

        def done(key: str | None, tiles: list[RenderedTile]) -> None:
            nonlocal made
            over = [t for t in tiles if t.redo]
            tiles = [t for t in tiles if not t.redo]
            made += len(tiles)
            archive.add_batch([(t.z, t.x, t.y, t.data, t.gzipped) for t in tiles
                               if t.written is None])  # fmt: skip
            archive.add_written([(t.z, t.x, t.y, t.gzipped) for t in tiles if t.written])
            for t in tiles:
                stats.add(
                    t.z, t.x, t.y, t.size, len(t.gzipped), t.features, t.thinned, t.level,
                    MAX_TILE_BYTES,
                )  # fmt: skip
                if t.parts is not None:
                    parts.keep(t.z, t.x, t.y, t.parts)
            rows = [
                [t.z, t.x, t.y, t.size, len(t.gzipped), t.features,
                 [list(pair) for pair in t.thinned], t.level, t.digest()]
                for t in tiles
            ]  # fmt: skip
            if over:
                assert key is not None  # (only a keyed task leaves layers out)
                held[key] = rows
                redo[key] = frozenset((t.z, t.x, t.y) for t in over)
                return
            if key is not None:
                keep(key, partial.pop(key, []) + held.pop(key, []) + rows)
            bar.update(1)

        # (workers on this machine write the tiles' files themselves)
        files = ((str(directory), archive.in_place is not None)
                 if workers_pool.executor is not None and workers_pool.local else None)  # fmt: skip
        task = _tile_task if files is None else functools.partial(_tile_task, files=files)
        fresh = ((task, job) for job in jobs)
        with saving:
            for key, tiles in map_unordered(None, fresh, workers_pool, idle=take_one):
                done(key, tiles)
            while take_one():
                pass
            if saved:
                saved[0].result()
            else:
                save()
        whole = [(task, again[key](only)) for key, only in sorted(redo.items())]
        redo.clear()
        for key, tiles in map_unordered(None, whole, workers_pool):
            done(key, tiles)
        assert not redo and not held  # (a task with every layer makes every tile)
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
    return dataclasses.replace(result, record=dict(sorted(record.items())), reused=reused,
                               made=made)  # fmt: skip
