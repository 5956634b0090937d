"""The pipeline: read → validate → compute → render (tiles, style, pages, API) → publish."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from tqdm import tqdm

from .api import write_api, write_json
from .cache import fingerprint, read_key, write_key
from .config import Config, build_date, load_config
from .crs import LAMBERT_93, WEB_MERCATOR, reproject, wgs84_bounds
from .features import ItemFeatures, select_features
from .figures import ItemFigures, ItemIndex, area_figures
from .pages import CommuneView, environment, french_date, render_redirect, write_pages
from .publish import (
    add_content_security_policy,
    copy_narrative_pages,
    copy_vendor_assets,
    link_tree,
    link_tree_file,
    manifest,
    mkdocs_build,
    replace_site,
    staging_folder,
)
from .read import Layer, read_layer
from .sheets import settings_for, summary, write_sheets
from .staticmap import StaticMaps
from .style import COMMUNES_LAYER, content_security_policy, map_style
from .territory import Commune, communes_from_layer
from .tiles import TileLayer, TileStats, build_tiles
from .validate import ValidationReport

PROJECT_ROOT = Path(__file__).resolve().parent.parent
XYZ_FOLDER = "xyz"
TILE_REPORT = "rapport-tuiles.json"
"""``tiles/<slug>/xyz/{z}/{x}/{y}.pbf`` beside ``tiles/<slug>/<name>.pmtiles``; both end up in
the site's ``tiles/`` folder."""


@dataclass(frozen=True)
class Territory:
    """Everything computed from the inputs, before anything is rendered."""

    config: Config
    communes: list[Commune]
    features: list[ItemFeatures]
    report: ValidationReport


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


SITE_CODE = ("generator", "site_src", "mkdocs.yml", "package-lock.json")
"""What the site's bytes depend on besides the inputs: a change here rebuilds."""


