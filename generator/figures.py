"""Per-commune figures for each legend item, computed in Lambert-93 (EPSG:2154) metres.

The area of an item is the area of the union of its features inside the commune, so overlapping
features are not counted twice; a line's length is its length inside the commune.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
from tqdm import tqdm

from .config import GeometryKind
from .crs import wgs84_bounds
from .features import ItemFeatures, public_attributes
from .kinds import ELEMENT_DIGITS, Measure, kind
from .territory import Commune, Territory


@dataclass(frozen=True)
class Element:
    """One feature concerning a commune, with its measure inside the commune."""

    id: str
    attributes: dict[str, Any]
    """The legend item's public fields only (its ``fields``), never the producer's others."""
    area_ha: float | None = None
    length_km: float | None = None
    geometry: shapely.Geometry | None = field(default=None, compare=False, repr=False)
    """The part of the feature inside the commune (Lambert-93), for downloads and maps."""


@dataclass(frozen=True)
class ItemFigures:
    item_id: str
    label: str
    kind: GeometryKind
    count: int
    area_ha: float | None = None
    share_pct: float | None = None
    length_km: float | None = None
    elements: list[Element] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The figures as published by the JSON API: only the measures of the item's kind."""
        figures: dict[str, Any] = {"label": self.label, "count": self.count}
        measure = kind(self.kind).measure
        if measure.field:
            figures[measure.field] = measure.value(self)
        if measure.share:
            figures["share_pct"] = self.share_pct
        return figures


class ItemIndex:
    """A spatial index over one item's features, so each commune only looks at its neighbours."""

    def __init__(self, features: ItemFeatures):
        self.features = features
        self.tree = shapely.STRtree(features.geometries)

    def figures_for(self, area: shapely.Geometry) -> ItemFigures:
        """Figures of this item inside ``area`` (a commune, or the whole territory)."""
        item = self.features.item
        measure = kind(item.geometry).measure
        candidates = np.sort(self.tree.query(area, predicate="intersects"))
        pieces = shapely.intersection(self.features.geometries[candidates], area)
        measures = measure.of(pieces)
        # A polygon that only touches the border shares no area with the commune.
        concerned = measures > 0
        elements = [
            Element(
                id=self.features.ids[index],
                attributes=public_attributes(item, self.features.attributes[index]),
                geometry=piece,
                **_in_units(measure, value, ELEMENT_DIGITS),
            )
            for index, value, piece in zip(
                candidates[concerned], measures[concerned], pieces[concerned], strict=True
            )
        ]
        elements.sort(key=lambda element: element.id)
        figures = ItemFigures(
            item_id=item.id, label=item.label, kind=item.geometry, count=len(elements),
            elements=elements,
        )  # fmt: skip
        if measure.field is None:
            return figures
        union = shapely.union_all(pieces[concerned]) if concerned.any() else None
        total = float(measure.of(union)) if union is not None else 0.0
        totals = _in_units(measure, total, measure.digits)
        if measure.share:
            totals["share_pct"] = _round(100 * total / area.area if area.area else 0.0, 2)
        return replace(figures, **totals)


def _in_units(measure: Measure, value: float, digits: int) -> dict[str, float]:
    """``{field: value in the measure's unit}``; nothing for a count."""
    return {measure.field: _round(value / measure.per_unit, digits)} if measure.field else {}


@dataclass(frozen=True)
class CommuneView:
    """Everything a commune page, its API files and its maps show, computed before rendering."""

    commune: Commune
    figures: list[ItemFigures]
    bbox: tuple[float, float, float, float]
    """WGS84 bounds of the commune."""


def area_figures(area: shapely.Geometry, indexes: list[ItemIndex]) -> list[ItemFigures]:
    """Figures of every legend item inside ``area``, in legend order."""
    return [index.figures_for(area) for index in indexes]


def compute_figures(
    territory: Territory, quiet: bool = True
) -> tuple[list[CommuneView], CommuneView]:
    """Every commune's figures (INSEE order), and the whole territory's as a view whose commune
    is the territory itself."""
    indexes = [ItemIndex(features) for features in territory.features]
    whole = Commune(
        insee="", name=territory.config.name, slug="", postcodes=(), geometry=territory.outline
    )
    views = [
        CommuneView(c, area_figures(c.geometry, indexes), wgs84_bounds(c.geometry))
        for c in tqdm([*territory.communes, whole], disable=quiet, unit="commune", leave=False)
    ]
    return views[:-1], views[-1]


def _round(value: float, digits: int) -> float:
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
