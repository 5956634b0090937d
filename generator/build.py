"""The build, step by step: read → validate → compute → render → assemble → swap into place
(or, when the site folder is the one the history last assembled, update it in place: see
:mod:`.releases.inplace`).

Each step is one call into the module that owns it; this file only lists them, in order.
The tiles and the per-commune outputs run in tasks on one pool of workers (:mod:`.parallel`).
Everything is written (rendered) before MkDocs and the rest assemble it into the site, and the
site replaces the previous one (or its changes are kept) only when every step succeeded.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from . import api, assemble, memo, pages, parallel, sheets, staticmap
from .cache import one_reading, site_is_current
from .config import load_config
from .dsfr import require_dsfr
from .figures import whole_territory
from .files import parse_json, replace_folder, staging_folder
from .paths import DEFAULT_SITE, TILES_CACHE
from .percommune import CACHE_FIELD, read_previous, render_communes
from .releases import info as release_info
from .releases import render as release_render
from .releases.history import history_folder, history_lock
from .releases.step import Plan, history_site_key, plan_release, reassemble, record_release
from .style import content_security_policy
from .territory import Territory, load_territory
from .theme import prepare_theme
from .tiles import TileStats
from .tilestep import tile_digests, update_tiles
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
    stages: dict[str, float] = field(default_factory=dict)
    """Wall seconds of each step, in order (see :class:`Stages`)."""
    rendered: int | None = None
    """Communes whose outputs were made again (the others were kept from the previous build)."""


class Stages:
    """Wall time of each step of a build, for the log and the benchmarks."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._last
        self._last = now

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.seconds.items())


