"""What a run simplified, kept beside the tiles: a later run with the same coverage reads its
cascade instead of simplifying the coverage again, and takes the coarse zooms' features it
finds (by digest); its tiles are byte for byte those of a run from scratch. A changed
coverage, or a file that is not a cascade of it, is made again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import shapely
import shapely.affinity

from trame.tiles import PreviousTiles, TileLayer, build_tiles
from trame.tiles.cascade import COVERAGE_FILE
from trame.tiles.coarse import FEATURES_DIR, layer_file

from .conftest import MAXZOOM, MINZOOM, demo_layers, read_dir
from .test_pyramid import neighbours


@pytest.fixture
def simplified(monkeypatch) -> list[int]:
    """Zooms the cascade simplified a coverage for (the build runs in this process)."""
    import trame.tiles.cascade as cascade

    zooms: list[int] = []
    simplify = cascade.simplify_for_zoom

    def counting(geoms, kind, z, coverage=False, factor=1.0):
        zooms.append(z)
        return simplify(geoms, kind, z, coverage, factor)

    monkeypatch.setattr(cascade, "simplify_for_zoom", counting)
    return zooms


@pytest.fixture
def coarse(monkeypatch) -> list[int]:
    """How many features each call of the coarse zooms' cascade simplified."""
    import trame.tiles.coarse as module

    sizes: list[int] = []
    simplify = module.simplify_for_zoom

    def counting(geoms, kind, z, coverage=False, factor=1.0):
        sizes.append(len(geoms))
        return simplify(geoms, kind, z, coverage, factor)

    monkeypatch.setattr(module, "simplify_for_zoom", counting)
    return sizes


def moved(layer: TileLayer, dx: float) -> TileLayer:
    geometries = np.array(layer.geometries, dtype=object)
    geometries[-1] = shapely.affinity.translate(geometries[-1], dx, 0.0)
    return dataclasses.replace(layer, geometries=geometries)


def test_a_run_reads_what_the_previous_one_simplified(tmp_path, simplified, coarse):
    """The communes' cascade when they are the same; of the coarse zooms' other features,
    only those that changed are simplified again."""
    _, corridors, points = demo_layers()
    layers = [neighbours(coverage=True), corridors, points]

    def run(name: str, layers, previous: str | None = None, save: bool = True):
        (tmp_path / f"{name}-kept").mkdir()
        stats = build_tiles(
            layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=tmp_path / name,
            pmtiles_path=tmp_path / f"{name}.pmtiles", name="t", workers=1, progress=False,
            keep_record=True, cascade_dir=tmp_path / f"{name}-kept" if save else None,
            previous=None if previous is None else PreviousTiles(
                tmp_path / previous, tmp_path / f"{previous}.pmtiles",
                last[previous].record, tmp_path / f"{previous}-kept"),
        )  # fmt: skip
        last[name] = stats
        return read_dir(tmp_path / name), (tmp_path / f"{name}.pmtiles").read_bytes()

    last: dict = {}
    run("first", layers)
    assert sorted(set(simplified)) == list(range(MINZOOM, MAXZOOM + 1))  # each zoom once
    assert len(simplified) == MAXZOOM - MINZOOM + 1
    assert (tmp_path / "first-kept" / COVERAGE_FILE).is_file()

    assert [f.name for f in sorted((tmp_path / "first-kept" / FEATURES_DIR).iterdir())] == [
        "couche-1.npz",
        "couche-2.npz",
    ]  # (one per layer but the coverage)
    assert sum(coarse) > 2 * len(coarse) / 3  # (every feature of the coarse tiles)

    # A corridor moved: the communes are the same, their cascade is read, not made; of the
    # other features, only the moved one is simplified.
    simplified.clear()
    coarse.clear()
    layers[1] = moved(corridors, 300.0)
    incremental = run("second", layers, "first")
    assert max(coarse) == 1, coarse
    assert simplified == []
    assert (tmp_path / "second-kept" / COVERAGE_FILE).stat().st_ino == (
        tmp_path / "first-kept" / COVERAGE_FILE
    ).stat().st_ino
    # (the points' file is the first run's; the corridors' is made anew)
    assert [_same(tmp_path, "first", "second", k) for k in (1, 2)] == [False, True]
    assert incremental == run("cold", layers, save=False)
    assert last["second"].made < last["second"].tiles

    # A commune moved: another cascade, made again, and saved anew.
    simplified.clear()
    layers[0] = moved(layers[0], 50.0)
    changed = run("third", layers, "second")
    assert len(simplified) == MAXZOOM - MINZOOM + 1
    assert (tmp_path / "third-kept" / COVERAGE_FILE).read_bytes() != (
        tmp_path / "second-kept" / COVERAGE_FILE
    ).read_bytes()
    assert changed == run("cold2", layers, save=False)

    # Nothing changed: every tile is taken, the cascade is not even read, and passed on.
    simplified.clear()
    assert run("fourth", layers, "third") == changed and simplified == []
    kept = tmp_path / "fourth-kept" / COVERAGE_FILE
    assert kept.stat().st_ino == (tmp_path / "third-kept" / COVERAGE_FILE).stat().st_ino
    assert all(_same(tmp_path, "third", "fourth", k) for k in (1, 2))

    # A file that is not a cascade (cut short, say) is not read: the cascade is made again.
    (tmp_path / "fourth-kept" / COVERAGE_FILE).unlink()
    (tmp_path / "fourth-kept" / COVERAGE_FILE).write_bytes(b"PK\x03\x04 tronque")
    layers[1] = moved(corridors, 600.0)
    again = run("fifth", layers, "fourth")
    assert len(simplified) == MAXZOOM - MINZOOM + 1
    assert again == run("cold3", layers, save=False)


