"""The territory's atlas: a title and assembly sheet, the numbered sheets PLAN k/N at one fixed
scale, then the explanatory text (as the DDTM 59's 2016 "Porter à connaissance" does)."""

from __future__ import annotations

from pathlib import Path

import shapely

from ..config import Config
from .cartouche import scale_words
from .common import SheetMaps, SheetRecord, sheet_page, write_document
from .layout import atlas_grid, centred, fit_scale, frame_mm, neighbours
from .mapframe import MapView
from .settings import SheetsConfig

FILE_NAME = "atlas.pdf"
ASSEMBLY_SCALES = tuple(
    int(m * 10**p) for p in range(3, 7) for m in (1, 1.5, 2, 2.5, 5)
)  # fmt: skip
"""Round scales the assembly sheet may use to show the whole territory."""


def write_atlas(
    config: Config, settings: SheetsConfig, maps: SheetMaps, out_path: Path, url: str
) -> SheetRecord:
    """Write ``out_path``: assembly sheet, PLAN 1/N … PLAN N/N, explanatory text."""
    outline = shapely.union_all([c.geometry for c in maps.communes])
    frame = frame_mm(settings)
    scale = settings.atlas_scale
    grid = atlas_grid(outline, frame, scale)
    count = len(grid)
    plural = "s" if count > 1 else ""
    cells = [sheet.bounds for sheet in grid]
    extent = (
        min(b[0] for b in cells), min(b[1] for b in cells),
        max(b[2] for b in cells), max(b[3] for b in cells),
    )  # fmt: skip
    whole_scale = fit_scale(extent, frame, ASSEMBLY_SCALES)
    pages = [
        sheet_page(
            maps, MapView(centred(extent, frame, whole_scale), frame, whole_scale),
            "Tableau d'assemblage", f"{count} planche{plural} au {scale_words(scale)}", url,
            f"Tableau d'assemblage : le territoire {config.name} et ses {count} planches",
            grid, name_size_pt=6.5,
        )
    ]  # fmt: skip
    for sheet in grid:
        view = MapView(sheet.bounds, frame, scale)
        heading = f"PLAN {sheet.number}/{count}"
        pages.append(
            sheet_page(
                maps, view, heading, "", url,
                f"{heading} : carte de la trame verte et bleue au {scale_words(scale)}",
                around=neighbours(sheet, grid),
            )
        )  # fmt: skip
    title = f"{settings.title} — {config.name} — atlas"
    description = (
        f"Atlas de la trame verte et bleue du territoire {config.name} : tableau d'assemblage, "
        f"{count} planche{plural} au {scale_words(scale)} et texte explicatif."
    )
    return write_document(config, settings, pages, out_path, FILE_NAME, title, description)
