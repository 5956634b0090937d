"""Render the generated Markdown pages (home, commune list, one page per commune) for MkDocs.

Data-derived text only ever reaches the pages through Jinja2 with autoescaping, inside raw HTML
blocks that Markdown leaves alone, so a name like ``*Saint_Amand*`` or ``<script>`` shows as is.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .config import Config, LegendItem, build_date
from .figures import CommuneView, ItemFigures
from .french import french_date, french_number, public_value
from .kinds import LINE, kind
from .paths import PAGES_DIR
from .staticmap import LEGEND_WIDTH, MAP_HEIGHT, MAP_WIDTH
from .style import COMMUNES_LABEL, legend_symbol
from .territory import Commune
from .validate import ValidationReport

STATIC_MAP_SIZE = (MAP_WIDTH + LEGEND_WIDTH, MAP_HEIGHT)


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("trame", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def measure(figures: ItemFigures) -> str:
    """The item's headline figure in French: an area, a length or nothing (points)."""
    measure = kind(figures.kind).measure
    if measure.field is None:
        return ""
    return f"{french_number(measure.value(figures) or 0, measure.shown)} {measure.unit}"


def sentence(figures: ItemFigures) -> str:
    """One plain French sentence per legend item, the text alternative of the map."""
    if figures.count == 0:
        return f"{figures.label} : aucun élément sur la commune."
    count = f"{figures.count} élément{'s' if figures.count > 1 else ''}"
    kind_measure = kind(figures.kind).measure
    if kind_measure.share:
        share = french_number(figures.share_pct or 0)
        return f"{figures.label} : {count}, {measure(figures)}, soit {share} % de la commune."
    if kind_measure.field:
        return f"{figures.label} : {count}, {measure(figures)} dans la commune."
    return f"{figures.label} : {count}."


def _legend_rows(config: Config, figures: list[ItemFigures] | None) -> list[dict[str, Any]]:
    by_id = {f.item_id: f for f in figures or []}
    rows = []
    for item in config.legend:
        item_figures = by_id.get(item.id)
        figure = ""
        if item_figures is not None:
            # Points are counted; areas and lengths say more than a count of polygons or lines.
            figure = measure(item_figures) or str(item_figures.count)
        rows.append(
            {"item": item, "symbol": legend_symbol(item.style, item.geometry), "figure": figure}
        )
    return rows


def _element_rows(config: Config, figures: list[ItemFigures]) -> list[dict[str, str]]:
    rows = []
    for item_figures in figures:
        item: LegendItem = config.item(item_figures.item_id)
        for element in item_figures.elements:
            details = " ; ".join(
                f"{label} : {public_value(element.attributes[field])}"
                for field, label in item.fields.items()
                if field != item.id_field and element.attributes.get(field) not in (None, "")
            )
            measure = kind(item.geometry).measure
            value = "1 point"
            if measure.field:
                value = f"{french_number(measure.value(element) or 0, 2)} {measure.unit}"
            rows.append(
                {"id": element.id, "label": item.label, "details": details, "measure": value}
            )
    return rows


def _front_matter(**values: Any) -> Markup:
    return Markup(yaml.safe_dump(values, allow_unicode=True, sort_keys=True))


def _explanatory_text(config: Config) -> Markup:
    # The operator's own Markdown (trusted, like the theme): MkDocs renders it.
    return Markup(config.explanatory_text.read_text(encoding="utf-8").strip())


def communes_legend(config: Config) -> dict[str, Any]:
    """The communes' entry of the legend (_legend.html.j2): its symbol and its label."""
    return {
        "commune_symbol": legend_symbol(config.communes.style, LINE),
        "communes_label": COMMUNES_LABEL,
    }


def _common(config: Config) -> dict[str, Any]:
    return {
        "config": config,
        "data_date": french_date(config),
        **communes_legend(config),
        "explanatory_text": _explanatory_text(config),
    }


def render_commune(env: Environment, config: Config, view: CommuneView, release: Any = None) -> str:
    """``release`` (generator.releases.render.ReleaseInfo) adds the version, citation, changes."""
    commune = view.commune
    title = f"{commune.name} — trame verte et bleue"
    return env.get_template("commune.md.j2").render(
        **_common(config),
        **(release.commune(commune) if release is not None else {}),
        front_matter=_front_matter(
            title=title,
            description=f"Trame verte et bleue sur la commune de {commune.name} ({commune.insee}).",
        ),
        title=title,
        commune=commune,
        area=french_number(commune.area_ha),
        root="../../",
        insee=commune.insee,
        bbox=view.bbox,
        legend_id=commune.insee,
        map_label=f"Carte interactive de la trame verte et bleue à {commune.name}",
        static_map_size=STATIC_MAP_SIZE,
        static_map_place=f"à {commune.name}",
        legend=_legend_rows(config, view.figures),
        sentences=[sentence(f) for f in view.figures],
        elements=_element_rows(config, view.figures),
    )


