"""The pyramid driver: every tile of every zoom, size budgets, coverages across task kinds,
and the same bytes from one process, a process pool or a Dask cluster."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import mercantile
import numpy as np
import pytest
import shapely
import shapely.affinity
from shapely.geometry import Polygon, box, shape

from trame.tiles import TileLayer, build_tiles

from .conftest import (
    EXTENT,
    LAT,
    LON,
    MAXZOOM,
    MINZOOM,
    build,
    decode,
    demo_layers,
    dust_layers,
    features_where,
    read_dir,
    xy,
)


def test_every_tile_decodes_with_its_layers_and_properties(built):
    _, stats, tiles = built
    assert tiles and all(MINZOOM <= z <= MAXZOOM for z, _, _ in tiles)
    names = set()
    for data in tiles.values():
        decoded = decode(data)
        assert decoded, "empty tiles must not be written"
        for name, layer in decoded.items():
            assert layer["extent"] == EXTENT and layer["version"] == 2 and layer["features"]
            names.add(name)
    assert names == {"communes", "corridors", "obstacles"}
    any_commune = next(iter(features_where(tiles, "communes", "rang", 5).values()))[0]
    assert any_commune["properties"] == {
        "code": "59005",
        "nom": "Commune 5",
        "part": 5 / 7,
        "rang": 5,
    }
    assert stats.tiles == len(tiles)
    assert {s.zoom: s.tiles for s in stats.zooms} == {
        z: sum(1 for k in tiles if k[0] == z) for z in range(MINZOOM, MAXZOOM + 1)
    }
    assert stats.bytes == sum(map(len, tiles.values()))
    assert stats.max_tile_bytes == max(map(len, tiles.values()))
    assert "tiles" in stats.summary()


def test_a_tile_over_budget_is_made_coarser_and_reported(tmp_path, monkeypatch):
    """With a 6 KB budget, the dense low-zoom tiles are made again with coarser tolerances and
    thinning grid until they fit; the last zoom is never thinned, so a tile there that does
    not fit is named in the notes instead."""
    monkeypatch.setattr("trame.tiles.render.MAX_TILE_BYTES", 6_000)
    monkeypatch.setattr("trame.tiles.pyramid.MAX_TILE_BYTES", 6_000)
    out = tmp_path / "t"
    stats = build_tiles(
        dust_layers(), minzoom=4, maxzoom=13, directory=out, pmtiles_path=tmp_path / "t.pmtiles",
        name="dust", workers=1, progress=False,
    )  # fmt: skip
    tiles = read_dir(out)
    assert all(len(data) <= 6_000 for (z, _, _), data in tiles.items() if z < 13)
    assert sum(s.coarser for s in stats.zooms) > 0 and stats.zooms[-1].coarser == 0
    over = [k for k, data in tiles.items() if len(data) > 6_000]
    assert over and all(z == 13 for z, _, _ in over)
    assert all(any(f"tuile {z}/{x}/{y} :" in note for note in stats.notes) for z, x, y in over)
    assert "au-delà de la taille visée" in stats.summary()
    for data in tiles.values():  # the 2 km square is never thinned
        squares = decode(data).get("squares", {"features": []})["features"]
        assert any(f["properties"]["n"] == 150 for f in squares) or not squares


def test_a_tile_whose_first_layers_outweigh_the_budget_skips_the_others(tmp_path, monkeypatch):
    """A dense tile whose points alone weigh more than the budget is made coarser without
    cutting its squares at the level it left: the same tiles as when every layer is made
    before the tile is weighed, with fewer layers cut."""
    from trame.tiles import render as render_module

    monkeypatch.setattr(render_module, "MAX_TILE_BYTES", 2_500)
    monkeypatch.setattr("trame.tiles.pyramid.MAX_TILE_BYTES", 2_500)
    layer_in_tiles = render_module._layer_in_tiles

    def run(name: str) -> tuple[dict, int]:
        cut = []

        def counting(chunk, z, boxes, *rest):
            cut.append(len(boxes))
            return layer_in_tiles(chunk, z, boxes, *rest)

        monkeypatch.setattr(render_module, "_layer_in_tiles", counting)
        build_tiles(
            dust_layers(), minzoom=4, maxzoom=13, directory=tmp_path / name,
            pmtiles_path=tmp_path / f"{name}.pmtiles", name="dust", workers=1, progress=False,
        )  # fmt: skip
        return read_dir(tmp_path / name), sum(cut)

    tiles, cut = run("early")
    monkeypatch.setattr(render_module, "_outweighs", lambda weight: False)
    every_layer, cut_all = run("every-layer")
    assert tiles == every_layer
    assert cut < cut_all


def neighbours(coverage: bool) -> TileLayer:
    """Two 20 km squares side by side, sharing a 400-vertex wiggly border."""
    cx, cy = xy(LON, LAT)
    t = np.linspace(0, 20_000, 400)
    wiggle = 700 * np.sin(t / 900) + 250 * np.sin(t / 130) + 60 * np.cos(t / 23)
    border = np.column_stack([cx + wiggle, cy + t])
    west = Polygon([(cx - 20_000, cy), *border, (cx - 20_000, cy + 20_000)])
    east = Polygon([*border, (cx + 20_000, cy + 20_000), (cx + 20_000, cy)])
    return TileLayer(
        "communes",
        np.array([west, east], dtype=object),
        [{"nom": "Ouest"}, {"nom": "Est"}],
        coverage=coverage,
    )


def gaps_and_overlaps(tiles: dict) -> tuple[float, float]:
    """Worst gap and overlap (tile units squared) between the two squares in any tile: the two
    decoded polygons, cut to their tile, against the snapped outline of both."""
    cx, cy = xy(LON, LAT)
    worst_gap = worst_overlap = 0.0
    for (z, x, y), data in tiles.items():
        b = mercantile.xy_bounds(x, y, z)
        k = (b.right - b.left) / EXTENT
        tile = box(0, 0, EXTENT, EXTENT)
        features = decode(data)["communes"]["features"]
        found = {f["properties"]["nom"]: shape(f["geometry"]) for f in features}
        west, east = (found.get(n, Polygon()).intersection(tile) for n in ("Ouest", "Est"))
        outline = box(
            round((cx - 20_000 - b.left) / k), round((b.top - cy - 20_000) / k),
            round((cx + 20_000 - b.left) / k), round((b.top - cy) / k),
        ).intersection(tile)  # fmt: skip
        worst_overlap = max(worst_overlap, west.intersection(east).area)
        worst_gap = max(worst_gap, outline.difference(west.union(east)).area)
    return worst_gap, worst_overlap


@pytest.mark.parametrize("subtrees", [32, 1], ids=["coarse-zoom-blocks", "subtree-tasks"])
def test_coverage_keeps_shared_borders_without_gaps_or_overlaps(tmp_path, monkeypatch, subtrees):
    """Simplified once for both neighbours, then snapped: the border is the same in both
    polygons, at every zoom, in the coarse-zoom tasks and in the subtree tasks (one subtree
    task per tile of zoom 6 when SUBTREES is 1). Without the flag, each polygon is simplified
    on its own and gaps and overlaps open along the border."""
    monkeypatch.setattr("trame.tiles.levels.SUBTREES", subtrees)
    results = {}
    for coverage in (True, False):
        out = tmp_path / str(coverage)
        build_tiles(
            [neighbours(coverage)], minzoom=4, maxzoom=12, directory=out,
            pmtiles_path=tmp_path / f"{coverage}.pmtiles", name="x", workers=1, progress=False,
        )  # fmt: skip
        tiles = read_dir(out)
        assert {z for z, _, _ in tiles} == set(range(4, 13))
        results[coverage] = gaps_and_overlaps(tiles)
    assert results[True] == (0.0, 0.0)
    gap, overlap = results[False]
    assert gap + overlap > 10, "the test case must break plain simplification"


def test_two_runs_and_process_pools_give_identical_bytes(built, tmp_path):
    out, _, tiles = built
    archive = (out / "demo.pmtiles").read_bytes()
    build(tmp_path / "again", workers=1)
    build(tmp_path / "two", workers=2)
    with ProcessPoolExecutor(max_workers=2) as pool:
        build(tmp_path / "given", executor=pool)
    for run in ("again", "two", "given"):
        assert read_dir(tmp_path / run / "tiles") == tiles, run
        assert (tmp_path / run / "demo.pmtiles").read_bytes() == archive, run


def test_a_dask_cluster_plugs_in_as_an_executor(built, tmp_path):
    distributed = pytest.importorskip("distributed")
    out, _, tiles = built
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        build(tmp_path, executor=client.get_executor(), workers=2)
    assert read_dir(tmp_path / "tiles") == tiles
    assert (tmp_path / "demo.pmtiles").read_bytes() == (out / "demo.pmtiles").read_bytes()


def _task_keys(layers: list[TileLayer] | None = None) -> list[str]:
    """The task keys of ``layers`` (default: the demo layers), in the order of the tasks,
    computed in whichever process runs this."""
    from trame.tiles import levels as tile_levels
    from trame.tiles import pyramid
    from trame.tiles.model import prepare_layer
    from trame.tiles.reuse import TaskKeys

    from .conftest import demo_layers

    prepared = [prepare_layer(layer) for layer in layers or demo_layers()]
    levels = tile_levels.occupied(prepared, MAXZOOM)
    split = tile_levels.split_zoom(levels, MINZOOM, MAXZOOM)
    jobs = pyramid._jobs(prepared, levels, MINZOOM, MAXZOOM, split, True,
                         TaskKeys(prepared))  # fmt: skip
    return [key for _, _, key in jobs]


def test_the_cascades_are_told_complete_after_the_last_coarse_task():
    """The coverages' cascade and the coarse features are saved while the workers go on,
    once the coarse zooms' tasks are all made (nothing changes them after): not before."""
    from trame.tiles import levels as tile_levels
    from trame.tiles import pyramid
    from trame.tiles.cascade import CoverageCascade
    from trame.tiles.model import prepare_layer

    from .conftest import demo_layers

    prepared = [prepare_layer(layer) for layer in demo_layers()]
    levels = tile_levels.occupied(prepared, MAXZOOM)
    split = tile_levels.split_zoom(levels, MINZOOM, MAXZOOM)
    cascade = CoverageCascade(prepared, MAXZOOM, split)
    seen: list[str] = []

    def made() -> None:
        seen.append("made")
        assert all(z in cascade.zooms for z in range(MINZOOM, MAXZOOM + 1))

    for function, _, _ in pyramid._jobs(prepared, levels, MINZOOM, MAXZOOM, split, True,
                                        cascade=cascade, coarse_made=made):  # fmt: skip
        seen.append("block" if function is pyramid.render_block else "subtree")
    assert seen.count("made") == 1
    before = seen[: seen.index("made")]
    assert "block" in before and "block" not in seen[seen.index("made") :]
    assert "subtree" in before  # (the biggest subtrees come first)


