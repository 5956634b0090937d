"""A static SVG map per commune, for print and for browsers where the interactive map cannot run.

Drawn in Lambert-93 (x east, y north; no distortion worth mentioning at a commune's scale) from
the same geometries and the same legend styles as the tiles, with a legend, a scale bar and a
north arrow. Every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import shapely
from markupsafe import escape

from . import memo
from .config import Config
from .features import ItemFeatures
from .groups import dissolved
from .kinds import LINE, kind
from .style import (
    BACKGROUND,
    COMMUNE_FILL,
    COMMUNES_LABEL,
    HIGHLIGHT,
    MASK,
    Paint,
    Transform,
    circle_radius,
    paints,
    svg_layers,
    symbol,
)
from .territory import Commune, Territory

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


class Layers:
    """Several layers' geometries in one spatial index, in drawing order (bottom first), each
    with its paints: a map clips only what its window touches, every layer with one query, one
    clip and one pass of path writing."""

    def __init__(
        self, layers: Sequence[tuple[Iterable[shapely.Geometry], Sequence[Paint]]],
        merge: bool = False,
    ):  # fmt: skip
        self.merge = merge
        """Each layer drawn as one element (:func:`merged`): the territory's map."""
        self.thinned: dict[int, int] = {}
        """Layer -> points left out of the drawings (:func:`merged`), for the report."""
        parts = [np.array(list(geometries), dtype=object) for geometries, _ in layers]
        self.geometries = np.concatenate([*parts, np.empty(0, dtype=object)])
        self.tree = shapely.STRtree(self.geometries)
        self.layer_of = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
        self.looks = [[dict(paint) for paint in look] for _, look in layers]  # picklable

    def draw(self, window: shapely.Geometry, to_units: Transform, tolerance: float) -> list[str]:
        found = np.sort(self.tree.query(window))
        return _draw(self.geometries[found], self.layer_of[found], self.looks, window, to_units,
                     tolerance, self.thinned if self.merge else None)  # fmt: skip


def _draw(
    geometries: np.ndarray, layer_of: np.ndarray, looks: Sequence[Sequence[Paint]],
    window: shapely.Geometry, to_units: Transform, tolerance: float,
    thinned: dict[int, int] | None = None,
) -> list[str]:  # fmt: skip
    """Geometry ``i`` clipped to the window, simplified below half a pixel (``tolerance``, in
    metres) and drawn with ``looks[layer_of[i]]`` (:func:`svg_layers`, which moves the
    coordinates to pixels as it writes them); what the window leaves empty is not drawn.

    For drawing only: a rectangle clip (no overlay) and a plain Douglas-Peucker simplification
    (no topology kept): what either may bend is under half a pixel. ``thinned``: each layer
    drawn as one element (:func:`merged`), the points it leaves out counted there."""
    if not len(geometries):
        return []
    if thinned is not None:
        return _draw_merged(geometries, layer_of, looks, window, to_units, tolerance, thinned)
    clipped = shapely.clip_by_rect(geometries, *window.bounds)
    shapes = shapely.simplify(clipped, tolerance, preserve_topology=False)
    keep = ~shapely.is_empty(shapes)
    return svg_layers(shapes[keep], layer_of[keep], looks, to_pixels=to_units, grouped=True)


def _draw_merged(
    geometries: np.ndarray, layer_of: np.ndarray, looks: Sequence[Sequence[Paint]],
    window: shapely.Geometry, to_units: Transform, tolerance: float, thinned: dict[int, int],
) -> list[str]:  # fmt: skip
    """:func:`_draw` of the territory's map, layer by layer (each one element: :func:`merged`):
    a warm process keeps each layer's drawing, under its geometries, the window, the tolerance,
    its look and the transform (the images of three points: the maps' transforms are affine),
    and draws again only the layers that changed. Nord, a reservoir moved: the territory's map
    took ~0.23 s of the driver per warm build (py-spy, 200 Hz), dissolving every layer again."""
    out: list[str] = []
    frame = to_units(np.array([[0.0, 0.0], [1000.0, 0.0], [0.0, 1000.0]]))
    for k in dict.fromkeys(layer_of.tolist()):
        mine = geometries[layer_of == k]

        def key(mine: np.ndarray = mine, k: int = k) -> bytes:
            return memo.key(memo.digests(mine), repr((window.bounds, tolerance, looks[k])), frame)

        def draw(mine: np.ndarray = mine, k: int = k) -> tuple[list[str], int]:
            # (simplified before dissolving: dissolving first took 15 s on Hauts-de-France;
            # each shape kept by a warm process: a moved feature's layer is drawn again)
            shapes = memo.each(
                "territory map shape", mine,
                lambda g: shapely.simplify(shapely.clip_by_rect(g, *window.bounds), tolerance,
                                           preserve_topology=False),
                repr((window.bounds, tolerance)).encode(),
            )  # fmt: skip
            lost: dict[int, int] = {}
            one, layer = merged(shapes, np.full(len(shapes), k, np.intp), looks, 2 * tolerance,
                                lost)  # fmt: skip
            keep = ~shapely.is_empty(one)
            drawn = svg_layers(one[keep], layer[keep], looks, to_pixels=to_units, grouped=True,
                               arcs=True)  # fmt: skip
            return drawn, lost.get(k, 0)

        drawn, lost = memo.value("territory map layer", key, draw)
        out += drawn
        if lost:
            thinned[k] = thinned.get(k, 0) + lost
    return out


