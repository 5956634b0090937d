"""Where things go on the paper, and which piece of Lambert-93 ground each sheet shows.

All lengths on paper are millimetres; all ground lengths are Lambert-93 metres (EPSG:2154).
A sheet's ground extent is its map frame times its scale: 1 mm on paper is ``scale / 1000`` m.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

from .settings import SheetsConfig

MARGIN_MM = 8.0
"""Blank paper around everything (most printers cannot print to the edge)."""
SIDE_MM = 100.0
"""Width of the cartouche column, right of the map."""
GAP_MM = 5.0
BAND_MM = 6.0
"""Band around the map frame holding the Lambert-93 coordinate labels."""
FIT_MARGIN = 0.04
"""Share of the frame left around a commune on each side when choosing its scale."""

Bounds = tuple[float, float, float, float]


def frame_mm(settings: SheetsConfig) -> tuple[float, float]:
    """Width and height of the map frame (the drawn map, inside the coordinate band)."""
    paper_w, paper_h = settings.paper_mm()
    width = paper_w - 2 * MARGIN_MM - SIDE_MM - GAP_MM - 2 * BAND_MM
    height = paper_h - 2 * MARGIN_MM - 2 * BAND_MM
    return width, height


def ground_size(frame: tuple[float, float], scale: int) -> tuple[float, float]:
    """Metres of ground the frame covers at 1:``scale``."""
    return frame[0] / 1000 * scale, frame[1] / 1000 * scale


def centred(bounds: Bounds, frame: tuple[float, float], scale: int) -> Bounds:
    """The ground extent of a frame at 1:``scale`` centred on ``bounds``."""
    width, height = ground_size(frame, scale)
    cx, cy = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    return cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2


def fit_scale(bounds: Bounds, frame: tuple[float, float], scales: tuple[int, ...]) -> int:
    """The largest round scale (smallest denominator) at which ``bounds`` fits the frame."""
    need_w = (bounds[2] - bounds[0]) * (1 + 2 * FIT_MARGIN)
    need_h = (bounds[3] - bounds[1]) * (1 + 2 * FIT_MARGIN)
    for scale in sorted(scales):
        width, height = ground_size(frame, scale)
        if need_w <= width and need_h <= height:
            return scale
    return max(scales)


@dataclass(frozen=True)
class AtlasSheet:
    """One sheet of the atlas: its number (1 = north-west), grid cell and ground extent."""

    number: int
    row: int
    column: int
    bounds: Bounds


def atlas_grid(
    outline: shapely.Geometry, frame: tuple[float, float], scale: int
) -> list[AtlasSheet]:
    """Sheets of one size tiling the territory, numbered row by row from the north-west; cells
    that do not touch the territory are left out (and not numbered). Of a few shifts of the
    grid, the one needing the fewest sheets wins (ties: the most centred)."""
    cell_w, cell_h = ground_size(frame, scale)
    candidates = []
    for fx in GRID_SHIFTS:
        for fy in GRID_SHIFTS:
            sheets = _grid(outline, cell_w, cell_h, fx, fy)
            candidates.append((len(sheets), abs(fx - 0.5) + abs(fy - 0.5), sheets))
    return min(candidates, key=lambda c: c[:2])[2]


NEIGHBOUR_SIDES = (
    ("nord-ouest", -1, -1), ("nord", -1, 0), ("nord-est", -1, 1), ("ouest", 0, -1),
    ("est", 0, 1), ("sud-ouest", 1, -1), ("sud", 1, 0), ("sud-est", 1, 1),
)  # fmt: skip
"""The eight sides and corners of a sheet, with the grid's row and column steps to them."""


def neighbours(sheet: AtlasSheet, grid: Sequence[AtlasSheet]) -> dict[str, int]:
    """The numbers of the sheets around ``sheet`` in the atlas ``grid``, by side or corner
    (``nord``, ``sud-est``…), as an atlas prints them at its frame's edges: where the map goes
    on. A side with no sheet (outside the territory) is left out."""
    numbers = {(s.row, s.column): s.number for s in grid}
    return {
        side: numbers[(sheet.row + rows, sheet.column + columns)]
        for side, rows, columns in NEIGHBOUR_SIDES
        if (sheet.row + rows, sheet.column + columns) in numbers
    }


GRID_SHIFTS = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875)
"""Shifts of the atlas grid tried, as shares of the slack between the territory and the grid."""


def _grid(
    outline: shapely.Geometry, cell_w: float, cell_h: float, fx: float, fy: float
) -> list[AtlasSheet]:
    minx, miny, maxx, maxy = outline.bounds
    columns = max(1, math.ceil((maxx - minx) / cell_w))
    rows = max(1, math.ceil((maxy - miny) / cell_h))
    left = minx - fx * (columns * cell_w - (maxx - minx))
    top = maxy + fy * (rows * cell_h - (maxy - miny))
    sheets: list[AtlasSheet] = []
    for row in range(rows):
        for column in range(columns):
            x, y = left + column * cell_w, top - (row + 1) * cell_h
            cell = shapely.box(x, y, x + cell_w, y + cell_h)
            if outline.intersects(cell) and outline.intersection(cell).area > 0:
                sheets.append(AtlasSheet(len(sheets) + 1, row, column, cell.bounds))
    return sheets


def nice_step(target: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ not above ``target`` (for scale bars and coordinate ticks)."""
    power = 10 ** math.floor(math.log10(target))
    return max(n * power for n in (1, 2, 5) if n * power <= target)


def tick_step(scale: int) -> float:
    """Metres between two Lambert-93 coordinate ticks: about every 5 cm of paper."""
    return nice_step(50 / 1000 * scale)


def french_integer(value: float) -> str:
    """12500 -> '12 500' (no-break space: the bundled font has no narrow no-break space)."""
    return f"{round(value):,}".replace(",", "\u00a0")
