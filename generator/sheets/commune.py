"""A commune's sheet: the commune at the largest round scale that fits, then the explanatory text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..config import Config
from ..territory import Commune
from .cartouche import scale_words
from .common import SheetMaps, SheetRecord, sheet_page, write_document
from .layout import centred, fit_scale, frame_mm
from .mapframe import MapView
from .settings import SheetsConfig

FILE_NAME = "carte.pdf"


def write_commune_sheet(
    config: Config, settings: SheetsConfig, commune: Commune, maps: SheetMaps, out_path: Path,
    url: str,
) -> SheetRecord:  # fmt: skip
    """Write ``out_path``: the commune's map sheet (page 1) and the explanatory text."""
    frame = frame_mm(settings)
    scale = fit_scale(commune.geometry.bounds, frame, settings.commune_scales)
    view = MapView(centred(commune.geometry.bounds, frame, scale), frame, scale, commune)
    heading = f"Commune de {commune.name}"
    page = sheet_page(
        maps, view, heading, f"Code INSEE {commune.insee}", url,
        f"Carte de la trame verte et bleue à {commune.name}, au {scale_words(scale)}",
    )  # fmt: skip
    title = f"{settings.title} — {commune.name} ({commune.insee})"
    description = (
        f"{settings.title} de la commune de {commune.name} ({config.name}), au "
        f"{scale_words(scale)}, avec sa légende et le texte explicatif."
    )
    relative = f"{commune.path}{FILE_NAME}"
    return write_document(config, settings, [page], out_path, relative, title, description)


def write_commune_sheets(
    config: Config, settings: SheetsConfig, maps: SheetMaps,
    jobs: Sequence[tuple[Commune, Path, str]],
) -> list[SheetRecord]:  # fmt: skip
    """A chunk of communes for one task on the executor: (commune, out_path, url) each."""
    return [
        write_commune_sheet(config, settings, commune, maps, out_path, url)
        for commune, out_path, url in jobs
    ]
