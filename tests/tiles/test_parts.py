"""A warm process keeps each layer's part of the coarse zooms' tiles (generator/tiles/parts.py):
a feature moved makes its ancestor tiles again, cutting and encoding only its own layer there;
the tiles are byte for byte those of a run from scratch, a tile over the size budget too."""

from __future__ import annotations

import dataclasses

import pytest

from trame import memo
from trame.tiles import PreviousTiles, build_tiles
from trame.tiles import levels as levels_module
from trame.tiles import pyramid as pyramid_module
from trame.tiles import render as render_module
from trame.tiles.levels import occupied, split_zoom
from trame.tiles.model import prepare_layer

from .conftest import MAXZOOM, MINZOOM, demo_layers, read_dir
from .test_cascade import moved
from .test_pyramid import neighbours

BUDGET = render_module.MAX_TILE_BYTES


@pytest.mark.parametrize("budget", [BUDGET, 1_200])
def test_a_warm_process_encodes_only_the_changed_layer_of_a_coarse_tile(
    tmp_path, monkeypatch, budget
):
    """``budget``: the size budget of the warm runs. A smaller one than the first run's makes
    tiles whose parts are known too large: they are made again coarser from every layer."""
    _, corridors, points = demo_layers()
    layers = [neighbours(coverage=True), corridors, points]
    r = split_zoom(occupied([prepare_layer(la) for la in layers], MAXZOOM), MINZOOM, MAXZOOM)
    cut: list[tuple[str, int]] = []
    layer_in_tiles = render_module._layer_in_tiles

    def counting(chunk, z, boxes, corners, thin, level, xy=None):
        if not level:  # (a tile over the budget is made again coarser from every layer)
            cut.append((chunk.name, z))
        return layer_in_tiles(chunk, z, boxes, corners, thin, level, xy)

    monkeypatch.setattr(render_module, "_layer_in_tiles", counting)
    tasks: list[tuple[int, frozenset, int]] = []  # (zoom, layers left out, tiles to redo)
    render_block = pyramid_module.render_block

    def recording(task):
        tiles = render_block(task)
        tasks.append((task.zoom, task.omitted, sum(t.redo for t in tiles)))
        return tiles

    monkeypatch.setattr(pyramid_module, "render_block", recording)
    records: dict = {}

    def run(name: str, previous: str | None = None) -> tuple[dict, bytes]:
        return run_warm(tmp_path, layers, records, name, previous)

    with memo.kept():
        run("first")
        monkeypatch.setattr(render_module, "MAX_TILE_BYTES", budget)
        layers[1] = moved(corridors, 300.0)
        cut.clear()
        tasks.clear()
        warm = run("second", "first")
        warm_cut = list(cut)
        warm_tasks = list(tasks)
        made = memo.made()
        # A property of the coverage changes: only the coverage is cut again at the coarse zooms.
        cover = layers[0]
        layers[0] = dataclasses.replace(cover, properties=[{"nom": "Ouest"}, {"nom": "Levant"}])
        cut.clear()
        renamed = run("third", "second")
        renamed_cut = list(cut)
    assert any(z < r for _, z in warm_cut)  # the corridor's ancestor tiles were made again
    assert made["tile layer"] >= 1
    layers[0] = cover
    cold = run_cold(tmp_path / "cold2", layers)
    # The coarse tasks carried only the corridors (the communes and the points left out).
    assert {0, 2} in [set(omitted) for _, omitted, _ in warm_tasks], warm_tasks
    redone = sum(n for _, _, n in warm_tasks)
    if budget == BUDGET:
        assert not redone
        assert {name for name, z in warm_cut if z < r} == {"corridors"}, warm_cut
        assert {name for name, z in renamed_cut if z < r} == {"communes"}, renamed_cut
        assert warm == cold
        layers[0] = dataclasses.replace(cover, properties=[{"nom": "Ouest"}, {"nom": "Levant"}])
        assert renamed == run_cold(tmp_path / "cold3", layers)
    else:
        # Those too large came back to be made again with every layer, after the others.
        assert redone, warm_tasks
        assert [omitted for _, omitted, _ in warm_tasks][-1] == frozenset()
        # The tiles taken from the first run kept its budget (a budget is code: it is in no
        # key); those made again are a cold run's, made coarser from every layer.
        remade = [zxy for zxy in warm[0] if not same_file(tmp_path, "first", "second", zxy)]
        coarser = [zxy for zxy in remade if zxy[0] < r and len(warm[0][zxy]) < len(
            read_dir(tmp_path / "first")[zxy])]  # fmt: skip
        assert coarser, remade
        assert {zxy: warm[0][zxy] for zxy in remade} == {zxy: cold[0][zxy] for zxy in remade}


def run_warm(root, layers, records: dict, name: str, previous: str | None) -> tuple[dict, bytes]:
    """One run of a warm process into ``root/name``, incremental from ``previous``'s (its
    record in ``records``, where this run's goes): its tiles and archive."""
    with memo.one_build():
        records[name] = build_tiles(
            layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=root / name,
            pmtiles_path=root / f"{name}.pmtiles", name="t", workers=1, progress=False,
            keep_record=True,
            previous=None if previous is None else PreviousTiles(
                root / previous, root / f"{previous}.pmtiles", records[previous].record),
        )  # fmt: skip
    return read_dir(root / name), (root / f"{name}.pmtiles").read_bytes()