def log(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def build_site(
    config_path: Path, data_dir: Path | None = None, output: Path | None = None, *,
    workers: int | None = None, executor: Executor | None = None, quiet: bool = False,
    tiles_dir: Path | None = None, force: bool = False, pdf: bool = False,
    theme: str | None = None, version: str | None = None, replace: bool = False,
    releases_dir: Path | None = None, pool: parallel.Pool | None = None,
) -> BuildResult:  # fmt: skip
    """Build release ``version`` of the site into ``output`` (default ``site/``), which holds
    every release of the history (``releases_dir``, see generator/releases), replacing it only on
    success.

    Nothing is redone when the inputs, the config and the code are byte for byte those of the
    release already recorded (``force`` rebuilds anyway): the site is at most assembled again
    from the history. Otherwise, when the release rebuilt is the latest, only the communes and
    tiles whose inputs changed are made again. The tiles are kept when only texts or templates
    changed. ``pdf``: also the PDF map sheets (``atlas.pdf``, ``communes/…/carte.pdf``;
    ``trame build`` and ``make build`` make them unless --no-pdf / PDF=0). ``theme`` overrides
    the config's (``default`` or ``dsfr``). ``pool``: workers kept from one build to the next
    (:mod:`.watch`), instead of new ones.
    """
    started = time.perf_counter()
    config = load_config(config_path, data_dir)
    if theme:
        config = config.model_copy(update={"theme": theme})
    if config.theme == "dsfr":
        require_dsfr()
    output = (output or DEFAULT_SITE).resolve()
    # One build or deploy at a time writes a history.
    with (
        history_lock(history_folder(config, output, releases_dir)),
        one_reading(),
        parallel.interleaved(),
    ):
        plan = plan_release(config, output, version, releases_dir, replace, pdf=pdf)
        if not force and plan.unchanged():
            current = site_is_current(output, history_site_key(plan.history))
            if not current:  # the site lost files, or was removed: the history has them all
                reassemble(plan, output, config)
            manifest = parse_json((output / "manifest.json").read_bytes())
            seconds = time.perf_counter() - started
            done = "est à jour" if current else "est rassemblé depuis l'historique"
            log(
                f"Rien n'a changé : la version {plan.id} de {output} {done} ({seconds:.1f} s).",
                quiet,
            )
            return BuildResult(output, manifest["communes"], None, None, seconds, cached=current)

        # The workers start now, before the data is read: forked later, each would keep its own
        # copy of every page of the driver's memory the driver changes afterwards.
        stages = Stages()
        with (
            contextlib.nullcontext(pool) if pool else parallel.pool(workers, executor) as pool,
            memo.one_build(),
        ):
            parallel.settled()  # (the imports, the history's plan)
            # Read and validate.
            log(f"Lecture des données de « {config.name} »…", quiet)
            territory = load_territory(config)
            config = territory.config
            for warning in territory.report.warnings:
                log(f"  attention : {warning}", quiet)
            stages.done("lecture")
            tiles_dir = tiles_dir or TILES_CACHE / config.slug
            result = _build(territory, tiles_dir, output, plan, pool, stages, force, quiet, pdf)
        stages.done("nettoyage")
        seconds = time.perf_counter() - started
        stats, rendered = result
        tiles = f"{stats.tiles} tuiles" if stats else "tuiles inchangées"
        n = len(territory.communes)
        log(
            f"Site construit dans {output} (version {plan.id}, {len(plan.history.releases)} en tout) : "
            f"{n} communes, {tiles}, {seconds:.1f} s ({stages}).",
            quiet,
        )
        return BuildResult(output, n, stats, territory.report, seconds, stages=stages.seconds,
                           rendered=rendered)  # fmt: skip


def _build(
    territory: Territory, tiles_dir: Path, output: Path, plan: Plan, pool: parallel.Pool,
    stages: Stages, force: bool, quiet: bool, pdf: bool,
) -> tuple[TileStats | None, int]:  # fmt: skip
    """The steps after reading, on the build's pool: (tile statistics, communes rendered)."""
    config = territory.config
    with (
        # The tiles (kept while their inputs and code do not change), on the same workers and
        # at the same time as the communes: each fills the other's idle moments.
        parallel.alongside(update_tiles, territory, tiles_dir, pool, force, quiet) as tiles,
        staging_folder(output) as staging,
    ):
        # The release's tree: everything it publishes, rendered here, then assembled.
        docs, tree = staging / "docs", staging / "release"
        pages.write_narrative_pages(docs)
        release = release_info.start(config, plan.id, plan.history, territory.communes)
        policy = content_security_policy(config)
        theme_spec = prepare_theme(
            config, docs, tree, pages.explication_fragments(config), policy, release.theme()
        )
        release.assets = theme_spec.assets

        # Compute and render each commune (figures, page, static map, API files, what changed
        # since the previous release), in chunks; an unchanged commune of a rebuilt release
        # keeps its files.
        log(f"Chiffres et pages de {len(territory.communes)} communes…", quiet)
        previous = None if force else read_previous(plan.history, plan.id)
        site = staging / "site"
        # The site is changed in place when it is the one the history assembled last: the
        # kept communes' files stay where they are (carried), the others are put in place.
        inplace = plan.in_place(output, force)
        made = plan.current_addresses(site, tree, config, inplace)
        communes = render_communes(territory, tree, theme_spec, pool, quiet, previous, pdf,
                                   release, made, carry=inplace is not None)  # fmt: skip
        release.records = communes.changes
        whole = whole_territory(territory, communes.figures)
        stages.done("communes")
        if communes.rendered < len(territory.communes):
            kept = len(territory.communes) - communes.rendered
            log(f"  {communes.rendered} communes refaites, {kept} reprises telles quelles", quiet)
        # The territory's map needs no tile: drawn while the tiles end.
        maps, map_thinned = staticmap.write_territory_map(tree, territory, whole.commune)
        stages.done("carte du territoire")
        stats, tiles_report = tiles.result()
        stages.done("tuiles (fin)")

        # Render the pages and files of the whole territory (the report in Markdown for MkDocs,
        # which says what the territory's map leaves out).
        outside = pages.write_pages(docs, tree, config, territory.communes, whole,
                                    territory.report, tiles_report, theme_spec, pdf,
                                    map_thinned)  # fmt: skip
        api.write_api(tree / "api", config, communes.summaries, whole, territory.report,
                      tiles_report)  # fmt: skip
        release_render.write_release_files(docs, tree, release, territory.communes, policy)
        stages.done("territoire")
        if pdf:
            log("Cartes PDF (atlas et communes)…", quiet)
            records = sheets.write_sheets(
                tree, config, config.sheets, territory.communes, maps,
                executor=pool.executor, workers=pool.workers,
            )  # fmt: skip
            log(sheets.summary(records), quiet)
            stages.done("PDF")

        # Assemble the release: MkDocs' pages, the tiles and vendor files join the rendered files
        # (a site updated in place keeps the tiles it has: they are carried, as kept communes).
        log(f"Site statique de la version {plan.id} (MkDocs)…", quiet)
        tile_files = tile_digests(tiles_dir, stats)
        kept_tiles = {} if inplace is None or inplace.listing is None else {
            name: digest for name, digest in tile_files.items()
            if inplace.listing.get(name) == digest
        }  # fmt: skip
        assemble.assemble_site(docs, staging / "mkdocs", tiles_dir, tree, config, quiet,
                               [*outside, *communes.pages], theme_spec.assets,
                               json.loads(theme_spec.options), kept_tiles,
                               None if inplace is None else tile_files)  # fmt: skip
        stages.done("assemblage")

        # Record it in the history (a published release never changes) and assemble the site:
        # every release under versions/<id>/, the latest at the current addresses.
        known = communes.digests | tile_files
        record_release(plan, tree, site, config, release.summary(), known,
                       {CACHE_FIELD: communes.cache}, made, communes.carried | kept_tiles,
                       inplace)  # fmt: skip
        if inplace is None:
            replace_folder(site, output)
        stages.done("versions")
    return stats, communes.rendered
