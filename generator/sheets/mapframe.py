"""The map frame of a sheet: the site's map drawing (``staticmap.window_layers``) at paper scale,
framed, with Lambert-93 coordinate ticks, commune names and, on the assembly sheet, the grid of
numbered sheets.

Lines and areas are inline SVG (vector); every word (names, coordinates, sheet numbers) is HTML
text laid over it, so that it is real, selectable text in reading order, drawn by the bundled
font (WeasyPrint draws SVG text one glyph at a time).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from markupsafe import Markup, escape

from ..staticmap import StaticMaps, window_layers
from ..territory import Commune
from .layout import BAND_MM, NEIGHBOUR_SIDES, AtlasSheet, Bounds, french_integer, tick_step

UNITS_PER_MM = 4
"""SVG user units per millimetre: the site's 1-pixel lines become 0.25 mm, its 3.5-pixel
highlight 0.9 mm, and coordinates are rounded to 0.25 mm, well below the data's precision
(the SRCE was mapped at 1:100 000)."""
TICK_MM = 2.0
INK = "#161616"
Box = tuple[float, float, float, float]
"""left, top, right, bottom on the frame, in millimetres"""


@dataclass(frozen=True)
class MapView:
    """What one map frame shows: a ground extent at a scale on a frame of paper."""

    bounds: Bounds
    frame: tuple[float, float]
    scale: int
    focus: Commune | None = None


def _to_mm(view: MapView, x: float, y: float) -> tuple[float, float]:
    per_mm = view.scale / 1000
    return (x - view.bounds[0]) / per_mm, (view.bounds[3] - y) / per_mm


def _ticks(view: MapView) -> tuple[str, list[str]]:
    """Tick marks on the four sides (SVG) and their labels, below and left (HTML)."""
    step, (width, height) = tick_step(view.scale), view.frame
    minx, miny, maxx, maxy = view.bounds
    marks, labels = [], []
    tick = TICK_MM * UNITS_PER_MM
    for x in np.arange(np.ceil(minx / step) * step, maxx, step):
        u = _to_mm(view, x, maxy)[0]
        h = height * UNITS_PER_MM
        marks.append(f"M{u * UNITS_PER_MM:.1f} 0v{tick}M{u * UNITS_PER_MM:.1f} {h}v-{tick}")
        labels.append(
            f'<span class="coord coord-x" style="left:{u + BAND_MM:.2f}mm;top:{height + BAND_MM:.2f}mm">'
            f"{french_integer(x)}</span>"
        )
    for y in np.arange(np.ceil(miny / step) * step, maxy, step):
        v = _to_mm(view, minx, y)[1]
        w = width * UNITS_PER_MM
        marks.append(f"M0 {v * UNITS_PER_MM:.1f}h{tick}M{w} {v * UNITS_PER_MM:.1f}h-{tick}")
        labels.append(
            f'<span class="coord coord-y" style="left:{BAND_MM / 2:.2f}mm;top:{v + BAND_MM:.2f}mm">'
            f"{french_integer(y)}</span>"
        )
    svg = f'<path d="{"".join(marks)}" fill="none" stroke="{INK}" stroke-width="1.2"/>'
    return svg, labels


def _is_focus(view: MapView, commune: Commune) -> bool:
    return view.focus is not None and commune.insee == view.focus.insee


def _names(
    view: MapView, communes: Sequence[Commune], size_pt: float, avoid: Sequence[Box] = ()
) -> list[str]:
    """One label per commune, at a point inside its visible part; on a crowded map a name
    that would cover one already placed (bigger communes first) or a box of ``avoid`` (the
    sheet numbers) is left out."""
    inner = shapely.box(*view.bounds).buffer(-view.scale / 1000 * 6)
    geometries = np.array([c.geometry for c in communes], dtype=object)
    visible = shapely.intersection(geometries, inner)
    order = sorted(
        (i for i in np.flatnonzero(~shapely.is_empty(visible))),
        key=lambda i: (not _is_focus(view, communes[i]), -visible[i].area, communes[i].insee),
    )
    placed: list[Box] = list(avoid)
    labels = []
    char_mm, line_mm = size_pt * 0.353 * 0.5, size_pt * 0.353 * 1.2
    for i in order:
        commune = communes[i]
        point = shapely.point_on_surface(visible[i])
        left, top = _to_mm(view, point.x, point.y)
        half_w, half_h = len(commune.name) * char_mm / 2, line_mm / 2
        box = (left - half_w, top - half_h, left + half_w, top + half_h)
        if any(b[0] < box[2] and box[0] < b[2] and b[1] < box[3] and box[1] < b[3] for b in placed):
            continue
        placed.append(box)
        kind = "nom nom-choisi" if _is_focus(view, commune) else "nom"
        labels.append(
            f'<span class="{kind}" style="left:{left + BAND_MM:.2f}mm;top:{top + BAND_MM:.2f}mm">'
            f"{escape(commune.name)}</span>"
        )
    return labels


def _grid(view: MapView, sheets: Sequence[AtlasSheet]) -> tuple[str, list[str], list[Box]]:
    """The assembly sheet's grid: each atlas sheet's outline and number (and its box, in mm)."""
    rects, numbers, boxes = [], [], []
    for sheet in sheets:
        left, top = _to_mm(view, sheet.bounds[0], sheet.bounds[3])
        right, bottom = _to_mm(view, sheet.bounds[2], sheet.bounds[1])
        rects.append(
            f'<rect x="{left * UNITS_PER_MM:.1f}" y="{top * UNITS_PER_MM:.1f}" '
            f'width="{(right - left) * UNITS_PER_MM:.1f}" height="{(bottom - top) * UNITS_PER_MM:.1f}" '
            f'fill="none" stroke="{INK}" stroke-width="3"/>'
        )
        numbers.append(
            f'<span class="planche" style="left:{(left + right) / 2 + BAND_MM:.2f}mm;'
            f'top:{(top + bottom) / 2 + BAND_MM:.2f}mm">{sheet.number}</span>'
        )
        x, y = (left + right) / 2, (top + bottom) / 2
        boxes.append((x - 6, y - 6, x + 6, y + 6))
    return "".join(rects), numbers, boxes


NEIGHBOUR_INSET_MM = 3.5
"""How far inside the frame the neighbouring sheets' numbers sit (their centre line)."""
CORNER_MM = 22.0
"""How far from the top or bottom a corner's neighbour number sits (its centre, along the west
or east side: clear of the fictitious-data notice in the north-west corner)."""