def same_file(root, a: str, b: str, zxy: tuple[int, int, int]) -> bool:
    z, x, y = zxy
    return (root / a / f"{z}/{x}/{y}.pbf").samefile(root / b / f"{z}/{x}/{y}.pbf")


def run_cold(folder, layers) -> tuple[dict, bytes]:
    build_tiles(
        layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=folder,
        pmtiles_path=folder.with_suffix(".pmtiles"), name="t", workers=1, progress=False,
    )  # fmt: skip
    return read_dir(folder), folder.with_suffix(".pmtiles").read_bytes()


@pytest.mark.parametrize("budget", [BUDGET, 300])
def test_a_subtree_made_again_carries_only_the_layers_its_tiles_lack(tmp_path, monkeypatch, budget):
    """The finer zooms' tasks (subtrees) too: their tiles' parts are kept when an incremental
    run makes them, and the next run that makes them again carries only the changed layer.
    The tiles are a cold run's; those over the (smaller) budget are made again from every
    layer."""
    # (fewer, deeper subtrees than the demo's single tiles of its last zoom: their coarser
    # zooms are thinned, and a tile there may go over the budget)
    monkeypatch.setattr(levels_module, "SUBTREES", 1)
    _, corridors, points = demo_layers()
    layers = [neighbours(coverage=True), corridors, points]
    assert split_zoom(occupied([prepare_layer(la) for la in layers], MAXZOOM), MINZOOM,
                      MAXZOOM) < MAXZOOM - 1  # fmt: skip
    tasks: list[tuple[frozenset, int]] = []  # (layers left out, tiles to redo)
    render_subtree = pyramid_module.render_subtree

    def recording(task):
        tiles = render_subtree(task)
        tasks.append((task.omitted, sum(t.redo for t in tiles)))
        return tiles

    monkeypatch.setattr(pyramid_module, "render_subtree", recording)
    records: dict = {}

    def run(name: str, previous: str | None = None) -> dict:
        return run_warm(tmp_path, layers, records, name, previous)[0]

    with memo.kept():
        run("first")
        layers[1] = moved(corridors, 300.0)
        run("second", "first")
        second = list(tasks)
        monkeypatch.setattr(render_module, "MAX_TILE_BYTES", budget)
        layers[1] = moved(corridors, 310.0)
        tasks.clear()
        third = run("third", "second")
    assert second and all(not omitted for omitted, _ in second), second  # (nothing kept yet)
    assert {0, 2} in [set(omitted) for omitted, _ in tasks], tasks
    redone = sum(n for _, n in tasks)
    cold = run_cold(tmp_path / "cold", layers)[0]
    remade = [zxy for zxy in third if not same_file(tmp_path, "second", "third", zxy)]
    assert remade and any(z >= 11 for z, _, _ in remade), remade
    if budget == BUDGET:
        assert not redone
        assert third == cold
    else:
        assert redone, tasks
        assert tasks[-1][0] == frozenset()  # (made again with every layer, after the others)
        assert {zxy: third[zxy] for zxy in remade} == {zxy: cold[zxy] for zxy in remade}


def test_a_tile_key_made_from_kept_parts_is_the_key_made_from_its_features():
    from trame.tiles.reuse import TaskKeys

    layers = [prepare_layer(la) for la in demo_layers()]
    level = occupied(layers, MAXZOOM)[MAXZOOM]
    x, y = level.xy[0].tolist()
    params = (MAXZOOM, x, y, 11, MAXZOOM, False)
    with memo.kept(), memo.one_build():
        keys = TaskKeys(layers)
        assert keys.known_key("subtree tile", params, (MAXZOOM, x, y)) is None  # (none kept)
        key = keys.key("subtree tile", params, level.indices(0), (MAXZOOM, x, y))
        assert keys.known_key("subtree tile", params, (MAXZOOM, x, y)) == key
        assert keys.known_key("tile", params, (MAXZOOM, x, y)) != key
    assert TaskKeys(layers).known_key("subtree tile", params, (MAXZOOM, x, y)) is None


def test_the_parts_filled_at_once_are_those_keyed_tile_by_tile():
    """A warm process fills a new layer's part of every tile's key at once
    (:meth:`TaskKeys.fill`): the same bytes as :meth:`TaskKeys._parts`, a layer starting at a
    finer zoom too (no feature in the coarser tiles' keys)."""
    from trame.tiles.reuse import TaskKeys

    layers = [prepare_layer(la) for la in demo_layers()]
    layers[1] = dataclasses.replace(layers[1], minzoom=MINZOOM + 2)
    levels = occupied(layers, MAXZOOM)
    zooms = range(MINZOOM, MAXZOOM + 1)
    with memo.kept(), memo.one_build():
        filled = TaskKeys(layers)
        filled.fill(levels, zooms, [layer.minzoom for layer in layers])
        tiles = [(z, x, y) for z in zooms for x, y in levels[z].xy.tolist()]
        assert all(len(parts) == len(tiles) for parts in filled.parts)
    one_by_one = TaskKeys(layers)  # (no store: every part made from the tile's features)
    for z in zooms:
        for i, (x, y) in enumerate(levels[z].xy.tolist()):
            indices = [
                index if z >= layer.minzoom else index[:0]
                for index, layer in zip(levels[z].indices(i), layers, strict=True)
            ]
            expected = one_by_one._parts(indices, None)
            assert [parts[z, x, y] for parts in filled.parts] == expected, (z, x, y)
    assert len(tiles) > 20
