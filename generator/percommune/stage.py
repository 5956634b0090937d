"""The per-commune stage: every commune's outputs, in chunks on the build's pool (kept ones
linked from the history), merged in INSEE order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from .. import parallel
from ..figures import ItemFigures, territory_figures
from ..files import write_files
from ..releases.info import ReleaseInfo
from ..releases.site import CurrentAddresses
from ..territory import Territory
from ..theme import ThemeSpec
from .chunks import Chunker, Shared, spatial_order
from .render import CommuneOutput, commune_paths, render_chunk
from .reuse import Previous, commune_keys, link_reused, reusable


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
    carried: dict[str, str]
    """The kept communes' files left where the site has them (``carry``): path -> SHA-256."""


def render_communes(
    territory: Territory, rendered_dir: Path, theme: ThemeSpec, pool: parallel.Pool,
    quiet: bool = True, previous: Previous | None = None, pdf: bool = False,
    release: ReleaseInfo | None = None, made: CurrentAddresses | None = None,
    carry: bool = False,
) -> RenderedCommunes:  # fmt: skip
    """Write every commune's page, static map, API files and short address below
    ``rendered_dir``, in chunks on ``pool``; return what the rest of the site needs.

    ``previous``: what the release being rebuilt left (:func:`read_previous`). The communes
    whose key (:func:`commune_keys`) is the one recorded there keep their files (linked, not
    made again). ``pdf``: the pages link to the PDF map sheets (made by
    :mod:`generator.sheets`). ``release``: the release being built (its sections and files).
    ``made``: the release's current addresses, made for each chunk as it comes back.
    ``carry``: the site is updated in place (:mod:`generator.releases.inplace`) and already has
    the kept communes' files: they are neither linked nor given current addresses."""
    shared = Shared(territory.config, theme, pdf, release)
    chunker = Chunker(territory, shared, str(rendered_dir) if pool.local else None)
    keys = commune_keys(territory, theme, pdf, release)
    with_release = release is not None
    outputs: dict[str, CommuneOutput] = {}
    digests: dict[str, str] = {}
    todo, reused, carried = [], [], {}
    for position, (commune, key) in enumerate(zip(territory.communes, keys, strict=True)):
        kept = previous and reusable(previous, commune, key, with_release)
        if kept:
            outputs[commune.insee] = kept
            files = {path: previous.files[path] for path in commune_paths(commune, with_release)}
            if carry:
                carried.update(files)
            else:
                reused.append(commune)
                digests.update(files)
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
            link_reused, previous, reused, rendered_dir, with_release, made
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
        dict(sorted(carried.items())),
    )
