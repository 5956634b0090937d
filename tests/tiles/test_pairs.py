"""A warm process's tile workers keep each feature's encoded geometry in each coarse tile
(generator/tiles/pairs.py): a moved feature's coarse tiles are made again encoding that feature
alone, byte for byte as a run from scratch; a fresh process keeps nothing."""

from __future__ import annotations

import dataclasses

import pytest

from trame import memo
from trame.tiles import pairs as pair_store
from trame.tiles import render as render_module
from trame.tiles.levels import occupied, split_zoom
from trame.tiles.model import prepare_layer

from .conftest import MAXZOOM, MINZOOM, demo_layers
from .test_cascade import moved
from .test_parts import run_cold, run_warm
from .test_pyramid import neighbours


@pytest.fixture
def empty_store(monkeypatch):
    monkeypatch.setattr(pair_store, "_kept", {})
    monkeypatch.setattr(pair_store, "_build", -1)


def test_a_moved_feature_alone_is_encoded_again_in_its_coarse_tiles(
    tmp_path, monkeypatch, empty_store
):
    polygons, corridors, _ = demo_layers()
    reservoirs = dataclasses.replace(polygons, name="reservoirs")  # (not a coverage)
    layers = [neighbours(coverage=True), reservoirs, corridors]
    r = split_zoom(occupied([prepare_layer(la) for la in layers], MAXZOOM), MINZOOM, MAXZOOM)
    snapped: list[tuple[int, int]] = []  # (zoom, geometries snapped)
    snap = render_module.snap_to_tiles

    def counting(clipped, kind, z, origins):
        snapped.append((z, len(clipped)))
        return snap(clipped, kind, z, origins)

    monkeypatch.setattr(render_module, "snap_to_tiles", counting)

    def moved_once(root, keep: bool) -> tuple[int, tuple]:
        """Geometries snapped at the coarse zooms by a warm run after the move, and its tiles."""
        if not keep:  # (as in a fresh process: the tasks carry no build number)
            monkeypatch.setattr(memo, "build_number", lambda: None)
        records: dict = {}
        with memo.kept():
            run_warm(root, layers, records, "first", None)
            assert (pair_store.size() > 0) is keep
            layers[1] = moved(reservoirs, 700.0)
            snapped.clear()
            warm = run_warm(root, layers, records, "second", "first")
        layers[1] = reservoirs
        return sum(n for z, n in snapped if z < r), warm

    with_pairs, warm = moved_once(tmp_path / "kept", True)
    monkeypatch.setattr(pair_store, "_kept", {})
    without, _ = moved_once(tmp_path / "none", False)
    assert 0 < with_pairs < without / 5, (with_pairs, without)
    layers[1] = moved(reservoirs, 700.0)
    assert warm == run_cold(tmp_path / "cold", layers)


def test_a_fresh_process_keeps_nothing(tmp_path, empty_store):
    run_cold(tmp_path / "cold", demo_layers())
    assert pair_store.size() == 0


def test_what_a_worker_has_not_used_for_some_builds_is_forgotten(empty_store):
    key = (b"\0" * 32, "polygon", 3, 1, 2)
    pair_store.start(10)
    pair_store.keep([key], [b"encoded"])
    pair_store.start(10 + pair_store.KEEP_BUILDS - 1)
    assert pair_store.lookup([key]) == [b"encoded"]  # (used again: dated from this build)
    pair_store.start(10 + 2 * pair_store.KEEP_BUILDS - 2)
    assert pair_store.size() == 1
    pair_store.start(10 + 2 * pair_store.KEEP_BUILDS - 1)
    assert pair_store.size() == 0 and pair_store.lookup([key]) == [pair_store.MISSING]
