"""Geometry in tile units: snapping, MVT v2 winding, repair of invalid input."""

from __future__ import annotations

import mercantile
import numpy as np
from pmtiles.reader import MmapSource, Reader
from shapely.geometry import Polygon, shape

from trame.tiles import TileLayer, build_tiles

from .conftest import (
    EXTENT,
    MAXZOOM,
    MINZOOM,
    POINT_LONLAT,
    decode,
    read_dir,
    signed_area,
)


def test_known_point_round_trips_within_one_unit(built):
    _, _, tiles = built
    lon, lat = POINT_LONLAT
    for z in range(MINZOOM, MAXZOOM + 1):
        t = mercantile.tile(lon, lat, z)
        b = mercantile.xy_bounds(t)
        px, py = mercantile.xy(lon, lat)
        expected = (
            (px - b.left) / (b.right - b.left) * EXTENT,
            (b.top - py) / (b.top - b.bottom) * EXTENT,
        )
        layer = decode(tiles[(z, t.x, t.y)])["obstacles"]
        (feature,) = [f for f in layer["features"] if f["properties"] == {"nature": "Seuil"}]
        x, y = feature["geometry"]["coordinates"]
        assert abs(x - expected[0]) <= 0.5 + 1e-9 and abs(y - expected[1]) <= 0.5 + 1e-9, (
            z,
            x,
            y,
            expected,
        )


def test_polygons_are_valid_with_mvt_v2_winding(built):
    _, _, tiles = built
    checked = 0
    for data in tiles.values():
        for layer in decode(data)["communes"]["features"] if "communes" in decode(data) else []:
            geometry = layer["geometry"]
            polygons = (
                [geometry["coordinates"]]
                if geometry["type"] == "Polygon"
                else geometry["coordinates"]
            )
            for rings in polygons:
                exterior, *holes = [ring[:-1] for ring in rings]
                assert signed_area(exterior) > 0, "exterior rings need positive area (y down)"
                assert all(signed_area(h) < 0 for h in holes), "holes need negative area"
                checked += 1
            assert shape(geometry).is_valid
    assert checked > 100


def test_invalid_input_is_repaired_and_empty_layers_are_kept(tmp_path):
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    out = tmp_path / "t"
    build_tiles(
        [
            TileLayer("bowtie", np.array([bowtie], dtype=object), [{"n": 1}]),
            TileLayer("empty", np.array([], dtype=object), []),
        ],
        minzoom=10,
        maxzoom=12,
        directory=out,
        pmtiles_path=tmp_path / "t.pmtiles",
        name="x",
        workers=1,
        progress=False,
    )
    features = [f for data in read_dir(out).values() for f in decode(data)["bowtie"]["features"]]
    assert features and all(shape(f["geometry"]).is_valid for f in features)
    with open(tmp_path / "t.pmtiles", "rb") as f:
        layers = Reader(MmapSource(f)).metadata()["vector_layers"]
    assert [layer["id"] for layer in layers] == ["bowtie", "empty"]
