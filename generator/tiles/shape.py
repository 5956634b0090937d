"""Tile geometry: simplify per zoom, clip, snap to the tile grid, repair, orient.

All steps are vectorised shapely 2 calls over whole arrays (one call covers every feature of
every tile of a block); Python loops only touch the rare features that snapping broke.

Guarantees for the encoder: integer tile coordinates (y down, origin at each tile's top-left),
one geometry dimension per layer, valid polygons with MVT v2 winding (exterior rings of
positive area in tile coordinates), and no feature that reached a tile silently lost: a
polygon or line too small for the grid becomes a minimal shape (about one tile unit) instead.
"""

from __future__ import annotations

import numpy as np
import shapely

from ..kinds import LINE, POINT, POLYGON, Kind, single_parts
from .grid import EXTENT, tile_size

COVERAGE_TOLERANCE = 1.0
"""Coverage simplification (Visvalingam-Whyatt) removes vertices whose triangle is smaller
than this many tile units squared: on commune borders about as many vertices go as with
Douglas-Peucker at half a unit, and the error stays far below a screen pixel (8 units)."""


COVERAGE_SKIP = 0.01
"""A coverage whose vertices are less than this share below the tolerance keeps the finer
zoom's borders (still one coverage; at most that share of vertices too many): building the
coverage's topology costs the same whatever it removes, and with commune borders it removes
nothing from z14 down to about z7 (Hauts-de-France: 0.01 % of the vertices, 140 ms a zoom)."""


def simplify_for_zoom(
    geoms: np.ndarray, kind: Kind, z: int, coverage: bool = False, factor: float = 1.0
) -> np.ndarray:
    """Douglas-Peucker at half a tile unit of zoom ``z``, meant to be applied to the result for
    zoom ``z + 1`` (a cascade: each zoom only sees the vertices the finer one kept, and the
    errors add up to less than one unit). Plain DP is far cheaper than the topology-preserving
    variant; whatever it breaks is repaired after snapping anyway.

    Polygons: each ring is simplified as a line, then the polygons are put back together; a
    ring left with fewer than four points goes (a shell with its holes). GEOS' own polygon DP
    would also make every result valid with a buffer(0), two thirds of its time, and that is
    wasted here: snapping to the grid needs its own repair pass anyway.

    A polygon DP erases (thinner than a unit, or flattened to no area) gets the topology-preserving variant instead,
    which never erases a ring: a sliver stays a sliver along its whole length, later drawn
    about one unit wide. Thanks to the cascade it has few vertices left by then, so this is
    cheap. Should even that come back empty, a one-unit square on a point of it remains.

    ``coverage``: ``geoms`` is a polygon coverage (see ``TileLayer.coverage``), simplified as
    a whole so each shared border is simplified once, identically for both neighbours. That
    never erases a polygon (the simplest is a triangle), so nothing is lost there either.

    ``factor`` scales the tolerances (a tile over its size budget is made again coarser).
    """
    if kind is POINT or len(geoms) == 0:
        return geoms
    unit = tile_size(z) / EXTENT * factor
    if coverage and kind is POLYGON:
        tolerance = COVERAGE_TOLERANCE * unit
        if np.mean(_triangle_areas(geoms) < tolerance**2) < COVERAGE_SKIP:
            return geoms  # (almost) nothing to remove: skip the costly coverage topology
        simple = shapely.coverage_simplify(geoms, tolerance)
        lost = np.flatnonzero(shapely.is_empty(simple) & ~shapely.is_empty(geoms))
        if len(lost):  # not expected; keep the guarantee anyway
            simple[lost] = simplify_for_zoom(geoms[lost], kind, z)
        return simple
    if kind is POLYGON:
        simple = _simplify_rings(geoms, unit / 2)
        lost = np.flatnonzero(
            (shapely.is_empty(simple) | (shapely.area(simple) == 0)) & ~shapely.is_empty(geoms)
        )
    else:
        simple = shapely.simplify(geoms, unit / 2, preserve_topology=False)
        lost = np.flatnonzero(shapely.is_empty(simple) & ~shapely.is_empty(geoms))
    if len(lost):
        kept = shapely.simplify(geoms[lost], unit / 2, preserve_topology=True)
        empty = shapely.is_empty(kept)
        xy = shapely.get_coordinates(shapely.point_on_surface(geoms[lost][empty]))
        kept[empty] = shapely.box(*(xy - unit / 2).T, *(xy + unit / 2).T)
        simple[lost] = kept
    return simple


