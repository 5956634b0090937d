"""The units of parallel work, as plain picklable functions and dataclasses, so any
``concurrent.futures`` executor (processes here, Dask later) can run them.

- :class:`BlockTask`: the tiles of one block (up to 8 x 8 tiles of one zoom), with features
  already simplified for the zoom and clipped to the block. Used for the coarse zooms.
- :class:`SubtreeTask`: every tile under one tile R of the split zoom, down to maxzoom, with
  R's features clipped once at full resolution; the worker simplifies them zoom by zoom
  (a coverage layer comes already simplified for each zoom, see ``LayerChunk.zooms``).

Tiles are clipped from their block's clip (children from their parent), and every later step
runs once over all (tile, feature) pairs of a block, not per tile.

Thinning (every zoom but the last): a feature smaller than a screen pixel (its whole extent
fits in ``PIXEL`` tile units, a CSS pixel of a 512 px tile as MapLibre draws them) is left out
of a tile when a larger or earlier feature of the same layer, also that small, already fills
the same pixel of that tile. The map shows the same pixels, tiles of a dense territory stay
small at low zooms, every feature is in its own tiles at the last zoom (and at every zoom where
it is alone in its pixel), and every feature left out is counted in the statistics.

Size budget (every zoom but the last): a tile over ``MAX_TILE_BYTES`` is made again, coarser
(see :func:`render_block`); one that still does not fit is named in the statistics' notes.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import deflate
import numpy as np
import shapely

from ..files import sha256_rows
from ..kinds import Kind
from ..wkb import Packed, pack, unpack
from . import pairs as pair_store
from .encode import Properties, encode_layer, geometry_commands, tile_message
from .grid import BUFFER, EXTENT, Bounds, tile_bounds, tile_size, tiles_bounds
from .shape import keep_kind, simplify_for_zoom, snap_to_tiles

T = TypeVar("T")
R = TypeVar("R")

BLOCK_SHIFT = 3
"""A block is a tile BLOCK_SHIFT zooms up from the tiles it groups: up to 8 x 8 tiles."""

PIXEL = EXTENT // 512
"""Tile units per CSS pixel: MapLibre draws a vector tile 512 pixels wide."""

MAX_TILE_BYTES = 500_000
"""Size budget of one tile (uncompressed, as the z/x/y tree serves it; tippecanoe's default
is 500 KB gzipped). A tile over it, below the last zoom, is made again coarser (see
:func:`render_block`); a tile still over it is reported in the statistics."""

MAX_LEVEL = 4
"""Coarsest level tried for a tile over budget: tolerances x16, thinning grid of 16 pixels."""


GZIP_LEVEL = 6
"""libdeflate's compression level for the tiles PMTiles stores gzipped."""


def gzipped(data: bytes) -> bytes:
    """``data`` as one gzip member (no name, modification time 0), by libdeflate.

    libdeflate rather than the standard library's zlib, measured (nineteenth session, the
    raw tiles of a Nord build and of a Hauts-de-France build, each compressed three times,
    best time): Nord's 3,706 tiles (8.66 MB) took 301 ms with zlib at level 6 (5.96 MB out),
    123 ms with libdeflate at level 6 (5.92 MB), 77 ms at level 1 (6.00 MB); Hauts-de-France's
    18,059 (44.3 MB) 1,804 ms with zlib (31.04 MB), 725 ms with libdeflate at level 6
    (30.82 MB). Level 6 makes no tile set larger than zlib did, at 2.5 times the speed. Its
    output depends only on libdeflate's version (pinned by the lock), not on the machine."""
    return deflate.gzip_compress(data, GZIP_LEVEL)


Part = tuple[bytes, int, int]
"""One layer's part of one tile: its encoded layer message (b"" when none of its features is
kept there), how many features it holds, how many were thinned out of the tile."""

NO_PART: Part = (b"", 0, 0)