def merged(
    geometries: np.ndarray, layer_of: np.ndarray, looks: Sequence[Sequence[Paint]],
    pixel: float, thinned: dict[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One geometry per layer, in drawing order, for the territory's map: its polygons
    dissolved into one, its lines gathered into one, its points kept one per square of the
    symbol's diameter (``pixel``: metres per pixel); each is then one SVG element.
    ``thinned``: the points left out, added up by layer.

    Measured with ``benchmarks/lighthouse.py --site`` on Hauts-de-France's home page (mobile,
    gzip, medians of 3): its map's ~10,000 elements (a shape each) kept the main thread busy
    styling and laying them out, total blocking time 709 ms, performance 82; with this, 99
    elements, 137 ms and 99, as the commune pages (342 KB instead of 591)."""
    out, layers = [], []
    for k in dict.fromkeys(layer_of.tolist()):
        mine = geometries[layer_of == k]
        mine = mine[~shapely.is_empty(mine)]
        if not len(mine):
            continue
        radius = circle_radius(looks[k])
        if radius > 0:
            coords = shapely.get_coordinates(mine)
            cells = np.floor(coords / (2 * radius * pixel)).astype(np.int64)
            _, first = np.unique(cells, axis=0, return_index=True)
            one = shapely.multipoints(coords[np.sort(first)])
            if thinned is not None and len(first) < len(coords):
                thinned[k] = thinned.get(k, 0) + len(coords) - len(first)
        elif (shapely.get_dimensions(mine) == 2).all():
            parts = dissolved(shapely.make_valid(mine))
            one = shapely.multipolygons(parts[shapely.get_type_id(parts) == 3])
        else:
            parts = shapely.get_parts(mine)
            one = shapely.multilinestrings(parts[shapely.get_type_id(parts) == 1])
        out.append(one)
        layers.append(k)
    return np.array(out, dtype=object), np.array(layers, dtype=np.intp)


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


def _legend(config: Config) -> str:
    x = MAP_WIDTH + 16
    lines = [f'<text x="{x}" y="28" font-size="15" font-weight="bold">Légende</text>']
    entries = [(COMMUNES_LABEL, LINE, config.communes.style),
               *((item.label, kind(item.geometry), item.style) for item in config.legend)]  # fmt: skip
    y = 52
    for label, geometry, style in entries:
        swatch = symbol(geometry, style, x - 2, y - 14)  # centred on the first text line
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
        lines.append(f'{swatch}<text x="{x + 30}" y="{y + 2}" font-size="13">{texts}</text>')
        y += 16 * len(rows) + 14
    return "".join(lines)


MIN_COMMUNE_PIXELS = 64
"""On the whole territory's map, the communes' borders are drawn only when a commune covers
this many pixels on average (8 by 8): France's 35,228 would be a grey carpet of ~12 pixels
each."""


class StaticMaps:
    """Everything the static maps of one territory share: the indexed communes and features.

    ``overview``: the map of the whole territory (the home page's), drawn for its scale: one
    white area, the territory's outline, instead of a white shape per commune, and each border
    between communes drawn once, simplified as a coverage (both neighbours alike) under half a
    pixel; not at all when the communes are too small to see (``MIN_COMMUNE_PIXELS``). The
    same look, in far fewer bytes: a commune's shape and its borders were each written twice."""

    def __init__(self, config: Config, communes: list[Commune], features: list[ItemFeatures],
                 overview: shapely.Geometry | None = None):  # fmt: skip
        self.config = config
        fills: Iterable[shapely.Geometry] = [c.geometry for c in communes]
        borders: Iterable[shapely.Geometry] = [c.geometry.boundary for c in communes]
        if overview is not None:
            fills, borders = [overview], _borders_once(communes, overview)
        # Drawn as the web map's style does: white communes, then the legend items (the first
        # on top), then (over a commune's veil) the commune boundaries.
        self.below = Layers([
            (fills, [COMMUNE_FILL]),
            *((f.geometries, paints(kind(f.item.geometry), f.item.style))
              for f in reversed(features)),
        ], merge=overview is not None)  # fmt: skip
        self.boundaries = Layers([(borders, paints(LINE, config.communes.style))],
                                 merge=overview is not None)  # fmt: skip
        self._below_items = [None, *(f.item.id for f in reversed(features))]
        self._legend: str | None = None

    def legend(self) -> str:
        """The legend, the same on every map of the territory: drawn once."""
        if self._legend is None:
            self._legend = _legend(self.config)
        return self._legend

    def svg(self, commune: Commune) -> str:
        return commune_svg(self, commune)

    def thinned(self) -> dict[str, int]:
        """Legend item id -> points the maps drawn so far left out (the territory's map only,
        :func:`merged`), in the legend's order."""
        found = {self._below_items[k]: n for k, n in self.below.thinned.items()}
        return {item: found[item] for item in reversed(self._below_items[1:]) if item in found}


def map_window(geometry: shapely.Geometry) -> tuple[shapely.Geometry, float]:
    """The ground a commune's map shows (a Lambert-93 box around it) and its metres per pixel:
    only what meets this box is drawn, so it is all a map's task needs."""
    minx, miny, maxx, maxy = geometry.bounds
    _, metres_per_pixel = _transform((minx, miny, maxx, maxy))
    half_w, half_h = MAP_WIDTH / 2 * metres_per_pixel, MAP_HEIGHT / 2 * metres_per_pixel
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    return shapely.box(cx - half_w, cy - half_h, cx + half_w, cy + half_h), metres_per_pixel


def map_layers(
    maps: StaticMaps, window: shapely.Geometry, to_units, tolerance: float,
    focus: shapely.Geometry | None = None,
) -> list[str]:  # fmt: skip
    """The layers of the web map's style, in its order and with its paints, as SVG elements:
    white communes, legend items (first on top), a veil outside ``focus`` with its outline, and
    the commune boundaries. Shared by the SVG maps and the PDF sheets."""
    body = maps.below.draw(window, to_units, tolerance)

    def draw(geometry: shapely.Geometry, look: Sequence[Paint]) -> None:
        body.extend(_draw(np.array([geometry]), np.zeros(1, np.intp), [look], window, to_units,
                          tolerance))  # fmt: skip

    if focus is not None:
        draw(window.difference(focus), [MASK])
    body.extend(maps.boundaries.draw(window, to_units, tolerance))
    if focus is not None:
        draw(focus.boundary, [HIGHLIGHT])
    return body


def window_layers(
    maps: StaticMaps,
    window: tuple[float, float, float, float],
    size: tuple[float, float],
    focus: shapely.Geometry | None = None,
) -> str:
    """The map's layers for the Lambert-93 ``window`` drawn on ``size`` user units (x east,
    y down), on the map's background: the PDF sheets add the frame, legend, scale and north
    arrow, and clip to ``0 0 size``."""
    minx, miny, maxx, maxy = window
    per_unit = max((maxx - minx) / size[0], (maxy - miny) / size[1])

    def to_units(coords: np.ndarray) -> np.ndarray:
        return np.column_stack([(coords[:, 0] - minx) / per_unit, (maxy - coords[:, 1]) / per_unit])

    background = f'<rect width="{size[0]:g}" height="{size[1]:g}" fill="{BACKGROUND}"/>'
    box = shapely.box(*window)
    return background + "".join(map_layers(maps, box, to_units, per_unit / 2, focus))


def commune_svg(maps: StaticMaps, commune: Commune) -> str:
    """The whole SVG document for one commune."""
    to_pixels, _ = _transform(commune.geometry.bounds)
    window, metres_per_pixel = map_window(commune.geometry)
    body = ['<rect width="100%" height="100%" fill="#ffffff"/>',
            f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="{BACKGROUND}"/>',
            *map_layers(maps, window, to_pixels, metres_per_pixel / 2, commune.geometry)]  # fmt: skip
    body += [_scale_bar(metres_per_pixel), _north_arrow(), maps.legend()]
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


def _borders_once(communes: list[Commune], outline: shapely.Geometry) -> list[shapely.Geometry]:
    """The communes' borders for the map of ``outline`` (the whole territory): each shared
    border once, simplified under half a pixel as a coverage; none if the communes are under
    MIN_COMMUNE_PIXELS each."""
    _, metres_per_pixel = map_window(outline)
    if outline.area / len(communes) < MIN_COMMUNE_PIXELS * metres_per_pixel**2:
        return []
    geometries = np.array([c.geometry for c in communes], dtype=object)

    def borders() -> list[shapely.Geometry]:
        simple = shapely.coverage_simplify(geometries, metres_per_pixel / 2)
        return [shapely.line_merge(shapely.union_all(shapely.boundary(simple)))]

    # The window and the tolerance follow from the communes: their digests are the key.
    return memo.value("borders", lambda: memo.key(memo.digests(geometries)), borders)


def commune_map_path(commune: Commune) -> str:
    return f"{commune.path}carte.svg"


def write_territory_map(
    site_dir: Path, territory: Territory, whole: Commune
) -> tuple[StaticMaps, dict[str, int]]:
    """``carte.svg`` of the ``whole`` territory, at the site root (each commune's own map is
    made with its page: :func:`commune_svg`); returns the indexed maps, for the PDF sheets, and
    the points each legend item has that this map leaves out (:meth:`StaticMaps.thinned`)."""
    config, communes, features = territory.config, territory.communes, territory.features
    overview = StaticMaps(config, communes, features, overview=whole.geometry)
    site_dir.mkdir(parents=True, exist_ok=True)
    (site_dir / "carte.svg").write_text(overview.svg(whole), encoding="utf-8")
    return StaticMaps(config, communes, features), overview.thinned()
