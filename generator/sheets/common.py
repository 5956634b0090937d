"""What every sheet needs: the territory's maps and names, one page's assembly, one file's write."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import Config, build_date
from ..staticmap import StaticMaps
from ..territory import Commune
from .cartouche import qr_code, scale_bar, scale_words, words
from .document import SheetPage, document_html, render_pdf, text_document_html
from .layout import AtlasSheet
from .mapframe import MapView, map_frame
from .settings import SheetsConfig


@dataclass(frozen=True)
class SheetMaps:
    """The site's static maps and the communes (for their names). Picklable: it travels to
    the executor's workers with each chunk of communes."""

    maps: StaticMaps
    communes: tuple[Commune, ...]


@dataclass(frozen=True)
class SheetRecord:
    """One written PDF: where (relative to the site root), how many pages, bytes, seconds (wall
    clock and this process's CPU)."""

    path: str
    pages: int
    sheets: int
    size: int
    seconds: float
    cpu_seconds: float


def sheet_page(
    maps: SheetMaps, view: MapView, heading: str, subheading: str, url: str, label: str,
    grid: Sequence[AtlasSheet] = (), name_size_pt: float = 8.0,
    around: Mapping[str, int] | None = None,
) -> SheetPage:  # fmt: skip
    """A map sheet: the framed map (with the numbers of the atlas sheets ``around`` it), and
    the cartouche's sheet-specific parts."""
    absolute = url.startswith(("https://", "http://"))
    return SheetPage(
        heading=heading,
        subheading=subheading,
        frame=map_frame(maps.maps, maps.communes, view, label, grid, name_size_pt, around),
        scale_words=scale_words(view.scale),
        bar=scale_bar(view.scale),
        url_text=url if absolute else _relative_address(url),
        qr=qr_code(url) if absolute else None,
    )


def _relative_address(path: str) -> str:
    """Where the page is when the config does not know the site's address (no ``site_url``)."""
    where = f"la page « {path} »" if path else "la page d'accueil"
    return f"{where} du site de la trame verte et bleue"


def write_document(
    config: Config, settings: SheetsConfig, pages: Sequence[SheetPage], out_path: Path,
    relative: str, title: str, description: str,
) -> SheetRecord:  # fmt: skip
    """Render the sheets and the explanatory text into ``out_path``; time it."""
    started, cpu = time.perf_counter(), time.process_time()
    built = build_date(config)
    cartouche = words(config, settings, built)
    html = document_html(config, settings, cartouche, pages, title, description, built)
    data, count = render_pdf(html, text_document_html(config, settings, cartouche), built)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(data)
    return SheetRecord(
        path=relative,
        pages=count,
        sheets=len(pages),
        size=len(data),
        seconds=time.perf_counter() - started,
        cpu_seconds=time.process_time() - cpu,
    )