def log(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def load_territory(config: Config) -> Territory:
    """Read and validate the communes and every legend item's features (Lambert-93)."""
    report = ValidationReport()
    source = config.communes.source
    communes_layer = read_layer(source.path, source.layer)
    communes = communes_from_layer(
        communes_layer, config.communes, report.add("communes", communes_layer.source)
    )
    outline = shapely.union_all([commune.geometry for commune in communes])
    layers: dict[tuple[Path, str | None], Layer] = {}
    features = []
    for item in config.legend:
        key = (item.source.path, item.source.layer)
        if key not in layers:
            layers[key] = read_layer(*key)
        layer = layers[key]
        features.append(select_features(item, layer, outline, report.add(item.id, layer.source)))
    if _marked_fictitious(config, layers.values()) and not config.fictitious:
        config = dataclasses.replace(config, fictitious=True)
    return Territory(config=config, communes=communes, features=features, report=report)


def _marked_fictitious(config: Config, layers: Any) -> bool:
    """True when any feature carries the config's fictitious marker (e.g. ID_SRCE = FICTIF)."""
    marker = config.fictitious_marker
    return bool(marker) and any(
        all(str(row.get(key)) == value for key, value in marker.items())
        for layer in layers
        for row in layer.attributes
    )


def tile_layers(territory: Territory) -> list[TileLayer]:
    """The MVT layers: the communes, then one layer per legend item, in Web Mercator."""
    communes = territory.communes
    layers = [
        TileLayer(
            name=COMMUNES_LAYER,
            geometries=reproject(
                np.array([c.geometry for c in communes], dtype=object), LAMBERT_93, WEB_MERCATOR
            ),
            properties=[{"insee": c.insee, "nom": c.name} for c in communes],
            coverage=True,  # neighbours share their borders: simplify them once, no gaps
        )
    ]
    for features in territory.features:
        item = features.item
        properties = []
        for identifier, attributes in zip(features.ids, features.attributes, strict=True):
            public = {
                field: attributes[field]
                for field in item.fields
                if isinstance(attributes.get(field), str | int | float)
                and not isinstance(attributes.get(field), bool)
            }
            properties.append({"id": identifier, **public})
        layers.append(
            TileLayer(
                name=item.id,
                geometries=reproject(features.geometries, LAMBERT_93, WEB_MERCATOR),
                properties=properties,
            )
        )
    return layers


def render_tiles(
    territory: Territory, tiles_dir: Path, workers: int | None, quiet: bool,
    executor: Executor | None = None,
) -> TileStats:  # fmt: skip
    config = territory.config
    return build_tiles(
        tile_layers(territory),
        minzoom=config.tiles.minzoom,
        maxzoom=config.tiles.maxzoom,
        directory=tiles_dir / XYZ_FOLDER,
        pmtiles_path=tiles_dir / f"{config.tiles.name}.pmtiles",
        name=config.name,
        description=f"Trame verte et bleue — {config.name}",
        attribution=" · ".join(config.sources),
        workers=workers,
        executor=executor,
        progress=not quiet,
    )


def build_tiles_only(
    config_path: Path, data_dir: Path | None, tiles_dir: Path | None = None,
    workers: int | None = None, quiet: bool = False, executor: Executor | None = None,
) -> TileStats:  # fmt: skip
    """The tile step alone, into ``tiles/<slug>/`` by default (always rebuilt)."""
    config = load_config(config_path, data_dir)
    territory = load_territory(config)
    target = tiles_dir or PROJECT_ROOT / "tiles" / config.slug
    return _fresh_tiles(territory, target, workers, quiet, executor, _tiles_key(config))


def _tiles_key(config: Config) -> str:
    """Tiles depend on the data, the config and legend, and the code; not on the texts."""
    inputs = [p for p in _inputs(config) if p != config.explanatory_text]
    return fingerprint(inputs, code=("generator",))


def _fresh_tiles(
    territory: Territory, target: Path, workers: int | None, quiet: bool,
    executor: Executor | None, key: str,
) -> TileStats:  # fmt: skip
    with staging_folder(target) as staging:
        stats = render_tiles(territory, staging, workers, quiet, executor)
        write_json(staging / TILE_REPORT, tile_report(stats))
        write_key(staging, key)
        replace_site(staging, target)
    return stats


def tile_report(stats: TileStats) -> dict[str, Any]:
    """What the tile step left out or made coarser, for the validation report: never silent."""
    return {
        "notes": list(stats.notes),
        "thinned": [
            {"layer": layer, "zoom": zoom, "features": count}
            for layer, zoom, count in stats.thinned
        ],
    }


def _site_is_current(output: Path, key: str) -> int | None:
    """The number of communes of ``output`` if it was built with ``key`` and is complete."""
    try:
        published = json.loads((output / "manifest.json").read_text(encoding="utf-8"))
        communes = json.loads((output / "api" / "communes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if published.get("build_key") != key:
        return None
    if not all((output / name).is_file() for name in published.get("files", {})):
        return None
    return len(communes)


def build_site(
    config: Path, data_dir: Path | None = None, output: Path | None = None, *,
    workers: int | None = None, executor: Executor | None = None, quiet: bool = False,
    tiles_dir: Path | None = None, force: bool = False, pdf: bool = False,
) -> BuildResult:  # fmt: skip
    """Build the whole site into ``output`` (default ``site/``), replacing it only on success.
    ``pdf``: also the PDF map sheets (atlas.pdf, communes/…/carte.pdf; ``trame build`` and
    ``make build`` do, unless --no-pdf / PDF=0).

    Nothing is redone when the inputs, the config and the code are byte for byte those of the
    site already there (``force`` rebuilds anyway); the tiles are kept when only texts or
    templates changed.
    """
    started = time.perf_counter()
    loaded = load_config(config, data_dir)
    output = (output or PROJECT_ROOT / "site").resolve()
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    site_key = fingerprint(
        _inputs(loaded), code=SITE_CODE, extra=f"SOURCE_DATE_EPOCH={epoch};pdf={pdf}"
    )
    communes = None if force else _site_is_current(output, site_key)
    if communes is not None:
        seconds = time.perf_counter() - started
        log(f"Rien n'a changé : {output} est à jour ({seconds:.1f} s).", quiet)
        return BuildResult(output, communes, None, None, seconds, cached=True)
    log(f"Lecture des données de « {loaded.name} »…", quiet)
    territory = load_territory(loaded)
    config = territory.config
    for warning in territory.report.warnings:
        log(f"  attention : {warning}", quiet)

    tiles_target = tiles_dir or PROJECT_ROOT / "tiles" / config.slug
    tiles_key = _tiles_key(loaded)
    stats = None
    if force or read_key(tiles_target) != tiles_key or not (tiles_target / TILE_REPORT).is_file():
        log(f"Tuiles vectorielles z{config.tiles.minzoom}–z{config.tiles.maxzoom}…", quiet)
        stats = _fresh_tiles(territory, tiles_target, workers, quiet, executor, tiles_key)
        for note in stats.notes:
            log(f"  tuiles : {note}", quiet)
        thinned = sum(count for _, _, count in stats.thinned)
        if thinned:
            log(
                f"  tuiles : {thinned} objets plus petits qu'un pixel omis aux zooms inférieurs "
                f"à {config.tiles.maxzoom} (détail dans api/validation.json)",
                quiet,
            )
    else:
        log(f"Tuiles à jour dans {tiles_target}.", quiet)

    log(f"Chiffres et pages de {len(territory.communes)} communes…", quiet)
    indexes = [ItemIndex(features) for features in territory.features]
    views = [
        CommuneView(
            commune=c, figures=area_figures(c.geometry, indexes), bbox=wgs84_bounds(c.geometry)
        )
        for c in tqdm(territory.communes, disable=quiet, unit="commune", leave=False)
    ]
    outline = shapely.union_all([c.geometry for c in territory.communes])
    territory_figures: list[ItemFigures] = area_figures(outline, indexes)
    bbox = wgs84_bounds(outline)

    with staging_folder(output) as staging:
        docs_dir = staging / "docs"
        site_dir = staging / "site"
        copy_narrative_pages(docs_dir)
        tiles_report = json.loads((tiles_target / TILE_REPORT).read_text(encoding="utf-8"))
        write_pages(
            docs_dir, config, views, bbox, territory_figures, territory.report, tiles_report,
            pdf=pdf,
        )  # fmt: skip
        log("Site statique (MkDocs)…", quiet)
        epoch = int(build_date(config).timestamp())
        extra = _extra(config)
        extra["trame"]["pdf"] = pdf  # the print view names the PDF sheet
        mkdocs_build(docs_dir, site_dir, config.name, extra, epoch, quiet, config.site_url)
        env = environment()
        for view in views:
            redirect = site_dir / "communes" / view.commune.insee / "index.html"
            redirect.parent.mkdir(parents=True, exist_ok=True)
            redirect.write_text(render_redirect(env, config, view.commune), encoding="utf-8")
        static_maps = StaticMaps(config, territory.communes, territory.features)
        whole = Commune(insee="", name=config.name, slug="", postcodes=(), geometry=outline)
        (site_dir / "carte.svg").write_text(static_maps.svg(whole), encoding="utf-8")
        for view in tqdm(views, disable=quiet, unit="carte", leave=False):
            svg = static_maps.svg(view.commune)
            (site_dir / view.commune.path / "carte.svg").write_text(svg, encoding="utf-8")
        if pdf:
            log("Cartes PDF (atlas et communes)…", quiet)
            records = write_sheets(
                site_dir, config, settings_for(config), territory.communes, static_maps,
                executor=executor, workers=workers,
            )  # fmt: skip
            log(summary(records), quiet)
        write_api(site_dir / "api", config, views)
        write_json(site_dir / "api" / "style.json", map_style(config, bbox))
        write_json(
            site_dir / "api" / "validation.json",
            territory.report.as_dict() | {"tiles": tiles_report},
        )
        link_tree(tiles_target / XYZ_FOLDER, site_dir / "tiles")
        for archive in tiles_target.glob("*.pmtiles"):
            link_tree_file(archive, site_dir / "tiles" / archive.name)
        copy_vendor_assets(site_dir)
        add_content_security_policy(site_dir, content_security_policy(config))
        published = manifest(site_dir, _inputs(config), config.config_path.parent)
        write_json(site_dir / "manifest.json", {**published, "build_key": site_key})
        final = staging / "final"
        site_dir.rename(final)
        replace_site(final, output)
    seconds = time.perf_counter() - started
    tiles = f"{stats.tiles} tuiles" if stats else "tuiles inchangées"
    log(f"Site construit dans {output} : {len(views)} communes, {tiles}, {seconds:.1f} s.", quiet)
    return BuildResult(output, len(views), stats, territory.report, seconds)


def _inputs(config: Config) -> list[Path]:
    """The files a build reads: config, texts, data (with a Shapefile's sidecar files)."""
    sources = [config.communes.source, *(item.source for item in config.legend)]
    paths = [config.config_path, config.explanatory_text]
    if config.legend_path:
        paths.append(config.legend_path)
    for source in sources:
        paths += [p for p in source.path.parent.glob(f"{source.path.stem}.*") if p.is_file()]
    return paths


def _extra(config: Config) -> dict[str, Any]:
    return {
        "trame": {
            "territory": config.name,
            "fictitious": config.fictitious,
            "data_date": french_date(config),
            "build_date": build_date(config).strftime("%d/%m/%Y"),
            "sources": list(config.sources),
            "licence": config.licence,
            "producer": config.producer,
        }
    }
