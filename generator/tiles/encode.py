"""MVT v2 encoding of one tile, from geometries already in integer tile units.

Why not ``mapbox_vector_tile.encode``: it walks every coordinate in Python and re-checks winding
and validity, which made it most of the build time. Here the geometry commands of a whole layer
are computed with numpy and the few protobuf messages are written by hand. The output is the
same bytes ``mapbox_vector_tile.encode(..., y_coord_down=True, check_winding_order=False)`` gives
for the same input (the tests check this), so that library stays the reference.

Input contract (the job of :mod:`trame.tiles.shape`): coordinates are integers in tile units
with y down, polygons are valid with exterior rings of positive area (MVT v2 winding).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely

from ..kinds import POINT, POLYGON, Kind
from .grid import EXTENT

_MOVE_TO_ONE, _CLOSE_PATH = (1 << 3) | 1, (1 << 3) | 7

Value = str | int | float
Properties = tuple[tuple[str, Value], ...]
"""A feature's properties as (key, value) pairs, sorted by key so the bytes never depend on the
order a caller built its dict in."""


def varint(n: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int."""
    if n < 0x80:
        return bytes((n,))
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varint-encode an array of uint64 at once; also give each value's byte offset (plus end).

    Written for the usual stream (a tile's commands and coordinate deltas: ~7 % of the values
    need a second byte, almost none a third): every value's first byte in one pass, then only
    the values that need more. Nord's 1,612 streams (5.3 million values): 59 ms, against 101 ms
    when each byte rank selected its values from the whole stream (``/tmp`` probe, best of
    five)."""
    n = len(values)
    top = int(values.max(initial=0))
    if top < 0x80:
        return values.astype(np.uint8).tobytes(), np.arange(n + 1, dtype=np.int64)
    longer = [np.flatnonzero(values >= np.uint64(0x80))]
    """longer[k]: the values (by index, sorted) that need more than k + 1 bytes."""
    while len(longer[-1]) and top >= 1 << (7 * (len(longer) + 1)):
        last = longer[-1]
        longer.append(last[values[last] >= np.uint64(1 << (7 * (len(longer) + 1)))])
    nbytes = np.ones(n, dtype=np.int64)
    for index in longer:
        nbytes[index] += 1
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(nbytes, out=offsets[1:])
    out = np.empty(int(offsets[-1]), dtype=np.uint8)
    first = (values & np.uint64(0x7F)).astype(np.uint8)
    first[longer[0]] |= 0x80
    out[offsets[:-1]] = first
    for k in range(1, len(longer) + 1):
        index = longer[k - 1]
        byte = ((values[index] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        if k < len(longer):
            byte[np.searchsorted(index, longer[k])] |= 0x80
        out[offsets[index] + k] = byte
    return out.tobytes(), offsets


def _flatten(geoms: np.ndarray, kind: Kind) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer coordinates, the path ("arc") of each coordinate and the feature of each arc.

    A point feature is one arc (one MoveTo with all its points); a line part or a polygon ring
    is one arc. Closing points of rings and repeated consecutive points are dropped, as MVT asks.
    """
    if kind is POINT:
        coords, arc = shapely.get_coordinates(geoms, return_index=True)
        return np.rint(coords).astype(np.int64), arc, np.arange(len(geoms))
    parts, part_feature = _parts(geoms)
    if kind is POLYGON:
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, arc = shapely.get_coordinates(rings, return_index=True)
        arc_feature = part_feature[ring_part]
        keep = np.zeros(len(arc), dtype=bool)
        keep[:-1] = arc[1:] == arc[:-1]  # (not the closing point of a ring)
    else:
        coords, arc = shapely.get_coordinates(parts, return_index=True)
        arc_feature = part_feature
        keep = np.ones(len(arc), dtype=bool)
    np.rint(coords, out=coords)
    pairs = coords.view(np.complex128).ravel()  # (each (x, y) compared at once)
    keep[1:] &= (arc[1:] != arc[:-1]) | (pairs[1:] != pairs[:-1])
    coords = np.compress(keep, coords, axis=0).astype(np.int64)  # (see shape._simplify_rings)
    arc = arc[keep]
    # Degenerate paths would be invalid MVT; shape.py never produces them, but never emit them
    # (and drop a polygon whose exterior is degenerate with its holes, or they would turn
    # into exteriors).
    counts = np.bincount(arc, minlength=len(arc_feature))
    good = counts >= (3 if kind is POLYGON else 2)
    if not good.all():
        if kind is POLYGON:
            exterior = np.ones(len(ring_part), dtype=bool)
            exterior[1:] = ring_part[1:] != ring_part[:-1]
            good &= ~np.isin(ring_part, ring_part[exterior & ~good])
        keep = good[arc]
        coords, arc = coords[keep], np.cumsum(good)[arc[keep]] - 1
        arc_feature = arc_feature[good]
    return coords, arc, arc_feature