def _simplify_rings(polygons: np.ndarray, tolerance: float) -> np.ndarray:
    """Douglas-Peucker on every ring as a line, with no validity fix-up (see
    :func:`simplify_for_zoom`); a feature left with no ring comes back empty."""
    out = np.full(len(polygons), shapely.Polygon(), dtype=object)
    parts, part_feature = shapely.get_parts(polygons, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, coord_ring = shapely.get_coordinates(rings, return_index=True)
    lines = shapely.linestrings(xy, indices=coord_ring)
    lines = shapely.simplify(lines, tolerance, preserve_topology=False)
    xy, coord_ring = shapely.get_coordinates(lines, return_index=True)
    ok = np.bincount(coord_ring, minlength=len(rings)) >= 4
    shell = np.ones(len(rings), dtype=bool)
    shell[1:] = ring_part[1:] != ring_part[:-1]
    part_ok = np.zeros(len(parts), dtype=bool)
    part_ok[ring_part[shell]] = ok[shell]
    keep = ok & part_ok[ring_part]
    if not keep.any():
        return out
    coord_keep = keep[coord_ring]
    new_ring = np.cumsum(keep) - 1
    # (np.compress, np.take: numpy selects the rows of a 2-D array by a mask or an index array
    # five to eight times slower: 25 µs against 5 µs for 2,000 points)
    rings = shapely.linearrings(
        np.compress(coord_keep, xy, axis=0), indices=new_ring[coord_ring[coord_keep]]
    )
    new_part = np.cumsum(part_ok) - 1
    parts = shapely.polygons(rings, indices=new_part[ring_part[keep]])
    feature = part_feature[part_ok]
    count = np.bincount(feature, minlength=len(polygons))
    first = np.searchsorted(feature, np.arange(len(polygons)))
    single = count == 1
    out[single] = parts[first[single]]
    multi = count > 1
    if multi.any():
        of_multi = multi[feature]
        out[multi] = shapely.multipolygons(
            parts[of_multi], indices=np.cumsum(multi)[feature[of_multi]] - 1
        )
    return out


def _triangle_areas(polygons: np.ndarray) -> np.ndarray:
    """The area of the triangle each ring vertex makes with its two neighbours: what
    Visvalingam-Whyatt compares with its threshold (a vertex with a larger one stays, unless
    removing its neighbours shrinks it)."""
    rings = shapely.get_rings(shapely.get_parts(polygons))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    last = np.ones(len(ring), dtype=bool)
    last[:-1] = ring[1:] != ring[:-1]
    coords, ring = np.compress(~last, coords, axis=0), ring[~last]  # (closing points dropped)
    if not len(ring):
        return np.empty(0)
    first = np.ones(len(ring), dtype=bool)
    first[1:] = ring[1:] != ring[:-1]
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], len(ring)) - 1
    index = np.arange(len(ring))
    prev, after = index - 1, index + 1
    prev[starts] = ends  # rings wrap around
    after[ends] = starts
    a, b = coords[prev] - coords, coords[after] - coords
    return np.abs(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]) / 2


