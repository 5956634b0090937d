"""The pieces of the cartouche column: legend, scale bar, north arrow, QR code, and its words.

The legend symbols are the site's own (``style.legend_symbol``), so the paper and the screen
match; the words come from ``SheetsConfig`` and the territory config.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import segno
from markupsafe import Markup

from ..config import Config
from ..kinds import LINE, Kind
from ..style import COMMUNES_LABEL, legend_symbol
from .layout import french_integer, nice_step
from .settings import SheetsConfig

SCALE_BAR_MM = 45.0
"""Longest scale bar on paper; the bar is the longest 1-2-5 ground length that fits."""
QR_MM = 24.0
SYMBOL_PX = 22


def scale_words(scale: int) -> str:
    """25000 -> '1/25 000', the French way of writing a numeric scale."""
    return f"1/{french_integer(scale)}"


def _distance(metres: float) -> str:
    return (
        f"{metres / 1000:g}\u00a0km".replace(".", ",") if metres >= 1000 else f"{metres:g}\u00a0m"
    )


def scale_bar(scale: int) -> dict[str, Any]:
    """A bar of four alternating segments, its length in mm and its three labels."""
    metres = nice_step(SCALE_BAR_MM / 1000 * scale)
    length = metres / scale * 1000
    units = 4
    segment = length / units
    rects = "".join(
        f'<rect x="{i * segment:.3f}" y="0" width="{segment:.3f}" height="2" '
        f'fill="{"#161616" if i % 2 == 0 else "#ffffff"}" stroke="#161616" stroke-width="0.2"/>'
        for i in range(units)
    )
    svg = Markup(
        f'<svg class="barre" width="{length + 0.4:.3f}mm" height="2.4mm" '
        f'viewBox="-0.2 -0.2 {length + 0.4:.3f} 2.4"><title>Barre d\'échelle de '
        f"{_distance(metres)}</title>{rects}</svg>"
    )
    labels = [(0.0, "0"), (50.0, _distance(metres / 2)), (100.0, _distance(metres))]
    return {"svg": svg, "width_mm": length, "labels": labels}


def north_arrow() -> Markup:
    """A north arrow: Lambert-93 grid north, within half a degree of true north in the Nord."""
    return Markup(
        '<svg class="nord" width="9mm" height="14mm" viewBox="0 0 18 28">'
        "<title>Flèche du nord</title>"
        '<path d="M9 0L17 22L9 17L1 22Z" fill="#161616"/>'
        '<path d="M9 0L9 17L1 22Z" fill="#ffffff" stroke="#161616" stroke-width="0.8"/></svg>'
    )


def qr_code(url: str) -> Markup:
    """The page's address as a vector QR code (error correction M: survives a smudge)."""
    code = segno.make(url, error="m", micro=False)
    modules = code.symbol_size(scale=1, border=0)[0]
    return Markup(
        code.svg_inline(
            scale=QR_MM / modules,
            border=0,
            unit="mm",
            dark="#000000",
            svgclass="qr",
            title=f"Code QR de l'adresse {url}",
        )  # fmt: skip
    )


def _symbol(style: Any, geometry: str | Kind, label: str) -> Markup:
    """The site's legend symbol, titled: a tagged PDF needs a text for every figure."""
    head, rest = str(legend_symbol(style, geometry, SYMBOL_PX)).split(">", 1)
    return Markup(f"{head}>") + Markup("<title>Symbole : {}</title>").format(label) + Markup(rest)


def legend_rows(config: Config) -> list[dict[str, Any]]:
    """The communes' outline, then each legend item, with the site's own symbols."""
    rows = [{"symbol": _symbol(config.communes.style, LINE, COMMUNES_LABEL),
             "label": COMMUNES_LABEL}]  # fmt: skip
    for item in config.legend:
        rows.append({"symbol": _symbol(item.style, item.geometry, item.label), "label": item.label})
    return rows


@dataclass(frozen=True)
class Words:
    """The cartouche's words, defaults filled in."""

    territory: str
    title: str
    title_lines: tuple[str, ...]
    service_lines: tuple[str, ...]
    purpose_lines: tuple[str, ...]
    notice: str
    author: str
    data_date: str
    edition: str
    version: str
    contact: str
    sources: tuple[str, ...]
    licence: str
    fictitious: bool


def words(config: Config, settings: SheetsConfig, built: dt.datetime) -> Words:
    service = settings.service_lines
    return Words(
        territory=settings.territory_label or config.name,
        title=settings.title,
        title_lines=settings.title_lines,
        service_lines=service,
        purpose_lines=settings.purpose_lines,
        notice=settings.notice,
        author=settings.author or (service[0] if service else config.producer) or config.name,
        data_date=config.data_date.strftime("%d/%m/%Y"),
        edition=built.strftime("%d/%m/%Y"),
        version=settings.version,
        contact=settings.contact,
        sources=tuple(config.sources),
        licence=config.licence,
        fictitious=config.fictitious,
    )