@pytest.mark.parametrize("late", [False, True])
def test_task_keys_are_the_same_from_kept_parts(late):
    """A warm process keys a subtree from the parts it keeps for the subtree's root tile (and
    every tile from its kept parts): the same keys as a cold run's; ``late``: a layer starts
    under the subtrees' root zoom (its part of the root tile is empty, not the subtree's)."""
    import dataclasses

    from trame import memo
    from trame.tiles import levels as tile_levels
    from trame.tiles import pyramid
    from trame.tiles.model import prepare_layer
    from trame.tiles.reuse import TaskKeys

    from .conftest import demo_layers

    root = MAXZOOM - 2  # (subtrees of three zooms)
    layers = demo_layers()
    if late:
        layers[1] = dataclasses.replace(layers[1], minzoom=root + 1)

    def task_keys() -> tuple[list[str | None], dict[str, dict]]:
        """The tasks' keys, and each task's tiles' keys (as a previous run is asked for)."""
        prepared = [prepare_layer(layer) for layer in layers]
        levels = tile_levels.occupied(prepared, MAXZOOM)
        keys = TaskKeys(prepared)
        if keys.parts is not None:
            zooms = range(MINZOOM, MAXZOOM + 1)
            keys.fill(levels, zooms, [layer.minzoom for layer in prepared])
        tiles: dict[str, dict] = {}
        jobs = pyramid._jobs(prepared, levels, MINZOOM, MAXZOOM, root, True, keys,
                             lambda key, keyed, whole: tiles.update({key: dict(keyed)}))  # fmt: skip
        return [key for _, _, key in jobs], tiles

    cold = task_keys()
    with memo.kept():
        with memo.one_build():
            warm = task_keys()
        with memo.one_build():  # (the subtrees' tile keys kept by the first)
            again = task_keys()
    assert warm == again == cold and len(set(cold[0])) == len(cold[0]) > 1
    assert sum(len(tiles) for tiles in cold[1].values()) > len(cold[1]) > 1


