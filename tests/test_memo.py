"""What a warm process (``trame serve --watch``) keeps from one build to the next
(generator/memo.py): only results of the very same inputs, so its builds are a cold build's
bytes, and it computes again only what changed."""

from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
import shapely
import shapely.geometry
from test_incremental import move_one_point, read_tree, rename_commune

from trame import memo, parallel
from trame.build import build_site


def test_without_the_store_everything_is_computed_every_time():
    calls = []
    assert not memo.active()
    for _ in range(2):
        assert memo.value("x", lambda: b"k", lambda: calls.append(1) or 7) == 7
    assert len(calls) == 2 and memo.made() == {}


def test_each_computes_only_the_geometries_the_store_lacks():
    points = np.array([shapely.Point(i, 0) for i in range(4)], dtype=object)
    computed = []

    def double(geometries):
        computed.append(len(geometries))
        return shapely.transform(geometries, lambda xy: xy * 2)

    with memo.kept():
        with memo.one_build():
            first = memo.each("double", points, double)
        moved = points.copy()
        moved[2] = shapely.Point(9, 9)
        with memo.one_build():
            second = memo.each("double", moved, double)
            assert memo.made() == {"double": 1}
        assert computed == [4, 1]
        assert [g.x for g in first] == [0, 2, 4, 6]
        assert [g.x for g in second] == [0, 2, 18, 6]
        # The point the second build no longer has was dropped at its end: computed again.
        with memo.one_build():
            memo.each("double", points, double)
        assert computed == [4, 1, 1]
    assert not memo.active()


def test_the_sweep_follows_the_build_and_the_next_build_waits_for_it(monkeypatch):
    """What a build did not use is dropped in a thread once it is over (its site is written
    by then): the next build starts only when that is done."""
    import threading

    started, go_on, swept = threading.Event(), threading.Event(), []
    sweep = memo._sweep

    def slow(*args):
        started.set()
        go_on.wait(10)
        sweep(*args)
        swept.append(threading.current_thread().name)

    monkeypatch.setattr(memo, "_sweep", slow)
    with memo.kept():
        with memo.one_build():
            memo.value("x", lambda: b"k", lambda: 1)
        assert started.wait(10) and swept == []  # the build is over, its sweep going on
        go_on.set()
        with memo.one_build():
            assert swept == ["trame-memo"]
    assert not memo.active()


def test_a_warm_build_leaves_its_tidying_to_the_sweep(tmp_path, monkeypatch):
    """A staging folder is removed at once by a build in a process that does not stay, and
    once the build is over by a warm one (the next build, or leaving the store, waits)."""
    from trame.files import staging_folder

    ran: list[str] = []
    memo.after_build(lambda: ran.append("now"))  # (no store: at once)
    with staging_folder(tmp_path / "site") as cold:
        (cold / "page.html").write_text("x")
    assert ran == ["now"] and not cold.exists()
    started, go_on = threading.Event(), threading.Event()
    sweep = memo._sweep

    def slow(*args):
        started.set()
        go_on.wait(10)
        sweep(*args)

    monkeypatch.setattr(memo, "_sweep", slow)
    with memo.kept():
        with memo.one_build():
            with staging_folder(tmp_path / "site") as warm:
                (warm / "page.html").write_text("x")
            memo.after_build(lambda: ran.append("later"))
            assert warm.exists() and ran == ["now"]  # (not during the build)
        assert started.wait(10)
        assert warm.exists() and ran == ["now"]  # (the sweep held back: not yet)
        go_on.set()
        with memo.one_build():
            assert not warm.exists() and ran == ["now", "later"]
        with (  # (a failed build: at once)
            memo.one_build(),
            pytest.raises(ValueError),
            staging_folder(tmp_path / "site") as failed,
        ):
            raise ValueError
        assert not failed.exists()
    assert not list(tmp_path.iterdir())


def test_a_sweep_collects_cycles_when_the_objects_have_grown_by_a_quarter():
    """The full collection after a build is made when the objects frozen during it outnumber
    by a quarter those tracked after the last one; else they stay frozen (leaving the store
    gives them back to the collector)."""
    import gc

    gc.unfreeze()
    with memo.kept():
        with memo.one_build():
            pass
        memo._swept()
        assert gc.get_freeze_count() == 0  # (the first sweep: a full collection)
        with memo.one_build():
            pass
        memo._swept()
        assert gc.get_freeze_count() > 0  # (about as many objects as after it: not due)
        held = [[] for _ in range(gc.get_freeze_count())]  # (twice as many objects tracked)
        with memo.one_build():
            pass
        memo._swept()
        assert gc.get_freeze_count() == 0 and held
        with memo.one_build():
            pass
    assert gc.get_freeze_count() == 0


