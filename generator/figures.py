"""Per-commune figures for each legend item, computed in Lambert-93 (EPSG:2154) metres.

The area of an item is the area of the union of its features inside the commune, so overlapping
features are not counted twice; a line's length is its length inside the commune.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely

from . import memo
from .config import GeometryKind
from .crs import wgs84_bounds
from .features import ItemFeatures, public_attributes
from .groups import merged_groups
from .kinds import AREA, ELEMENT_DIGITS, LENGTH, Measure, kind
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
    covered: float = field(default=0.0, compare=False, repr=False)
    """The unrounded area (m²) or length (m) of the item's union inside the area: what the
    whole territory's figures add up (:func:`territory_figures`)."""

    def as_dict(self) -> dict[str, Any]:
        """The figures as published by the JSON API: only the measures of the item's kind."""
        figures: dict[str, Any] = {"label": self.label, "count": self.count}
        measure = kind(self.kind).measure
        if measure.field:
            figures[measure.field] = measure.value(self)
        if measure.share:
            figures["share_pct"] = self.share_pct
        return figures


class FeaturesIndex:
    """One spatial index over every legend item's features, so that each commune looks only at
    its neighbours, with one query and one intersection for all its items (one per item: Nord's
    648 communes took 1.35–1.54 CPU-s, now 1.31, ``benchmarks/cpu_parts.py``, same figures)."""

    def __init__(self, features: Sequence[ItemFeatures]):
        self.features = list(features)
        parts = [f.geometries for f in self.features]
        self.geometries = np.concatenate([*parts, np.empty(0, dtype=object)])
        self.first = np.concatenate([[0], np.cumsum([len(p) for p in parts], dtype=np.int64)])
        """Item ``k``'s features are ``geometries[first[k]:first[k + 1]]``."""
        self.tree = shapely.STRtree(self.geometries)

    def figures(self, area: shapely.Geometry) -> list[ItemFigures]:
        """Figures of every legend item inside ``area`` (a commune), in legend order."""
        candidates = np.sort(self.tree.query(area, predicate="intersects"))
        pieces = shapely.intersection(self.geometries[candidates], area)
        bounds = np.searchsorted(candidates, self.first)  # each item's run of candidates
        return [
            _item_figures(features, candidates[a:b] - self.first[k], pieces[a:b], area)
            for k, (features, a, b) in enumerate(
                zip(self.features, bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)
            )
        ]


def _item_figures(
    features: ItemFeatures, candidates: np.ndarray, pieces: np.ndarray, area: shapely.Geometry
) -> ItemFigures:
    """Figures of one item inside ``area`` from its features ``candidates`` (positions) and
    their ``pieces`` inside it."""
    item = features.item
    measure = kind(item.geometry).measure
    measures = measure.of(pieces)
    # A polygon that only touches the border shares no area with the commune.
    concerned = measures > 0
    elements = [
        Element(
            id=features.ids[index],
            attributes=public_attributes(item, features.attributes[index]),
            geometry=piece,
            **_in_units(measure, value, ELEMENT_DIGITS),
        )
        for index, value, piece in zip(
            candidates[concerned].tolist(), measures[concerned], pieces[concerned], strict=True
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
    return _with_total(figures, measure, total, area.area)


def _in_units(measure: Measure, value: float, digits: int) -> dict[str, float]:
    """``{field: value in the measure's unit}``; nothing for a count."""
    return {measure.field: _round(value / measure.per_unit, digits)} if measure.field else {}


def _with_total(
    figures: ItemFigures, measure: Measure, total: float, area_m2: float
) -> ItemFigures:
    """``figures`` with the item's total measure ``total`` (m² or m, unrounded, kept as
    ``covered``) in its unit, and its share of ``area_m2`` for an area."""
    totals = _in_units(measure, total, measure.digits)
    if measure.share:
        totals["share_pct"] = _round(100 * total / area_m2 if area_m2 else 0.0, 2)
    return replace(figures, covered=total, **totals)


@dataclass(frozen=True)
class CommuneView:
    """Everything a commune page, its API files and its maps show, computed before rendering."""

    commune: Commune
    figures: list[ItemFigures]
    bbox: tuple[float, float, float, float]
    """WGS84 bounds of the commune."""


def territory_figures(
    features: list[ItemFeatures], communes: list[Sequence[float]], area_m2: float
) -> list[ItemFigures]:
    """The whole territory's figures, with as little geometry as possible (the whole territory
    is one huge polygon: intersecting every feature with it would be the slowest task).

    Every feature kept lies inside the territory (:func:`generator.features.select_features`
    clipped them), so each counts once. Areas add up from the communes' ``covered`` measures
    (one per legend item, for each commune): communes share borders but no area, so the union
    inside the territory is the sum of the unions inside each commune (where two communes
    overlap, the validation report already says that area counts twice); ``math.fsum`` is
    exactly rounded, so the sum does not depend on any order. Lengths do not add up that way
    (a line along a border counts in both communes): they are the length of the union of the
    item's lines (:func:`union_length`)."""
    totals = []
    for k, item_features in enumerate(features):
        item = item_features.item
        measure = kind(item.geometry).measure
        figures = ItemFigures(item.id, item.label, item.geometry, len(item_features))
        if measure is AREA:
            figures = _with_total(figures, measure, math.fsum(c[k] for c in communes), area_m2)
        elif measure is LENGTH:
            figures = _with_total(figures, measure, _item_length(item_features.geometries), 0.0)
        totals.append(figures)
    return totals


def _item_length(lines: np.ndarray) -> float:
    """:func:`union_length`, kept whole by a warm process (Nord, a reservoir moved: finding
    the groups of the unchanged line items again took 0.07 s of the driver per build)."""
    return memo.value(
        "item length", lambda: memo.key(memo.digests(lines)), lambda: union_length(lines)
    )


def union_length(lines: np.ndarray) -> float:
    """The length of the union of ``lines``: overlapping parts count once. Each group of lines
    that meet is merged on its own; a line that meets no other is only measured.

    (GEOS's union of *all* the lines at once can give less: when its exact noding fails on a
    large input it falls back to snap-rounding, which also merges lines that are nearly but not
    exactly the same, e.g. two obstacles drawn along one road. Group by group it rarely needs
    to, and the result does not depend on what else is in the territory.)"""
    if not len(lines):
        return 0.0
    lengths = merged_groups(
        lines,
        "union length",
        lambda group: shapely.union_all(group).length,
        lambda line: line.length,
    )
    return math.fsum(lengths)


def whole_territory(territory: Territory, figures: list[ItemFigures]) -> CommuneView:
    """The whole territory as a view (its commune is the territory itself), for the home page,
    its map and the map style."""
    whole = Commune(
        insee="", name=territory.config.name, slug="", postcodes=(), geometry=territory.outline
    )
    return CommuneView(whole, figures, wgs84_bounds(territory.outline))


def _round(value: float, digits: int) -> float:
    return round(float(value), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
