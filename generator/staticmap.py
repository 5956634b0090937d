"""A static SVG map per commune, for print and for browsers where the interactive map cannot run.

Drawn in Lambert-93 (x east, y north; no distortion worth mentioning at a commune's scale) from
the same geometries and the same legend styles as the tiles, with a legend, a scale bar and a
north arrow. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from markupsafe import escape

from .config import Config, Style
from .features import ItemFeatures
from .style import HIGHLIGHT
from .territory import Commune

MAP_WIDTH, MAP_HEIGHT = 760, 560
LEGEND_WIDTH = 300
MARGIN = 0.08


def _transform(bounds: tuple[float, float, float, float]):
    """Lambert-93 metres -> SVG pixels, keeping the aspect ratio; returns (function, m/px)."""
    minx, miny, maxx, maxy = bounds
    width, height = maxx - minx, maxy - miny
    scale = max(width / MAP_WIDTH, height / MAP_HEIGHT) * (1 + 2 * MARGIN)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2

    def to_pixels(coords: np.ndarray) -> np.ndarray:
        x = (coords[:, 0] - cx) / scale + MAP_WIDTH / 2
        y = (cy - coords[:, 1]) / scale + MAP_HEIGHT / 2
        return np.column_stack([x, y])

    return to_pixels, scale


def _path(geometry: shapely.Geometry) -> str:
    """SVG path data of a (multi)polygon or (multi)line already in pixels (whole pixels: the
    map is drawn at its display size, and integers keep the file small and fast to write)."""
    commands = []
    for part in shapely.get_parts(geometry):
        rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
        for ring in rings:
            coords = np.rint(shapely.get_coordinates(ring)).astype(np.int32)
            if len(coords) < 2:
                continue
            close = "Z" if part.geom_type == "Polygon" else ""
            commands.append(f"M{' '.join(map(str, coords.ravel().tolist()))}{close}")
    return "".join(commands)


def _shape(geometry: shapely.Geometry, kind: str, style: Style) -> str:
    if kind == "point":
        return "".join(
            f'<circle cx="{p.x:g}" cy="{p.y:g}" r="{style.radius:g}" fill="{style.color}" '
            f'stroke="{style.outline or style.color}" stroke-width="1.5"/>'
            for p in shapely.get_parts(geometry)
        )
    if kind == "line":
        dash = (
            f' stroke-dasharray="{" ".join(f"{d * style.width:g}" for d in style.dash)}"'
            if style.dash
            else ""
        )
        return (
            f'<path d="{_path(geometry)}" fill="none" stroke="{style.color}" '
            f'stroke-width="{style.width:g}" stroke-opacity="{style.opacity:g}"{dash}/>'
        )
    outline = f' stroke="{style.outline}" stroke-width="1"' if style.outline else ""
    return (
        f'<path d="{_path(geometry)}" fill="{style.color}" fill-opacity="{style.opacity:g}" '
        f'fill-rule="evenodd"{outline}/>'
    )


class Indexed:
    """Geometries with a spatial index, so each map only clips what its window touches."""

    def __init__(self, geometries: Iterable[shapely.Geometry]):
        self.geometries = np.array(list(geometries), dtype=object)
        self.tree = shapely.STRtree(self.geometries)

    def within(self, window: shapely.Geometry) -> np.ndarray:
        return self.geometries[np.sort(self.tree.query(window))]


def _prepare(
    geometries: Indexed | Iterable[shapely.Geometry],
    window: shapely.Geometry,
    to_pixels,
    tolerance: float,
) -> np.ndarray:
    """Clip to the window, simplify below half a pixel, and move to pixel coordinates."""
    if isinstance(geometries, Indexed):
        array = geometries.within(window)
    else:
        array = np.array(list(geometries), dtype=object)
    if not len(array):
        return array
    array = shapely.intersection(array, window)
    array = shapely.simplify(array, tolerance, preserve_topology=True)
    array = array[~shapely.is_empty(array)]
    return shapely.transform(array, to_pixels)


def _scale_bar(metres_per_pixel: float) -> str:
    target = metres_per_pixel * MAP_WIDTH / 4
    step = 10 ** math.floor(math.log10(target))
    length = max(n * step for n in (1, 2, 5) if n * step <= target)
    pixels = length / metres_per_pixel
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    x, y = 20, MAP_HEIGHT - 24
    return (
        f'<g class="echelle"><rect x="{x - 6}" y="{y - 22}" width="{pixels + 60:.0f}" height="34" '
        f'fill="#ffffff" fill-opacity="0.85"/>'
        f'<path d="M{x} {y - 6}V{y}H{x + pixels:.1f}V{y - 6}" fill="none" stroke="#161616" stroke-width="2"/>'
        f'<text x="{x + pixels + 6:.1f}" y="{y}" font-size="13">{label}</text></g>'
    )


def _north_arrow() -> str:
    x, y = MAP_WIDTH - 30, 24
    return (
        f'<g class="nord" aria-hidden="true"><path d="M{x} {y}l9 24h-18z" fill="#161616"/>'
        f'<text x="{x}" y="{y + 40}" font-size="13" text-anchor="middle">N</text></g>'
    )


def _legend(config: Config, commune_style: Style) -> str:
    x = MAP_WIDTH + 16
    lines = [f'<text x="{x}" y="28" font-size="15" font-weight="bold">Légende</text>']
    entries = [("Contour de commune", "line", commune_style),
               *((item.label, item.geometry, item.style) for item in config.legend)]  # fmt: skip
    y = 52
    for label, kind, style in entries:
        if kind == "polygon":
            symbol = _shape(shapely.box(x, y - 10, x + 22, y + 6), kind, style)
        elif kind == "line":
            symbol = _shape(shapely.LineString([(x, y - 2), (x + 22, y - 2)]), kind, style)
        else:
            symbol = _shape(shapely.Point(x + 11, y - 2), kind, style)
        words, row, rows = str(label).split(), "", []
        for word in words:  # wrap: SVG text does not wrap by itself
            if len(row) + len(word) > 30 and row:
                rows.append(row)
                row = word
            else:
                row = f"{row} {word}".strip()
        rows.append(row)
        texts = "".join(
            f'<tspan x="{x + 30}" dy="{0 if i == 0 else 16}">{escape(r)}</tspan>'
            for i, r in enumerate(rows)
        )
        lines.append(f'{symbol}<text x="{x + 30}" y="{y + 2}" font-size="13">{texts}</text>')
        y += 16 * len(rows) + 14
    return "".join(lines)


class StaticMaps:
    """Everything the static maps of one territory share: the indexed communes and features."""

    def __init__(self, config: Config, communes: list[Commune], features: list[ItemFeatures]):
        self.config = config
        self.communes = Indexed(c.geometry for c in communes)
        self.boundaries = Indexed(c.geometry.boundary for c in communes)
        self.items = [(f.item, Indexed(f.geometries)) for f in features]

    def svg(self, commune: Commune) -> str:
        return commune_svg(self, commune)


def commune_svg(maps: StaticMaps, commune: Commune) -> str:
    """The whole SVG document for one commune."""
    config = maps.config
    minx, miny, maxx, maxy = commune.geometry.bounds
    to_pixels, metres_per_pixel = _transform((minx, miny, maxx, maxy))
    half_w, half_h = MAP_WIDTH / 2 * metres_per_pixel, MAP_HEIGHT / 2 * metres_per_pixel
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    window = shapely.box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    tolerance = metres_per_pixel / 2
    body = ['<rect width="100%" height="100%" fill="#ffffff"/>',
            f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="#f6f6f2"/>']  # fmt: skip
    for geometry in _prepare(maps.communes, window, to_pixels, tolerance):
        body.append(f'<path d="{_path(geometry)}" fill="#ffffff" stroke="none"/>')
    for item, indexed in reversed(maps.items):  # first legend item on top, as on the web map
        for geometry in _prepare(indexed, window, to_pixels, tolerance):
            body.append(_shape(geometry, item.geometry, item.style))
    outside = window.difference(commune.geometry)
    for geometry in _prepare([outside], window, to_pixels, tolerance):
        body.append(
            f'<path d="{_path(geometry)}" fill="#ffffff" fill-opacity="0.55" fill-rule="evenodd"/>'
        )
    communes_style = config.communes.style
    for geometry in _prepare(maps.boundaries, window, to_pixels, tolerance):
        body.append(_shape(geometry, "line", communes_style))
    for geometry in _prepare([commune.geometry.boundary], window, to_pixels, tolerance):
        body.append(
            f'<path d="{_path(geometry)}" fill="none" stroke="{HIGHLIGHT}" stroke-width="3.5"/>'
        )
    body += [_scale_bar(metres_per_pixel), _north_arrow(), _legend(config, communes_style)]
    width = MAP_WIDTH + LEGEND_WIDTH
    title = escape(f"Trame verte et bleue — {commune.name}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{MAP_HEIGHT}" '
        f'viewBox="0 0 {width} {MAP_HEIGHT}" font-family="system-ui, sans-serif" fill="#161616" '
        f'role="img"><title>{title}</title>'
        f'<clipPath id="cadre"><rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}"/></clipPath>'
        f'<g clip-path="url(#cadre)">{"".join(body[:-1])}</g>{body[-1]}'
        f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="none" stroke="#666666"/></svg>\n'
    )


# --- Any Lambert-93 window at any size (used by generator/sheets, the PDF map sheets) --------


def window_layers(
    maps: StaticMaps,
    window: tuple[float, float, float, float],
    size: tuple[float, float],
    focus: shapely.Geometry | None = None,
) -> str:
    """The map's layers, as SVG elements, for the Lambert-93 ``window`` drawn on ``size`` user
    units (x east, y down): white communes, legend items (first on top), a veil outside
    ``focus`` with its outline, and the commune boundaries. The caller adds the frame, legend,
    scale and north arrow, and clips to ``0 0 size``. The same drawing as ``commune_svg``."""
    minx, miny, maxx, maxy = window
    per_unit = max((maxx - minx) / size[0], (maxy - miny) / size[1])

    def to_units(coords: np.ndarray) -> np.ndarray:
        return np.column_stack([(coords[:, 0] - minx) / per_unit, (maxy - coords[:, 1]) / per_unit])

    box, tolerance = shapely.box(*window), per_unit / 2
    body = [f'<rect width="{size[0]:g}" height="{size[1]:g}" fill="#f6f6f2"/>']
    for geometry in _prepare(maps.communes, box, to_units, tolerance):
        body.append(f'<path d="{_path(geometry)}" fill="#ffffff" stroke="none"/>')
    for item, indexed in reversed(maps.items):
        for geometry in _prepare(indexed, box, to_units, tolerance):
            body.append(_shape(geometry, item.geometry, item.style))
    if focus is not None:
        for geometry in _prepare([box.difference(focus)], box, to_units, tolerance):
            body.append(
                f'<path d="{_path(geometry)}" fill="#ffffff" fill-opacity="0.55" '
                'fill-rule="evenodd"/>'
            )
    for geometry in _prepare(maps.boundaries, box, to_units, tolerance):
        body.append(_shape(geometry, "line", maps.config.communes.style))
    if focus is not None:
        for geometry in _prepare([focus.boundary], box, to_units, tolerance):
            body.append(
                f'<path d="{_path(geometry)}" fill="none" stroke="{HIGHLIGHT}" stroke-width="3.5"/>'
            )
    return "".join(body)
