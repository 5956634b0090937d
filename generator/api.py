"""The static JSON API: the list of communes and one file of figures and elements per commune."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from .config import Config
from .crs import LAMBERT_93, WGS84, reproject
from .figures import CommuneView, Element, ItemFigures
from .files import json_bytes, write_json
from .french import french_date
from .kinds import kind
from .style import map_style
from .validate import ValidationReport

CSV_COLUMNS = (
    "insee", "commune", "item", "libelle", "nombre", "surface_ha", "part_pct", "longueur_km",
    "date_donnees", "licence",
)  # fmt: skip


def _wgs84(geometries: list[shapely.Geometry]) -> np.ndarray:
    """Lambert-93 to WGS84, rounded to 1e-6 degree (about 10 cm): enough, and smaller files."""
    projected = reproject(np.array(geometries, dtype=object), LAMBERT_93, WGS84)
    return shapely.transform(projected, lambda coords: np.round(coords, 6))


def commune_summary(view: CommuneView) -> dict[str, Any]:
    commune = view.commune
    label = _wgs84([shapely.point_on_surface(commune.geometry)])[0]
    return {
        "insee": commune.insee,
        "nom": commune.name,
        "codes_postaux": list(commune.postcodes),
        "url": commune.path,
        "bbox": list(view.bbox),
        "label": [label.x, label.y],
    }


def search_index(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What the search box needs, and nothing more: it is loaded on every page."""
    return [
        {"insee": s["insee"], "nom": s["nom"], "cp": s["codes_postaux"], "url": s["url"]}
        for s in summaries
    ]


def commune_geojson(config: Config, view: CommuneView) -> dict[str, Any]:
    """The elements concerning a commune, cut to the commune, in WGS84 (RFC 7946)."""
    rows = [(figures, element) for figures in view.figures for element in figures.elements]
    geometries = _wgs84([element.geometry for _, element in rows])
    features = []
    for (figures, element), geometry in zip(rows, geometries, strict=True):
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "id": element.id, "item": figures.item_id, "libelle": figures.label,
                    **_element_measure(figures, element, download=True),
                    **element.attributes,
                },
                # (mapping: the same JSON as parsing shapely.to_geojson, a third of its time)
                "geometry": shapely.geometry.mapping(geometry),
            }
        )  # fmt: skip
    return {
        "type": "FeatureCollection",
        "name": f"{view.commune.insee} {view.commune.name}",
        "licence": config.licence,
        "date_donnees": config.data_date.isoformat(),
        "fictif": config.fictitious,
        "sources": list(config.sources),
        "features": features,
    }


def commune_csv(config: Config, view: CommuneView) -> str:
    """One row per legend item: the figures of the commune, with the data's date and licence."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for figures in view.figures:
        writer.writerow(
            [
                view.commune.insee, view.commune.name, figures.item_id, figures.label,
                figures.count, _blank(figures.area_ha), _blank(figures.share_pct),
                _blank(figures.length_km), config.data_date.isoformat(), config.licence,
            ]
        )  # fmt: skip
    return buffer.getvalue()


def _element_measure(
    figures: ItemFigures, element: Element, download: bool = False
) -> dict[str, float | None]:
    """An element's measure under its API name (its GeoJSON download's name with ``download``);
    nothing for a point."""
    measure = kind(figures.kind).measure
    if measure.field is None:
        return {}
    return {(measure.download_field if download else measure.field): measure.value(element)}


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value}"


def commune_detail(config: Config, view: CommuneView, summary: dict[str, Any]) -> dict[str, Any]:
    """``summary``: the commune's :func:`commune_summary` (made once per commune: finding a
    point on its surface is a tenth of the API files' time)."""
    commune = view.commune
    elements = [
        {
            "id": element.id,
            "item": figures.item_id,
            "attributes": element.attributes,
            **_element_measure(figures, element),
        }
        for figures in view.figures
        for element in figures.elements
    ]
    return {
        **summary,
        "area_ha": round(commune.area_ha, 2),
        "items": {figures.item_id: figures.as_dict() for figures in view.figures},
        "elements": elements,
        "data_date": config.data_date.isoformat(),
        "data_date_fr": french_date(config),
        "fictitious": config.fictitious,
        "sources": list(config.sources),
        "licence": config.licence,
        "crs_of_measures": "EPSG:2154",
    }


def commune_files(config: Config, view: CommuneView, summary: dict[str, Any]) -> dict[str, bytes]:
    """``api/communes/<insee>.{json,geojson,csv}``: the commune's figures and elements
    (``summary``: its :func:`commune_summary`)."""
    base = f"api/communes/{view.commune.insee}"
    return {
        f"{base}.json": json_bytes(commune_detail(config, view, summary)),
        f"{base}.geojson": json_bytes(commune_geojson(config, view)),
        f"{base}.csv": commune_csv(config, view).encode("utf-8"),
    }


def write_api(
    api_dir: Path, config: Config, summaries: list[dict[str, Any]], whole: CommuneView,
    report: ValidationReport, tiles_report: dict[str, Any],
) -> None:  # fmt: skip
    """``communes.json`` lists the communes (``summaries``: :func:`commune_summary` of each, in
    INSEE order), ``recherche.json`` feeds the search box, ``style.json`` is the map's style and
    ``validation.json`` what the build did to the data. Each commune's own files are
    :func:`commune_files`, written with its page."""
    write_json(api_dir / "communes.json", summaries)
    write_json(api_dir / "recherche.json", search_index(summaries))
    write_json(api_dir / "style.json", map_style(config, whole.bbox))
    write_json(api_dir / "validation.json", report.as_dict() | {"tiles": tiles_report})
