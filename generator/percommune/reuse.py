"""What an incremental build keeps: each commune's key (everything its outputs read), the
history's record of the release being rebuilt, and the kept communes' files linked from it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely

from .. import memo, pages, staticmap
from ..features import public_attributes
from ..files import sha256_rows
from ..releases.history import History
from ..releases.info import ReleaseInfo
from ..releases.site import CurrentAddresses, link_listing
from ..territory import Commune, Territory
from ..theme import ThemeSpec
from .render import CommuneOutput, commune_paths


def commune_keys(
    territory: Territory, theme: ThemeSpec, pdf: bool = False, release: ReleaseInfo | None = None
) -> list[str]:
    """A key per commune (INSEE order) of everything its outputs read: the code, the config,
    the theme, the release (its id, date and the releases before it), the commune itself, and
    the geometries of its neighbours and the features (with their public fields) that meet its
    map's window. Equal keys, equal outputs: an incremental build reuses the files of the
    communes whose key did not change."""
    from ..cache import SITE_CODE, fingerprint

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
    shapes = memo.digests(geometries)
    own = sha256_rows(
        [f"{c.insee}\0{c.name}\0{c.slug}\0{c.postcodes}".encode() + shapes[i].tobytes()
         for i, c in enumerate(territory.communes)]
    )  # fmt: skip
    # A warm process keeps the windows and what meets them, by the geometries' digests: a moved
    # feature looks again at its own legend item only.
    communes = memo.key(shapes)
    windows = memo.value(
        "map windows", lambda: communes,
        lambda: np.array([staticmap.map_window(g)[0] for g in geometries], dtype=object),
    )  # fmt: skip
    near = [memo.value("near communes", lambda: communes,
                       lambda: _near(shapely.STRtree(geometries), windows, shapes))]  # fmt: skip
    for item_features in territory.features:
        item = item_features.item
        features = memo.digests(item_features.geometries)
        records = sha256_rows([
            w.tobytes() + _record(i, public_attributes(item, a))
            for w, i, a in zip(features, item_features.ids, item_features.attributes, strict=True)
        ])  # fmt: skip
        near.append(memo.value(
            "near features", lambda records=records: memo.key(communes, records),
            lambda g=item_features.geometries, r=records: _near(shapely.STRtree(g), windows, r),
        ))  # fmt: skip
    digest = base.digest()
    return [
        hashlib.sha256(digest + own[i].tobytes() + b"".join(n[i] for n in near)).hexdigest()
        for i in range(len(geometries))
    ]


def _record(identifier: Any, attributes: dict[str, Any]) -> bytes:
    """A feature's public attributes, as bytes for its communes' keys: orjson's JSON (2,400
    features of four fields: 0.7 ms instead of 15.7 ms with ``json.dumps``, at every build),
    or the standard library's for what orjson refuses (an integer over 64 bits)."""
    try:
        return orjson.dumps([identifier, attributes], default=str, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return json.dumps([identifier, attributes], sort_keys=True, default=str).encode()


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


def reusable(previous: Previous, commune: Commune, key: str, release: bool) -> CommuneOutput | None:
    """The commune's outputs as the history recorded them, when its key did not change (its
    files are then linked from the history by :func:`link_reused`)."""
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


def link_reused(
    previous: Previous | None, communes: list[Commune], site: Path, release: bool,
    made: CurrentAddresses | None = None,
) -> None:  # fmt: skip
    """Link the files of the communes kept as they were from the history's objects (and make
    their current addresses, with ``made``)."""
    if not communes:
        return
    listing = {
        path: previous.files[path] for commune in communes
        for path in commune_paths(commune, release)
    }  # fmt: skip
    link_listing(previous.history, listing, site)
    if made is not None:
        made.add(listing)
