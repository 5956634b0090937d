"""Incremental builds: one changed SRCE feature, one renamed commune: only what depends on them
is made again, and the site is byte for byte the one a cold build of the same inputs gives."""

from __future__ import annotations

import json
from pathlib import Path

import pyogrio
import pyogrio.raw
import pytest
import shapely

from trame.build import build_site


def read_tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def move_one_point(gpkg: Path, layer: str, dx: float) -> None:
    """Rewrite the GeoPackage with the first feature of ``layer`` moved ``dx`` metres east."""
    layers = []
    for name, _ in pyogrio.list_layers(gpkg):
        meta, _, geometry, fields = pyogrio.raw.read(gpkg, layer=name)
        if name == layer:
            geometries = shapely.from_wkb(geometry)
            geometries[0] = shapely.transform(geometries[0], lambda xy: xy + [dx, 0])
            geometry = shapely.to_wkb(geometries)
        layers.append((name, meta, geometry, fields))
    gpkg.unlink()
    for index, (name, meta, geometry, fields) in enumerate(layers):
        pyogrio.raw.write(
            gpkg, geometry=geometry, field_data=fields, fields=meta["fields"], layer=name,
            driver="GPKG", geometry_type=meta["geometry_type"], crs=meta["crs"],
            append=index > 0,
        )  # fmt: skip


def rename_commune(geojson: Path, insee: str, name: str) -> None:
    data = json.loads(geojson.read_text(encoding="utf-8"))
    (feature,) = [f for f in data["features"] if f["properties"]["code"] == insee]
    feature["properties"]["nom"] = name
    geojson.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_changed_feature_and_a_renamed_commune_rebuild_only_their_communes(
    territory, tmp_path, workers
):
    """``workers``: the incremental build's (with two, the workers write the tiles' files into
    the tree updated in place themselves: new files, the old ones being hard links)."""
    site, tiles = tmp_path / "site", tmp_path / "tiles"
    # Two workers: they hash the tile tasks; the driver hashes them in the incremental build.
    first = build_site(territory, None, site, quiet=True, workers=2, tiles_dir=tiles)
    assert first.rendered == first.communes == 13
    data = territory.parent / "demo"
    move_one_point(data / "srce_fictif.gpkg", "obstacles_ponctuels", 150.0)
    rename_commune(data / "communes.geojson", "00007", "Hérinval-sur-Selle")

    again = build_site(territory, None, site, quiet=True, workers=workers, tiles_dir=tiles)
    # The cold build has its own history: with the same one, it would find this very release
    # there and only assemble it again.
    cold = build_site(territory, None, tmp_path / "cold", quiet=True, workers=1,
                      tiles_dir=tmp_path / "cold-tiles", releases_dir=tmp_path / "cold-releases")  # fmt: skip
    assert cold.rendered == cold.communes == 13 and not cold.cached
    assert 1 < again.rendered < 13 / 2, again.rendered  # the renamed one, the point's
    assert 0 < again.tiles.tasks - again.tiles.reused < again.tiles.tasks / 2, again.tiles
    incremental, reference = read_tree(site), read_tree(tmp_path / "cold")
    assert sorted(incremental) == sorted(reference)
    assert [name for name in reference if incremental[name] != reference[name]] == []
    assert "communes/00007-herinval-sur-selle/index.html" in incremental
    assert not any(name.startswith("communes/00007-herinval/") for name in incremental)
    # The site was changed in place: the renamed commune's old folders are gone, none is empty.
    assert [p for p in site.rglob("*") if p.is_dir() and not any(p.iterdir())] == []


def test_nothing_is_kept_when_the_code_or_theme_would_change_it(territory, tmp_path, monkeypatch):
    site, tiles = tmp_path / "site", tmp_path / "tiles"
    build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    import trame.cache

    fingerprint = trame.cache.code_fingerprint
    monkeypatch.setattr(trame.cache, "code_fingerprint", lambda *p: fingerprint(*p) + "x")
    again = build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    assert again.rendered == 13


def test_a_build_that_fails_while_updating_the_site_in_place_leaves_it_as_it_was(
    territory, tmp_path, monkeypatch
):
    """The incremental build puts its files in the site one by one (releases.inplace); when the
    last one (the manifest) fails, every file put, replaced or removed before is as it was."""
    import trame.releases.journal as journal

    site, tiles = tmp_path / "site", tmp_path / "tiles"
    build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    before = read_tree(site)
    folders = sorted(p for p in site.rglob("*") if p.is_dir())
    data = territory.parent / "demo"
    move_one_point(data / "srce_fictif.gpkg", "obstacles_ponctuels", 150.0)
    rename_commune(data / "communes.geojson", "00007", "Hérinval-sur-Selle")
    put = journal.Journal.put
    changes = []

    def failing_put(self, source, name):
        if name == "manifest.json":
            changes.extend(self._undo)
            raise OSError("disque plein")
        put(self, source, name)

    monkeypatch.setattr(journal.Journal, "put", failing_put)
    try:
        build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tiles)
    except OSError as error:
        assert "disque plein" in str(error)
    else:
        raise AssertionError("the build did not fail")
    kinds = {kind for kind, _, _ in changes}
    assert {"file", "removed", "folder"} <= kinds, kinds  # the rollback had all of them to undo
    assert read_tree(site) == before
    assert sorted(p for p in site.rglob("*") if p.is_dir()) == folders
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_features_record_tells_its_attributes_apart():
    """(what keys a commune on the features its map shows: equal attributes, equal bytes;
    different ones, different bytes, an integer orjson refuses included)"""
    import datetime as dt

    from trame.percommune.reuse import _record

    values = [1, 1.0, True, "1", None, 2**70, -(2**70), dt.date(2016, 9, 30), "é", [1, 2]]
    records = [_record(7, {"champ": value}) for value in values]
    assert len(set(records)) == len(records)
    assert _record(7, {"b": 1, "a": 2}) == _record(7, {"a": 2, "b": 1})
    assert _record(7, {"a": 2**70}) == _record(7, {"a": 2**70})
