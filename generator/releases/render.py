"""What a release adds to the site: the version on every page, and on each commune page the
citation (with JSON-LD), the list of its versions, what changed since the previous release (also
as ``api/changes/``), the code to embed its map; the embed pages (``integrer/``), the pages of
communes merged into others, the versions page and ``api/versions.json``.

Every one of these files belongs to the release and never changes once published: what a newer
release brings is found by a small script (``assets/trame/versions.mjs``) reading the current
``api/versions.json``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ..figures import CommuneView
from ..files import json_bytes, write_json
from ..french import french_number
from ..pages import _front_matter, _legend_rows, communes_legend, environment, sentence
from ..style import secure_page
from ..territory import Commune
from . import changes as diff
from .info import ReleaseInfo, french_iso, merger_date
from .sections import changes_view, counts_sentence, script_json
from .site import cross_link

# Writing the release's own files ----------------------------------------------------------


@functools.cache
def _environment() -> Environment:
    """One template environment per process for the per-commune files (compiling the
    templates for each commune would cost more than rendering them)."""
    return environment()


def commune_files(
    info: ReleaseInfo, view: CommuneView, found: diff.CommuneChanges
) -> dict[str, bytes]:
    """What the release adds for one commune: ``api/changes/<insee>.json`` and ``.geojson``, and
    its embed page (``integrer/``, without its Content-Security-Policy)."""
    config, commune = info.config, view.commune
    html = _environment().get_template("integrer.html.j2").render(
        config=config, fictitious=config.fictitious, release=info.theme(),
        commune=commune, assets=info.assets,
        root="../../../",
        insee=commune.insee,
        bbox=view.bbox,
        legend_id=commune.insee,
        **communes_legend(config),
        legend=_legend_rows(config, view.figures),
        sentences=[sentence(f) for f in view.figures],
        changes=changes_view(info, found),
        previous=info.previous,
        data_date=config.data_date.strftime("%d/%m/%Y"),
        site_data=Markup(
            script_json(
                {"territoire": config.name, "sources": list(config.sources),
                 "producteur": config.producer}
            )
        ),
    )  # fmt: skip
    return {
        f"api/changes/{commune.insee}.json": json_bytes(found.as_json()),
        f"api/changes/{commune.insee}.geojson": json_bytes(found.geojson()),
        f"{commune.path}integrer/index.html": html.encode("utf-8"),
    }


def commune_paths(commune: Commune) -> list[str]:
    """The files :func:`commune_files` names."""
    return [f"api/changes/{commune.insee}.json", f"api/changes/{commune.insee}.geojson",
            f"{commune.path}integrer/index.html"]  # fmt: skip


def write_release_files(
    docs: Path, rendered: Path, info: ReleaseInfo, communes: list[Commune], policy: str
) -> None:
    """Everything else the release adds (the per-commune files are :func:`commune_files`):
    ``api/changes.json`` and ``api/versions.json``, the pages of merged communes, the versions
    and changes pages (Markdown, for MkDocs). ``policy``: the pages' Content-Security-Policy."""
    env = environment()
    config = info.config
    by_insee = {commune.insee: commune for commune in communes}
    api = rendered / "api"
    summary = info.summary()
    changed = [c for c in info.records if c["elements"]]
    write_json(
        api / "changes.json",
        {
            "release": info.id,
            "previous_release": info.previous.id if info.previous else None,
            "tolerance_m": diff.TOLERANCE_M,
            "summary": summary,
            "communes": [
                {"insee": c["insee"], "nom": c["nom"], "url": c["url"], **c["counts"]}
                for c in changed
            ],
        },
    )
    mergers = _merger_entries(info, by_insee)
    write_json(api / "versions.json", versions_json(info, summary, mergers))

    common = {"config": config, "fictitious": config.fictitious, "release": info.theme()}
    for entry in mergers.values():
        new = by_insee[entry["into"]]
        folders = [entry["insee"]] + (
            [f"{entry['insee']}-{entry['slug']}"] if entry["slug"] else []
        )
        for folder in folders:
            name = f"communes/{folder}/index.html"
            html = env.get_template("fusion.html.j2").render(
                **common, merger=entry, new=new,
                target=f"../{new.insee}-{new.slug}/?depuis={entry['insee']}",
                pages=[
                    {**p, "href": cross_link(name, p["id"], p["path"])} for p in entry["pages"]
                ],
            )  # fmt: skip
            target = rendered / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(secure_page(html, policy), encoding="utf-8")

    releases = versions_json(info, summary, mergers)["releases"]
    for release in releases:
        release["href"] = cross_link("versions/index.html", release["id"], "")
        release["changes_href"] = cross_link("versions/index.html", release["id"], "changements/")
        release["date_fr"] = french_iso(release["date"])
        release["data_date_fr"] = french_iso(release["data_date"])
        release["summary_text"] = (
            counts_sentence({k: release["summary"][k] for k in diff.KINDS})
            + f" dans {release['summary']['communes']} commune"
            + ("s" if release["summary"]["communes"] > 1 else "")
            if release["summary"]
            else "première version"
        )
    title = "Versions du site"
    (docs / "versions.md").write_text(
        env.get_template("versions.md.j2").render(
            front_matter=_front_matter(title=title, description=f"{title} — {config.name}"),
            title=title, releases=list(reversed(releases)), current=info.id, config=config,
        ),
        encoding="utf-8",
    )  # fmt: skip
    title = "Ce qui a changé"
    rows = sorted(changed, key=lambda c: (c["nom"], c["insee"]))
    (docs / "changements.md").write_text(
        env.get_template("changements.md.j2").render(
            front_matter=_front_matter(title=title, description=f"{title} — {config.name}"),
            title=title, release=info.theme(), previous=info.previous,
            previous_date=french_iso(info.previous.date) if info.previous else None,
            summary=summary, communes=[{**c["counts"], "name": c["nom"], "insee": c["insee"],
                                        "url": c["url"]} for c in rows],
            mergers=list(mergers.values()), tolerance=french_number(diff.TOLERANCE_M, 0),
        ),
        encoding="utf-8",
    )  # fmt: skip


