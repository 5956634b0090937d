"""The territory: its communes (INSEE code, name, slug, postcodes, Lambert-93 geometry)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import shapely

from .config import Communes as CommunesConfig
from .errors import UserError
from .read import Layer
from .validate import LayerReport, clean_geometries

_INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
MAX_SLUG_LENGTH = 60


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    slug: str
    postcodes: tuple[str, ...]
    geometry: shapely.Geometry  # Lambert-93

    @property
    def path(self) -> str:
        """The page's path below the site root, stable for planning documents that cite it."""
        return f"communes/{self.insee}-{self.slug}/"

    @property
    def area_ha(self) -> float:
        return self.geometry.area / 10_000


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes: safe as one path segment, whatever the input."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or "commune"


def communes_from_layer(layer: Layer, config: CommunesConfig, report: LayerReport) -> list[Commune]:
    """Build the communes, sorted by INSEE code; duplicate or missing codes and names are fatal."""
    fields = set(layer.attributes[0]) if layer.attributes else set()
    for key in (config.insee_field, config.name_field, config.postcodes_field):
        if key and layer.attributes and key not in fields:
            raise UserError(
                f"{layer.source}: field {key!r} not found (fields: {', '.join(sorted(fields))}); "
                "set communes.insee_field / name_field / postcodes_field in the config"
            )
    labels = [f"#{index}" for index in range(len(layer))]
    seen: dict[str, int] = {}
    for index, attributes in enumerate(layer.attributes):
        insee = str(attributes.get(config.insee_field) or "").strip()
        name = str(attributes.get(config.name_field) or "").strip()
        if not _INSEE.match(insee):
            raise UserError(
                f"{layer.source}: feature #{index}: INSEE code {insee!r} in field "
                f"{config.insee_field!r} is missing or malformed (expected 5 characters, e.g. 59606)"
            )
        if insee in seen:
            raise UserError(
                f"{layer.source}: features #{seen[insee]} and #{index} share the INSEE code {insee}; "
                "each commune must appear once"
            )
        if not name:
            raise UserError(f"{layer.source}: feature #{index} (INSEE {insee}) has no name")
        seen[insee] = index
        labels[index] = f"#{index} ({insee} {name})"
    for index in sorted(layer.unclosed):
        report.repaired += 1
        report.warn(f"feature {labels[index]}: ring not closed in the file, closed")
    geometries, kept = clean_geometries(layer.geometries, "polygon", labels, report)
    communes = []
    for geometry, attributes in zip(geometries, np.asarray(layer.attributes)[kept], strict=True):
        raw_postcodes = (
            str(attributes.get(config.postcodes_field) or "") if config.postcodes_field else ""
        )
        name = str(attributes[config.name_field]).strip()
        communes.append(
            Commune(
                insee=str(attributes[config.insee_field]).strip(),
                name=name,
                slug=slugify(name),
                postcodes=tuple(
                    p.strip() for p in re.split(r"[;,\s]+", raw_postcodes) if p.strip()
                ),
                geometry=geometry,
            )
        )
    if not communes:
        raise UserError(f"{layer.source}: no commune with a usable geometry")
    communes.sort(key=lambda commune: commune.insee)
    for first, second, hectares in overlaps(communes):
        report.warn(
            f"communes {first.insee} {first.name} and {second.insee} {second.name} overlap "
            f"over {hectares:.2f} ha: their figures count that area twice; fix the contours"
        )
    return communes


def overlaps(communes: list[Commune], min_m2: float = 1.0) -> list[tuple[Commune, Commune, float]]:
    """Pairs of communes sharing more than ``min_m2`` of area (a shared border has none)."""
    geometries = np.array([c.geometry for c in communes], dtype=object)
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    areas = shapely.area(shapely.intersection(geometries[left], geometries[right]))
    return [
        (communes[i], communes[j], area / 10_000)
        for i, j, area in zip(left, right, areas, strict=True)
        if area > min_m2
    ]