def to_tile_units(geoms: np.ndarray, z: int, origins: np.ndarray, snap: bool = True) -> np.ndarray:
    """Move metres to tile units (y down) of zoom ``z``; ``origins`` holds the top-left corner
    (minx, maxy) of each geometry's tile. Rounded to the integer grid if ``snap``."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    scale = EXTENT / tile_size(z)
    # (np.take: see _simplify_rings)
    coords = (coords - np.take(origins, index, axis=0)) * (scale, -scale)
    return shapely.set_coordinates(geoms.copy(), np.rint(coords) if snap else coords)


def keep_kind(geoms: np.ndarray, kind: Kind) -> np.ndarray:
    """Drop lower-dimension debris (points or lines from clipping or repair) of mixed results."""
    odd = np.flatnonzero(
        ~np.isin(shapely.get_type_id(geoms), kind.types) & ~shapely.is_empty(geoms)
    )
    for i in odd:  # rare: only collections produced by clipping or repair
        parts = single_parts(geoms[i])
        geoms[i] = kind.collect(parts[shapely.get_type_id(parts) == kind.single])
    return geoms


def _first_points(geoms: np.ndarray) -> np.ndarray:
    """The first coordinate of each (non-empty) geometry, as an (n, 2) array."""
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    _, first = np.unique(index, return_index=True)
    return coords[first]


def _snap_round(geoms: np.ndarray) -> np.ndarray:
    """GEOS snap-rounding to the unit grid; a geometry GEOS still fails on (a topology error on
    a nearly degenerate shape) comes back empty, for the next fallback to handle."""
    try:
        return shapely.set_precision(geoms, 1.0)
    except shapely.errors.GEOSException:
        out = np.empty(len(geoms), dtype=object)
        for i, geom in enumerate(geoms):
            try:
                out[i] = shapely.set_precision(geom, 1.0)
            except shapely.errors.GEOSException:
                out[i] = shapely.Polygon()
        return out


def _repair_polygons(snapped: np.ndarray, exact: np.ndarray) -> np.ndarray:
    """Valid polygons on the grid for features that snapping broke; ``exact`` is their
    unsnapped tile-unit geometry.

    Cheap first: make the snapped shape valid and snap again (usually a ring touching itself
    just splits in two). Else GEOS snap-rounding of the exact shape (valid on the grid, slower).
    If that leaves nothing (the feature is thinner than a unit), grow it by half a unit and
    snap again; if even that vanishes, use the unit square under one of its points.
    """
    fixed = shapely.make_valid(snapped, method="structure", keep_collapsed=False)
    fixed = keep_kind(shapely.transform(fixed, np.rint), POLYGON)
    bad = np.flatnonzero(shapely.is_empty(fixed) | ~shapely.is_valid(fixed))
    if len(bad):
        # The exact shape may itself be invalid (simplification does not fix what it breaks);
        # snap-rounding needs valid input.
        exact = exact.copy()
        broken = bad[~shapely.is_valid(exact[bad])]
        exact[broken] = keep_kind(shapely.make_valid(exact[broken], method="structure"), POLYGON)
        fixed[bad] = keep_kind(_snap_round(exact[bad]), POLYGON)
    gone = np.flatnonzero(shapely.is_empty(fixed) | ~shapely.is_valid(fixed))
    if len(gone):
        grown = shapely.buffer(exact[gone], 0.5, quad_segs=2, join_style="bevel")
        grown = keep_kind(_snap_round(grown), POLYGON)
        still = shapely.is_empty(grown) | ~shapely.is_valid(grown)
        xy = np.floor(_first_points(exact[gone][still]))
        grown[still] = shapely.box(*xy.T, *(xy + 1).T)
        fixed[gone] = grown
    return fixed


def _repair_lines(snapped: np.ndarray) -> np.ndarray:
    """A line that snapped to a single point becomes a one-unit segment from that point."""
    collapsed = np.flatnonzero(shapely.length(snapped) == 0)
    if len(collapsed):
        start = _first_points(snapped[collapsed])
        snapped[collapsed] = shapely.linestrings(
            np.stack([start, start + (1.0, 0.0)], axis=1).reshape(-1, 2),
            indices=np.repeat(np.arange(len(start)), 2),
        )
    return snapped


def snap_to_tiles(clipped: np.ndarray, kind: Kind, z: int, origins: np.ndarray) -> np.ndarray:
    """Make tile-clipped, non-empty geometries (metres) encodable: integer tile units,
    repaired, polygons oriented as MVT v2 wants. ``origins`` as in :func:`to_tile_units`."""
    snapped = to_tile_units(clipped, z, origins)
    if kind is LINE:
        snapped = _repair_lines(snapped)
    elif kind is POLYGON:
        bad = np.flatnonzero(~shapely.is_valid(snapped) | shapely.is_empty(snapped))
        if len(bad):
            exact = to_tile_units(clipped[bad], z, origins[bad], snap=False)
            snapped[bad] = _repair_polygons(snapped[bad], exact)
        # y points down in tile units, so shapely's counter-clockwise is MVT's positive area.
        snapped = shapely.orient_polygons(snapped, exterior_cw=False)
    return snapped