def _merger_entries(info: ReleaseInfo, by_insee: dict[str, Commune]) -> dict[str, dict[str, Any]]:
    entries = {}
    for old, merger in sorted(info.mergers.items()):
        name, slug = info.merged_names[old]
        new = by_insee[merger.new]
        pages = []
        for release in info.prior:
            old_slug = info.commune_pages(release.id).get(old)
            if old_slug:
                path = f"communes/{old}-{old_slug}/"
                pages.append(
                    {"id": release.id, "date": french_iso(release.date), "path": path,
                     "url": f"versions/{release.id}/{path}"}
                )  # fmt: skip
        date = merger_date(info, merger)
        entries[old] = {
            "insee": old, "name": name, "slug": slug, "into": new.insee, "into_name": new.name,
            "into_url": new.path, "date": date, "date_fr": french_iso(date) if date else None,
            "pages": pages,
        }  # fmt: skip
    return entries


def versions_json(
    info: ReleaseInfo, summary: dict[str, Any] | None, mergers: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """``api/versions.json``: every release up to this one, and the merged communes."""
    entries = [
        {"id": r.id, "date": r.date, "data_date": r.data_date, "summary": r.summary}
        for r in info.prior
    ]
    entries.append(
        {"id": info.id, "date": info.date, "data_date": info.config.data_date.isoformat(),
         "summary": summary}
    )  # fmt: skip
    for entry in entries:
        entry["url"] = f"versions/{entry['id']}/"
        entry["changes_url"] = f"versions/{entry['id']}/changements/"
    return {
        "latest": info.id,
        "releases": entries,
        "merged_communes": {
            old: {
                "name": e["name"], "into": e["into"], "into_name": e["into_name"],
                "into_url": e["into_url"], "date": e["date"],
                "pages": [{"release": p["id"], "url": p["url"]} for p in e["pages"]],
            }
            for old, e in mergers.items()
        },
    }  # fmt: skip