def test_task_keys_are_the_same_in_another_process():
    """An incremental build compares the keys of the tasks with those a previous process
    recorded: a key must not depend on the process (an object's address in a repr did)."""
    import multiprocessing

    here = _task_keys()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = pool.submit(_task_keys).result()
    assert len(set(here)) == len(here) > 1 and here == there


def _moved(layers: list[TileLayer], name: str, dx: float) -> list[TileLayer]:
    """``layers`` with the first feature of layer ``name`` moved ``dx`` metres east."""
    out = []
    for layer in layers:
        if layer.name == name:
            geometries = np.array(layer.geometries, dtype=object)
            geometries[0] = shapely.transform(geometries[0], lambda xy: xy + [dx, 0])
            layer = TileLayer(layer.name, geometries, layer.properties, coverage=layer.coverage)
        out.append(layer)
    return out


def test_a_task_key_changes_with_its_own_features_only():
    """Moving one feature changes the keys of the tasks it is in, not the others'."""
    from .conftest import demo_layers

    before, after = set(_task_keys()), set(_task_keys(_moved(demo_layers(), "obstacles", 30.0)))
    assert before - after and len(before - after) < len(before) / 2


def test_a_coverage_feature_changes_every_task_key():
    """A coverage is simplified as a whole (a border moved changes its neighbours' simplified
    borders, and theirs): moving one of its features changes the key of every task."""
    from .conftest import demo_layers

    layers = [
        TileLayer(la.name, la.geometries, la.properties, coverage=la.name == "communes")
        for la in demo_layers()
    ]
    before, after = set(_task_keys(layers)), set(_task_keys(_moved(layers, "communes", 30.0)))
    assert before and before.isdisjoint(after)