@dataclass(frozen=True)
class LayerChunk:
    """The part of one layer a task needs: geometries in metres, clipped to the task's area."""

    name: str
    kind: Kind
    geometries: np.ndarray
    properties: list[Properties]
    extents: np.ndarray | None = None
    """Each feature's whole bounds in metres (before simplification and clipping); None:
    take the bounds of ``geometries``."""
    coverage: bool = False
    zooms: dict[int, np.ndarray] | None = None
    """A coverage layer's geometries for each zoom of a subtree, simplified as a whole by the
    driver (same features as ``geometries``, possibly empty at some zooms)."""
    minzoom: int = 0
    """Left out of the tiles of coarser zooms (``TileLayer.minzoom``)."""

    def __reduce__(self) -> tuple:
        # Geometries travel packed whole (see generator.wkb), each array once however many
        # zooms share it (see :func:`shared`).
        arrays = [self.geometries]
        zooms = None
        if self.zooms is not None:
            at = {id(self.geometries): 0}
            for g in self.zooms.values():
                if id(g) not in at:
                    at[id(g)] = len(arrays)
                    arrays.append(g)
            zooms = {z: at[id(g)] for z, g in self.zooms.items()}
        return (
            _layer_chunk,
            (self.name, self.kind, [pack(g) for g in arrays], self.properties, self.extents,
             self.coverage, zooms, self.minzoom),
        )  # fmt: skip

    def select(self, keep: np.ndarray) -> LayerChunk:
        """The features ``keep`` (indices) of this chunk."""
        return LayerChunk(
            self.name,
            self.kind,
            self.geometries[keep],
            [self.properties[i] for i in keep],
            None if self.extents is None else self.extents[keep],
            self.coverage,
            None if self.zooms is None else shared(self.zooms, lambda g: g[keep]),
            self.minzoom,
        )

    def clip(
        self, area: Bounds, geometries: np.ndarray | None = None, bounds: np.ndarray | None = None
    ) -> LayerChunk:
        """This chunk clipped to ``area`` (using ``geometries`` instead of its own if given,
        e.g. a simplified version), keeping only the features that intersect it. ``bounds``:
        the geometries' bounds, if already known. The result has no ``zooms``."""
        geoms = self.geometries if geometries is None else geometries
        b = shapely.bounds(geoms) if bounds is None else bounds
        minx, miny, maxx, maxy = area
        near = np.flatnonzero(
            (b[:, 0] <= maxx) & (b[:, 2] >= minx) & (b[:, 1] <= maxy) & (b[:, 3] >= miny)
        )
        clipped = shapely.clip_by_rect(geoms[near], *area)
        present = ~shapely.is_empty(clipped)
        keep = near[present]
        return LayerChunk(
            self.name,
            self.kind,
            clipped[present],
            [self.properties[i] for i in keep],
            None if self.extents is None else self.extents[keep],
            self.coverage,
            minzoom=self.minzoom,
        )


def _layer_chunk(
    name: str, kind: Kind, arrays: list[Packed], properties: list[Properties],
    extents: np.ndarray | None, coverage: bool, zooms: dict[int, int] | None, minzoom: int,
) -> LayerChunk:  # fmt: skip
    """A :class:`LayerChunk` from its pickled form (:meth:`LayerChunk.__reduce__`): its
    geometries, then the other arrays its zooms share, by number."""
    unpacked = [unpack(packed) for packed in arrays]
    return LayerChunk(
        name, kind, unpacked[0], properties, extents, coverage,
        None if zooms is None else {z: unpacked[i] for z, i in zooms.items()}, minzoom,
    )  # fmt: skip


def shared(by_zoom: dict[int, T], function: Callable[[T], R]) -> dict[int, R]:
    """``function`` of each zoom's value, called once per distinct value (by identity): zooms
    that share an array (a coverage with nothing to simplify at the finer zooms, see
    :data:`.shape.COVERAGE_SKIP`) still share the result, which then travels, is clipped and
    is read back once (Nord's communes are the same at zooms 7 to 14: each subtree task
    carried them five times)."""
    done: dict[int, R] = {}
    out = {}
    for z, value in by_zoom.items():
        if id(value) not in done:
            done[id(value)] = function(value)
        out[z] = done[id(value)]
    return out