def _neighbours(view: MapView, around: Mapping[str, int]) -> tuple[list[str], list[Box]]:
    """The numbers of the sheets around this one (``PLAN 3``…) at the frame's edges and
    corners, where the map goes on (and the boxes they cover, in mm, for the names to avoid)."""
    width, height = view.frame
    inset = NEIGHBOUR_INSET_MM
    across = {"ouest": inset, "est": width - inset}
    down = {"nord": inset, "sud": height - inset}
    labels, boxes = [], []
    for side in sorted(around, key=[s for s, _, _ in NEIGHBOUR_SIDES].index):
        parts = side.split("-")
        vertical = parts[0] if parts[0] in down else None
        horizontal = parts[-1] if parts[-1] in across else None
        left = across[horizontal] if horizontal else width / 2
        top = down[vertical] if vertical else height / 2
        if vertical and horizontal:  # a corner: along the west or east side, near the corner
            top = CORNER_MM if vertical == "nord" else height - CORNER_MM
        edge = {"ouest": " voisine-gauche", "est": " voisine-droite"}.get(horizontal or "", "")
        text = f"PLAN {around[side]}"
        labels.append(
            f'<span class="voisine voisine-{side}{edge}" style="left:{left + BAND_MM:.2f}mm;'
            f'top:{top + BAND_MM:.2f}mm">{text}</span>'
        )
        half_length, half_height = len(text) * 1.0 + 1.5, 3.0
        if horizontal:  # written along a side
            half_length, half_height = half_height, half_length
        boxes.append((left - half_length, top - half_height, left + half_length, top + half_height))
    return labels, boxes


def map_frame(
    maps: StaticMaps,
    communes: Sequence[Commune],
    view: MapView,
    label: str,
    grid: Sequence[AtlasSheet] = (),
    name_size_pt: float = 8.0,
    around: Mapping[str, int] | None = None,
) -> Markup:
    """The framed map as an HTML block of frame + coordinate band, in millimetres; ``around``
    numbers the atlas sheets beside this one, by side (:func:`layout.neighbours`)."""
    width, height = view.frame
    size = (width * UNITS_PER_MM, height * UNITS_PER_MM)
    focus = view.focus.geometry if view.focus is not None else None
    layers = window_layers(maps, view.bounds, size, focus)
    ticks, coordinates = _ticks(view)
    grid_svg, numbers, boxes = _grid(view, grid)
    sides, side_boxes = _neighbours(view, around or {})
    names = _names(view, communes, name_size_pt, boxes + side_boxes)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}mm" height="{height:g}mm" '
        f'viewBox="0 0 {size[0]:g} {size[1]:g}">'
        f'<clipPath id="cadre"><rect width="{size[0]:g}" height="{size[1]:g}"/></clipPath>'
        f'<g clip-path="url(#cadre)">{layers}{grid_svg}</g>{ticks}'
        f'<rect width="{size[0]:g}" height="{size[1]:g}" fill="none" stroke="{INK}" '
        'stroke-width="2"/></svg>'
    )
    # An image, not inline SVG: parsed as XML (fast) rather than by the HTML parser, and
    # tagged as a figure with its text alternative.
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
    image = (
        f'<img class="carte" style="width:{width:g}mm;height:{height:g}mm" src="{source}" '
        f'alt="{escape(label)}">'
    )
    outer = f"width:{width + 2 * BAND_MM:g}mm;height:{height + 2 * BAND_MM:g}mm"
    return Markup(
        f'<div class="cadre" style="{outer}">{image}<div class="noms">{"".join(names)}'
        f'{"".join(numbers)}{"".join(sides)}</div><div class="coordonnees" aria-hidden="true">'
        f"{''.join(coordinates)}</div></div>"
    )