def _parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The single parts of ``geoms`` in order, and the geometry each is of: a single geometry
    is its own part (``get_parts`` copies every geometry it returns; most are single)."""
    multi = shapely.get_type_id(geoms) >= 4
    if not multi.any():
        return geoms, np.arange(len(geoms))
    single, of_multi = np.flatnonzero(~multi), np.flatnonzero(multi)
    split, at = shapely.get_parts(geoms[of_multi], return_index=True)
    parts = np.concatenate([geoms[single], split])
    feature = np.concatenate([single, of_multi[at]])
    order = np.argsort(feature, kind="stable")
    return parts[order], feature[order]


def geometry_commands(geoms: np.ndarray, kind: Kind) -> list[bytes]:
    """The encoded geometry field of every feature, in one vectorised pass.

    An empty ``bytes`` marks a feature whose geometry vanished (it is then not written).
    """
    xy, arc, arc_feature = _flatten(geoms, kind)
    n_arcs = len(arc_feature)
    counts = np.bincount(arc, minlength=n_arcs)
    first = np.zeros(n_arcs, dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    # Deltas: the cursor carries over from one arc to the next and restarts at 0,0 per feature.
    feature_of = arc_feature[arc]
    delta = xy.copy()
    delta[1:] -= xy[:-1]
    starts = np.ones(len(xy), dtype=bool)
    starts[1:] = feature_of[1:] != feature_of[:-1]
    first_points = np.flatnonzero(starts)
    delta[first_points] = np.take(xy, first_points, axis=0)
    zigzag = ((delta << 1) ^ (delta >> 63)).astype(np.uint64)

    k = np.arange(len(xy)) - first[arc]  # index of a point within its arc
    if kind is POINT:
        lengths = 1 + 2 * counts
        pos_extra = np.zeros(len(xy), dtype=np.int64)
    else:
        lengths = 2 * counts + 2 + (kind is POLYGON)
        pos_extra = (k >= 1).astype(np.int64)  # the LineTo command sits after the first point
    arc_start = np.zeros(n_arcs + 1, dtype=np.int64)
    np.cumsum(lengths, out=arc_start[1:])
    stream = np.empty(int(arc_start[-1]), dtype=np.uint64)
    head = arc_start[:-1]
    if kind is POINT:
        stream[head] = ((counts << 3) | 1).astype(np.uint64)
    else:
        stream[head] = _MOVE_TO_ONE
        stream[head + 3] = (((counts - 1) << 3) | 2).astype(np.uint64)
        if kind is POLYGON:
            stream[arc_start[1:] - 1] = _CLOSE_PATH
    pos = head[arc] + 1 + 2 * k + pos_extra
    stream[pos] = zigzag[:, 0]
    stream[pos + 1] = zigzag[:, 1]

    blob, byte_offsets = _varints(stream)
    feature_first_arc = np.searchsorted(arc_feature, np.arange(len(geoms) + 1))
    bounds = byte_offsets[arc_start[feature_first_arc]].tolist()
    return [blob[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@lru_cache(maxsize=1 << 16)
def _value_field(typed: tuple[type, Value]) -> bytes:
    """A layer's ``values`` entry (field 4, a Value message). Cached: values repeat across
    tiles. Keyed by (type, value) because 1, 1.0 and True are equal as dict keys."""
    value = typed[1]
    if isinstance(value, bool):
        message = b"\x38" + (b"\x01" if value else b"\x00")
    elif isinstance(value, int):
        message = b"\x20" + varint(value & 0xFFFFFFFFFFFFFFFF)  # int64, two's complement
    elif isinstance(value, float):
        message = b"\x19" + struct.pack("<d", value)
    else:
        message = _field(b"\x0a", value.encode())
    return _field(b"\x22", message)


@lru_cache(maxsize=1 << 12)
def _key_field(key: str) -> bytes:
    """A layer's ``keys`` entry (field 3)."""
    return _field(b"\x1a", key.encode())


def _field(tag: bytes, payload: bytes) -> bytes:
    n = len(payload)
    return tag + (_SMALL[n] if n < 0x80 else varint(n)) + payload


_SMALL = [bytes((i,)) for i in range(128)]


def encode_layer(
    name: str, kind: Kind, geometries: Sequence[bytes], properties: Sequence[Properties]
) -> tuple[bytes, int]:
    """One Layer message from encoded geometries (see :func:`geometry_commands`) and the number
    of features it holds; features whose geometry vanished are skipped. Keys and values get
    table indices in first-seen order, as mapbox_vector_tile does."""
    type_field = b"\x18" + _SMALL[kind.mvt_type]
    keys: dict[str, int] = {}
    values: dict[tuple[type, Value], int] = {}
    out = [_field(b"\x0a", name.encode())]
    for i, geometry in enumerate(geometries):
        if not geometry:
            continue
        tags = []
        for key, value in properties[i]:
            k = keys.get(key)
            if k is None:
                k = keys[key] = len(keys)
            typed = (type(value), value)
            v = values.get(typed)
            if v is None:
                v = values[typed] = len(values)
            tags += (k, v)
        feature = b""
        if tags:
            packed = bytes(tags) if max(tags) < 0x80 else b"".join(map(varint, tags))
            feature = _field(b"\x12", packed)
        out.append(_field(b"\x12", feature + type_field + _field(b"\x22", geometry)))
    n_features = len(out) - 1
    out.extend(map(_key_field, keys))
    out.extend(map(_value_field, values))
    out.append(b"\x28" + varint(EXTENT) + b"\x78\x02")  # extent, version 2
    return b"".join(out), n_features


def tile_message(layers: Sequence[bytes]) -> bytes:
    """The Tile message holding the given Layer messages."""
    return b"".join(_field(b"\x1a", layer) for layer in layers)