@dataclass(frozen=True)
class BlockTask:
    """Tiles ``x0..x1`` by ``y0..y1`` (inclusive) of zoom ``zoom`` and the features they need."""

    zoom: int
    tiles: tuple[int, int, int, int]
    layers: tuple[LayerChunk, ...]
    thin: bool = True
    level: int = 0
    """0, or how many times the tolerances and the thinning grid are doubled."""
    only: frozenset[tuple[int, int]] | None = None
    """The (x, y) of the tiles to make, if not all (an incremental run takes the others from
    the previous one: a tile's bytes depend only on the features that meet it)."""
    known: dict[tuple[int, int], dict[int, Part]] | None = None
    """Per tile (x, y), the layers (by number) whose part of it is already known: a warm
    process keeps them (:mod:`.parts`). Only the other layers are cut and encoded there; the
    chunks hold every layer but those of ``omitted``, for a tile that must be made again
    coarser."""
    parts: bool = False
    """Return each tile's parts (:attr:`RenderedTile.parts`), for the driver to keep."""
    omitted: frozenset[int] = frozenset()
    """Layers (by number) whose chunk was left empty because every tile to make knows its part
    (``known``): a warm build's coarse tasks then carry only the changed layers. A tile that goes
    over the size budget cannot be made coarser without them: it comes back as
    :attr:`RenderedTile.redo`, for the driver to make again from whole chunks."""
    remember: int | None = None
    """The build's number in a process that builds again and again (:func:`memo.build_number`):
    the worker keeps each feature's encoded geometry in each tile it makes, and takes those it
    kept (:mod:`.pairs`). None: a build in a fresh process keeps nothing."""


@dataclass(frozen=True)
class SubtreeTask:
    """Zooms ``first..last`` of the tiles under tile ``root`` (z, x, y), with the features of
    ``root`` clipped to it plus the buffer of its zoom (which covers the finer zooms' buffers)."""

    root: tuple[int, int, int]
    first: int
    last: int
    layers: tuple[LayerChunk, ...]
    thin: bool = True
    """Thin every zoom but ``last`` (the caller's maxzoom)."""
    only: frozenset[tuple[int, int, int]] | None = None
    """The (z, x, y) of the tiles to make, if not all (an incremental run takes the others
    from the previous one), with ``layers`` holding only the features those tiles need."""
    known: dict[tuple[int, int, int], dict[int, Part]] | None = None
    """:attr:`BlockTask.known`, by (z, x, y)."""
    parts: bool = False
    """:attr:`BlockTask.parts`."""
    omitted: frozenset[int] = frozenset()
    """:attr:`BlockTask.omitted`: layers every tile to make knows, their chunks left empty."""


@dataclass(frozen=True)
class RenderedTile:
    """One non-empty tile: raw MVT bytes (for z/x/y.pbf) and gzipped (for PMTiles)."""

    z: int
    x: int
    y: int
    data: bytes
    gzipped: bytes
    features: int
    thinned: tuple[tuple[str, int], ...] = ()
    """(layer, features thinned out of this tile), for layers that lost any."""
    level: int = 0
    """The coarsening level this tile needed to fit MAX_TILE_BYTES (see render_block)."""
    parts: tuple[Part, ...] | None = None
    """Each layer's part of the tile, in the task's order (:attr:`BlockTask.parts`; a tile
    made coarser has none)."""
    redo: bool = False
    """Not made: over the size budget, and its task lacked layers (:attr:`BlockTask.omitted`)."""
    written: tuple[int, str] | None = None
    """When the worker wrote the raw bytes to their file itself (:func:`.archive.write_tile_files`):
    their length and SHA-256 (hex), ``data`` then left empty."""

    @property
    def size(self) -> int:
        """The raw tile's length in bytes."""
        return self.written[0] if self.written else len(self.data)

    def digest(self) -> str:
        """The raw tile's SHA-256 (hex)."""
        return self.written[1] if self.written else hashlib.sha256(self.data).hexdigest()


