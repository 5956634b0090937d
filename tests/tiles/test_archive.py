"""The PMTiles archive and the z/x/y files: same tiles, header and metadata, tile ids."""

from __future__ import annotations

import gzip
import shutil

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


def test_a_tree_updated_in_place_keeps_what_is_linked_elsewhere(tmp_path):
    """A previous run's tree updated in place: a tile taken is left as it is (written again
    if its file is gone), one made again is a new file (a hard link to the old one, from a site
    or a history, keeps the old bytes), one this run does not have is removed, with the folders
    that leaves empty."""
    from trame.tiles.archive import TileArchive, pmtiles_header

    tree = tmp_path / "xyz"
    before = {(3, 1, 2): b"kept", (3, 1, 3): b"old", (4, 5, 6): b"gone", (3, 1, 4): b"lost",
              (4, 9, 9): b"folder lost"}  # fmt: skip
    for (z, x, y), data in before.items():
        (tree / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
        (tree / str(z) / str(x) / f"{y}.pbf").write_bytes(data)
    elsewhere = tmp_path / "site-3-1-3.pbf"
    elsewhere.hardlink_to(tree / "3" / "1" / "3.pbf")
    (tree / "3" / "1" / "4.pbf").unlink()  # removed by hand: written again from the archive
    shutil.rmtree(tree / "4" / "9")  # (its folder too)
    header = pmtiles_header((0.0, 0.0, 1.0, 1.0), 3, 4)
    with TileArchive(tree, tmp_path / "t.pmtiles", in_place=list(before)) as archive:
        archive.link_batch(tree, [(3, 1, 2), (3, 1, 4), (4, 9, 9)], [
            gzip.compress(b"kept"), gzip.compress(b"lost"), gzip.compress(b"folder lost")
        ])  # fmt: skip
        archive.add_batch([(3, 1, 3, b"new", gzip.compress(b"new")),
                           (4, 7, 8, b"added", gzip.compress(b"added"))])  # fmt: skip
        archive.finish(header, {})
    assert read_dir(tree) == {
        (3, 1, 2): b"kept", (3, 1, 3): b"new", (3, 1, 4): b"lost", (4, 7, 8): b"added",
        (4, 9, 9): b"folder lost",
    }  # fmt: skip
    assert elsewhere.read_bytes() == b"old"
    assert not (tree / "4" / "5").exists() and (tree / "4" / "7").is_dir()
    with open(tmp_path / "t.pmtiles", "rb") as f:
        archived = {tuple(k): gzip.decompress(v) for k, v in all_tiles(MmapSource(f))}
    assert archived == read_dir(tree)


def test_a_previous_archive_is_read_where_its_tiles_are_even_through_leaf_directories(tmp_path):
    """OldTiles walks the directories itself (and gives views of the file, not copies): the
    same bytes as pmtiles' own reader, for an archive large enough to need leaf directories."""
    from pmtiles.writer import Writer

    from trame.tiles.archive import tile_ids
    from trame.tiles.reuse import OldTiles

    # (40,000 tiles scattered over zoom 12, of scattered sizes, each its own bytes: no run)
    z, rng = 12, np.random.default_rng(7)
    xy = np.unique(rng.integers(0, 1 << z, size=(40_000, 2)), axis=0)
    ids = tile_ids(z, xy[:, 0], xy[:, 1])
    path = tmp_path / "big.pmtiles"
    with path.open("wb") as f:
        writer = Writer(f)
        for i in np.argsort(ids).tolist():
            writer.write_tile(
                int(ids[i]), gzip.compress(f"tile {xy[i].tolist()}".encode(), mtime=0)
            )
        writer.finalize(
            {"tile_type": TileType.MVT, "tile_compression": Compression.GZIP, "min_zoom": z,
             "max_zoom": z, "min_lon_e7": 0, "min_lat_e7": 0, "max_lon_e7": 10, "max_lat_e7": 10,
             "center_zoom": z, "center_lon_e7": 0, "center_lat_e7": 0},
            {},
        )  # fmt: skip
    with path.open("rb") as f:
        get_bytes = MmapSource(f)
        header = Reader(get_bytes).header()
        expected = {tuple(k): bytes(v) for k, v in all_tiles(get_bytes)}
    assert header["leaf_directory_length"] > 0  # (leaves were needed)
    wanted = sorted(expected)[::7]
    got = OldTiles(path).get_many(wanted)
    assert [bytes(v) for v in got] == [expected[t] for t in wanted]
    assert all(isinstance(v, memoryview) for v in got)


def test_a_new_archive_is_never_written_over_the_previous_one(tmp_path):
    """(the previous archive's tiles are read from the mapped file until the new one is done)"""
    from trame.tiles import PreviousTiles, build_tiles

    layers = demo_layers()
    kwargs = dict(minzoom=MINZOOM, maxzoom=MAXZOOM, name="t", workers=1, progress=False)
    first = build_tiles(layers, directory=tmp_path / "a", pmtiles_path=tmp_path / "a.pmtiles",
                        keep_record=True, **kwargs)  # fmt: skip
    previous = PreviousTiles(tmp_path / "a", tmp_path / "a.pmtiles", first.record)
    with pytest.raises(ValueError, match="beside the previous one"):
        build_tiles(layers, directory=tmp_path / "b", pmtiles_path=tmp_path / "a.pmtiles",
                    previous=previous, **kwargs)  # fmt: skip


def test_a_warm_process_knows_the_places_of_the_archive_it_wrote(tmp_path, monkeypatch):
    """The archive's next reader (the next build's OldTiles) finds its tiles' places in the
    store, without reading its directories, at the places they are read at."""
    import pmtiles.tile

    from trame import memo
    from trame.tiles.archive import TileArchive, pmtiles_header
    from trame.tiles.reuse import OldTiles

    tiles = [(9, x, y) for x in range(250, 290) for y in range(170, 200)]
    # (runs of equal tiles too: the writer stores their bytes once)
    data = {t: gzip.compress(f"tile {t[1] // 3} {t[2]}".encode(), mtime=0) for t in tiles}
    path = tmp_path / "t.pmtiles"
    with memo.kept():
        with memo.one_build(), TileArchive(tmp_path / "xyz", path) as archive:
            archive.add_batch([(z, x, y, gzip.decompress(g), g) for (z, x, y), g in data.items()])
            archive.finish(pmtiles_header((0.0, 0.0, 1e5, 1e5), 9, 9), {})
        reading = pmtiles.tile.deserialize_directory
        monkeypatch.setattr(pmtiles.tile, "deserialize_directory", None)
        with memo.one_build():
            kept = OldTiles(path, tiles)
            assert [bytes(v) for v in kept.get_many(tiles)] == [data[t] for t in tiles]
        monkeypatch.setattr(pmtiles.tile, "deserialize_directory", reading)
    parsed = OldTiles(path, tiles)
    parsed._read()  # (the store is off: read from the directories)
    assert kept.places == parsed.places and len(kept.places) == len(tiles)


def test_the_archive_has_the_bytes_pmtiles_writer_gives(tmp_path):
    """TileArchive lays the archive out itself (its tiles' bytes are read where they wait):
    byte for byte what pmtiles' Writer makes of the same tiles, runs of one tile and a tile
    repeated apart from its run included, from the spool and from a previous archive."""
    from pmtiles.writer import Writer

    from trame.tiles.archive import TileArchive, pmtiles_header, tile_ids

    rng = np.random.default_rng(3)
    tiles = {
        (8, x, y): f"{rng.integers(0, 40)}".encode()
        for x in range(120, 150)
        for y in range(90, 110)
    }
    tiles |= {(8, 130, y): b"sea" for y in range(90, 110)}  # (a run, and the same bytes apart)
    tiles |= {(3, 4, 2): b"sea", (5, 16, 11): b"coarse"}
    gz = {t: gzip.compress(data, mtime=0) for t, data in tiles.items()}
    header = pmtiles_header((0.0, 0.0, 1e5, 1e5), 3, 8)
    metadata = {"name": "t", "vector_layers": []}
    made, taken = sorted(tiles)[::2], sorted(tiles)[1::2]
    with TileArchive(tmp_path / "xyz", tmp_path / "t.pmtiles") as archive:
        archive.add_batch([(z, x, y, tiles[z, x, y], gz[z, x, y]) for z, x, y in made])
        for z, x, y in taken:  # (a previous run's tree)
            (tmp_path / "old" / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
            (tmp_path / "old" / str(z) / str(x) / f"{y}.pbf").write_bytes(tiles[z, x, y])
        archive.link_batch(tmp_path / "old", taken, [memoryview(gz[t]) for t in taken])
        archive.finish(dict(header), metadata)
    ids = {t: int(tile_ids(t[0], np.array([t[1]]), np.array([t[2]]))[0]) for t in tiles}
    with (tmp_path / "writer.pmtiles").open("wb") as f:
        writer = Writer(f)
        for t in sorted(tiles, key=ids.__getitem__):
            writer.write_tile(ids[t], gz[t])
        writer.finalize(dict(header), metadata)
    assert (tmp_path / "t.pmtiles").read_bytes() == (tmp_path / "writer.pmtiles").read_bytes()
    assert read_dir(tmp_path / "xyz") == tiles


def test_entry_places_covers_single_tiles_and_runs_and_skips_leaf_pointers():
    """Each tile id of an archive's entries, with its place in the file: a run of the same
    tile gives each of its ids the same place, a leaf pointer (run length 0) gives none."""
    from pmtiles.tile import Entry

    from trame.tiles.archive import entry_places

    entries = [Entry(5, 0, 10, 1), Entry(6, 10, 4, 3), Entry(9, 0, 10, 1), Entry(40, 99, 7, 0)]
    assert entry_places(iter(entries), 127) == {
        5: (127, 10), 6: (137, 4), 7: (137, 4), 8: (137, 4), 9: (127, 10)
    }  # fmt: skip
