"""The coarse zooms' simplifications kept from one run to the next (:mod:`trame.tiles.cascade`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from trame.tiles import TileLayer, build_tiles
from trame.tiles import cascade as cascade_module
from trame.tiles.pyramid import PreviousTiles

from .conftest import MAXZOOM, MINZOOM, demo_layers, read_dir


def _moved(layers: list[TileLayer], name: str, dx: float) -> list[TileLayer]:
    out = []
    for layer in layers:
        if layer.name == name:
            geometries = np.array(layer.geometries, dtype=object)
            geometries[0] = shapely.transform(geometries[0], lambda xy: xy + [dx, 0])
            layer = TileLayer(layer.name, geometries, layer.properties)
        out.append(layer)
    return out


def _build(layers: list[TileLayer], out: Path, previous: PreviousTiles | None = None):
    stats = build_tiles(
        layers, minzoom=MINZOOM, maxzoom=MAXZOOM, directory=out / "tiles",
        pmtiles_path=out / "demo.pmtiles", name="demo", progress=False, workers=1,
        previous=previous, keep_record=True, cascade_path=out / "simplifications.npz",
    )  # fmt: skip
    return stats, PreviousTiles(out / "tiles", out / "demo.pmtiles", stats.record,
                                out / "simplifications.npz")  # fmt: skip


def test_an_incremental_run_simplifies_only_the_new_features(tmp_path, monkeypatch):
    """One corridor moved: the next run takes every other feature's coarse simplifications
    from the previous run's file and simplifies the moved one only; its tiles and archive are
    byte for byte those of a cold run of the same layers."""
    layers = demo_layers()
    _, previous = _build(layers, tmp_path / "before")
    assert previous.cascade.is_file()
    moved = _moved(layers, "corridors", 400.0)
    simplified = []

    def counting(geoms, kind, z, *args, **kwargs):
        simplified.append(len(geoms))
        return simplify(geoms, kind, z, *args, **kwargs)

    simplify = cascade_module.simplify_for_zoom
    monkeypatch.setattr(cascade_module, "simplify_for_zoom", counting)
    again, _ = _build(moved, tmp_path / "again", previous)
    calls = len(simplified)
    monkeypatch.undo()
    _build(moved, tmp_path / "cold")

    assert again.reused < again.tasks  # the moved corridor's tasks were made again
    assert calls and set(simplified) == {1}  # one feature (the moved one) per zoom
    assert read_dir(tmp_path / "again" / "tiles") == read_dir(tmp_path / "cold" / "tiles")
    for name in ("demo.pmtiles", "simplifications.npz"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "cold" / name).read_bytes()


def test_an_unreadable_file_is_not_used(tmp_path):
    """A broken previous file is ignored: every feature is simplified again and the bytes are
    those of a cold run."""
    layers = demo_layers()
    _, previous = _build(layers, tmp_path / "before")
    previous.cascade.write_bytes(b"not a numpy file")
    _build(_moved(layers, "corridors", 400.0), tmp_path / "again", previous)
    _build(_moved(layers, "corridors", 400.0), tmp_path / "cold")
    assert read_dir(tmp_path / "again" / "tiles") == read_dir(tmp_path / "cold" / "tiles")
