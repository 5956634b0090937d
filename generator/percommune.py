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

import dataclasses
import functools
import hashlib
import json
import os
import shutil
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
from .features import ItemFeatures, public_attributes
from .figures import CommuneView, FeaturesIndex, ItemFigures, territory_figures
from .files import write_files
from .releases import render as release_render
from .releases.history import History
from .releases.render import ReleaseInfo
from .releases.site import CurrentAddresses
from .style import secure_page
from .territory import Commune, Territory
from .theme import ThemeSpec, renderer
from .wkb import Packed, pack, unpack


@dataclass(frozen=True)
class Shared:
    """What every chunk needs besides its data; the same for every task."""

    config: Config
    theme: ThemeSpec
    pdf: bool = False
    """The PDF map sheets are built too: the pages link to them."""
    release: ReleaseInfo | None = None
    """The release being built: its sections of the pages, its files (changes, embed page)."""


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

    def __reduce__(self) -> tuple:
        # The neighbours' geometries packed whole (see generator.wkb), like the features'.
        communes = [dataclasses.replace(c, geometry=None) for c in self.neighbours]
        geometries = pack(np.array([c.geometry for c in self.neighbours], dtype=object))
        return (_chunk, (communes, geometries, self.own, self.features, self.shared, self.target))


def _chunk(
    communes: list[Commune], geometries: Packed, own: list[int], features: list[ItemFeatures],
    shared: Shared, target: str | None,
) -> Chunk:  # fmt: skip
    neighbours = [dataclasses.replace(c, geometry=g) for c, g in
                  zip(communes, unpack(geometries).tolist(), strict=True)]  # fmt: skip
    return Chunk(neighbours, own, features, shared, target)


@dataclass(frozen=True)
class CommuneOutput:
    insee: str
    summary: dict[str, Any]
    """Its entry of ``api/communes.json``."""
    covered: list[float]
    """Per legend item, the unrounded area or length inside the commune."""
    page: str
    """The page's ``src_uri`` (for the sitemap)."""
    changes: dict[str, Any] | None = None
    """Its changes since the previous release, in short (:meth:`CommuneChanges.record`)."""


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
    cache: dict[str, Any]
    """Each commune's key and measures, recorded in the manifest for the next build."""
    changes: list[dict[str, Any]]
    """Each commune's changes in short (empty without a release)."""
    rendered: int
    """How many communes were rendered (the others were kept from the previous build)."""


@functools.cache
def _environment() -> Environment:
    return pages.environment()


def commune_files(
    commune: Commune, index: FeaturesIndex, maps: staticmap.StaticMaps, shared: Shared
) -> tuple[dict[str, bytes], CommuneOutput]:
    """Everything published for one commune, by path below the site root."""
    config, env = shared.config, _environment()
    view = CommuneView(commune, index.figures(commune.geometry), wgs84_bounds(commune.geometry))
    explication = shared.theme.fragments[pages.EXPLICATION]
    summary = api.commune_summary(view)
    api_files = api.commune_files(config, view, summary)
    release, found, sections = shared.release, None, None
    if release is not None:
        base = f"api/communes/{commune.insee}"
        found = release.changes_for(
            json.loads(api_files[f"{base}.json"]),
            lambda: json.loads(api_files[f"{base}.geojson"]),
        )
        sections = release.commune(commune, found)
    body = pages.render_commune(env, config, view, explication.html, shared.pdf, sections)
    html = renderer(shared.theme).render(
        body.src_uri, body.title, body.meta, body.content, explication.toc
    )
    redirect = pages.render_redirect(env, config, commune)
    policy = shared.theme.policy
    files = {
        f"{commune.path}index.html": secure_page(html, policy).encode("utf-8"),
        staticmap.commune_map_path(commune): maps.svg(commune).encode("utf-8"),
        pages.redirect_path(commune): secure_page(redirect, policy).encode("utf-8"),
        **api_files,
    }
    if release is not None and found is not None:
        for name, data in release_render.commune_files(release, view, found).items():
            secured = secure_page(data.decode("utf-8"), policy).encode("utf-8")
            files[name] = secured if name.endswith(".html") else data
    output = CommuneOutput(
        commune.insee,
        summary,
        [figures.covered for figures in view.figures],
        body.src_uri,
        found.record() if found is not None else None,
    )
    return files, output


