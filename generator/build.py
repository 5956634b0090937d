"""The build, step by step: read → validate → compute → render → assemble → swap into place.

Each step is one call into the module that owns it; this file only lists them, in order.
Everything is written (rendered) before MkDocs and the rest assemble it into the site, and the
site replaces the previous one only when every step succeeded.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from . import api, assemble, pages, sheets, staticmap
from .cache import site_is_current
from .config import load_config
from .dsfr import require_dsfr
from .figures import compute_figures
from .files import replace_folder, staging_folder
from .paths import DEFAULT_SITE, TILES_CACHE
from .releases import render as release_render
from .releases.step import history_site_key, plan_release, reassemble, record_release
from .territory import load_territory
from .tiles import TileStats
from .tilestep import log_tile_stats, read_tile_report, tiles_are_current, write_tiles
from .validate import ValidationReport


@dataclass(frozen=True)
class BuildResult:
    site_dir: Path
    communes: int
    tiles: TileStats | None
    """None when the tiles were already up to date."""
    report: ValidationReport | None
    """None when the whole site was already up to date (nothing was read)."""
    seconds: float
    cached: bool = False


def log(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def build_site(
    config_path: Path, data_dir: Path | None = None, output: Path | None = None, *,
    workers: int | None = None, executor: Executor | None = None, quiet: bool = False,
    tiles_dir: Path | None = None, force: bool = False, pdf: bool = False,
    theme: str | None = None, version: str | None = None, replace: bool = False,
    releases_dir: Path | None = None,
) -> BuildResult:  # fmt: skip
    """Build release ``version`` of the site into ``output`` (default ``site/``), which holds
    every release of the history (``releases_dir``, see generator/releases), replacing it only on
    success.

    Nothing is redone when the inputs, the config and the code are byte for byte those of the
    release already recorded (``force`` rebuilds anyway): the site is at most assembled again
    from the history. The tiles are kept when only texts or templates changed.
    ``pdf``: also the PDF map sheets (``atlas.pdf``, ``communes/…/carte.pdf``; ``trame build``
    and ``make build`` make them unless --no-pdf / PDF=0). ``theme`` overrides the config's
    (``default`` or ``dsfr``).
    """
    started = time.perf_counter()
    config = load_config(config_path, data_dir)
    if theme:
        config = config.model_copy(update={"theme": theme})
    if config.theme == "dsfr":
        require_dsfr()
    output = (output or DEFAULT_SITE).resolve()
    plan = plan_release(config, output, version, releases_dir, replace, pdf=pdf)
    if not force and plan.unchanged():
        current = site_is_current(output, history_site_key(plan.history))
        if not current:  # the site lost files, or was removed: the history has them all
            reassemble(plan, output, config)
        manifest = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
        seconds = time.perf_counter() - started
        done = "est à jour" if current else "est rassemblé depuis l'historique"
        log(f"Rien n'a changé : la version {plan.id} de {output} {done} ({seconds:.1f} s).", quiet)
        return BuildResult(output, manifest["communes"], None, None, seconds, cached=current)

    # Read and validate.
    log(f"Lecture des données de « {config.name} »…", quiet)
    territory = load_territory(config)
    config = territory.config
    for warning in territory.report.warnings:
        log(f"  attention : {warning}", quiet)

    # Render the tiles (kept while their inputs and code do not change).
    tiles_dir = tiles_dir or TILES_CACHE / config.slug
    stats = None
    if force or not tiles_are_current(config, tiles_dir):
        log(f"Tuiles vectorielles z{config.tiles.minzoom}–z{config.tiles.maxzoom}…", quiet)
        stats = write_tiles(territory, tiles_dir, workers=workers, executor=executor, quiet=quiet)
        log_tile_stats(stats, config.tiles.maxzoom, quiet)
    else:
        log(f"Tuiles à jour dans {tiles_dir}.", quiet)
    tiles_report = read_tile_report(tiles_dir)

    # Compute the figures.
    log(f"Chiffres et pages de {len(territory.communes)} communes…", quiet)
    views, whole = compute_figures(territory, quiet)

    with staging_folder(output) as staging:
        # Render the API, compare it with the previous release, then render the pages (Markdown
        # for MkDocs) and every other file of the release.
        docs, rendered = staging / "docs", staging / "rendered"
        api.write_api(rendered / "api", config, views, whole, territory.report, tiles_report)
        release = release_render.prepare(config, plan.id, plan.history, rendered / "api", views)
        pages.write_pages(
            docs, config, views, whole, territory.report, tiles_report, release, pdf=pdf
        )
        pages.write_redirects(rendered, config, territory.communes)
        maps = staticmap.write_static_maps(rendered, territory, whole.commune)
        if pdf:
            log("Cartes PDF (atlas et communes)…", quiet)
            records = sheets.write_sheets(
                rendered, config, config.sheets, territory.communes, maps,
                executor=executor, workers=workers,
            )  # fmt: skip
            log(sheets.summary(records), quiet)
        release_render.write_release_files(docs, rendered, release, views)

        # Assemble the release: MkDocs, then the rendered files, tiles and vendor files.
        log(f"Site statique de la version {plan.id} (MkDocs)…", quiet)
        tree = staging / "release"
        assemble.assemble_site(docs, rendered, tiles_dir, tree, config, quiet, release.theme())

        # Record it in the history (a published release never changes) and assemble the site:
        # every release under versions/<id>/, the latest at the current addresses.
        site = staging / "site"
        record_release(plan, tree, site, config, release.summary())
        replace_folder(site, output)

    seconds = time.perf_counter() - started
    tiles = f"{stats.tiles} tuiles" if stats else "tuiles inchangées"
    log(
        f"Site construit dans {output} (version {plan.id}, {len(plan.history.releases)} en tout) : "
        f"{len(views)} communes, {tiles}, {seconds:.1f} s.",
        quiet,
    )
    return BuildResult(output, len(views), stats, territory.report, seconds)


def build_tiles_only(
    config_path: Path, data_dir: Path | None, tiles_dir: Path | None = None,
    workers: int | None = None, quiet: bool = False, executor: Executor | None = None,
) -> TileStats:  # fmt: skip
    """The tile step alone, into ``tiles/<slug>/`` by default (always rebuilt)."""
    territory = load_territory(load_config(config_path, data_dir))
    target = tiles_dir or TILES_CACHE / territory.config.slug
    return write_tiles(territory, target, workers=workers, executor=executor, quiet=quiet)
