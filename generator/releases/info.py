"""The release being built, as its pages and files see it: its id and date, the releases
before it (and their commune pages), the communes merged into the territory's, and each
commune's changes since the previous release (:meth:`ReleaseInfo.changes_for`). Made once by
:func:`start` in the driver; each chunk of communes carries the part it needs
(:meth:`ReleaseInfo.for_communes`). A commune page's release sections (version, citation,
versions, changes, embed code) are :mod:`.sections`'; the files the release adds are
:mod:`.render`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ..config import Config, build_date
from ..territory import Commune, slugify
from . import changes as diff
from .history import History, Release
from .renamed import Merger, load_mergers
from .step import site_url

_PAGE = re.compile(r"^communes/([0-9][0-9AB][0-9]{3})-([^/]+)/index\.html$")


def french_iso(date: str) -> str:
    return dt.date.fromisoformat(date).strftime("%d/%m/%Y")


@dataclass
class ReleaseInfo:
    """The release being built, what came before it, and what changed."""

    config: Config
    id: str
    date: str
    history: History
    prior: list[Release]
    mergers: dict[str, Merger] = field(default_factory=dict)
    """Old INSEE -> merger, for the communes merged into one of this release's communes."""
    merged_names: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    """Old INSEE -> (name, slug) when known."""
    _pages: dict[str, dict[str, str]] = field(default_factory=dict)
    assets: str = "assets"
    """Where the site's static files are (``assets/<hash>``, :func:`generator.assets.write_assets`):
    the embed pages, outside the theme, link to them."""
    records: list[dict[str, Any]] = field(default_factory=list)
    """Each commune's changes in short (:meth:`CommuneChanges.record`), in INSEE order: set by the
    build once every commune is rendered, for the whole territory's files."""

    @property
    def site_url(self) -> str | None:
        return site_url(self.config)

    @property
    def previous(self) -> Release | None:
        return self.prior[-1] if self.prior else None

    def commune_pages(self, release: str) -> dict[str, str]:
        """INSEE -> slug of every commune page of an earlier release."""
        if release not in self._pages:
            pages = {}
            for name in self.history.listing(release):
                match = _PAGE.match(name)
                if match:
                    pages[match[1]] = match[2]
            self._pages[release] = pages
        return self._pages[release]

    def for_communes(self, insees: Iterable[str]) -> ReleaseInfo:
        """This release as a task about these communes needs it: the earlier releases' pages of
        these communes and of the merged ones only (a national release's page lists, whole,
        would be ~2 MB per release in every chunk sent to a worker)."""
        wanted = set(insees) | set(self.mergers)
        pages = {
            release: {insee: slug for insee, slug in found.items() if insee in wanted}
            for release, found in self._pages.items()
        }
        return replace(self, _pages=pages)

    def summary(self) -> dict[str, Any] | None:
        return diff.summary_of(self.records)

    def changes_for(
        self, detail: dict[str, Any], geojson: Callable[[], dict[str, Any]]
    ) -> diff.CommuneChanges:
        """A commune of this release (its API data, and a function giving its GeoJSON, only
        read when there is a previous release) against the previous release (read from the
        history: on a cluster, workers must see the history's folder)."""
        labels = {item.id: item.label for item in self.config.legend}
        insee = detail["insee"]
        previous = self.previous
        if previous is None:
            return diff.first_release(detail, self.id, labels)
        predecessors = [insee, *sorted(o for o, m in self.mergers.items() if m.new == insee)]
        return diff.compare_commune(
            self.history, previous.id, (detail, geojson()), predecessors, self.id, labels
        )

    def key(self) -> str:
        """What the release sections of a commune's files depend on, besides the commune itself
        and its previous release's files (named by the prior listings): part of each commune's
        key (:func:`generator.percommune.reuse.commune_keys`)."""
        return json.dumps(
            [self.id, self.date, self.site_url, [[r.id, r.date, r.listing] for r in self.prior],
             sorted([o, m.new, *self.merged_names[o]] for o, m in self.mergers.items())],
            default=str,
        )  # fmt: skip

    def theme(self) -> dict[str, Any]:
        """For the theme's templates (MkDocs ``extra.trame``)."""
        return {
            "version": self.id,
            "version_date": french_iso(self.date),
            "site_url": self.site_url,
        }


# Preparing: changes and mergers -----------------------------------------------------------


def start(
    config: Config, release_id: str, history: History, communes: list[Commune]
) -> ReleaseInfo:
    """The release about to be built: what came before it and the communes merged into one of
    ``communes``. Each commune's changes are computed with its other files
    (:meth:`ReleaseInfo.changes_for`)."""
    prior = history.before(release_id)
    info = ReleaseInfo(config, release_id, build_date(config).date().isoformat(), history, prior)
    current = {commune.insee for commune in communes}
    for old, merger in load_mergers(config).items():
        if merger.new in current and old not in current:
            info.mergers[old] = merger
    for old, merger in info.mergers.items():
        info.merged_names[old] = _old_name(info, merger)
    for release in prior:  # read once here, not by every task
        info.commune_pages(release.id)
    return info


def _old_name(info: ReleaseInfo, merger: Merger) -> tuple[str, str | None]:
    """The old commune's name and slug: from the config, else from the last release that had it."""
    for release in reversed(info.prior):
        slug = info.commune_pages(release.id).get(merger.old)
        if slug:
            detail = info.history.read_json(release.id, f"api/communes/{merger.old}.json") or {}
            return merger.name or detail.get("nom") or merger.old, slug
    if merger.name:
        return merger.name, slugify(merger.name)
    return merger.old, None


def merger_date(info: ReleaseInfo, merger: Merger) -> str | None:
    """The merger's date: from the config, else the first release without the old commune."""
    if merger.date:
        return merger.date
    seen = False
    for release in info.prior:
        present = merger.old in info.commune_pages(release.id)
        if seen and not present:
            return release.date
        seen = seen or present
    return info.date if seen else None