def test_a_warm_build_leaves_what_it_found_out_of_the_cycle_collector():
    """What the process held when a build began is frozen for the cycle collector while it
    runs (its full collections walked the whole store), and given back to it afterwards."""
    import gc

    gc.unfreeze()  # (a build earlier in this process froze what it found: parallel.settled)
    with memo.kept():
        with memo.one_build():
            assert gc.get_freeze_count() > 0
        with memo.one_build():
            assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_each_keeps_apart_what_was_computed_with_another_given():
    """``given``: what every result also depends on (the territory map's window and tolerance):
    the same geometries with another one are computed again, not taken."""
    points = np.array([shapely.Point(i, 0) for i in range(3)], dtype=object)

    def scaled(factor):
        return lambda geometries: shapely.transform(geometries, lambda xy: xy * factor)

    with memo.kept(), memo.one_build():
        twice = memo.each("scaled", points, scaled(2), b"2")
        thrice = memo.each("scaled", points, scaled(3), b"3")
        again = memo.each("scaled", points, scaled(99), b"2")  # (found: 99 is never used)
        assert memo.made() == {"scaled": 6}
    assert [g.x for g in twice] == [g.x for g in again] == [0, 2, 4]
    assert [g.x for g in thrice] == [0, 3, 6]


def test_digests_and_wkb_are_kept_by_object_while_builds_ask_for_them(monkeypatch):
    points = np.array([shapely.Point(i, 0) for i in range(4)], dtype=object)
    encoded = []
    to_wkb = shapely.to_wkb
    monkeypatch.setattr(shapely, "to_wkb", lambda g, **k: encoded.append(len(g)) or to_wkb(g, **k))
    with memo.kept():
        with memo.one_build():
            assert memo.wkb(points) == list(to_wkb(points))
            first = memo.digests(points)
        with memo.one_build():  # the same objects: nothing encoded again
            assert memo.wkb(points[:2]) == list(to_wkb(points[:2]))
            assert (memo.digests(points) == first).all()
        assert encoded == [4, 4]
        equal = np.array([shapely.Point(i, 0) for i in range(4)], dtype=object)
        with memo.one_build():  # equal geometries, other objects; and the last two were
            assert (memo.digests(equal) == first).all()  # dropped: not asked for last build
            memo.wkb(points)
        assert encoded == [4, 4, 4, 2]
    assert list(memo.wkb(points)) == list(to_wkb(points)) and not memo.active()


