"""The tile step: the territory's layers in Web Mercator, tiled by the engine (:mod:`.tiles`)
into ``tiles/<slug>/`` — ``xyz/{z}/{x}/{y}.pbf``, ``<name>.pmtiles`` and the tile report —
staged aside and swapped in whole, reused by later builds while its cache key holds."""

from __future__ import annotations

import dataclasses
import json
import sys
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from . import memo, parallel
from .cache import KEY_FILE, TILES_CODE, code_fingerprint, read_key, tiles_key, write_key
from .config import Config, load_config
from .crs import LAMBERT_93, WEB_MERCATOR, reproject
from .features import public_attributes
from .files import replace_folder, staging_folder, write_json
from .parallel import Pool
from .paths import TILES_CACHE
from .style import COMMUNES_LAYER
from .territory import Territory, load_territory
from .tiles import PreviousTiles, TileLayer, TileStats, build_tiles

XYZ_FOLDER = "xyz"
TILE_REPORT = "rapport-tuiles.json"
TASKS_FILE = "taches-tuiles.json"
"""The tasks of the last run and their tiles, for the next (incremental) run."""
TILE_VALUES = (str, int, float, bool)
"""What a tile attribute may hold (MVT's scalar types)."""


def tile_layers(territory: Territory) -> list[TileLayer]:
    """The MVT layers: the communes, then one layer per legend item, in Web Mercator."""
    communes = territory.communes
    geometries = _web_mercator(
        [np.array([c.geometry for c in communes], dtype=object)]
        + [features.geometries for features in territory.features]
    )
    layers = [
        TileLayer(
            name=COMMUNES_LAYER,
            geometries=geometries[0],
            properties=[{"insee": c.insee, "nom": c.name} for c in communes],
            coverage=True,  # neighbours share their borders: simplify them once, no gaps
            minzoom=territory.config.tiles.communes_minzoom,
        )
    ]
    for features, projected in zip(territory.features, geometries[1:], strict=True):
        item = features.item
        properties = [
            {
                "id": identifier,
                **{
                    field: value
                    for field, value in public_attributes(item, attributes).items()
                    if isinstance(value, TILE_VALUES)
                },
            }
            for identifier, attributes in zip(features.ids, features.attributes, strict=True)
        ]
        layers.append(TileLayer(name=item.id, geometries=projected, properties=properties))
    return layers


def _web_mercator(layers: list[np.ndarray]) -> list[np.ndarray]:
    """Lambert-93 to Web Mercator, every layer in one call (large enough to be shared between
    threads: see :data:`.crs.THREADED`); a warm process (:mod:`.memo`) reprojects only what
    changed."""
    every = np.concatenate([np.empty(0, dtype=object), *layers])
    projected = memo.each(
        "web mercator", every, lambda changed: reproject(changed, LAMBERT_93, WEB_MERCATOR)
    )
    return np.split(projected, np.cumsum([len(layer) for layer in layers])[:-1])


def _communes_hint(config: Config, stats: TileStats) -> tuple[str, ...]:
    """What to do about tiles of the coarse zooms too large even at their coarsest: in a large
    territory, the communes' outlines (a coverage, never thinned) are the usual cause."""
    coarse = [z for z, _, _, _ in stats.over_budget if z < config.tiles.maxzoom]
    if not coarse or config.tiles.communes_minzoom > max(coarse):
        return ()
    start = max(coarse) + 1
    return (
        f"les tuiles trop lourdes des zooms {min(coarse)} à {max(coarse)} tiennent souvent aux "
        "contours des communes d'un grand territoire (jamais allégés, pour ne pas laisser de "
        f"trou) : n'affichez les communes qu'à partir du zoom {start} (tiles.communes_minzoom: "
        f"{start} dans la configuration)",
    )


def tile_report(stats: TileStats) -> dict[str, Any]:
    """What the tile step left out or made coarser, for the validation report: never silent."""
    return {
        "notes": list(stats.notes),
        "thinned": [
            {"layer": layer, "zoom": zoom, "features": count}
            for layer, zoom, count in stats.thinned
        ],
    }


RECORD = "tile record"
"""The store's name of the record of tasks (a warm process finds the one it wrote)."""


def _record(target: Path) -> dict[str, Any] | None:
    """The record of tasks saved in ``target``, None if it cannot be read."""
    try:
        return memo.read_json(RECORD, target / TASKS_FILE)
    except (OSError, ValueError):
        return None


def previous_tiles(config: Config, target: Path) -> PreviousTiles | None:
    """What an earlier run left in ``target`` for an incremental run: its tiles and its record
    of tasks, if made by this same code."""
    saved = _record(target)
    if saved is None:
        return None
    archive = target / f"{config.tiles.name}.pmtiles"
    if saved.get("code") != code_fingerprint(*TILES_CODE) or not archive.is_file():
        return None
    # (beside them, the last run's simplified communes and coarse features: see tiles.cascade)
    return PreviousTiles(target / XYZ_FOLDER, archive, saved["tasks"], target)


