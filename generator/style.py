"""The MapLibre style and the legend symbols, both drawn from the legend items' one style.

A thing's look is defined once, as MapLibre paint properties (:func:`kind_layers` for a style
of the config, constants below for the map's own layers). The legend symbols, in the HTML
legend and on the static maps, and the static maps' features are SVG translations of those same
paints (:func:`svg_shape`), so the web map, the legends and the static maps cannot disagree.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import shapely
from markupsafe import Markup

from .config import Config, GeometryKind, LegendItem, Style
from .kinds import LINE, Kind, kind

Transform = Callable[[np.ndarray], np.ndarray]
"""Coordinates (an (n, 2) array) to other units, e.g. Lambert-93 metres to SVG pixels."""

Paint = Mapping[str, Any]
"""MapLibre paint properties of one layer; their prefix names the layer type (fill-, line-…)."""

SOURCE = "trame"
COMMUNES_LAYER = "communes"
ROOT_PLACEHOLDER = "{root}"
"""Replaced in the browser by the site's absolute root URL: MapLibre resolves relative tile URLs
against its worker script, not the page (see ../shared/docs/field-notes.md, "MapLibre GL JS 6")."""

# The map's own layers (the legend items' come from the config): each value defined here only.
BACKGROUND = "#f6f6f2"
"""Around the territory's communes."""
COMMUNE_FILL: Paint = MappingProxyType({"fill-color": "#ffffff", "fill-opacity": 1})
"""Under the legend items, inside the territory."""
BASEMAP_COMMUNE_OPACITY = 0.35
"""COMMUNE_FILL's opacity over a basemap, which then shows through."""
MASK: Paint = MappingProxyType({"fill-color": "#ffffff", "fill-opacity": 0.55})
"""Veils everything outside the commune of the page."""
HIGHLIGHT: Paint = MappingProxyType({"line-color": "#000091", "line-width": 3.5})
"""The border of the commune of the page."""
COMMUNES_LABEL = "Contour de commune"
"""The communes' entry in the legends (HTML, SVG, PDF; in the style for the interactive map)."""
OUTLINE_WIDTH = 1
"""Width of a polygon's outline, when its style has one."""
POINT_OUTLINE_WIDTH = 1.5
"""Width of a point's outline, when its style has one."""

_GEOPLATEFORME_WMTS = (
    "https://data.geopf.fr/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&STYLE=normal"
    "&TILEMATRIXSET=PM&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}"
)
BASEMAP_SOURCES: dict[str, dict[str, Any]] = {
    # Opt-in only: with the default basemap "none" the site requests no other host.
    "ign-plan": {
        "tiles": [
            _GEOPLATEFORME_WMTS + "&LAYER=GEOGRAPHICALGRIDSYSTEMS.PLANIGNV2&FORMAT=image/png"
        ],
        "attribution": "Fond de plan : IGN, Plan IGN (Géoplateforme)",
    },
    "ign-ortho": {
        "tiles": [_GEOPLATEFORME_WMTS + "&LAYER=ORTHOIMAGERY.ORTHOPHOTOS&FORMAT=image/jpeg"],
        "attribution": "Fond de plan : IGN, photographies aériennes (Géoplateforme)",
    },
}


def content_security_policy(config: Config) -> str:
    """Pages may load only from the site itself, plus the basemap's host when one is chosen."""
    extra = " https://data.geopf.fr" if config.basemap != "none" else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; "
        "worker-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'"
    )


_INLINE_SCRIPT = re.compile(r"<script(?P<attributes>[^>]*)>(?P<code>.*?)</script>", re.DOTALL)
_HEAD = re.compile(r"<meta charset=[^>]*>", re.IGNORECASE)


def secure_page(html: str, policy: str) -> str:
    """The page with a CSP ``<meta>`` at the top, allowing that page's own inline scripts by
    their SHA-256 (and nothing else inline): data-derived text can never become code."""
    hashes = sorted(
        {
            "'sha256-"
            + base64.b64encode(hashlib.sha256(m["code"].encode()).digest()).decode()
            + "'"
            for m in _INLINE_SCRIPT.finditer(html)
            if "src=" not in m["attributes"] and "json" not in m["attributes"]
        }
    )
    page_policy = policy.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]))
    meta = f'<meta http-equiv="Content-Security-Policy" content="{page_policy}">'
    head = _HEAD.search(html)
    if head:
        return html[: head.end()] + "\n  " + meta + html[head.end() :]
    return html.replace("<head>", "<head>\n" + meta, 1)


def _fill(style: Style) -> dict[str, Any]:
    return {"fill-color": style.color, "fill-opacity": style.opacity}