@pytest.mark.parametrize("subtrees", [32, 1], ids=["coarse-zoom-blocks", "subtree-tasks"])
@pytest.mark.parametrize("coverage", [False, True], ids=["layer", "coverage"])
def test_a_layer_starts_at_its_own_minzoom(tmp_path, monkeypatch, subtrees, coverage):
    """A layer with a minzoom (a country's communes) is in no tile of a coarser zoom, and in
    every finer zoom's tiles exactly as without one; the other layers' tiles of the coarser
    zooms are those of a run without that layer. Said in the notes and the metadata."""
    import dataclasses
    import json

    from pmtiles.reader import MmapSource, Reader

    monkeypatch.setattr("trame.tiles.levels.SUBTREES", subtrees)
    start = 8

    def run(name: str, layers: list[TileLayer]):
        out = tmp_path / name
        stats = build_tiles(
            layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=out,
            pmtiles_path=tmp_path / f"{name}.pmtiles", name=name, workers=1, progress=False,
        )  # fmt: skip
        return stats, read_dir(out)

    communes, *others = demo_layers()
    communes = dataclasses.replace(communes, coverage=coverage)
    _, whole = run("whole", [communes, *others])
    _, without = run("without", others)
    stats, tiles = run("late", [dataclasses.replace(communes, minzoom=start), *others])
    coarse = {k: v for k, v in tiles.items() if k[0] < start}
    assert coarse == {k: v for k, v in without.items() if k[0] < start}
    assert all("communes" not in decode(data) for data in coarse.values())
    assert {k: v for k, v in tiles.items() if k[0] >= start} == {
        k: v for k, v in whole.items() if k[0] >= start
    }
    assert f"couche 'communes' : absente des tuiles des zooms {MINZOOM} à {start - 1}" in (
        " ".join(stats.notes)
    )
    with (tmp_path / "late.pmtiles").open("rb") as f:
        metadata = Reader(MmapSource(f)).metadata()
    zooms = {layer["id"]: layer["minzoom"] for layer in metadata["vector_layers"]}
    assert zooms == {"communes": start, "corridors": MINZOOM, "obstacles": MINZOOM}, json.dumps(
        metadata
    )