def test_a_warm_process_rebuilds_a_cold_builds_bytes_and_redoes_only_what_changed(
    territory, tmp_path, monkeypatch
):
    site, tiles, data = tmp_path / "site", tmp_path / "tiles", territory.parent / "demo"
    hashed = []  # the geometries the store hashed (to key its results), per call
    sha256_rows = memo.sha256_rows
    monkeypatch.setattr(
        memo, "sha256_rows", lambda rows: hashed.append(len(rows)) or sha256_rows(rows)
    )
    with parallel.pool(1) as pool, memo.kept():
        build_site(territory, None, site, quiet=True, tiles_dir=tiles, pool=pool)
        cold_made, cold_hashed = memo.made(), sum(hashed)
        move_one_point(data / "srce_fictif.gpkg", "corridors_ecologiques", 150.0)
        hashed.clear()
        build_site(territory, None, site, quiet=True, tiles_dir=tiles, pool=pool)
        moved_made, moved_hashed = memo.made(), sum(hashed)
        # (the history's objects folders listed more than a second after they changed are
        # kept: how many depends on how long the builds took, see releases/history.py)
        for made in (cold_made, moved_made):
            made.pop("objects folder", None)
        # (this build's bytes are checked too: a later build could mend a stale result)
        moved_site = read_tree(site)
        shutil.copytree(territory.parent, tmp_path / "moved-layers")
        rename_commune(data / "communes.geojson", "00007", "Hérinval-sur-Selle")
        again = build_site(territory, None, site, quiet=True, tiles_dir=tiles, pool=pool)
        renamed_made = memo.made()
        renamed_made.pop("objects folder", None)
        shift_commune(data / "communes.geojson", "00007", 0.0001)
        build_site(territory, None, site, quiet=True, tiles_dir=tiles, pool=pool)
        shifted_made = memo.made()
        shifted_made.pop("objects folder", None)
    cold = build_site(territory, None, tmp_path / "cold", quiet=True, workers=1,
                      tiles_dir=tmp_path / "cold-tiles", releases_dir=tmp_path / "cold-releases")  # fmt: skip
    assert again.rendered < again.communes == cold.communes == 13  # (the rename)
    build_site(tmp_path / "moved-layers" / territory.name, None, tmp_path / "cold-moved",
               quiet=True, workers=1, tiles_dir=tmp_path / "cold-moved-tiles",
               releases_dir=tmp_path / "cold-moved-releases")  # fmt: skip
    reference = read_tree(tmp_path / "cold-moved")
    assert sorted(moved_site) == sorted(reference)
    assert [name for name in reference if moved_site[name] != reference[name]] == []
    warm, reference = read_tree(site), read_tree(tmp_path / "cold")
    assert sorted(warm) == sorted(reference)
    assert [name for name in reference if warm[name] != reference[name]] == []
    # The first build computed everything (13 communes and the features reprojected, ...)
    assert cold_made["web mercator"] > 13 and cold_made["outline and overlaps"] == 1
    assert cold_made["is valid"] > 13
    assert sum(n for name, n in cold_made.items() if name.startswith("coarse features")) > 13
    assert cold_made["borders"] == 1 and cold_made["coverage cascade"] == 1
    # ... the moved line: itself checked and reprojected, its group of lines measured again,
    # nothing else.
    # (Its coarse zooms' cascade and its place in the territory too: their names end with the
    # zooms, or the territory's digest.)
    moved = {re.sub(r" (\[.*\]|[0-9a-f]{64})$", "", name): n for name, n in moved_made.items()}
    # (the tiles' keys of the subtrees it lies in: a subtree's key covers its tiles')
    subtrees = cold_made["subtree tile keys"]
    assert 1 <= moved.pop("subtree tile keys") < subtrees, (moved_made, subtrees)
    # (and its layer's part of each coarse zoom's tile it meets: tests/tiles/test_parts.py)
    assert moved.pop("tile layer") >= 1, moved_made
    # (the legend's five layers of the GeoPackage it is in, read again; not the communes')
    assert moved.pop("read layer") == 5, moved_made
    # (yet the other features of that file are the very objects of the last build, and the
    # store knows their digests: it hashes the moved line's geometries alone, not a layer's)
    assert cold_hashed >= 50 and 1 <= moved_hashed <= 4, (cold_hashed, moved_hashed)
    assert moved == {
        "coarse features line": 1,
        "in territory": 1,
        "is valid": 1,
        "near features": 1,  # (the communes' windows its legend item meets, looked up again)
        "prepared layer": 1,  # (its tile layer, checked again)
        "prepared shapes": 1,  # (the same layer's shapes)
        "feature digests": 1,  # (its tile layer's, to key the tiles)
        "tile key parts": 1,  # (its tile layer's part of each tile's key)
        "tile record": 1,  # (the one written: the last build's, read back, was found)
        "manifest.json": 1,  # (the same, for the site's manifest)
        "pmtiles directories": 1,  # (the same, for the tile archive's places)
        "saved coarse features": 1,  # (the same, for its layer's coarse features file)
        "occupied tiles": 1,  # (its tile layer's)
        "read geometry": 1,  # (its geometry, decoded and reprojected)
        "territory map layer": 1,  # (its layer of the territory's map, drawn again...)
        "territory map shape": 1,  # (... from its other shapes, as they were)
        "union length": 1,
        "item length": 1,
        "web mercator": 1,
        "mkdocs files key": 3,  # (each build's MkDocs files, keyed for its pages: no page html)
        "objects wanted": 1,  # (the last release's objects, grouped by folder to check them)
        "current addresses": 1,  # (the cold build's manifest's; later builds find their own)
    }, moved_made
    # ... a new name changes no geometry (only the communes' part of the coarse tiles); the
    # communes' file alone is read again.
    assert renamed_made.pop("read layer") == 1, renamed_made
    assert 1 <= renamed_made.pop("subtree tile keys") < subtrees, renamed_made  # (its own)
    assert renamed_made.pop("prepared layer") == 1, renamed_made  # (the communes' tile layer)
    assert renamed_made.pop("feature digests") == 1, renamed_made  # (the same layer's)
    assert renamed_made.pop("tile key parts") == 1, renamed_made
    assert renamed_made.pop("tile record") == 1, renamed_made
    assert renamed_made.pop("manifest.json") == 1, renamed_made
    assert renamed_made.pop("pmtiles directories") == 1, renamed_made
    assert renamed_made.pop("mkdocs files key") == 3, renamed_made  # (MkDocs' files are new)
    assert renamed_made.pop("objects wanted") == 1, renamed_made
    assert set(renamed_made) <= {"tile layer"}, renamed_made
    # ... a commune's new outline: the communes' outline, overlaps, map borders and cascade
    # again (keyed by every commune's geometry), and that commune's own results.
    shifted = {re.sub(r" (\[.*\]|[0-9a-f]{64})$", "", name) for name in shifted_made}
    assert {"outline and overlaps", "borders", "coverage cascade", "web mercator"} <= shifted, (
        shifted_made
    )
    # (the commune, and the features the outline's move clips anew: a few, not all)
    assert 1 <= shifted_made["web mercator"] < cold_made["web mercator"] / 2, shifted_made
    assert shifted_made["outline and overlaps"] == 1
    assert shifted_made["read geometry"] == 1


def shift_commune(geojson: Path, insee: str, dx: float) -> None:
    """Move one commune's outline ``dx`` degrees east (the demo's file is in WGS 84; its
    neighbours then overlap it)."""
    data = json.loads(geojson.read_text(encoding="utf-8"))
    (feature,) = [f for f in data["features"] if f["properties"]["code"] == insee]
    geometry = shapely.geometry.shape(feature["geometry"])
    moved = shapely.transform(geometry, lambda xy: xy + [dx, 0])
    feature["geometry"] = shapely.geometry.mapping(moved)
    geojson.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