def _line(style: Style) -> dict[str, Any]:
    paint: dict[str, Any] = {
        "line-color": style.color, "line-width": style.width, "line-opacity": style.opacity,
    }  # fmt: skip
    if style.dash:
        paint["line-dasharray"] = list(style.dash)
    return paint


def _circle(style: Style) -> dict[str, Any]:
    return {
        "circle-color": style.color,
        "circle-radius": style.radius,
        "circle-opacity": style.opacity,
        "circle-stroke-color": style.outline or style.color,
        "circle-stroke-width": POINT_OUTLINE_WIDTH if style.outline else 0,
    }


_BODY = {"fill": _fill, "line": _line, "circle": _circle}
"""The paint of a kind's body, per MapLibre layer type (see Kind.map_layers)."""


def kind_layers(geometry: Kind, style: Style) -> list[tuple[str, str, dict[str, Any]]]:
    """(id suffix, MapLibre layer type, paint) of the layers drawing a thing of this kind with
    ``style``: its body, then its outline when the kind has an outline layer and the style an
    outline colour."""
    body, *outline = geometry.map_layers
    layers = [("", body, _BODY[body](style))]
    if outline and style.outline:
        paint = {"line-color": style.outline, "line-width": OUTLINE_WIDTH}
        layers.append(("-contour", outline[0], paint))
    return layers


def paints(geometry: Kind, style: Style) -> list[dict[str, Any]]:
    """The paints of :func:`kind_layers`, bottom first, e.g. for :func:`svg_shape`."""
    return [paint for _, _, paint in kind_layers(geometry, style)]


def item_layers(item: LegendItem) -> list[dict[str, Any]]:
    """MapLibre layers drawing one legend item; every layer id starts with the item id.

    The first layer also carries the item's label and French field labels (for the popups),
    so the browser reads them from the same definition as the colours. The labels are a list of
    [field, label] pairs: the API's JSON sorts object keys, a list keeps the configured order.
    """
    layers = [
        {
            "id": item.id + suffix,
            "type": layer_type,
            "source": SOURCE,
            "source-layer": item.id,
            "metadata": {"trame:item": item.id},
            "paint": paint,
        }  # fmt: skip
        for suffix, layer_type, paint in kind_layers(kind(item.geometry), item.style)
    ]
    layers[0]["metadata"] = {
        "trame:item": item.id, "trame:label": item.label, "trame:geometry": item.geometry,
        "trame:fields": [[field, label] for field, label in item.fields.items()],
    }  # fmt: skip
    return layers


