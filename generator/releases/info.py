"""The release being built, as its pages and files see it: its id and date, the releases
before it, the communes merged into the territory's, and for each commune its changes since the
previous release and the sections its page shows (version, citation, versions, changes, embed
code). Made once by :func:`start` in the driver; each chunk of communes carries the part it
needs (:meth:`ReleaseInfo.for_communes`). The files it adds are :mod:`.render`'s.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from markupsafe import Markup

from ..config import Config, build_date
from ..french import french_number, public_value
from ..kinds import measure_of_figures
from ..territory import Commune, slugify
from . import changes as diff
from .history import History, Release
from .renamed import Merger, load_mergers
from .site import cross_link
from .step import site_url

_PAGE = re.compile(r"^communes/([0-9][0-9AB][0-9]{3})-([^/]+)/index\.html$")
CHANGE_WORDS = {"added": "Ajouté", "removed": "Supprimé", "modified": "Modifié"}


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

    # The commune page ---------------------------------------------------------------------

    def commune(self, commune: Commune, found: diff.CommuneChanges | None) -> dict[str, Any]:
        """The context of the commune page's release sections (``_release.html.j2``)."""
        page = f"communes/{commune.insee}-{commune.slug}/index.html"
        path = commune.path
        title = f"{commune.name} — trame verte et bleue"
        versioned = f"versions/{self.id}/{path}"
        absolute = f"{self.site_url}{versioned}" if self.site_url else None
        versions = []
        for release in self.prior:
            slug = self.commune_pages(release.id).get(commune.insee)
            if slug:
                versions.append(
                    {"id": release.id, "date": french_iso(release.date), "current": False,
                     "href": cross_link(page, release.id, f"communes/{commune.insee}-{slug}/")}
                )  # fmt: skip
        versions.append(
            {"id": self.id, "date": french_iso(self.date), "current": True,
             "href": cross_link(page, self.id, path)}
        )  # fmt: skip
        before_merger = []
        for old, merger in sorted(self.mergers.items()):
            if merger.new != commune.insee:
                continue
            name = self.merged_names.get(old, (old, None))[0]
            for release in self.prior:
                slug = self.commune_pages(release.id).get(old)
                if slug:
                    before_merger.append(
                        {"insee": old, "name": name, "id": release.id,
                         "date": french_iso(release.date),
                         "href": cross_link(page, release.id, f"communes/{old}-{slug}/")}
                    )  # fmt: skip
        producer = self.config.producer or self.config.name
        lead = f"{producer}. « {title} ». {self.config.name}, version {self.id} du {french_iso(self.date)}. "
        jsonld = {
            "@context": "https://schema.org",
            "@type": "WebPage",
            "name": title,
            "url": absolute or versioned,
            "version": self.id,
            "dateModified": self.date,
            "inLanguage": "fr",
            "about": {"@type": "Place", "name": commune.name, "identifier": commune.insee},
            "isPartOf": {
                "@type": "Dataset",
                "name": f"Trame verte et bleue — {self.config.name}",
                "version": self.id,
                "dateModified": self.config.data_date.isoformat(),
                "creator": {"@type": "Organization", "name": producer},
                **({"license": self.config.licence} if self.config.licence else {}),
            },
        }
        embed = f"{path}integrer/"
        return {
            "release": {
                "id": self.id, "date": french_iso(self.date), "date_iso": self.date,
                "previous": self.previous.id if self.previous else None,
                "previous_date": french_iso(self.previous.date) if self.previous else None,
            },
            "citation": {
                "title": title, "producer": producer, "url": absolute or versioned,
                "href": absolute or cross_link(page, self.id, path), "absolute": bool(absolute),
                "lead": lead, "text": lead + (absolute or versioned),
            },
            "jsonld": Markup(script_json(jsonld)),
            "versions": versions,
            "before_merger": before_merger,
            "changes": self._changes_view(found),
            "embed": {
                "path": embed, "versioned_path": f"versions/{self.id}/{embed}",
                "site_url": self.site_url or "",
                "title": f"Trame verte et bleue à {commune.name}",
            },
        }  # fmt: skip

    def _changes_view(self, found: diff.CommuneChanges | None) -> dict[str, Any] | None:
        if found is None or found.previous is None:
            return None
        rows = []
        for element in found.elements:
            item = self.config.item(element.item) if _has_item(self.config, element.item) else None
            labels = item.fields if item else {}
            if element.change == "modified":
                parts = [
                    f"{labels.get(name, name)} : {_value(element.before, name)} → "
                    f"{_value(element.after, name)}"
                    for name in element.fields
                ]
                if element.moved_m is not None:
                    parts.append(f"tracé déplacé de {french_number(element.moved_m)} m au plus")
                details = " ; ".join(parts)
            else:
                attributes = element.after if element.change == "added" else element.before
                details = " ; ".join(
                    f"{labels.get(name, name)} : {public_value(value)}"
                    for name, value in (attributes or {}).items()
                    if value not in (None, "") and (not item or name != item.id_field)
                )
            rows.append(
                {"change": element.change, "word": CHANGE_WORDS[element.change],
                 "label": element.label, "id": element.id, "details": details}
            )  # fmt: skip
        figures = [
            {
                "label": f["label"],
                "before": figure_text(f["before"]),
                "after": figure_text(f["after"]),
            }
            for f in found.figures
            if f["before"] != f["after"]
        ]
        counts = found.counts()
        return {
            "rows": rows, "figures": figures, "counts": counts,
            "summary": counts_sentence(counts),
            "merged_from": [
                {"insee": old, "name": self.merged_names.get(old, (old, None))[0]}
                for old in found.merged_from
            ],
            "geojson": f"api/changes/{found.insee}.geojson",
            "tolerance": french_number(diff.TOLERANCE_M, 0),
        }  # fmt: skip


def _has_item(config: Config, item_id: str) -> bool:
    return any(item.id == item_id for item in config.legend)


def _value(attributes: dict[str, Any] | None, name: str) -> str:
    value = (attributes or {}).get(name)
    return "(vide)" if value in (None, "") else public_value(value)


def counts_sentence(counts: dict[str, int]) -> str:
    words = {"added": ("ajout", "ajouts"), "removed": ("suppression", "suppressions"),
             "modified": ("modification", "modifications")}  # fmt: skip
    parts = [f"{n} {words[kind][n > 1]}" for kind, n in counts.items() if n]
    return ", ".join(parts) if parts else "aucun changement"


def figure_text(figures: dict[str, Any] | None) -> str:
    """An item's figures in French: ``12,3 ha (4,5 %), 3 éléments``; ``—`` when absent."""
    if figures is None:
        return "—"
    count = figures.get("count", 0)
    parts = [f"{count} élément{'s' if count > 1 else ''}"]
    measure = measure_of_figures(figures)
    if measure.field:
        value = f"{french_number(figures.get(measure.field) or 0, measure.shown)} {measure.unit}"
        if measure.share:
            value += f" ({french_number(figures.get('share_pct') or 0)} %)"
        parts.insert(0, value)
    return ", ".join(parts)


def script_json(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``<``, ``>`` or ``&`` left as such."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


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