def _thin(
    chunk: LayerChunk,
    z: int,
    tile_no: np.ndarray,
    feature: np.ndarray,
    corners: np.ndarray,
    cell: int = PIXEL,
) -> np.ndarray:
    """Which (tile, feature) pairs to keep: all but the features smaller than ``cell`` tile
    units that share their ``cell`` square of the tile with a larger (then earlier) one."""
    keep = np.ones(len(feature), dtype=bool)
    pixel = cell * tile_size(z) / EXTENT
    e = (shapely.bounds(chunk.geometries) if chunk.extents is None else chunk.extents)[feature]
    width, height = e[:, 2] - e[:, 0], e[:, 3] - e[:, 1]
    dust = np.flatnonzero((width <= pixel) & (height <= pixel))
    if len(dust) < 2:
        return keep
    origin = corners[tile_no[dust]]
    cx = np.floor(((e[dust, 0] + e[dust, 2]) / 2 - origin[:, 0]) / pixel).astype(np.int64)
    cy = np.floor((origin[:, 1] - (e[dust, 1] + e[dust, 3]) / 2) / pixel).astype(np.int64)
    size = np.maximum(width[dust], height[dust])
    order = np.lexsort((feature[dust], -size, cy, cx, tile_no[dust]))
    t, cx, cy = tile_no[dust][order], cx[order], cy[order]
    same = np.zeros(len(order), dtype=bool)
    same[1:] = (t[1:] == t[:-1]) & (cx[1:] == cx[:-1]) & (cy[1:] == cy[:-1])
    keep[dust[order][same]] = False
    return keep


def _clip(
    chunk: LayerChunk, boxes: np.ndarray, tile_no: np.ndarray, feature: np.ndarray
) -> np.ndarray:
    """Each (tile, feature) pair's feature clipped to the tile's buffered box (``tile_no``
    sorted), debris of another dimension dropped."""
    clipped = np.empty(len(feature), dtype=object)
    starts = np.searchsorted(tile_no, np.arange(len(boxes) + 1))
    for t in np.flatnonzero(np.diff(starts)):  # clip_by_rect wants scalar bounds: one call a tile
        part = slice(starts[t], starts[t + 1])
        clipped[part] = shapely.clip_by_rect(chunk.geometries[feature[part]], *boxes[t])
    return keep_kind(clipped, chunk.kind)