def write_tiles(
    territory: Territory, target: Path, *, workers: int | None = None,
    executor: Executor | None = None, pool: Pool | None = None, quiet: bool = False,
    incremental: bool = False,
) -> TileStats:  # fmt: skip
    """Tile the territory into ``target``, replaced whole only when every tile is written.
    The tasks run on ``pool`` (the build's), else on ``executor`` / ``workers``.
    ``incremental``: take the tiles of tasks that did not change from those in ``target``."""
    config = territory.config
    previous = previous_tiles(config, target) if incremental else None
    with staging_folder(target) as staging:
        if previous is not None:
            previous = _tree_to_update(previous, target, staging)
        stats = build_tiles(
            tile_layers(territory),
            minzoom=config.tiles.minzoom,
            maxzoom=config.tiles.maxzoom,
            directory=staging / XYZ_FOLDER,
            pmtiles_path=staging / f"{config.tiles.name}.pmtiles",
            name=config.name,
            description=f"Trame verte et bleue — {config.name}",
            attribution=" · ".join(config.sources),
            workers=workers,
            executor=executor,
            pool=pool,
            progress=not quiet,
            previous=previous,
            keep_record=True,
            cascade_dir=staging,
        )
        stats = dataclasses.replace(stats, notes=stats.notes + _communes_hint(config, stats))
        write_json(staging / TILE_REPORT, tile_report(stats))
        tasks = {"code": code_fingerprint(*TILES_CODE), "tasks": stats.record}
        memo.write_json(RECORD, staging / TASKS_FILE, tasks)
        write_key(staging, tiles_key(config))
        replace_folder(staging, target)
    return stats


def _tree_to_update(previous: PreviousTiles, target: Path, staging: Path) -> PreviousTiles | None:
    """The previous run's z/x/y tree, moved into ``staging`` to be updated in place (only the
    tiles made again are written, those gone removed) instead of linked tile by tile into a
    new tree. Its key and record are removed first: a run cut short leaves a folder no later
    run trusts (it then makes every tile), never a tree that does not match its record.

    Measured on Nord (one reservoir moved, a warm process, py-spy at 200 Hz over six builds):
    linking the 3,706 unchanged tiles into 232 new folders, then removing the old tree, took
    ~0.7 s of each build's tile thread (creating a folder costs ~0.4 ms on the test VMs)."""
    for name in (TASKS_FILE, KEY_FILE):
        (target / name).unlink(missing_ok=True)
    if not (target / XYZ_FOLDER).is_dir():  # (removed by hand: every tile is made)
        return None
    (target / XYZ_FOLDER).rename(staging / XYZ_FOLDER)
    return dataclasses.replace(previous, directory=staging / XYZ_FOLDER)


def update_tiles(
    territory: Territory, target: Path, pool: Pool, force: bool = False, quiet: bool = False
) -> tuple[TileStats | None, dict[str, Any]]:
    """The build's tile step: tiles rendered into ``target`` unless those there were made from
    these exact inputs and code (``force``: always); returns their statistics (None when
    kept) and report."""
    config = territory.config
    stats = None
    if force or not tiles_are_current(config, target):
        if not quiet:
            print(f"Tuiles vectorielles z{config.tiles.minzoom}–z{config.tiles.maxzoom}…",
                  file=sys.stderr, flush=True)  # fmt: skip
        stats = write_tiles(territory, target, pool=pool, quiet=quiet, incremental=True)
        log_tile_stats(stats, config.tiles.maxzoom, quiet)
    elif not quiet:
        print(f"Tuiles à jour dans {target}.", file=sys.stderr, flush=True)
    return stats, read_tile_report(target)


def tile_digests(target: Path, stats: TileStats | None = None) -> dict[str, str]:
    """SHA-256 of each ``tiles/{z}/{x}/{y}.pbf`` as the site publishes them, from the record
    of the run that made them (so the manifest does not read every tile again): ``stats``'s,
    when this build ran the tile step (a warm Nord build read it back in ~30 ms), else the
    one saved in ``target``."""
    if stats is not None and stats.record:
        tasks = stats.record
    else:
        tasks = (_record(target) or {}).get("tasks", {})
    return {
        f"tiles/{tile[0]}/{tile[1]}/{tile[2]}.pbf": tile[8]
        for tiles in tasks.values()
        for tile in tiles
        if len(tile) > 8
    }


def tiles_are_current(config: Config, target: Path) -> bool:
    """True when ``target`` holds tiles made from these exact inputs and code."""
    return read_key(target) == tiles_key(config) and (target / TILE_REPORT).is_file()


def read_tile_report(target: Path) -> dict[str, Any]:
    return json.loads((target / TILE_REPORT).read_text(encoding="utf-8"))


def log_tile_stats(stats: TileStats, maxzoom: int, quiet: bool) -> None:
    if quiet:
        return
    if stats.made < stats.tiles:
        print(f"  tuiles : {stats.made} refaites, {stats.tiles - stats.made} reprises telles "
              "quelles", file=sys.stderr, flush=True)  # fmt: skip
    for note in stats.notes:
        print(f"  tuiles : {note}", file=sys.stderr, flush=True)
    thinned = sum(count for _, _, count in stats.thinned)
    if thinned:
        print(
            f"  tuiles : {thinned} objets plus petits qu'un pixel omis aux zooms inférieurs "
            f"à {maxzoom} (détail dans api/validation.json)",
            file=sys.stderr,
            flush=True,
        )


def build_tiles_only(
    config_path: Path, data_dir: Path | None, tiles_dir: Path | None = None,
    workers: int | None = None, quiet: bool = False, executor: Executor | None = None,
) -> TileStats:  # fmt: skip
    """``make tiles``: the tile step alone, into ``tiles/<slug>/`` by default (always rebuilt).
    Here rather than in :mod:`.build`, whose imports (pages, API, PDF sheets, releases) took
    ~0.2 s of the tile step's start."""
    parallel.settled()  # (the imports)
    territory = load_territory(load_config(config_path, data_dir))
    target = tiles_dir or TILES_CACHE / territory.config.slug
    return write_tiles(territory, target, workers=workers, executor=executor, quiet=quiet)
