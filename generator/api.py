"""The static JSON API: the list of communes and one file of figures and elements per commune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import Config
from .pages import CommuneView, french_date


def write_json(path: Path, data: Any) -> None:
    """Compact, key-sorted UTF-8 JSON: the same data always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def commune_summary(view: CommuneView) -> dict[str, Any]:
    commune = view.commune
    return {
        "insee": commune.insee,
        "nom": commune.name,
        "codes_postaux": list(commune.postcodes),
        "url": commune.path,
        "bbox": list(view.bbox),
    }


def commune_detail(config: Config, view: CommuneView) -> dict[str, Any]:
    commune = view.commune
    elements = [
        {
            "id": element.id,
            "item": figures.item_id,
            "attributes": element.attributes,
            **({"area_ha": element.area_ha} if element.area_ha is not None else {}),
            **({"length_km": element.length_km} if element.length_km is not None else {}),
        }
        for figures in view.figures
        for element in figures.elements
    ]
    return {
        "insee": commune.insee,
        "nom": commune.name,
        "codes_postaux": list(commune.postcodes),
        "url": commune.path,
        "bbox": list(view.bbox),
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


def write_api(api_dir: Path, config: Config, views: list[CommuneView]) -> None:
    """``communes.json`` lists the communes; ``communes/<insee>.json`` details each one."""
    write_json(api_dir / "communes.json", [commune_summary(view) for view in views])
    for view in views:
        write_json(
            api_dir / "communes" / f"{view.commune.insee}.json", commune_detail(config, view)
        )
