"""What goes into the tile engine (TileLayer) and what comes out of it besides files (TileStats)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely

from .. import memo
from ..kinds import POINT, POLYGON, Kind, kind_of_types
from .encode import Properties

FIELD_TYPES = {str: "String", bool: "Boolean", int: "Number", float: "Number"}


@dataclass(frozen=True)
class TileLayer:
    """One MVT layer: shapely geometries in EPSG:3857 metres, all of one kind, and their
    properties (plain scalars: the MVT encoder would silently drop None, lists or dicts).

    ``coverage=True`` declares a polygon coverage (polygons that tile an area without
    overlapping, neighbours sharing identical border vertices, e.g. communes): its borders are
    then simplified once per zoom for both neighbours (``shapely.coverage_simplify``), so no
    gap or overlap opens between them at any zoom. The input is checked; a layer that is not a
    valid coverage is still simplified that way and a note in :class:`TileStats` says so.
    """

    name: str
    geometries: np.ndarray
    properties: list[dict[str, str | int | float]]
    coverage: bool = False
    minzoom: int = 0
    """The layer is left out of the tiles of coarser zooms (e.g. a country's communes, too many
    for one tile at a national view: ~1.7 MB for France's 35,000 at zoom 4)."""


@dataclass(frozen=True)
class PreparedLayer:
    """A TileLayer checked and reduced to what the workers need: no empty geometries, valid
    polygons, properties as sorted (key, value) tuples so the tile bytes are deterministic,
    and each feature's bounds (metres, before any simplification or clipping)."""

    name: str
    kind: Kind
    geometries: np.ndarray
    properties: list[Properties]
    fields: dict[str, str]
    coverage: bool = False
    extents: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    minzoom: int = 0


def _kind(name: str, geoms: np.ndarray) -> Kind:
    types = set(np.unique(shapely.get_type_id(geoms)).tolist())
    kind = kind_of_types(types)
    if kind is not None:
        return kind
    raise ValueError(f"layer {name!r} mixes geometry types {sorted(types)}; one kind per layer")


SHAPES = "prepared shapes"
"""The store's name of a layer's checked shapes (:func:`prepare_layer`)."""


@dataclass(frozen=True)
class _Shapes:
    """The geometry half of a prepared layer: which features are kept, their kind, their
    (repaired) geometries and bounds, and what the check has to say."""

    keep: np.ndarray
    kind: Kind
    geometries: np.ndarray
    extents: np.ndarray
    notes: tuple[str, ...]


def shapes_key(name: str, geometries: np.ndarray, coverage: bool) -> bytes | None:
    """The store's key of a layer's checked shapes (None: a missing geometry has no WKB)."""
    if not memo.active() or shapely.is_missing(geometries).any():
        return None
    return memo.key(repr((name, coverage)), memo.digests(geometries))


def _shapes(name: str, geoms: np.ndarray, coverage: bool) -> _Shapes:
    keep = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    geoms = geoms[keep]
    kind = _kind(name, geoms) if len(geoms) else POINT
    if kind is POLYGON:
        # (a warm process keeps each feature's validity: one feature changed, the layer's
        # ~0.03 s check on Nord's reservoirs is made for that one alone)
        bad = ~memo.each("is valid", geoms, shapely.is_valid).astype(bool)
        if bad.any():  # clipping assumes valid input; repair rather than emit broken tiles
            geoms = geoms.copy()
            geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    notes = []
    if coverage:
        if kind is not POLYGON:
            raise ValueError(f"layer {name!r}: coverage=True needs polygons")
        if len(geoms) and not shapely.coverage_is_valid(geoms):
            edges = shapely.coverage_invalid_edges(geoms)
            notes.append(
                f"couche {name!r} : pas un pavage valide ({int((~shapely.is_empty(edges)).sum())} "
                "polygones chevauchent un voisin ou ne partagent pas les sommets de leur limite "
                "commune) ; simplifiée quand même comme un pavage, des trous ou chevauchements "
                "peuvent donc y rester : corrigez les contours dans le fichier source"
            )
    return _Shapes(keep, kind, geoms, shapely.bounds(geoms).reshape(-1, 4), tuple(notes))


def prepare_layer(layer: TileLayer) -> PreparedLayer:
    """Check a layer and keep its non-empty features (empty ones could never be drawn).

    A warm process keeps the checked shapes for the same geometries (:data:`SHAPES`): a
    renamed commune changes the communes' properties only, and checking their 648 shapes
    again (validity, coverage: 0.033–0.039 s for the coverage alone) was a third of Nord's
    tile preamble in a rename."""
    geoms = np.asarray(layer.geometries, dtype=object)
    if not layer.name or geoms.ndim != 1 or len(layer.properties) != len(geoms):
        raise ValueError(f"layer {layer.name!r}: need a name and one properties dict per geometry")
    fields: dict[str, str] = {}
    for i, props in enumerate(layer.properties):
        for key, value in props.items():
            if not isinstance(key, str) or type(value) not in FIELD_TYPES:
                raise TypeError(
                    f"layer {layer.name!r}, feature {i}: property {key!r}={value!r} is not a "
                    "str, int, float or bool (MVT would drop it silently)"
                )
            if type(value) is int and not -(2**63) <= value < 2**63:
                raise TypeError(f"layer {layer.name!r}, feature {i}: {key!r} exceeds int64")
            field_type = FIELD_TYPES[type(value)]
            fields[key] = field_type if fields.get(key, field_type) == field_type else "Mixed"
    key = shapes_key(layer.name, geoms, layer.coverage)
    compute = lambda: _shapes(layer.name, geoms, layer.coverage)  # noqa: E731
    shapes = compute() if key is None else memo.value(SHAPES, lambda: key, compute)
    return PreparedLayer(
        layer.name,
        shapes.kind,
        shapes.geometries,
        [tuple(sorted(layer.properties[i].items())) for i in shapes.keep],
        dict(sorted(fields.items())),
        layer.coverage,
        shapes.extents,
        shapes.notes,
        layer.minzoom,
    )


@dataclass(frozen=True)
class ZoomStats:
    """Tiles of one zoom level; sizes are of the uncompressed .pbf, ``gzip_*`` of the gzipped
    tile as PMTiles stores it (and as a server sends it compressed). ``thinned``: features left
    out of a tile because a larger feature of the same layer already fills the same pixel
    (see :mod:`trame.tiles.render`); counted per (tile, feature) like ``features``."""

    zoom: int
    tiles: int
    features: int
    bytes: int
    max_bytes: int
    p50_bytes: int
    p95_bytes: int
    gzip_bytes: int = 0
    gzip_p50_bytes: int = 0
    gzip_p95_bytes: int = 0
    gzip_max_bytes: int = 0
    thinned: int = 0
    coarser: int = 0
    """Tiles made coarser to fit the size budget (see trame.tiles.render.render_block)."""


@dataclass(frozen=True)
class TileStats:
    """What a build prints and a benchmark reports."""

    zooms: tuple[ZoomStats, ...]
    tiles: int
    bytes: int
    gzip_bytes: int
    max_tile_bytes: int
    max_tile: tuple[int, int, int] | None
    seconds: float
    tasks: int
    p95_bytes: int = 0
    thinned: tuple[tuple[str, int, int], ...] = ()
    """(layer, zoom, features thinned), for every layer and zoom that lost any."""
    notes: tuple[str, ...] = ()
    """Things the caller should tell the user (e.g. a coverage layer that is not one)."""
    record: dict[str, list[list]] = field(default_factory=dict, compare=False, repr=False)
    """Per task or tile key (see ``TaskKeys``), its tiles as [z, x, y, raw bytes, gzipped
    bytes, features, thinned, level, SHA-256 of the raw tile]: what a later run may reuse (see
    ``PreviousTiles``), and the tiles' digests for the site's manifest."""
    reused: int = 0
    """Tasks whose tiles were all taken from a previous run instead of made again."""
    made: int = 0
    """Tiles made in this run (the others were taken from a previous run)."""
    over_budget: tuple[tuple[int, int, int, int], ...] = ()
    """(z, x, y, raw bytes) of the tiles still over MAX_TILE_BYTES at their coarsest."""

    def summary(self) -> str:
        """A small table, one line per zoom, then totals and what was thinned."""
        lines = [
            "zoom  tiles  features  thinned coarser      bytes    p50    p95     max  gzip p95"
            "  gzip max"
        ]
        lines += [
            f"{s.zoom:4d} {s.tiles:6d} {s.features:9d} {s.thinned:8d} {s.coarser:7d} "
            f"{s.bytes:10d} {s.p50_bytes:6d} {s.p95_bytes:6d} {s.max_bytes:7d} "
            f"{s.gzip_p95_bytes:9d} {s.gzip_max_bytes:9d}"
            for s in self.zooms
        ]
        lines.append(
            f"{self.tiles} tiles, {self.bytes} bytes ({self.gzip_bytes} gzipped), p95 "
            f"{self.p95_bytes} bytes, largest {self.max_tile_bytes} bytes at {self.max_tile}, "
            f"{self.tasks} tasks, {self.seconds:.2f} s"
        )
        lines += [f"note: {note}" for note in self.notes]
        if self.thinned:
            per_layer: dict[str, list[str]] = {}
            for layer, zoom, n in self.thinned:
                per_layer.setdefault(layer, []).append(f"z{zoom}: {n}")
            lines.append("thinned (sub-pixel features sharing a pixel with a larger one):")
            lines += [f"  {layer}: {', '.join(z)}" for layer, z in per_layer.items()]
        return "\n".join(lines)


@dataclass
class StatsCollector:
    """Accumulates tile sizes as results arrive (in any order)."""

    sizes: dict[int, list[int]] = field(default_factory=dict)
    gzip_sizes: dict[int, list[int]] = field(default_factory=dict)
    features: dict[int, int] = field(default_factory=dict)
    thinned: dict[tuple[str, int], int] = field(default_factory=dict)
    coarser: dict[int, int] = field(default_factory=dict)
    over_budget: list[tuple[int, int, int, int]] = field(default_factory=list)
    gzip_bytes: int = 0
    max_tile: tuple[int, int, int] | None = None
    max_bytes: int = 0

    def add(
        self,
        z: int,
        x: int,
        y: int,
        raw: int,
        gz: int,
        features: int,
        thinned: Sequence[tuple[str, int]] = (),
        level: int = 0,
        budget: int | None = None,
    ) -> None:
        """One tile; ``level``: how much coarser it was made to fit ``budget`` bytes (a tile
        still over ``budget`` is reported in the notes)."""
        self.sizes.setdefault(z, []).append(raw)
        if level:
            self.coarser[z] = self.coarser.get(z, 0) + 1
        if budget is not None and raw > budget:
            self.over_budget.append((z, x, y, raw))
        self.gzip_sizes.setdefault(z, []).append(gz)
        self.features[z] = self.features.get(z, 0) + features
        for layer, n in thinned:
            self.thinned[layer, z] = self.thinned.get((layer, z), 0) + n
        self.gzip_bytes += gz
        tile = (z, x, y)
        if raw > self.max_bytes or (
            raw == self.max_bytes and self.max_tile and tile < self.max_tile
        ):
            self.max_bytes, self.max_tile = raw, tile

    def result(
        self,
        seconds: float,
        tasks: int,
        zooms: Sequence[int],
        layers: Sequence[str] = (),
        notes: Sequence[str] = (),
    ) -> TileStats:
        per_zoom = []
        for z in zooms:
            sizes = np.asarray(self.sizes.get(z, [0]))
            gz = np.asarray(self.gzip_sizes.get(z, [0]))
            per_zoom.append(
                ZoomStats(
                    z,
                    len(self.sizes.get(z, [])),
                    self.features.get(z, 0),
                    int(sizes.sum()),
                    int(sizes.max()),
                    int(np.percentile(sizes, 50)),
                    int(np.percentile(sizes, 95)),
                    int(gz.sum()),
                    int(np.percentile(gz, 50)),
                    int(np.percentile(gz, 95)),
                    int(gz.max()),
                    sum(n for (_, zoom), n in self.thinned.items() if zoom == z),
                    self.coarser.get(z, 0),
                )
            )
        notes = list(notes) + [
            f"tuile {z}/{x}/{y} : {raw} octets, au-delà de la taille visée même au plus grossier "
            "; elle reste lisible mais lente à charger : simplifiez les objets de cette zone"
            for z, x, y, raw in sorted(self.over_budget)
        ]
        every = [size for z in zooms for size in self.sizes.get(z, [])] or [0]
        order = {name: i for i, name in enumerate(layers)}
        thinned = sorted(
            ((layer, z, n) for (layer, z), n in self.thinned.items() if n),
            key=lambda t: (order.get(t[0], len(order)), t[0], t[1]),
        )
        return TileStats(
            tuple(per_zoom),
            sum(s.tiles for s in per_zoom),
            sum(s.bytes for s in per_zoom),
            self.gzip_bytes,
            self.max_bytes,
            self.max_tile,
            seconds,
            tasks,
            int(np.percentile(every, 95)),
            tuple(thinned),
            tuple(notes),
            over_budget=tuple(sorted(self.over_budget)),
        )