@pytest.mark.parametrize("subtrees", [32, 1], ids=["coarse-zoom-blocks", "subtree-tasks"])
def test_an_incremental_run_remakes_only_the_tiles_a_moved_feature_meets(
    tmp_path, monkeypatch, subtrees
):
    """Every task is keyed tile by tile (a coarse block's tiles and a subtree's): after one
    corridor moves, only the tiles it meets, before or after, at every zoom, are made again;
    the others are taken from the previous run (hard links: same inode). Every byte is that of
    a run from scratch on the moved data. (``subtrees``: most zooms in coarse blocks, or in a
    few deep subtrees.)"""
    import dataclasses

    monkeypatch.setattr("trame.tiles.levels.SUBTREES", subtrees)

    from trame.tiles import PreviousTiles

    def run(name: str, layers, previous=None):
        out = tmp_path / name
        stats = build_tiles(
            layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=out,
            pmtiles_path=tmp_path / f"{name}.pmtiles", name="t", workers=1, progress=False,
            previous=previous, keep_record=True,
        )  # fmt: skip
        return stats, read_dir(out), (tmp_path / f"{name}.pmtiles").read_bytes()

    def inode(name: str, z: int, x: int, y: int) -> int:
        return (tmp_path / name / str(z) / str(x) / f"{y}.pbf").stat().st_ino

    layers = demo_layers()
    first_stats, first, _ = run("first", layers)
    assert first_stats.made == first_stats.tiles
    # An incremental run with nothing changed takes every task whole: its record must still
    # carry each tile's own key for the run after it.
    previous = PreviousTiles(tmp_path / "first", tmp_path / "first.pmtiles", first_stats.record)
    stats, again, _ = run("again", layers, previous)
    assert again == first and stats.reused == stats.tasks and stats.made == 0
    corridors = layers[1]
    before = corridors.geometries[1]  # the short line
    after = shapely.affinity.translate(before, 40.0, 0.0)
    layers[1] = dataclasses.replace(
        corridors, geometries=np.array([corridors.geometries[0], after])
    )
    previous = PreviousTiles(tmp_path / "again", tmp_path / "again.pmtiles", stats.record)
    incremental, tiles, archive = run("incremental", layers, previous)
    _, cold, cold_archive = run("cold", layers)
    assert tiles == cold and archive == cold_archive
    assert tiles != first, "the move must change some tile"
    made = {t for t in tiles if t not in again or inode("incremental", *t) != inode("again", *t)}
    assert len(made) == incremental.made

    def meets(z: int, x: int, y: int) -> bool:
        """The tile, with its buffer, meets the line's bounds before or after the move."""
        west, south, east, north = mercantile.xy_bounds(x, y, z)
        margin = (east - west) * 64 / EXTENT
        area = box(west - margin, south - margin, east + margin, north + margin)
        return area.intersects(shapely.envelope(before)) or area.intersects(shapely.envelope(after))

    assert made and all(meets(*t) for t in made), sorted(t for t in made if not meets(*t))
    zooms = {z for z, _, _ in made}
    assert zooms == set(range(MINZOOM, MAXZOOM + 1)), zooms
    assert len(made) < len(tiles) / 2, (len(made), len(tiles))
