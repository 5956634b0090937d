"""Every commune's outputs, in chunks on the build's pool: figures, page, static map, API files
and short address, then merged in INSEE order.

A chunk is a few dozen neighbouring communes (close on the ground, so they share most of their
data) with everything their outputs read: every feature and every commune whose bounds meet one
of their static maps' windows (which contain the communes themselves), in the territory's order.
A commune's outputs only ever depend on those full geometries, never on which other communes
share its chunk: the bytes are the same whatever the chunk size, the number of workers or the
kind of executor (tested).

Workers on this machine write their files into the staging folder themselves and send back only
the files' digests (for the manifest) and each commune's summary (for ``communes.json``) and
measures (for the whole territory's figures). Workers elsewhere (a Dask cluster) send the files
back for the driver to write.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from jinja2 import Environment
from tqdm import tqdm

from . import api, pages, parallel, staticmap
from .config import Config
from .crs import wgs84_bounds
from .features import ItemFeatures
from .figures import CommuneView, ItemFigures, ItemIndex, area_figures, territory_figures
from .files import write_files
from .style import secure_page
from .territory import Commune, Territory
from .theme import ThemeSpec, renderer


@dataclass(frozen=True)
class Shared:
    """What every chunk needs besides its data; the same for every task."""

    config: Config
    theme: ThemeSpec


@dataclass(frozen=True)
class Chunk:
    neighbours: list[Commune]
    """Every commune whose bounds meet a window of the chunk's maps, in INSEE order."""
    own: list[int]
    """The chunk's communes: their positions in ``neighbours``."""
    features: list[ItemFeatures]
    """Per legend item, the features whose bounds meet a window, in the territory's order."""
    shared: Shared
    target: str | None
    """Where to write the files (workers on this machine), or None: send them back."""


@dataclass(frozen=True)
class CommuneOutput:
    insee: str
    summary: dict[str, Any]
    """Its entry of ``api/communes.json``."""
    covered: list[float]
    """Per legend item, the unrounded area or length inside the commune."""
    page: str
    """The page's ``src_uri`` (for the sitemap)."""


@dataclass(frozen=True)
class ChunkOutput:
    communes: list[CommuneOutput]
    digests: dict[str, str]
    files: dict[str, bytes] | None


@dataclass(frozen=True)
class RenderedCommunes:
    """What the rest of the build needs from the per-commune stage, in INSEE order."""

    summaries: list[dict[str, Any]]
    figures: list[ItemFigures]
    """The whole territory's figures, added up from the communes'."""
    digests: dict[str, str]
    """SHA-256 of every file written, by path below the site root."""
    pages: list[str]


@functools.cache
def _environment() -> Environment:
    return pages.environment()


def commune_files(
    commune: Commune, indexes: list[ItemIndex], maps: staticmap.StaticMaps, shared: Shared
) -> tuple[dict[str, bytes], CommuneOutput]:
    """Everything published for one commune, by path below the site root."""
    config, env = shared.config, _environment()
    view = CommuneView(
        commune, area_figures(commune.geometry, indexes), wgs84_bounds(commune.geometry)
    )
    explication = shared.theme.fragments[pages.EXPLICATION]
    body = pages.render_commune(env, config, view, explication.html)
    html = renderer(shared.theme).render(
        body.src_uri, body.title, body.meta, body.content, explication.toc
    )
    redirect = pages.render_redirect(env, config, commune)
    files = {
        f"{commune.path}index.html": secure_page(html, shared.theme.policy).encode("utf-8"),
        staticmap.commune_map_path(commune): maps.svg(commune).encode("utf-8"),
        pages.redirect_path(commune): secure_page(redirect, shared.theme.policy).encode("utf-8"),
        **api.commune_files(config, view),
    }
    output = CommuneOutput(
        commune.insee,
        api.commune_summary(view),
        [figures.covered for figures in view.figures],
        body.src_uri,
    )
    return files, output


