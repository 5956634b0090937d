"""Select the features of each legend item: attribute filter, geometry checks, territory clip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
import shapely.errors

from . import memo
from .config import LegendItem
from .errors import UserError
from .kinds import kind
from .read import Layer
from .validate import LayerReport, clean_geometries
from .wkb import Packed, pack, unpack


@dataclass(frozen=True)
class ItemFeatures:
    """The features of one legend item, in Lambert-93, valid, of the item's geometry kind."""

    item: LegendItem
    geometries: np.ndarray
    ids: list[str]
    attributes: list[dict[str, Any]]

    def __len__(self) -> int:
        return len(self.geometries)

    def __reduce__(self) -> tuple:
        # Sent to the workers with every commune chunk: geometries packed whole (.wkb).
        return (_item_features, (self.item, pack(self.geometries), self.ids, self.attributes))


def _item_features(
    item: LegendItem, geometries: Packed, ids: list[str], attributes: list[dict[str, Any]]
) -> ItemFeatures:
    return ItemFeatures(item, unpack(geometries), ids, attributes)


def select_features(
    item: LegendItem, layer: Layer, territory: shapely.Geometry, report: LayerReport
) -> ItemFeatures:
    """Apply the item's filter, repair geometries, drop what lies outside, clip what crosses."""
    fields = set(layer.attributes[0]) if layer.attributes else set()
    for name in [*(item.filter.fields if item.filter else ()), item.id_field]:
        if name and layer.attributes and name not in fields:
            raise UserError(
                f"{layer.source} : l'élément de légende {item.id!r} utilise le champ {name!r}, "
                f"absent de la couche (champs : {', '.join(sorted(fields))}) ; corrigez son filtre "
                "(filter) ou son identifiant (id_field) dans la légende"
            )
    chosen = [
        i for i, row in enumerate(layer.attributes) if not item.filter or item.filter.matches(row)
    ]
    attributes = [layer.attributes[i] for i in chosen]
    ids = [_identifier(item, row, i) for i, row in zip(chosen, attributes, strict=True)]
    for index, identifier in zip(chosen, ids, strict=True):
        if index in layer.unclosed:
            report.repaired += 1
            report.warn(
                f"objet {identifier} : contour non fermé dans le fichier, fermé à la lecture ; "
                "corrigez-le dans le fichier source"
            )
    geometries, kept = clean_geometries(layer.geometries[chosen], item.geometry, ids, report)
    ids = [i for i, k in zip(ids, kept, strict=True) if k]
    attributes = [a for a, k in zip(attributes, kept, strict=True) if k]

    placed = _placed(geometries, territory, item)
    inside = np.array([p[0] for p in placed], dtype=bool)
    report.outside += int((~inside).sum())
    crossing = np.array([p[1] for p in placed], dtype=bool)
    if crossing.any():
        geometries = geometries.copy()
        for i in np.flatnonzero(crossing).tolist():
            geometries[i] = placed[i][2]
        report.clipped += int(crossing.sum())
    inside &= ~shapely.is_empty(geometries)
    if len(geometries) and not inside.any():
        report.warn(
            "aucun objet n'est dans le territoire ; vérifiez le fichier source et son système "
            "de coordonnées"
        )
    elif not len(geometries):
        report.warn(
            "aucun objet ne correspond à cet élément de légende, qui vaut 0 partout ; "
            "vérifiez son filtre (filter) et le fichier source"
        )
    return ItemFeatures(
        item=item,
        geometries=geometries[inside],
        ids=[i for i, k in zip(ids, inside, strict=True) if k],
        attributes=[a for a, k in zip(attributes, inside, strict=True) if k],
    )


def _placed(geometries: np.ndarray, territory: shapely.Geometry, item: LegendItem) -> np.ndarray:
    """Per feature: (inside the territory, crossing its edge, its part inside when crossing).
    A warm process (:mod:`.memo`) keeps them by the feature's and the territory's digests
    (Nord, a reservoir moved: ~0.1 s of each build's reading, clipping the same features)."""

    def place(pieces: np.ndarray) -> np.ndarray:
        shapely.prepare(territory)
        inside = shapely.intersects(territory, pieces)
        crossing = inside & ~shapely.contains(territory, pieces)
        out = np.empty(len(pieces), dtype=object)
        for i, (piece, is_in, crosses) in enumerate(zip(pieces, inside, crossing, strict=True)):
            clipped = _keep_kind(_clip(piece, territory), item) if crosses else None
            out[i] = (bool(is_in), bool(crosses), clipped)
        return out

    if not memo.active():
        return place(geometries)
    where = memo.key(shapely.to_wkb(territory), str(kind(item.geometry).dimension)).hex()
    return memo.each(f"in territory {where}", geometries, place)


def _identifier(item: LegendItem, row: dict[str, Any], index: int) -> str:
    value = row.get(item.id_field) if item.id_field else None
    return str(value) if value not in (None, "") else f"{item.id}-{index + 1}"


def _clip(piece: shapely.Geometry, territory: shapely.Geometry) -> shapely.Geometry:
    """``piece`` ∩ ``territory``, against the territory's outline near the piece only: the
    whole outline of a large territory is a polygon of many vertices (the same intersection,
    much less work; the whole outline when that local piece is not a valid polygon)."""
    nearby = shapely.clip_by_rect(territory, *piece.bounds)
    if shapely.is_valid(nearby):
        try:
            return shapely.intersection(piece, nearby)
        except shapely.errors.GEOSException:
            pass
    return shapely.intersection(piece, territory)


def _keep_kind(geometry: shapely.Geometry, item: LegendItem) -> shapely.Geometry:
    """An intersection may add lower-dimension bits (a polygon touching the edge): drop them."""
    dimension = kind(item.geometry).dimension
    parts = [p for p in shapely.get_parts(geometry) if shapely.get_dimensions(p) == dimension]
    if not parts:
        return shapely.from_wkt("GEOMETRYCOLLECTION EMPTY")
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def public_attributes(item: LegendItem, row: dict[str, Any]) -> dict[str, Any]:
    """The attributes shown to the public: the item's ``fields`` that have a value, in order.

    Tiles, pages, the API and the downloads all publish these and nothing else: a producer's
    internal columns never reach the site.
    """
    return {field: row[field] for field in item.fields if row.get(field) is not None}
