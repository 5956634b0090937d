"""One PDF document from sheets and the explanatory text: HTML/CSS through WeasyPrint.

Reproducible: the font is the npm package @fontsource/source-sans-3 (package-lock.json), never
the system's; the PDF's dates are the build date (SOURCE_DATE_EPOCH, else the data date), and
so is the time fontTools stamps in the fonts it unpacks for WeasyPrint.
"""

from __future__ import annotations

import datetime as dt
import functools
import multiprocessing.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import markdown
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..config import Config, source_date_epoch
from ..errors import UserError
from ..paths import FONT_DIR
from .cartouche import Words, legend_rows, north_arrow
from .layout import MARGIN_MM, SIDE_MM
from .settings import SheetsConfig

FONT_FAMILY = "Trame Sans"
"""Source Sans 3 under a name of its own, so that no installed font can stand in for it."""
_SUBSETS = {
    "latin": "U+0000-00FF,U+0131,U+0152-0153,U+02BB-02BC,U+02C6,U+02DA,U+02DC,U+0304,U+0308,"
    "U+0329,U+2000-206F,U+20AC,U+2122,U+2191,U+2193,U+2212,U+2215,U+FEFF,U+FFFD",
    "latin-ext": "U+0100-02BA,U+02BD-02C5,U+02C7-02CC,U+02CE-02D7,U+02DD-02FF,U+0304,U+0308,"
    "U+0329,U+1D00-1DBF,U+1E00-1E9F,U+1EF2-1EFF,U+2020,U+20A0-20AB,U+20AD-20C0,U+2113,"
    "U+2C60-2C7F,U+A720-A7FF",
}


@dataclass(frozen=True)
class SheetPage:
    """One map sheet: its heading (PLAN k/N, the commune…), framed map and cartouche details."""

    heading: str
    subheading: str
    frame: Markup
    scale_words: str
    bar: dict[str, Any]
    url_text: str
    qr: Markup | None


def font_faces() -> str:
    """@font-face rules for the bundled font: latin and latin-ext, regular, bold, italic."""
    rules = []
    for subset, unicode_range in _SUBSETS.items():
        for weight, style in ((400, "normal"), (700, "normal"), (400, "italic"), (700, "italic")):
            path = FONT_DIR / f"source-sans-3-{subset}-{weight}-{style}.woff"
            if not path.is_file():
                raise UserError(
                    f"{path} : police des cartes PDF introuvable ; lancez `make setup` "
                    "(npm ci installe @fontsource/source-sans-3), ou construisez sans PDF (PDF=0)."
                )
            rules.append(
                f'@font-face {{ font-family: "{FONT_FAMILY}"; src: url("{path.as_uri()}"); '
                f"font-weight: {weight}; font-style: {style}; unicode-range: {unicode_range}; }}"
            )
    return "\n".join(rules)


def page_css(settings: SheetsConfig) -> str:
    """The paper size, and the sizes the style sheet reads (one text column per 13 cm)."""
    width, height = settings.paper_mm()
    columns = max(1, round((width - 2 * MARGIN_MM) / 130))
    return (
        f"@page {{ size: {width:g}mm {height:g}mm; }}\n"
        f":root {{ --hauteur: {height - 2 * MARGIN_MM - 0.5:g}mm; --cartouche: {SIDE_MM:g}mm; "
        f"--colonnes: {columns}; }}"
    )


def text_html(config: Config) -> Markup:
    """The operator's explanatory text (trusted Markdown, as on the site), headings from h2."""
    html = markdown.markdown(
        config.explanatory_text.read_text(encoding="utf-8"), extensions=["attr_list", "tables"]
    )
    levels = [int(level) for level in re.findall(r"<h([1-6])", html)]
    shift = min(levels) - 2 if levels else 0
    html = re.sub(r"<(/?)h([1-6])", lambda m: f"<{m[1]}h{min(6, max(2, int(m[2]) - shift))}", html)
    return Markup(html)


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("trame", "templates"), autoescape=True, undefined=StrictUndefined
    )


def document_html(
    config: Config, settings: SheetsConfig, words: Words, sheets: Sequence[SheetPage],
    title: str, description: str, created: dt.datetime,
) -> str:  # fmt: skip
    """The sheets as one HTML document (no explanatory text: see :func:`text_document_html`)."""
    return _environment().get_template("sheets/sheets.html.j2").render(
        page_css=Markup(page_css(settings)), paper=settings.paper, words=words, sheets=sheets,
        legend=legend_rows(config), north=north_arrow(), title=title, description=description,
        created=created.strftime("%Y-%m-%dT%H:%M:%SZ"), text=None,
    )  # fmt: skip


def text_document_html(config: Config, settings: SheetsConfig, words: Words) -> str:
    """The explanatory text's pages: the same for every sheet of a territory."""
    return _environment().get_template("sheets/sheets.html.j2").render(
        page_css=Markup(page_css(settings)), paper=settings.paper, words=words, sheets=[],
        legend=[], north="", title="Texte explicatif", description="", created="",
        text=text_html(config), text_title="Texte explicatif",
    )  # fmt: skip


@functools.lru_cache(maxsize=2)
def _stylesheet(epoch: int) -> tuple[Any, Any]:
    """The font configuration and the static style sheet, once per process and build date:
    WeasyPrint unpacks the WOFF files with fontTools, which stamps them with SOURCE_DATE_EPOCH
    (set by the caller to ``epoch``)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    env = _environment()
    css = env.loader.get_source(env, "sheets/sheets.css")[0]  # type: ignore[union-attr]
    fonts = FontConfiguration()
    sheet = CSS(string=f"{font_faces()}\n{css}", font_config=fonts)
    # The fonts are unpacked into a temporary folder that WeasyPrint removes when the
    # configuration is collected; a pool's worker ends with os._exit, which collects nothing,
    # and left one ~0.5 MB folder per worker and build. Remove it when the process ends.
    multiprocessing.util.Finalize(None, fonts.__del__, exitpriority=0)
    return fonts, sheet


@functools.lru_cache(maxsize=4)
def _text_document(html: str, epoch: int) -> Any:
    """The explanatory text's pages, laid out once per process for all the sheets."""
    from weasyprint import HTML

    fonts, css = _stylesheet(epoch)
    return HTML(string=html).render(stylesheets=[css], font_config=fonts)


def render_pdf(html: str, text_html: str | None, created: dt.datetime) -> tuple[bytes, int]:
    """The PDF bytes and page count: the sheets, then the explanatory text's pages (laid out
    once per process and reused); tagged PDF/UA-1 (structure, language, title), the font
    embedded as subsets."""
    from weasyprint import HTML  # imported here: only the processes that draw sheets load Pango

    epoch = int(created.timestamp())
    with source_date_epoch(epoch):
        fonts, css = _stylesheet(epoch)
        document = HTML(string=html).render(stylesheets=[css], font_config=fonts)
        if text_html is not None:
            document = document.copy(document.pages + _text_document(text_html, epoch).pages)
        return document.write_pdf(pdf_variant="pdf/ua-1"), len(document.pages)
