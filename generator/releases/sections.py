"""The commune page's release sections (``_release.html.j2``): its version, how to cite it,
its earlier versions (and those of the communes merged into it), its changes since the previous
release and the code to embed its map. Made in the worker that renders the commune, from the
release it carries (:class:`.info.ReleaseInfo`).
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from ..french import french_number, public_value
from ..kinds import measure_of_figures
from ..territory import Commune
from . import changes as diff
from .info import ReleaseInfo, french_iso
from .site import cross_link

CHANGE_WORDS = {"added": "Ajouté", "removed": "Supprimé", "modified": "Modifié"}


def commune_sections(
    info: ReleaseInfo, commune: Commune, found: diff.CommuneChanges | None
) -> dict[str, Any]:
    """The context of the commune page's release sections (``_release.html.j2``)."""
    page = f"communes/{commune.insee}-{commune.slug}/index.html"
    path = commune.path
    title = f"{commune.name} — trame verte et bleue"
    versioned = f"versions/{info.id}/{path}"
    absolute = f"{info.site_url}{versioned}" if info.site_url else None
    versions = [
        {**earlier, "current": False} for earlier in _earlier_pages(info, page, commune.insee)
    ]
    versions.append(
        {"id": info.id, "date": french_iso(info.date), "current": True,
         "href": cross_link(page, info.id, path)}
    )  # fmt: skip
    before_merger = [
        {"insee": old, "name": info.merged_names.get(old, (old, None))[0], **earlier}
        for old, merger in sorted(info.mergers.items())
        if merger.new == commune.insee
        for earlier in _earlier_pages(info, page, old)
    ]
    producer = info.config.producer or info.config.name
    lead = f"{producer}. « {title} ». {info.config.name}, version {info.id} du {french_iso(info.date)}. "
    jsonld = {
        "@context": "https://schema.org",
        "@type": "WebPage",
        "name": title,
        "url": absolute or versioned,
        "version": info.id,
        "dateModified": info.date,
        "inLanguage": "fr",
        "about": {"@type": "Place", "name": commune.name, "identifier": commune.insee},
        "isPartOf": {
            "@type": "Dataset",
            "name": f"Trame verte et bleue — {info.config.name}",
            "version": info.id,
            "dateModified": info.config.data_date.isoformat(),
            "creator": {"@type": "Organization", "name": producer},
            **({"license": info.config.licence} if info.config.licence else {}),
        },
    }
    embed = f"{path}integrer/"
    return {
        "release": {
            "id": info.id, "date": french_iso(info.date), "date_iso": info.date,
            "previous": info.previous.id if info.previous else None,
            "previous_date": french_iso(info.previous.date) if info.previous else None,
        },
        "citation": {
            "title": title, "producer": producer, "url": absolute or versioned,
            "href": absolute or cross_link(page, info.id, path), "absolute": bool(absolute),
            "lead": lead, "text": lead + (absolute or versioned),
        },
        "jsonld": Markup(script_json(jsonld)),
        "versions": versions,
        "before_merger": before_merger,
        "changes": changes_view(info, found),
        "embed": {
            "path": embed, "versioned_path": f"versions/{info.id}/{embed}",
            "site_url": info.site_url or "",
            "title": f"Trame verte et bleue à {commune.name}",
        },
    }  # fmt: skip


def _earlier_pages(info: ReleaseInfo, page: str, insee: str) -> list[dict[str, str]]:
    """The pages of commune ``insee`` in the releases before this one (id, date, link from
    ``page``): the commune's own earlier versions, or those of a commune merged into it."""
    pages = []
    for release in info.prior:
        slug = info.commune_pages(release.id).get(insee)
        if slug:
            pages.append(
                {"id": release.id, "date": french_iso(release.date),
                 "href": cross_link(page, release.id, f"communes/{insee}-{slug}/")}
            )  # fmt: skip
    return pages


def changes_view(info: ReleaseInfo, found: diff.CommuneChanges | None) -> dict[str, Any] | None:
    """The changes since the previous release, as the page's table shows them (``None`` for a
    first release)."""
    if found is None or found.previous is None:
        return None
    legend = {item.id: item for item in info.config.legend}
    rows = []
    for element in found.elements:
        item = legend.get(element.item)  # None: an item no longer in the legend
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
            {"insee": old, "name": info.merged_names.get(old, (old, None))[0]}
            for old in found.merged_from
        ],
        "geojson": f"api/changes/{found.insee}.geojson",
        "tolerance": french_number(diff.TOLERANCE_M, 0),
    }  # fmt: skip


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
