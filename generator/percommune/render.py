"""One commune's outputs (figures, page, static map, API files, short address, and the
release's own files), and the task that makes a chunk's on a worker.

Workers on this machine write their files into the staging folder themselves and send back only
the files' digests (for the manifest) and each commune's summary (for ``communes.json``) and
measures (for the whole territory's figures). Workers elsewhere (a Dask cluster) send the files
back for the driver to write.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment

from .. import api, pages, staticmap
from ..crs import wgs84_bounds
from ..figures import CommuneView, FeaturesIndex
from ..files import write_files
from ..releases import render as release_render
from ..releases.sections import commune_sections
from ..style import secure_page
from ..territory import Commune
from ..theme import renderer
from .chunks import Chunk, Shared


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
        sections = commune_sections(release, commune, found)
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


def commune_paths(commune: Commune, release: bool) -> list[str]:
    """Every file published for ``commune`` (below the site root), as :func:`commune_files`
    names them (``release``: with the release's own)."""
    base = f"api/communes/{commune.insee}"
    return [
        f"{commune.path}index.html", staticmap.commune_map_path(commune),
        pages.redirect_path(commune), f"{base}.json", f"{base}.geojson", f"{base}.csv",
        *(release_render.commune_paths(commune) if release else []),
    ]  # fmt: skip
