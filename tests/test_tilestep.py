"""The build's tile step: staged aside, swapped in whole, public fields only."""

from __future__ import annotations

import dataclasses

import pytest

from trame import tilestep
from trame.config import load_config
from trame.territory import load_territory
from trame.tilestep import TILE_REPORT, XYZ_FOLDER, tile_layers, write_tiles


def test_a_failing_tile_step_leaves_the_previous_tiles(territory, tmp_path, monkeypatch):
    demo = load_territory(load_config(territory))
    target = tmp_path / "tiles"
    write_tiles(demo, target, workers=1, quiet=True)
    before = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    assert (target / TILE_REPORT).is_file() and (target / XYZ_FOLDER).is_dir()

    def broken(*args, **kwargs):
        kwargs["directory"].mkdir(parents=True)
        (kwargs["directory"] / "half-written.pbf").write_bytes(b"x")
        raise RuntimeError("worker lost")

    monkeypatch.setattr(tilestep, "build_tiles", broken)
    with pytest.raises(RuntimeError):
        write_tiles(demo, target, workers=1, quiet=True)
    after = sorted(p.relative_to(target) for p in target.rglob("*") if p.is_file())
    assert after == before
    assert not list(tmp_path.glob(".tiles.*")), "no staging folder left behind"


def test_tiles_carry_the_public_fields_only_booleans_included(territory):
    demo = load_territory(load_config(territory))
    item = demo.features[0].item
    public = set(item.fields)
    assert public, "the demo's first legend item declares public fields"
    layer = next(layer for layer in tile_layers(demo) if layer.name == item.id)
    keys = {key for properties in layer.properties for key in properties}
    assert keys - {"id"} <= public
    source_fields = set(demo.features[0].attributes[0])
    assert source_fields - public, "the demo data has fields that are not public"
    assert not keys & (source_fields - public)


def test_a_boolean_public_field_reaches_the_tiles(territory):
    import dataclasses

    demo = load_territory(load_config(territory))
    features = demo.features[0]
    field = next(iter(features.item.fields))
    attributes = [dict(row, **{field: True}) for row in features.attributes]
    changed = dataclasses.replace(
        demo, features=[dataclasses.replace(features, attributes=attributes)]
    )
    layer = next(layer for layer in tile_layers(changed) if layer.name == features.item.id)
    assert all(properties[field] is True for properties in layer.properties)


def test_tiles_too_large_at_coarse_zooms_suggest_where_the_communes_start(
    territory, tmp_path, monkeypatch
):
    """A tile still over its budget at the coarse zooms: the report says how to start the
    communes (a coverage, never thinned: the usual cause in a large territory) above them."""
    monkeypatch.setattr("trame.tiles.render.MAX_TILE_BYTES", 300)
    monkeypatch.setattr("trame.tiles.pyramid.MAX_TILE_BYTES", 300)
    demo = load_territory(load_config(territory))
    stats = write_tiles(demo, tmp_path / "tiles", workers=1, quiet=True)
    coarse = [z for z, _, _, _ in stats.over_budget if z < demo.config.tiles.maxzoom]
    assert coarse, "the test needs tiles over a 300-byte budget at coarse zooms"
    hint = f"n'affichez les communes qu'à partir du zoom {max(coarse) + 1} (tiles.communes_minzoom"
    assert sum(hint in note for note in stats.notes) == 1
    report = (tmp_path / "tiles" / TILE_REPORT).read_text(encoding="utf-8")
    assert hint in report

    late = dataclasses.replace(
        demo,
        config=demo.config.model_copy(
            update={"tiles": demo.config.tiles.model_copy(update={"communes_minzoom": 14})}
        ),
    )
    stats = write_tiles(late, tmp_path / "late", workers=1, quiet=True)
    assert not any("tiles.communes_minzoom" in note for note in stats.notes)


def test_an_incremental_run_cut_short_leaves_nothing_a_later_run_trusts(
    territory, tmp_path, monkeypatch
):
    """An incremental run updates the previous tree in place: cut short, it leaves no tree,
    key or record to reuse, and the next run makes every tile, the same as a first run."""
    from trame.cache import KEY_FILE
    from trame.tilestep import TASKS_FILE, tiles_are_current

    demo = load_territory(load_config(territory))
    target = tmp_path / "tiles"
    first = write_tiles(demo, target, workers=1, quiet=True)
    tiles = {p.relative_to(target): p.read_bytes() for p in (target / XYZ_FOLDER).rglob("*.pbf")}
    build_tiles = tilestep.build_tiles

    def broken(*args, **kwargs):
        assert kwargs["previous"].directory == kwargs["directory"]  # the tree moved to staging
        raise RuntimeError("worker lost")

    monkeypatch.setattr(tilestep, "build_tiles", broken)
    with pytest.raises(RuntimeError):
        write_tiles(demo, target, workers=1, quiet=True, incremental=True)
    assert not (target / TASKS_FILE).exists() and not (target / KEY_FILE).exists()
    assert not tiles_are_current(demo.config, target)
    monkeypatch.setattr(tilestep, "build_tiles", build_tiles)
    again = write_tiles(demo, target, workers=1, quiet=True, incremental=True)
    assert again.reused == 0 and again.tiles == first.tiles
    assert {
        p.relative_to(target): p.read_bytes() for p in (target / XYZ_FOLDER).rglob("*.pbf")
    } == tiles