def render_index(
    env: Environment,
    config: Config,
    communes: list[Commune],
    bbox: tuple[float, float, float, float],
    figures: list[ItemFigures],
) -> str:
    title = f"La trame verte et bleue — {config.name}"
    return env.get_template("index.md.j2").render(
        **_common(config),
        front_matter=_front_matter(title=title, description=title),
        title=title,
        communes=sorted(communes, key=lambda c: (c.slug, c.insee)),
        root="./",
        insee="",
        bbox=bbox,
        legend_id="territoire",
        map_label=f"Carte interactive de la trame verte et bleue du territoire {config.name}",
        static_map_size=STATIC_MAP_SIZE,
        static_map_place=f"du territoire {config.name}",
        legend=_legend_rows(config, figures),
    )


def render_commune_list(env: Environment, config: Config, communes: list[Commune]) -> str:
    title = "Les communes"
    return env.get_template("communes.md.j2").render(
        config=config,
        front_matter=_front_matter(
            title=title, description=f"Communes du territoire {config.name}"
        ),
        title=title,
        communes=sorted(communes, key=lambda c: (c.slug, c.insee)),
        root="../",
    )


def render_processing_report(
    env: Environment, config: Config, report: ValidationReport, tiles: dict[str, Any]
) -> str:
    """The public page saying what the build did to the data (read, repaired, clipped…)."""
    title = "Traitement des données"
    labels = {item.id: item.label for item in config.legend} | {"communes": "Communes"}
    return env.get_template("traitement.md.j2").render(
        front_matter=_front_matter(title=title, description=f"{title} — {config.name}"),
        title=title,
        layers=[{"label": labels.get(r.name, r.name), "report": r} for r in report.layers],
        warnings=[f"{labels.get(r.name, r.name)} : {w}" for r in report.layers for w in r.warnings],
        sources=[
            {"source": s, "labels": [labels.get(i, i) for i in s.items]} for s in report.sources
        ],
        tile_notes=tiles.get("notes", []),
        thinned=sum(entry["features"] for entry in tiles.get("thinned", [])),
        maxzoom=config.tiles.maxzoom,
    )


def render_redirect(env: Environment, config: Config, commune: Commune) -> str:
    return env.get_template("redirect.html.j2").render(
        commune=commune, fictitious=config.fictitious
    )


def theme_context(config: Config) -> dict[str, Any]:
    """What the theme's templates read from MkDocs' ``extra``: the territory's words."""
    return {
        "trame": {
            "territory": config.name,
            "fictitious": config.fictitious,
            "data_date": french_date(config),
            "build_date": build_date(config).strftime("%d/%m/%Y"),
            "sources": list(config.sources),
            "licence": config.licence,
            "producer": config.producer,
            "theme": config.theme,
            "marianne": list(config.dsfr.marianne),
            "service": config.dsfr.service or config.name,
            "tagline": config.dsfr.tagline,
        }
    }


def write_redirects(site_dir: Path, config: Config, communes: list[Commune]) -> None:
    """``communes/<insee>/``: the short address of each commune page."""
    env = environment()
    for commune in communes:
        redirect = site_dir / "communes" / commune.insee / "index.html"
        redirect.parent.mkdir(parents=True, exist_ok=True)
        redirect.write_text(render_redirect(env, config, commune), encoding="utf-8")


def write_pages(
    docs_dir: Path,
    config: Config,
    views: list[CommuneView],
    whole: CommuneView,
    report: ValidationReport,
    tiles_report: dict[str, Any],
    release: Any = None,
    pdf: bool = False,
) -> None:
    """The narrative pages, then index.md, traitement.md, communes/index.md and
    communes/<insee>-<slug>.md, for MkDocs. ``pdf``: the PDF map sheets are built too, so the
    pages link to them."""
    shutil.copytree(PAGES_DIR, docs_dir, dirs_exist_ok=True)
    env = environment()
    env.globals["pdf_sheets"] = pdf
    (docs_dir / "traitement.md").write_text(
        render_processing_report(env, config, report, tiles_report), encoding="utf-8"
    )
    communes = [view.commune for view in views]
    (docs_dir / "communes").mkdir(parents=True, exist_ok=True)
    (docs_dir / "index.md").write_text(
        render_index(env, config, communes, whole.bbox, whole.figures), encoding="utf-8"
    )
    (docs_dir / "communes" / "index.md").write_text(
        render_commune_list(env, config, communes), encoding="utf-8"
    )
    for view in views:
        page = docs_dir / "communes" / f"{view.commune.insee}-{view.commune.slug}.md"
        page.write_text(render_commune(env, config, view, release), encoding="utf-8")