def render_chunk(chunk: Chunk) -> ChunkOutput:
    """The task: every output of the chunk's communes (runs on a worker)."""
    indexes = [ItemIndex(features) for features in chunk.features]
    maps = staticmap.StaticMaps(chunk.shared.config, chunk.neighbours, chunk.features)
    files: dict[str, bytes] = {}
    outputs = []
    for position in chunk.own:
        commune_outputs, output = commune_files(chunk.neighbours[position], indexes, maps,
                                                chunk.shared)  # fmt: skip
        files.update(commune_outputs)
        outputs.append(output)
    if chunk.target is not None:
        return ChunkOutput(outputs, write_files(Path(chunk.target), files), None)
    digests = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    return ChunkOutput(outputs, digests, files)


def spatial_order(geometries: np.ndarray) -> np.ndarray:
    """Positions sorted along a Z-order curve of the geometries' bounds' centres, so that
    consecutive communes are neighbours on the ground (ties: original order)."""
    if not len(geometries):
        return np.zeros(0, dtype=np.int64)
    bounds = shapely.bounds(geometries)
    centres = np.column_stack(
        [(bounds[:, 0] + bounds[:, 2]) / 2, (bounds[:, 1] + bounds[:, 3]) / 2]
    )
    low, high = centres.min(axis=0), centres.max(axis=0)
    grid = ((centres - low) / np.maximum(high - low, 1e-9) * 65535).astype(np.uint64)

    def spread(v: np.ndarray) -> np.ndarray:
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    keys = spread(grid[:, 0]) | (spread(grid[:, 1]) << np.uint64(1))
    return np.lexsort((np.arange(len(keys)), keys))


class _Chunker:
    """Cuts the territory into chunks, each with the data its communes' outputs read."""

    def __init__(self, territory: Territory, shared: Shared, target: str | None):
        self.territory, self.shared, self.target = territory, shared, target
        self.commune_geometries = np.array([c.geometry for c in territory.communes], dtype=object)
        self.commune_tree = shapely.STRtree(self.commune_geometries)
        self.feature_trees = [shapely.STRtree(f.geometries) for f in territory.features]

    def chunk(self, positions: np.ndarray) -> Chunk:
        windows = np.array(
            [staticmap.map_window(g)[0] for g in self.commune_geometries[positions]], dtype=object
        )
        near = np.unique(self.commune_tree.query(windows)[1])
        features = []
        for item_features, tree in zip(self.territory.features, self.feature_trees, strict=True):
            index = np.unique(tree.query(windows)[1])
            features.append(
                ItemFeatures(
                    item_features.item,
                    item_features.geometries[index],
                    [item_features.ids[i] for i in index],
                    [item_features.attributes[i] for i in index],
                )
            )
        neighbours = [self.territory.communes[i] for i in near]
        own = np.searchsorted(near, np.sort(positions)).tolist()
        return Chunk(neighbours, own, features, self.shared, self.target)


def render_communes(
    territory: Territory, rendered_dir: Path, theme: ThemeSpec, pool: parallel.Pool,
    quiet: bool = True,
) -> RenderedCommunes:  # fmt: skip
    """Write every commune's page, static map, API files and short address below
    ``rendered_dir``, in chunks on ``pool``; return what the rest of the site needs."""
    shared = Shared(territory.config, theme)
    chunker = _Chunker(territory, shared, str(rendered_dir) if pool.local else None)
    order = spatial_order(chunker.commune_geometries)
    size = parallel.chunk_size(len(order), pool.workers)
    chunks = parallel.chunked(order, size)
    outputs: dict[str, CommuneOutput] = {}
    digests: dict[str, str] = {}
    tasks = (chunker.chunk(positions) for positions in chunks)
    with tqdm(total=len(order), unit="commune", disable=quiet, leave=False) as bar:
        for result in parallel.map_ordered(render_chunk, tasks, pool):
            if result.files is not None:
                write_files(rendered_dir, result.files)
            digests.update(result.digests)
            outputs.update((output.insee, output) for output in result.communes)
            bar.update(len(result.communes))
    merged = [outputs[commune.insee] for commune in territory.communes]  # INSEE order
    figures = territory_figures(
        territory.features, [output.covered for output in merged], territory.outline.area
    )
    return RenderedCommunes(
        [output.summary for output in merged],
        figures,
        dict(sorted(digests.items())),
        [output.page for output in merged],
    )
