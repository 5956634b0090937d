"""The Web Mercator grid against mercantile: tile bounds (one tile, many tiles, with a buffer)
and the lon/lat of a point."""

from __future__ import annotations

import mercantile
import numpy as np

from trame.tiles.grid import lonlat, tile_bounds, tile_size, tiles_bounds

from .conftest import BUFFER, EXTENT, LAT, LON


def test_tile_bounds_are_mercantiles_and_grow_by_the_buffer():
    for z in (0, 5, 12, 18):
        t = mercantile.tile(LON, LAT, z)
        b = mercantile.xy_bounds(t)
        assert np.allclose(tile_bounds(z, t.x, t.y), (b.left, b.bottom, b.right, b.top), atol=1e-6)
        assert np.isclose(tile_size(z), b.right - b.left)
        pad = (b.right - b.left) * BUFFER / EXTENT
        grown = (b.left - pad, b.bottom - pad, b.right + pad, b.top + pad)
        assert np.allclose(tile_bounds(z, t.x, t.y, BUFFER), grown, atol=1e-6)
        xy = np.array([[t.x, t.y], [t.x + 1, t.y + 2]])
        many = tiles_bounds(z, xy, BUFFER)
        assert many.shape == (2, 4)
        assert np.allclose(many, [tile_bounds(z, x, y, BUFFER) for x, y in xy], atol=1e-6)


def test_lonlat_inverts_mercantiles_projection():
    for lon, lat in ((LON, LAT), (-179.5, -84.0), (0.0, 0.0), (45.25, 60.5)):
        assert np.allclose(lonlat(*mercantile.xy(lon, lat)), (lon, lat), atol=1e-9)
