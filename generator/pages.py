"""Render the generated pages: the home page, the commune list and the processing report in
Markdown for MkDocs, and each commune page's body in HTML (put into the theme outside MkDocs:
:mod:`generator.theme`).

Data-derived text only ever reaches the pages through Jinja2 with autoescaping, inside raw HTML
blocks that Markdown leaves alone, so a name like ``*Saint_Amand*`` or ``<script>`` shows as is.
"""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .config import Config, LegendItem
from .figures import CommuneView, ItemFigures
from .french import french_date, french_number, public_value
from .init.codes import departement_names, departement_of
from .kinds import LINE, kind
from .paths import PAGES_DIR
from .staticmap import LEGEND_WIDTH, MAP_HEIGHT, MAP_WIDTH
from .style import COMMUNES_LABEL, legend_symbol, secure_page
from .territory import Commune
from .theme import ThemeSpec, empty_toc
from .theme import renderer as theme_renderer
from .validate import ValidationReport

STATIC_MAP_SIZE = (MAP_WIDTH + LEGEND_WIDTH, MAP_HEIGHT)


@functools.cache
def environment() -> Environment:
    """The templates' environment, one per process: each template compiled once (a warm
    process compiled the home page's, the report's and the release's at every build)."""
    return Environment(
        loader=PackageLoader("trame", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a build: no stat() per page
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
    }


EXPLICATION = "explication"
"""The fragment of Markdown shared by every commune page (see :func:`explication_markdown`)."""
EXPLICATION_HOME = "explication-accueil"
"""The same, for the home page (at the site's root: links are resolved from there)."""


@dataclass(frozen=True)
class PageBody:
    """A page rendered outside MkDocs' build: its source path as MkDocs would name it, its
    title and front matter, and its body (HTML), for :class:`generator.theme.ThemeRenderer`."""

    src_uri: str
    title: str
    meta: dict[str, Any]
    content: str


def explication_markdown(env: Environment, config: Config) -> str:
    """The explanatory section of the commune pages: Markdown (the operator's text), the same on
    every commune page, rendered once by MkDocs (:func:`generator.theme.prepare_theme`)."""
    return env.get_template("_explication.md.j2").render(explanatory_text=_explanatory_text(config))


def explication_fragments(config: Config) -> dict[str, tuple[str, str]]:
    """{name: (where, Markdown)} of the explanatory section of the commune pages and of the
    home page: MkDocs renders each once as if on such a page (same folder depth, so the same
    relative links)."""
    markdown = explication_markdown(environment(), config)
    return {
        EXPLICATION: ("communes/explication.md", markdown),
        EXPLICATION_HOME: ("explication-accueil.md", markdown),
    }


def commune_src_uri(commune: Commune) -> str:
    return f"communes/{commune.insee}-{commune.slug}.md"


def render_commune(
    env: Environment,
    config: Config,
    view: CommuneView,
    explication_html: str,
    pdf: bool = False,
    release: dict[str, Any] | None = None,
) -> PageBody:
    """The commune page's body in HTML (``explication_html``: the explanatory section, already
    rendered), with the body MkDocs' Markdown would have given (raw HTML blocks kept as is).
    ``pdf``: the commune's PDF map sheet is built too, so the page links to it. ``release``:
    the context of its release sections (version, citation, changes:
    :func:`generator.releases.sections.commune_sections`)."""
    commune = view.commune
    title = f"{commune.name} — trame verte et bleue"
    content = env.get_template("commune.html.j2").render(
        **_common(config),
        **(release or {}),
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
        explication_html=Markup(explication_html),
        pdf_sheets=pdf,
    )
    description = f"Trame verte et bleue sur la commune de {commune.name} ({commune.insee})."
    return PageBody(
        commune_src_uri(commune),
        title,
        {"title": title, "description": description},
        content.strip(),
    )


HOME_LIST_MAX = 60
"""The home page lists the communes only up to this many; beyond, it points to the list page
(``communes/``) and the search field. Measured with ``benchmarks/lighthouse.py``: Nord's home
page (648 communes in its list, 100 KB of HTML) scored 77 in performance, total blocking
time 340 ms; Hauts-de-France's (3,808, 428 KB) 42, 2,174 ms."""


def render_index(
    env: Environment,
    config: Config,
    communes: list[Commune],
    bbox: tuple[float, float, float, float],
    figures: list[ItemFigures],
    explication_html: str,
    pdf: bool = False,
) -> PageBody:
    """The home page's body in HTML (``explication_html``: its explanatory section, already
    rendered), as MkDocs' Markdown would have left it."""
    title = f"La trame verte et bleue — {config.name}"
    content = env.get_template("index.html.j2").render(
        **_common(config),
        title=title,
        communes=sorted(communes, key=lambda c: (c.slug, c.insee)),
        list_communes=len(communes) <= HOME_LIST_MAX,
        commune_count=french_number(len(communes), 0),
        root="./",
        insee="",
        bbox=bbox,
        legend_id="territoire",
        map_label=f"Carte interactive de la trame verte et bleue du territoire {config.name}",
        static_map_size=STATIC_MAP_SIZE,
        static_map_place=f"du territoire {config.name}",
        legend=_legend_rows(config, figures),
        explication_html=Markup(explication_html),
        pdf_sheets=pdf,
    )
    return PageBody("index.md", title, {"title": title, "description": title}, content.strip())


LIST_PAGE_MAX = 1000
"""Beyond this many communes spread over several départements, ``communes/`` lists the
départements and each has its own list page (``communes/departement-<code>/``): one page of
35,228 links (metropolitan France) weighed 4 MB of HTML, 416 KB for Hauts-de-France's 3,808."""


def departement_path(code: str) -> str:
    return f"communes/departement-{code.lower()}/"


def render_commune_list(
    env: Environment, config: Config, communes: list[Commune], names: dict[str, str] | None = None
) -> list[PageBody]:
    """The list of every commune (HTML: no Markdown to render): one page, or, for a large
    territory (:data:`LIST_PAGE_MAX`), a page of départements and one page per département.
    ``names``: département code -> name (default: the official list)."""
    ordered = sorted(communes, key=lambda c: (c.slug, c.insee))
    groups: dict[str, list[Commune]] = {}
    for commune in ordered:
        groups.setdefault(departement_of(commune.insee), []).append(commune)
    title = "Les communes"
    meta = {"title": title, "description": f"Communes du territoire {config.name}"}
    if len(communes) <= LIST_PAGE_MAX or len(groups) < 2:
        content = env.get_template("communes.html.j2").render(
            config=config, title=title, communes=ordered, count=french_number(len(ordered), 0),
            root="../", departements=None,
        )  # fmt: skip
        return [PageBody("communes/index.md", title, meta, content.strip())]
    if names is None:
        names = departement_names()
    rows = [
        {
            "code": code,
            "name": names.get(code) or f"Département {code}",
            "path": departement_path(code).removeprefix("communes/"),
            "count": french_number(len(members), 0),
        }
        for code, members in sorted(groups.items())
    ]
    content = env.get_template("communes.html.j2").render(
        config=config, title=title, communes=(), count=french_number(len(ordered), 0),
        root="../", departements=rows,
    )  # fmt: skip
    bodies = [PageBody("communes/index.md", title, meta, content.strip())]
    for row in rows:
        members = groups[row["code"]]
        name = f"{row['name']} ({row['code']})"
        page_title = f"Les communes — {name}"
        content = env.get_template("communes.html.j2").render(
            config=config, title=page_title, communes=members,
            count=french_number(len(members), 0), root="../../", departements=None,
            departement=name,
        )  # fmt: skip
        description = f"Communes du territoire {config.name} : {name}"
        bodies.append(
            PageBody(
                f"{departement_path(row['code'])}index.md",
                page_title,
                {"title": page_title, "description": description},
                content.strip(),
            )
        )
    return bodies


def front_matter_only(page: PageBody) -> str:
    """What MkDocs gets for a page rendered outside it: its front matter (MkDocs still lists
    it in the navigation and the sitemap; its own rendering of it is not kept)."""
    return f"---\n{_front_matter(**page.meta)}---\n"


def render_processing_report(
    env: Environment, config: Config, report: ValidationReport, tiles: dict[str, Any],
    map_thinned: dict[str, int] | None = None,
) -> str:  # fmt: skip
    """The public page saying what the build did to the data (read, repaired, clipped…), and
    what the tiles and the territory's map leave out (``map_thinned``: legend item id -> points
    not drawn there)."""
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
        map_thinned=[
            (labels.get(item, item), french_number(count, 0))
            for item, count in (map_thinned or {}).items()
        ],
    )