def render_chunk(chunk: Chunk) -> ChunkOutput:
    """The task: every output of the chunk's communes (runs on a worker)."""
    index = FeaturesIndex(chunk.features)
    maps = staticmap.StaticMaps(chunk.shared.config, chunk.neighbours, chunk.features)
    files: dict[str, bytes] = {}
    outputs = []
    for position in chunk.own:
        commune_outputs, output = commune_files(chunk.neighbours[position], index, maps,
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
        shared = self.shared
        if shared.release is not None:
            insees = [self.territory.communes[i].insee for i in positions]
            shared = dataclasses.replace(shared, release=shared.release.for_communes(insees))
        return Chunk(neighbours, own, features, shared, self.target)


def commune_paths(commune: Commune, release: bool) -> list[str]:
    """Every file published for ``commune`` (below the site root), as :func:`commune_files`
    names them (``release``: with the release's own)."""
    base = f"api/communes/{commune.insee}"
    return [
        f"{commune.path}index.html", staticmap.commune_map_path(commune),
        pages.redirect_path(commune), f"{base}.json", f"{base}.geojson", f"{base}.csv",
        *(release_render.commune_paths(commune) if release else []),
    ]  # fmt: skip


def commune_keys(
    territory: Territory, theme: ThemeSpec, pdf: bool = False, release: ReleaseInfo | None = None
) -> list[str]:
    """A key per commune (INSEE order) of everything its outputs read: the code, the config,
    the theme, the release (its id, date and the releases before it), the commune itself, and
    the geometries of its neighbours and the features (with their public fields) that meet its
    map's window. Equal keys, equal outputs: an incremental build reuses the files of the
    communes whose key did not change."""
    from .cache import SITE_CODE, fingerprint

    config = territory.config
    settings = [config.config_path, config.explanatory_text]  # the config, as files
    if config.legend_path:
        settings.append(config.legend_path)
    base = hashlib.sha256()
    for part in (fingerprint(settings, code=SITE_CODE), f"fictitious={config.fictitious}",
                 f"pdf={pdf}", f"theme={theme.theme}",
                 f"release={release.key() if release is not None else None}",
                 theme.options, repr(theme.documentation), str(theme.epoch), theme.policy,
                 *(fragment.html for _, fragment in sorted(theme.fragments.items()))):  # fmt: skip
        base.update(part.encode() + b"\0")
    geometries = np.array([c.geometry for c in territory.communes], dtype=object)
    shapes = _digests(shapely.to_wkb(geometries))
    own = _digests(
        [f"{c.insee}\0{c.name}\0{c.slug}\0{c.postcodes}".encode() + shapes[i].tobytes()
         for i, c in enumerate(territory.communes)]
    )  # fmt: skip
    windows = np.array([staticmap.map_window(g)[0] for g in geometries], dtype=object)
    near = [_near(shapely.STRtree(geometries), windows, shapes)]
    for item_features in territory.features:
        item = item_features.item
        wkb = shapely.to_wkb(item_features.geometries)
        records = [
            w + json.dumps([i, public_attributes(item, a)], sort_keys=True, default=str).encode()
            for w, i, a in zip(wkb, item_features.ids, item_features.attributes, strict=True)
        ]
        near.append(_near(shapely.STRtree(item_features.geometries), windows, _digests(records)))
    digest = base.digest()
    return [
        hashlib.sha256(digest + own[i].tobytes() + b"".join(n[i] for n in near)).hexdigest()
        for i in range(len(geometries))
    ]


def _digests(records) -> np.ndarray:
    """SHA-256 of each record, as an (n, 32) array of bytes."""
    out = np.zeros((len(records), 32), dtype=np.uint8)
    for i, record in enumerate(records):
        out[i] = np.frombuffer(hashlib.sha256(record).digest(), dtype=np.uint8)
    return out


def _near(tree: shapely.STRtree, windows: np.ndarray, digests: np.ndarray) -> list[bytes]:
    """For each window, the digests of the tree's geometries meeting it, in their order."""
    window, found = tree.query(windows)
    order = np.lexsort((found, window))
    window, found = window[order], found[order]
    ends = np.searchsorted(window, np.arange(len(windows)), side="right")
    starts = np.concatenate([[0], ends[:-1]])
    return [digests[found[a:b]].tobytes() for a, b in zip(starts, ends, strict=True)]


@dataclass(frozen=True)
class Previous:
    """What the release being rebuilt left in the history, for an incremental build."""

    history: History
    files: dict[str, str]
    """The release's files and digests (its listing)."""
    communes: dict[str, Any]
    """Per INSEE code: its key, measures and changes (``CACHE_FIELD`` of the history's cache)."""
    summaries: dict[str, dict[str, Any]]


CACHE_FIELD = "communes"
"""The history's record of each commune's key, measures and changes, for the next build."""


def read_previous(history: History, release: str) -> Previous | None:
    """What an incremental build of ``release`` may reuse: its communes as the history
    recorded them (:meth:`History.save_cache`), when the release is whole there."""
    cache = history.read_cache(release)
    recorded = history.get(release)
    if (
        cache is None or CACHE_FIELD not in cache or recorded is None
        or not history.is_complete(recorded)
    ):  # fmt: skip
        return None
    summaries = history.read_json(release, "api/communes.json") or []
    return Previous(
        history, history.listing(release), cache[CACHE_FIELD],
        {summary["insee"]: summary for summary in summaries},
    )  # fmt: skip


def _reusable(
    previous: Previous, commune: Commune, key: str, release: bool
) -> CommuneOutput | None:
    """The commune's outputs as the history recorded them, when its key did not change (its
    files are then linked from the history by :func:`_link_reused`)."""
    record = previous.communes.get(commune.insee)
    if (
        not record or record.get("key") != key or commune.insee not in previous.summaries
        or any(path not in previous.files for path in commune_paths(commune, release))
    ):  # fmt: skip
        return None
    return CommuneOutput(
        commune.insee, previous.summaries[commune.insee], record["covered"],
        pages.commune_src_uri(commune), record.get("changes"),
    )  # fmt: skip


def _link_reused(
    previous: Previous, communes: list[Commune], site: Path, release: bool,
    made: CurrentAddresses | None = None,
) -> None:  # fmt: skip
    """Link the files of the communes kept as they were from the history's objects (and make
    their current addresses, with ``made``)."""
    new, folders = str(site), set()
    for commune in communes:
        paths = commune_paths(commune, release)
        for path in paths:
            target = f"{new}/{path}"
            folder = target.rpartition("/")[0]
            if folder not in folders:
                os.makedirs(folder, exist_ok=True)
                folders.add(folder)
            source = previous.history.object_file(previous.files[path])
            try:
                os.link(source, target)
            except OSError:  # another file system
                shutil.copyfile(source, target)
        if made is not None:
            made.add({path: previous.files[path] for path in paths})


def render_communes(
    territory: Territory, rendered_dir: Path, theme: ThemeSpec, pool: parallel.Pool,
    quiet: bool = True, previous: Previous | None = None, pdf: bool = False,
    release: ReleaseInfo | None = None, made: CurrentAddresses | None = None,
) -> RenderedCommunes:  # fmt: skip
    """Write every commune's page, static map, API files and short address below
    ``rendered_dir``, in chunks on ``pool``; return what the rest of the site needs.

    ``previous``: what the release being rebuilt left (:func:`read_previous`). The communes
    whose key (:func:`commune_keys`) is the one recorded there keep their files (linked, not
    made again). ``pdf``: the pages link to the PDF map sheets (made by
    :mod:`generator.sheets`). ``release``: the release being built (its sections and files).
    ``made``: the release's current addresses, made for each chunk as it comes back."""
    shared = Shared(territory.config, theme, pdf, release)
    chunker = _Chunker(territory, shared, str(rendered_dir) if pool.local else None)
    keys = commune_keys(territory, theme, pdf, release)
    record = previous
    with_release = release is not None
    outputs: dict[str, CommuneOutput] = {}
    digests: dict[str, str] = {}
    todo, reused = [], []
    for position, (commune, key) in enumerate(zip(territory.communes, keys, strict=True)):
        kept = record and _reusable(record, commune, key, with_release)
        if kept:
            outputs[commune.insee] = kept
            reused.append(commune)
            digests.update(
                (path, record.files[path]) for path in commune_paths(commune, with_release)
            )
        else:
            todo.append(position)
    positions = np.array(todo, dtype=np.int64)
    order = positions[spatial_order(chunker.commune_geometries[positions])]
    size = parallel.chunk_size(len(order), pool.workers)
    chunks = parallel.chunked(order, size)
    tasks = (chunker.chunk(positions) for positions in chunks)
    with (
        # The kept communes' files are linked in a thread while the workers render the others.
        parallel.alongside(
            _link_reused, record, reused, rendered_dir, with_release, made
        ) as linking,  # fmt: skip
        tqdm(total=len(order), unit="commune", disable=quiet, leave=False) as bar,
    ):
        for result in parallel.map_ordered(render_chunk, tasks, pool):
            if result.files is not None:
                write_files(rendered_dir, result.files)
            digests.update(result.digests)
            if made is not None:  # while the workers render the next chunks
                made.add(result.digests)
            outputs.update((output.insee, output) for output in result.communes)
            bar.update(len(result.communes))
        linking.result()
    merged = [outputs[commune.insee] for commune in territory.communes]  # INSEE order
    figures = territory_figures(
        territory.features, [output.covered for output in merged], territory.outline.area
    )
    return RenderedCommunes(
        [output.summary for output in merged],
        figures,
        dict(sorted(digests.items())),
        [output.page for output in merged],
        {
            commune.insee: {"key": key, "covered": output.covered, "changes": output.changes}
            for commune, key, output in zip(territory.communes, keys, merged, strict=True)
        },
        [output.changes for output in merged if output.changes is not None],
        len(order),
    )
