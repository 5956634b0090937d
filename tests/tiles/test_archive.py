"""The PMTiles archive and the z/x/y files: same tiles, header and metadata, tile ids."""

from __future__ import annotations

import gzip

import mercantile
import numpy as np
import pytest
import shapely
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from .conftest import (
    MAXZOOM,
    MINZOOM,
    build,
    demo_layers,
    read_dir,
)


def test_pmtiles_holds_the_same_tiles_and_metadata(built):
    out, _, tiles = built
    with open(out / "demo.pmtiles", "rb") as f:
        get_bytes = MmapSource(f)
        reader = Reader(get_bytes)
        header, metadata = reader.header(), reader.metadata()
        archived = {tuple(k): gzip.decompress(v) for k, v in all_tiles(get_bytes)}
    assert archived == tiles
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (MINZOOM, MAXZOOM)
    everything = shapely.union_all([g for layer in demo_layers() for g in layer.geometries])
    minx, miny, maxx, maxy = everything.bounds
    (west, south), (east, north) = mercantile.lnglat(minx, miny), mercantile.lnglat(maxx, maxy)
    got = [header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")]
    assert got[0] <= west and got[1] <= south and got[2] >= east and got[3] >= north
    assert np.allclose(got, [west, south, east, north], atol=1e-6)
    assert (
        got[0] < header["center_lon_e7"] / 1e7 < got[2]
        and got[1] < header["center_lat_e7"] / 1e7 < got[3]
    )
    assert MINZOOM <= header["center_zoom"] <= MAXZOOM
    assert metadata["name"] == "demo" and metadata["format"] == "pbf"
    assert metadata["description"] == "Données de test" and metadata["attribution"] == "Trame tests"
    assert metadata["vector_layers"] == [
        {
            "id": "communes",
            "fields": {"code": "String", "nom": "String", "part": "Number", "rang": "Number"},
            "minzoom": MINZOOM,
            "maxzoom": MAXZOOM,
        },
        {
            "id": "corridors",
            "fields": {"large": "Boolean", "type": "String"},
            "minzoom": MINZOOM,
            "maxzoom": MAXZOOM,
        },
        {"id": "obstacles", "fields": {"nature": "String"}, "minzoom": MINZOOM, "maxzoom": MAXZOOM},
    ]


def test_the_engine_writes_into_a_new_directory_only(tmp_path, capfd):
    build(tmp_path)
    assert read_dir(tmp_path / "tiles")
    assert capfd.readouterr() == ("", ""), "progress=False prints nothing, even from workers"
    with pytest.raises(FileExistsError):
        build(tmp_path)  # staging and swapping belong to the build's tile step


def test_vectorised_tile_ids_are_the_pmtiles_ones():
    from pmtiles.tile import zxy_to_tileid

    from trame.tiles.archive import tile_ids

    rng = np.random.default_rng(5)
    for z in range(0, 25, 3):
        x, y = rng.integers(0, 1 << z, (2, 50))
        expected = [zxy_to_tileid(z, a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)]
        assert tile_ids(z, x, y).tolist() == expected