def test_a_warm_process_takes_the_coarse_features_from_its_store_and_saves_them_all(
    tmp_path, coarse, monkeypatch
):
    """In a process that builds again and again (generator/memo.py), the coarse zooms'
    features come from the store, not the previous file; the file it saves still holds every
    feature, so that a later fresh process simplifies only what changed."""
    from trame import memo

    _, corridors, points = demo_layers()
    # A point far away (another tile at every coarse zoom): no block the moved corridor is in
    # holds it, so the warm run does not need it.
    x, y = points.geometries[0].x, points.geometries[0].y
    far = dataclasses.replace(
        points,
        geometries=np.array([*points.geometries, shapely.Point(x + 2_500_000, y)], dtype=object),
        properties=[*points.properties, points.properties[0]],
    )
    layers = [neighbours(coverage=True), corridors, far]
    last: dict = {}

    def run(name: str, previous: str | None = None) -> tuple[dict, bytes]:
        (tmp_path / f"{name}-kept").mkdir()
        with memo.one_build():
            last[name] = build_tiles(
                layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=tmp_path / name,
                pmtiles_path=tmp_path / f"{name}.pmtiles", name="t", workers=1,
                progress=False, keep_record=True, cascade_dir=tmp_path / f"{name}-kept",
                previous=None if previous is None else PreviousTiles(
                    tmp_path / previous, tmp_path / f"{previous}.pmtiles",
                    last[previous].record, tmp_path / f"{previous}-kept"),
            )  # fmt: skip
        return read_dir(tmp_path / name), (tmp_path / f"{name}.pmtiles").read_bytes()

    import trame.tiles.coarse as module

    decoded, opened = [], []
    read_wkb, header = module.read_wkb, module._header
    monkeypatch.setattr(module, "read_wkb", lambda *a: decoded.append(a[1]) or read_wkb(*a))
    monkeypatch.setattr(module, "_header", lambda path: opened.append(path) or header(path))
    with memo.kept():
        run("first")
        coarse.clear()
        layers[1] = moved(corridors, 300.0)
        warm = run("second", "first")
        made = memo.made()
    assert decoded == []  # the store held every feature of the file: none decoded
    assert opened == []  # (nor its files opened: the store knows the files it wrote)
    assert max(coarse) == 1, coarse  # the moved corridor, at each coarse zoom
    assert sum(n for name, n in made.items() if name.startswith("coarse features")) == 1, made
    assert [_same(tmp_path, "first", "second", k) for k in (1, 2)] == [False, True]

    # Every feature is in the files, the far point too (its layer's file is the first run's).
    def saved(name: str) -> list[int]:
        sizes = []
        for k in (1, 2):
            with np.load(layer_file(tmp_path / f"{name}-kept" / FEATURES_DIR, k)) as file:
                sizes.append(file["digests"].size // 32)
        return sizes

    assert saved("second") == saved("first") == [2, 3]
    # A fresh process (no store) after the warm one: it finds every other feature in the file.
    coarse.clear()
    layers[1] = moved(layers[1], 300.0)
    fresh = run("third", "second")
    assert max(coarse) == 1, coarse
    assert fresh == run("cold", None) and warm != fresh


def _same(root, a: str, b: str, k: int) -> bool:
    """Whether runs ``a`` and ``b`` saved layer ``k``'s coarse features in the same file."""
    return layer_file(root / f"{a}-kept" / FEATURES_DIR, k).samefile(
        layer_file(root / f"{b}-kept" / FEATURES_DIR, k)
    )