def map_style(config: Config, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """The whole style: communes underneath, legend items in legend order (last on top)."""
    communes_fill = dict(COMMUNE_FILL)
    if config.basemap != "none":
        communes_fill["fill-opacity"] = BASEMAP_COMMUNE_OPACITY
    layers: list[dict[str, Any]] = [
        {"id": "fond", "type": "background", "paint": {"background-color": BACKGROUND}},
        {
            "id": "communes-fond", "type": "fill", "source": SOURCE, "source-layer": COMMUNES_LAYER,
            "paint": communes_fill,
        },
    ]  # fmt: skip
    for item in reversed(config.legend):  # first legend item drawn on top, as on the paper map
        layers.extend(item_layers(item))
    layers += [
        {
            "id": "commune-masque", "type": "fill", "source": SOURCE,
            "source-layer": COMMUNES_LAYER, "filter": ["!=", ["get", "insee"], ""],
            "paint": dict(MASK),
        },
        {
            "id": "communes-contour", "type": "line", "source": SOURCE,
            "source-layer": COMMUNES_LAYER, "paint": paints(LINE, config.communes.style)[0],
            "metadata": {"trame:label": COMMUNES_LABEL},  # the legend's entry (carte.mjs)
        },
        {
            "id": "commune-selection", "type": "line", "source": SOURCE,
            "source-layer": COMMUNES_LAYER, "filter": ["==", ["get", "insee"], ""],
            "paint": dict(HIGHLIGHT),
        },
    ]  # fmt: skip
    sources: dict[str, Any] = {}
    if config.basemap != "none":
        basemap = BASEMAP_SOURCES[config.basemap]
        sources["fond-de-plan"] = {"type": "raster", "tileSize": 256, "maxzoom": 19, **basemap}
        layers.insert(1, {"id": "fond-de-plan", "type": "raster", "source": "fond-de-plan"})
    return {
        "version": 8,
        "name": config.name,
        "sources": {
            **sources,
            SOURCE: {
                "type": "vector",
                "tiles": [f"{ROOT_PLACEHOLDER}tiles/{{z}}/{{x}}/{{y}}.pbf"],
                "minzoom": config.tiles.minzoom,
                "maxzoom": config.tiles.maxzoom,
                "bounds": list(bounds),
                "attribution": " · ".join(config.sources),
            },
        },
        "layers": layers,
    }


def svg_paths(
    geometries: Sequence[shapely.Geometry] | np.ndarray, to_pixels: Transform | None = None
) -> list[str]:
    """SVG path data of each (multi)polygon or (multi)line, in pixels: ``to_pixels`` moves an
    (n, 2) array of coordinates there (None: already in pixels). Whole pixels: maps are drawn at
    their display size, and integers keep the files small and fast to write.

    Whole arrays at once, not a few shapely calls per ring: Nord's 648 static maps went from
    2.84–3.04 to 2.49–2.75 CPU seconds (``benchmarks/cpu_parts.py``, medians of two runs of
    each version, alternated), same bytes."""
    geometries = np.asarray(geometries, dtype=object)
    parts, part_of = shapely.get_parts(geometries, return_index=True)
    is_polygon = shapely.get_type_id(parts) == 3
    polygons, others = np.flatnonzero(is_polygon), np.flatnonzero(~is_polygon)
    rings, ring_of_polygon = shapely.get_rings(parts[polygons], return_index=True)
    # Every ring (a polygon's exterior then interiors; a line is its own ring) in part order.
    ring_part = np.concatenate([polygons[ring_of_polygon], others])
    order = np.argsort(ring_part, kind="stable")
    ring_part = ring_part[order]
    rings = np.concatenate([rings, parts[others]])[order]
    closed = is_polygon[ring_part]
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    if to_pixels is not None:
        coords = to_pixels(coords)
    counts = np.bincount(coord_ring, minlength=len(rings))
    ends = 2 * np.cumsum(counts)
    numbers = list(map(str, np.rint(coords).astype(np.int32).ravel().tolist()))
    commands = [[] for _ in range(len(geometries))]
    for geometry, count, end, close in zip(
        part_of[ring_part].tolist(), counts.tolist(), ends.tolist(), closed.tolist(), strict=True
    ):
        if count >= 2:
            path = " ".join(numbers[end - 2 * count : end])
            commands[geometry].append(f"M{path}Z" if close else f"M{path}")
    return ["".join(c) for c in commands]


def _svg_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _paint_attributes(layers: Sequence[Paint], max_radius: float) -> tuple[str, float]:
    """The SVG attributes that draw a shape as MapLibre does with these layers' paints, bottom
    first, and the circle radius (0: not points)."""
    attributes: dict[str, Any] = {}
    radius = 0.0
    for paint in layers:
        layer_type = next(iter(paint)).split("-")[0]
        if layer_type == "fill":
            attributes["fill"] = paint["fill-color"]
            attributes["fill-opacity"] = paint["fill-opacity"]
            attributes["fill-rule"] = "evenodd"
        elif layer_type == "line":
            attributes.setdefault("fill", "none")
            attributes["stroke"] = paint["line-color"]
            attributes["stroke-width"] = paint["line-width"]
            if "line-opacity" in paint:
                attributes["stroke-opacity"] = paint["line-opacity"]
            if "line-dasharray" in paint:  # MapLibre counts dashes in line widths
                dashes = (_svg_value(d * paint["line-width"]) for d in paint["line-dasharray"])
                attributes["stroke-dasharray"] = " ".join(dashes)
        else:
            radius = min(paint["circle-radius"], max_radius)
            attributes["fill"] = paint["circle-color"]
            attributes["fill-opacity"] = paint["circle-opacity"]
            attributes["stroke"] = paint["circle-stroke-color"]
            attributes["stroke-width"] = paint["circle-stroke-width"]
    drawn = "".join(f' {name}="{_svg_value(value)}"' for name, value in attributes.items())
    return drawn, radius


def svg_shapes(
    geometries: Sequence[shapely.Geometry] | np.ndarray, layers: Sequence[Paint],
    max_radius: float = float("inf"), to_pixels: Transform | None = None,
) -> list[str]:  # fmt: skip
    """Each geometry drawn as MapLibre draws it with these layers' paints, bottom first: one
    path, or one circle per point (radius at most ``max_radius``). ``to_pixels`` moves
    coordinates to SVG pixels, as in :func:`svg_paths`.

    Safe to embed: every value is a colour the config checked or a number."""
    geometries = np.asarray(geometries, dtype=object)
    return svg_layers(geometries, np.zeros(len(geometries), np.intp), [layers], max_radius,
                      to_pixels)  # fmt: skip


def circle_radius(look: Sequence[Paint]) -> float:
    """The circle radius these paints draw a point with, in pixels (0: not a point's look)."""
    return _paint_attributes(look, float("inf"))[1]


def svg_layers(
    geometries: np.ndarray, layer_of: np.ndarray, looks: Sequence[Sequence[Paint]],
    max_radius: float = float("inf"), to_pixels: Transform | None = None, grouped: bool = False,
    arcs: bool = False,
) -> list[str]:  # fmt: skip
    """:func:`svg_shapes` of geometries of several layers at once: geometry ``i`` drawn with
    the paints ``looks[layer_of[i]]``. The coordinates are moved to pixels as they are written,
    not by a ``shapely.transform`` of each geometry (that made new geometries only to read them
    again), and all the layers of a map in one pass, not a few shapely calls per layer: the
    static maps of Nord (648) went from 2.11 to 1.50 CPU-s, of Hauts-de-France (3,808) from
    14.6 to 9.6 (``benchmarks/cpu_parts.py``, same SHA-256 of the SVGs).

    ``grouped``: each run of consecutive geometries of one look is a ``<g>`` carrying the
    look's attributes once (its shapes inherit them; no group opacity, so it draws the same),
    instead of an element per geometry: the list is of groups then, not of geometries. Nord's
    territory map had 2,950 elements repeating their 40-60 bytes of attributes.

    ``arcs``: the points of one geometry are one ``<path>`` of circles (two arcs each) instead
    of a ``<circle>`` each (the territory map: one element per look, see
    :func:`generator.staticmap.merged`): every fill, then every outline (the same as a circle
    drawn whole after the other where they do not overlap)."""
    attributes = [_paint_attributes(look, max_radius) for look in looks]
    radius = np.array([r for _, r in attributes], dtype=float)
    drawn = [d for d, _ in attributes]
    own = [""] * len(drawn) if grouped else drawn  # the attributes each shape carries itself
    is_circle = radius[layer_of] > 0
    shapes: list[str] = [""] * len(geometries)
    paths = np.flatnonzero(~is_circle)
    if len(paths):
        for i, d in zip(paths.tolist(), svg_paths(geometries[paths], to_pixels), strict=True):
            shapes[i] = f'<path d="{d}"{own[layer_of[i]]}/>'
    points = np.flatnonzero(is_circle)
    if len(points):
        coords, index = shapely.get_coordinates(geometries[points], return_index=True)
        if to_pixels is not None:
            coords = to_pixels(coords)
        circles: list[list[str]] = [[] for _ in range(len(points))]
        layers = layer_of[points].tolist()
        for k, x, y in zip(
            index.tolist(), coords[:, 0].tolist(), coords[:, 1].tolist(), strict=True
        ):
            layer = layers[k]
            r = radius[layer]
            circles[k].append(
                f"M{x - r:.1f} {y:.1f}a{r:g} {r:g} 0 1 0 {2 * r:g} 0a{r:g} {r:g} 0 1 0 {-2 * r:g} 0"
                if arcs
                else f'<circle cx="{x:g}" cy="{y:g}" r="{r:g}"{own[layer]}/>'
            )
        for k, i in enumerate(points.tolist()):
            drawn_circles = "".join(circles[k])
            shapes[i] = f'<path d="{drawn_circles}"{own[layer_of[i]]}/>' if arcs else drawn_circles
    if not grouped:
        return shapes
    return [
        f"<g{drawn[look]}>{''.join(shapes[i] for i in run)}</g>"
        for look, run in itertools.groupby(range(len(shapes)), key=layer_of.__getitem__)
    ]


def svg_shape(
    geometry: shapely.Geometry, layers: Sequence[Paint], max_radius: float = float("inf")
) -> str:
    """One geometry drawn as :func:`svg_shapes` draws each."""
    return svg_shapes([geometry], layers, max_radius)[0]


def symbol(geometry: Kind, style: Style, x: float = 0, y: float = 0, size: float = 24) -> str:
    """The legend symbol of a thing of this kind drawn with ``style``, as SVG elements in the
    square of side ``size`` at (x, y): the kind's swatch shape painted as on the map (a point's
    circle shrunk to fit). The one drawing of every legend, in pages and on static maps."""
    return svg_shape(geometry.swatch(x, y, size), paints(geometry, style), size / 2 - 2)


@functools.lru_cache(maxsize=256)
def legend_symbol(style: Style, geometry: GeometryKind | Kind, size: int = 24) -> Markup:
    """The :func:`symbol` as an inline SVG image (decorative: aria-hidden). Drawn once per
    style and kind (every commune page shows the same legend)."""
    # Safe as Markup: every value is a colour checked by the config or a number.
    return Markup(
        f'<svg class="trame-symbole" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'aria-hidden="true" focusable="false">{symbol(kind(geometry), style, 0, 0, size)}</svg>'
    )
