"""Web Mercator tile grid: tile bounds in metres and the lon/lat of a point.

Everything in the tile engine works in EPSG:3857 metres until the last step, where a tile's
geometries are moved to integer tile units (0..EXTENT, y pointing down as MVT wants).
"""

from __future__ import annotations

import math

import numpy as np

HALF_WORLD = 20037508.342789244
"""Half the width of the Web Mercator world in metres (pi * 6378137)."""

EARTH_RADIUS = 6378137.0
EXTENT = 4096
"""Tile units per tile side, the MVT default that MapLibre expects."""

BUFFER = 64
"""Tile units kept around each tile so lines and outlines do not end at the tile seam."""

Bounds = tuple[float, float, float, float]


def tile_size(z: int) -> float:
    """Side of a zoom-``z`` tile in metres."""
    return 2.0 * HALF_WORLD / (1 << z)


def tile_bounds(z: int, x: int, y: int, buffer: float = 0.0) -> Bounds:
    """(minx, miny, maxx, maxy) of tile z/x/y in metres, grown by ``buffer`` tile units."""
    size = tile_size(z)
    pad = size * buffer / EXTENT
    minx = -HALF_WORLD + x * size
    maxy = HALF_WORLD - y * size
    return (minx - pad, maxy - size - pad, minx + size + pad, maxy + pad)


def tiles_bounds(z: int, xy: np.ndarray, buffer: float = 0.0) -> np.ndarray:
    """:func:`tile_bounds` of many tiles at once: ``xy`` is (n, 2), the result (n, 4)."""
    size = tile_size(z)
    pad = size * buffer / EXTENT
    minx = -HALF_WORLD + xy[:, 0] * size
    maxy = HALF_WORLD - xy[:, 1] * size
    return np.stack([minx - pad, maxy - size - pad, minx + size + pad, maxy + pad], axis=1)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Longitude and latitude in degrees of a point in EPSG:3857 metres."""
    lon = x / HALF_WORLD * 180.0
    lat = math.degrees(2.0 * math.atan(math.exp(y / EARTH_RADIUS)) - math.pi / 2.0)
    return lon, lat