def render_redirect(env: Environment, config: Config, commune: Commune) -> str:
    return env.get_template("redirect.html.j2").render(
        commune=commune, fictitious=config.fictitious
    )


def redirect_path(commune: Commune) -> str:
    """``communes/<insee>/``: the short address of each commune page (below the site root)."""
    return f"communes/{commune.insee}/index.html"


def write_narrative_pages(docs_dir: Path) -> None:
    """The operator's own pages (site_src/pages), for MkDocs."""
    shutil.copytree(PAGES_DIR, docs_dir, dirs_exist_ok=True)


def write_pages(
    docs_dir: Path,
    site_dir: Path,
    config: Config,
    communes: list[Commune],
    whole: CommuneView,
    report: ValidationReport,
    tiles_report: dict[str, Any],
    spec: ThemeSpec,
    pdf: bool = False,
    map_thinned: dict[str, int] | None = None,
) -> list[str]:
    """The pages of the whole territory. The home page and the commune list (every commune:
    large) are rendered into the theme outside MkDocs, into ``site_dir``; MkDocs gets their
    front matter only (for its navigation and sitemap) and the processing report in Markdown.
    The commune pages themselves are :func:`render_commune`. ``pdf``: the PDF map sheets are
    built too, so the pages link to them. ``map_thinned``: what the territory's map leaves out
    (:func:`render_processing_report`). Returns the ``src_uri`` of the pages rendered here."""
    env = environment()
    (docs_dir / "traitement.md").write_text(
        render_processing_report(env, config, report, tiles_report, map_thinned),
        encoding="utf-8",
    )
    home = spec.fragments[EXPLICATION_HOME]
    index = render_index(env, config, communes, whole.bbox, whole.figures, home.html, pdf)
    commune_list, *departements = render_commune_list(env, config, communes)
    bodies = [(index, home.toc), *((body, empty_toc()) for body in (commune_list, *departements))]
    renderer = theme_renderer(spec)
    for body in (index, commune_list):  # in MkDocs' navigation (the département pages are not)
        source = docs_dir / body.src_uri
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_text(front_matter_only(body), encoding="utf-8")
    for body, toc in bodies:
        html = renderer.render(body.src_uri, body.title, body.meta, body.content, toc)
        page = site_dir / body.src_uri.removesuffix(".md").removesuffix("index") / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(secure_page(html, spec.policy), encoding="utf-8")
    return [body.src_uri for body, _ in bodies]