def _layer_in_tiles(
    chunk: LayerChunk, z: int, boxes: np.ndarray, corners: np.ndarray, thin: bool, level: int,
    xy: Sequence[tuple[int, int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[bytes], np.ndarray]:  # fmt: skip
    """(tile number, feature number, encoded geometry) of each feature present in each tile,
    ordered by tile then feature, and the number of features thinned out of each tile.
    ``boxes``: buffered tile bounds; ``corners``: (minx, maxy); ``level``: see BlockTask.
    ``xy``: the tiles' (x, y) when this worker keeps what it makes (:mod:`.pairs`)."""
    if level:
        geoms = simplify_for_zoom(chunk.geometries, chunk.kind, z, chunk.coverage, 2.0**level)
        chunk = dataclasses.replace(chunk, geometries=geoms, zooms=None)
    b = shapely.bounds(chunk.geometries)
    near = (
        (b[None, :, 0] <= boxes[:, None, 2])
        & (b[None, :, 2] >= boxes[:, None, 0])
        & (b[None, :, 1] <= boxes[:, None, 3])
        & (b[None, :, 3] >= boxes[:, None, 1])
    )
    tile_no, feature = np.nonzero(near)
    keys: list[pair_store.Key] = []
    if xy is None:
        known = [pair_store.MISSING] * len(feature)
    else:
        digests = [d.tobytes() for d in sha256_rows(shapely.to_wkb(chunk.geometries))]
        kind = chunk.kind.name
        keys = [
            (digests[f], kind, z, *xy[t])
            for t, f in zip(tile_no.tolist(), feature.tolist(), strict=True)
        ]
        known = pair_store.lookup(keys)
    missing = np.fromiter((k is pair_store.MISSING for k in known), bool, len(known))
    clipped = np.empty(len(feature), dtype=object)
    todo = np.flatnonzero(missing)
    clipped[todo] = _clip(chunk, boxes, tile_no[todo], feature[todo])
    present = np.fromiter((k is not None for k in known), bool, len(known))
    present[todo] = ~shapely.is_empty(clipped[todo])
    if keys:
        there = [pair_store.PRESENT if p else None for p in present[todo].tolist()]
        pair_store.keep([keys[i] for i in todo], there)
    pair = np.flatnonzero(present)
    tile_no, feature, clipped = tile_no[pair], feature[pair], clipped[pair]
    thinned = np.zeros(len(boxes), dtype=np.int64)
    if thin:
        # A coverage is only thinned at the pixel: a commune left out would leave a hole.
        cell = PIXEL if chunk.coverage else PIXEL << level
        keep = _thin(chunk, z, tile_no, feature, corners, cell)
        if not keep.all():
            thinned = np.bincount(tile_no[~keep], minlength=len(boxes))
            tile_no, feature, clipped, pair = (a[keep] for a in (tile_no, feature, clipped, pair))
    commands = [known[i] for i in pair.tolist()]
    make = np.flatnonzero([c is pair_store.MISSING or c is pair_store.PRESENT for c in commands])
    if len(make):
        again = make[~missing[pair[make]]]  # (kept as present: clipped again, now to encode)
        clipped[again] = _clip(chunk, boxes, tile_no[again], feature[again])
        snapped = snap_to_tiles(clipped[make], chunk.kind, z, corners[tile_no[make]])
        made = geometry_commands(snapped, chunk.kind)
        for i, data in zip(make.tolist(), made, strict=True):
            commands[i] = data
        if keys:
            pair_store.keep([keys[i] for i in pair[make].tolist()], made)
    return tile_no, feature, commands, thinned


def _outweighs(weight: int) -> bool:
    """Whether layer messages of ``weight`` bytes in all make a tile over the budget (the tile
    message is larger than its layers': a tag and a length each)."""
    return weight > MAX_TILE_BYTES


def render_block(task: BlockTask) -> list[RenderedTile]:
    """Render the block's tiles, skipping empty ones. A plain function, so it pickles.

    A tile over MAX_TILE_BYTES (thinned zooms only: never the last zoom) is made again, alone,
    one level coarser, until it fits or MAX_LEVEL is reached: each level doubles the
    simplification tolerances (after half a unit: 1, 2, 4, 8 units, the last one a pixel) and
    the thinning grid of every layer but a coverage (2, 4, 8, 16 pixels). So a dense tile at a
    low zoom keeps the look of the map (nothing larger than the grid is ever left out) and
    loses detail no screen shows, while sparser tiles are left alone. A tile whose first
    layers already weigh more than the budget is not given its other layers at that level.
    Hauts-de-France's tile step (six tiles over budget, zooms 4 to 8; A/B of 4 alternating
    runs): 14.5 s instead of 16.3 s, the same tiles.
    """
    z, (x0, y0, x1, y1) = task.zoom, task.tiles
    tiles = np.array(
        [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)
         if task.only is None or (x, y) in task.only],
        dtype=np.int64,
    ).reshape(-1, 2)  # fmt: skip
    if not len(tiles):
        return []
    boxes = tiles_bounds(z, tiles, BUFFER)
    corners = tiles_bounds(z, tiles)[:, [0, 3]]
    known = task.known or {}
    xy = [tuple(t) for t in tiles.tolist()]
    remember = task.remember is not None and not task.level
    if remember:
        pair_store.start(task.remember)
    parts: list[list[Part]] = [[NO_PART] * len(task.layers) for _ in tiles]
    # A tile whose first layers already outweigh the budget will be made again coarser (or
    # redone): its other layers are not made at this level (the same tiles, less work).
    coarsen = task.thin and task.level < MAX_LEVEL
    weight = [0] * len(tiles)
    for n, chunk in enumerate(task.layers):
        todo = []
        for t, at in enumerate(xy):
            part = known.get(at, {}).get(n)
            if part is not None:
                parts[t][n] = part
                weight[t] += len(part[0])
            elif not coarsen or not _outweighs(weight[t]):
                todo.append(t)
        if not todo or not len(chunk.geometries) or z < chunk.minzoom:
            continue
        tile_no, feature, geometries, lost = _layer_in_tiles(
            chunk,
            z,
            boxes[todo],
            corners[todo],
            task.thin,
            task.level,
            [xy[t] for t in todo] if remember else None,
        )
        starts = np.searchsorted(tile_no, np.arange(len(todo) + 1)).tolist()
        for i, t in enumerate(todo):
            a, b = starts[i], starts[i + 1]
            data, count = b"", 0
            if b > a:
                index = feature[a:b]
                data, count = encode_layer(
                    chunk.name,
                    chunk.kind,
                    geometries[a:b],
                    [chunk.properties[f] for f in index],
                )  # fmt: skip
            parts[t][n] = (data if count else b"", count, int(lost[i]))
            weight[t] += len(parts[t][n][0])
    out = []
    for t, tile_parts in enumerate(parts):
        features = sum(count for _, count, _ in tile_parts)
        if not features:
            continue
        over = coarsen and _outweighs(weight[t])
        data = b"" if over else tile_message([part for part, count, _ in tile_parts if count])
        x, y = xy[t]
        if over or (len(data) > MAX_TILE_BYTES and coarsen):
            if task.omitted:
                out.append(RenderedTile(z, x, y, b"", b"", 0, redo=True))
                continue
            alone = tuple(c.clip(tuple(boxes[t])) for c in task.layers)
            coarser = BlockTask(z, (x, y, x, y), alone, task.thin, task.level + 1)
            out.extend(render_block(coarser))
            continue
        gz = gzipped(data)
        pairs = zip(task.layers, tile_parts, strict=True)
        thinned = tuple((c.name, lost) for c, (_, _, lost) in pairs if lost)
        out.append(RenderedTile(z, x, y, data, gz, features, thinned, task.level,
                                tuple(tile_parts) if task.parts else None))  # fmt: skip
    return out


def render_subtree(task: SubtreeTask) -> list[RenderedTile]:
    """Simplify from the finest zoom up (each zoom from the previous result), then render each
    zoom block by block (only the blocks holding a tile of ``task.only``, if given). A plain
    function, so it pickles."""
    r, rx, ry = task.root
    wanted: dict[int, set[tuple[int, int]]] | None = None
    first = task.first
    if task.only is not None:
        wanted = {}
        for z, x, y in task.only:
            wanted.setdefault(z, set()).add((x, y))
        first = min(wanted, default=task.last + 1)
    simplified = {}
    geoms = [chunk.geometries for chunk in task.layers]
    for z in range(task.last, first - 1, -1):
        geoms = [
            c.zooms[z] if c.zooms else simplify_for_zoom(g, c.kind, z, c.coverage)
            for g, c in zip(geoms, task.layers, strict=True)
        ]
        simplified[z] = geoms
    out = []
    measured: dict[int, np.ndarray] = {}
    """Bounds by array (a coverage's zooms may share one: see :func:`shared`)."""
    for z in range(first, task.last + 1):
        if wanted is not None and z not in wanted:
            continue
        b = max(z - BLOCK_SHIFT, r)
        shift = z - b
        for g in simplified[z]:
            if id(g) not in measured:
                measured[id(g)] = shapely.bounds(g)
        bounds = [measured[id(g)] for g in simplified[z]]
        thin = task.thin and z < task.last
        for bx in range(rx << (b - r), (rx + 1) << (b - r)):
            for by in range(ry << (b - r), (ry + 1) << (b - r)):
                only = None
                if wanted is not None:
                    only = frozenset(
                        (x, y) for x, y in wanted[z] if x >> shift == bx and y >> shift == by
                    )
                    if not only:
                        continue
                area = tile_bounds(b, bx, by, BUFFER << shift)
                chunks = tuple(
                    c.clip(area, g, gb)
                    for c, g, gb in zip(task.layers, simplified[z], bounds, strict=True)
                )
                known = None
                if task.known is not None and only is not None:
                    known = {
                        (x, y): task.known[z, x, y] for x, y in only if (z, x, y) in task.known
                    }
                if any(len(c.geometries) for c in chunks) or known:
                    tiles = (
                        bx << shift,
                        by << shift,
                        ((bx + 1) << shift) - 1,
                        ((by + 1) << shift) - 1,
                    )
                    block = BlockTask(z, tiles, chunks, thin, only=only, known=known,
                                      parts=task.parts, omitted=task.omitted)  # fmt: skip
                    out.extend(render_block(block))
    return out
