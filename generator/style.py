"""The MapLibre style and the legend symbols, both drawn from the legend items' one style."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from .config import Config, LegendItem, Style

SOURCE = "trame"
COMMUNES_LAYER = "communes"
ROOT_PLACEHOLDER = "{root}"
"""Replaced in the browser by the site's absolute root URL: MapLibre resolves relative tile URLs
against its worker script, not the page (see ../shared/docs/field-notes.md, "MapLibre GL JS 6")."""

HIGHLIGHT = "#000091"
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
MASK = "#ffffff"


def content_security_policy(config: Config) -> str:
    """Pages may load only from the site itself, plus the basemap's host when one is chosen."""
    extra = " https://data.geopf.fr" if config.basemap != "none" else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{extra}; connect-src 'self'{extra}; "
        "worker-src 'self' blob:; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'"
    )


def item_layers(item: LegendItem) -> list[dict[str, Any]]:
    """MapLibre layers drawing one legend item; every layer id starts with the item id.

    The first layer also carries the item's label and French field labels (for the popups),
    so the browser reads them from the same definition as the colours. The labels are a list of
    [field, label] pairs: the API's JSON sorts object keys, a list keeps the configured order.
    """
    layers = _paint_layers(item)
    layers[0]["metadata"] = {
        "trame:item": item.id, "trame:label": item.label, "trame:geometry": item.geometry,
        "trame:fields": [[field, label] for field, label in item.fields.items()],
    }  # fmt: skip
    return layers


def _paint_layers(item: LegendItem) -> list[dict[str, Any]]:
    style = item.style

    def layer(suffix: str, kind: str, paint: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item.id + suffix, "type": kind, "source": SOURCE, "source-layer": item.id,
            "metadata": {"trame:item": item.id}, "paint": paint,
        }  # fmt: skip

    if item.geometry == "polygon":
        layers = [layer("", "fill", {"fill-color": style.color, "fill-opacity": style.opacity})]
        if style.outline:
            layers.append(layer("-contour", "line", {"line-color": style.outline, "line-width": 1}))
        return layers
    if item.geometry == "line":
        paint: dict[str, Any] = {
            "line-color": style.color, "line-width": style.width, "line-opacity": style.opacity,
        }  # fmt: skip
        if style.dash:
            paint["line-dasharray"] = list(style.dash)
        return [layer("", "line", paint)]
    return [
        layer(
            "", "circle",
            {
                "circle-color": style.color,
                "circle-radius": style.radius,
                "circle-opacity": style.opacity,
                "circle-stroke-color": style.outline or style.color,
                "circle-stroke-width": 1.5 if style.outline else 0,
            },
        )
    ]  # fmt: skip


def map_style(config: Config, bounds: tuple[float, float, float, float]) -> dict[str, Any]:
    """The whole style: communes underneath, legend items in legend order (last on top)."""
    communes = config.communes.style
    layers: list[dict[str, Any]] = [
        {"id": "fond", "type": "background", "paint": {"background-color": "#f6f6f2"}},
        {
            "id": "communes-fond", "type": "fill", "source": SOURCE, "source-layer": COMMUNES_LAYER,
            "paint": {"fill-color": "#ffffff", "fill-opacity": 1},
        },
    ]  # fmt: skip
    for item in reversed(config.legend):  # first legend item drawn on top, as on the paper map
        layers.extend(item_layers(item))
    layers += [
        {
            "id": "commune-masque", "type": "fill", "source": SOURCE,
            "source-layer": COMMUNES_LAYER, "filter": ["!=", ["get", "insee"], ""],
            "paint": {"fill-color": MASK, "fill-opacity": 0.55},
        },
        {
            "id": "communes-contour", "type": "line", "source": SOURCE,
            "source-layer": COMMUNES_LAYER,
            "paint": {"line-color": communes.outline or communes.color, "line-width": communes.width},
        },
        {
            "id": "commune-selection", "type": "line", "source": SOURCE,
            "source-layer": COMMUNES_LAYER, "filter": ["==", ["get", "insee"], ""],
            "paint": {"line-color": HIGHLIGHT, "line-width": 3.5},
        },
    ]  # fmt: skip
    sources: dict[str, Any] = {}
    if config.basemap != "none":
        basemap = BASEMAP_SOURCES[config.basemap]
        sources["fond-de-plan"] = {"type": "raster", "tileSize": 256, "maxzoom": 19, **basemap}
        layers.insert(1, {"id": "fond-de-plan", "type": "raster", "source": "fond-de-plan"})
        layers[2]["paint"]["fill-opacity"] = 0.35  # let the basemap show through the communes
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


def legend_symbol(style: Style, geometry: str, size: int = 24) -> Markup:
    """An inline SVG swatch that looks like the item on the map (decorative: aria-hidden)."""
    half = size / 2
    if geometry == "polygon":
        outline = style.outline or style.color
        shape = (
            f'<rect x="2" y="4" width="{size - 4}" height="{size - 8}" fill="{style.color}" '
            f'fill-opacity="{style.opacity}" stroke="{outline}" stroke-width="1.5"/>'
        )
    elif geometry == "line":
        dash = (
            f' stroke-dasharray="{" ".join(f"{d * style.width:g}" for d in style.dash)}"'
            if style.dash
            else ""
        )
        shape = (
            f'<line x1="2" y1="{half}" x2="{size - 2}" y2="{half}" stroke="{style.color}" '
            f'stroke-width="{style.width}" stroke-opacity="{style.opacity}"{dash}/>'
        )
    else:
        stroke = style.outline or style.color
        shape = (
            f'<circle cx="{half}" cy="{half}" r="{min(style.radius, half - 2)}" fill="{style.color}" '
            f'stroke="{stroke}" stroke-width="1.5"/>'
        )
    # Safe as Markup: every value above is a colour checked by the config or a number.
    return Markup(
        f'<svg class="trame-symbole" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'aria-hidden="true" focusable="false">{shape}</svg>'
    )
