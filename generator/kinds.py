"""The three geometry kinds of a legend item, each defined once: a row of :data:`KINDS`.

Everything that differs between polygons, lines and points and is a fact rather than an
algorithm lives here: which shapely geometry types a kind accepts, its MVT geometry type, the
MapLibre layer types that draw it, the shape of its legend symbol, what its features measure in
a commune (an area, a length or a count, see :class:`Measure`). Validation, the tile engine, the
map style, the legend, the static maps, the figures, the pages and the API read these rows
instead of comparing strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from .config import GeometryKind

# shapely type ids (shapely.get_type_id)
_POINT, _LINESTRING, LINEARRING, _POLYGON = 0, 1, 2, 3
_MULTIPOINT, _MULTILINESTRING, _MULTIPOLYGON = 4, 5, 6  # 7: GeometryCollection


@dataclass(frozen=True, eq=False)
class Measure:
    """What the features of a kind measure inside a commune, in Lambert-93 metres, and how the
    figures and the site give it. Compared by identity."""

    name: str
    """``area``, ``length`` or ``count``."""
    of: Callable[[Any], Any]
    """The measure of each geometry (an array, or one geometry): m², m, or 1 a feature."""
    field: str | None
    """Its name in the figures and the API (``area_ha``, ``length_km``); None for a count."""
    download_field: str | None
    """Its name in the per-commune GeoJSON downloads (French: ``surface_ha``, ``longueur_km``)."""
    unit: str
    """Its unit on the site, in French (``ha``, ``km``); "" for a count."""
    per_unit: float
    """Metres (or square metres) in one unit."""
    digits: int
    """Decimals of an item's total in the figures (each element keeps ELEMENT_DIGITS)."""
    shown: int
    """Decimals of an item's total on the pages (each element shows 2)."""
    share: bool
    """The figures also give the share of the commune it covers (``share_pct``)."""

    def value(self, figures: Any) -> float | None:
        """This measure in ``figures`` (an ItemFigures or an Element): None for a count."""
        return getattr(figures, self.field) if self.field else None


ELEMENT_DIGITS = 4
"""Decimals of one element's measure in the figures and the API."""

AREA = Measure(
    name="area", of=shapely.area, field="area_ha", download_field="surface_ha", unit="ha",
    per_unit=10_000, digits=2, shown=1, share=True,
)  # fmt: skip
LENGTH = Measure(
    name="length", of=shapely.length, field="length_km", download_field="longueur_km",
    unit="km", per_unit=1_000, digits=3, shown=2, share=False,
)  # fmt: skip
COUNT = Measure(
    name="count", of=lambda geometries: np.ones(np.shape(geometries)), field=None,
    download_field=None, unit="", per_unit=1, digits=0, shown=0, share=False,
)  # fmt: skip
MEASURES = (AREA, LENGTH, COUNT)


def measure_of_figures(figures: dict[str, Any]) -> Measure:
    """The measure of an item's figures as the API publishes them (an ``items`` entry of a
    commune's JSON, possibly from an earlier release): the one whose field they carry."""
    return next((m for m in MEASURES if m.field in figures), COUNT)


@dataclass(frozen=True, eq=False)
class Kind:
    """One geometry kind. Compared by identity; pickled by name (tile tasks cross processes)."""

    name: GeometryKind
    dimension: int
    """Topological dimension (``shapely.get_dimensions``): 0 points, 1 lines, 2 areas."""
    single: int
    """shapely type id of one part (Point, LineString, Polygon)."""
    multi: int
    """shapely type id of several parts (MultiPoint, MultiLineString, MultiPolygon)."""
    collect: Callable[[Any], shapely.Geometry]
    """Several parts (an array of ``single`` geometries) -> one multi geometry."""
    mvt_type: int
    """MVT GeomType of its features: 1 POINT, 2 LINESTRING, 3 POLYGON."""
    map_layers: tuple[str, ...]
    """MapLibre layer types drawing it: the body, then the outline layer (drawn only when the
    style has an outline). The SVG legend and static maps translate these same layers."""
    swatch: Callable[[float, float, float], shapely.Geometry]
    """Shape of its legend symbol in the square of side ``size`` at (x, y) (SVG pixels)."""
    measure: Measure
    """What its features measure in a commune: an area, a length, a count."""

    @property
    def types(self) -> tuple[int, int]:
        """shapely type ids a feature of this kind may have: single or multi."""
        return (self.single, self.multi)

    def __reduce__(self) -> tuple[Callable[[str], Kind], tuple[str]]:
        return (kind, (self.name,))


POLYGON = Kind(
    name="polygon",
    dimension=2,
    single=_POLYGON,
    multi=_MULTIPOLYGON,
    collect=shapely.multipolygons,
    mvt_type=3,
    map_layers=("fill", "line"),
    swatch=lambda x, y, size: shapely.box(x + 2, y + 4, x + size - 2, y + size - 4),
    measure=AREA,
)
LINE = Kind(
    name="line",
    dimension=1,
    single=_LINESTRING,
    multi=_MULTILINESTRING,
    collect=shapely.multilinestrings,
    mvt_type=2,
    map_layers=("line",),
    swatch=lambda x, y, size: shapely.LineString(
        [(x + 2, y + size / 2), (x + size - 2, y + size / 2)]
    ),
    measure=LENGTH,
)
POINT = Kind(
    name="point",
    dimension=0,
    single=_POINT,
    multi=_MULTIPOINT,
    collect=shapely.multipoints,
    mvt_type=1,
    map_layers=("circle",),
    swatch=lambda x, y, size: shapely.Point(x + size / 2, y + size / 2),
    measure=COUNT,
)

KINDS: dict[str, Kind] = {k.name: k for k in (POLYGON, LINE, POINT)}


def kind(name: GeometryKind | Kind) -> Kind:
    """The kind named ``name`` (a Kind is returned as is)."""
    return name if isinstance(name, Kind) else KINDS[name]


def kind_of_types(type_ids: set[int]) -> Kind | None:
    """The kind whose features may have every one of these shapely type ids, if any."""
    if not type_ids:
        return None
    return next((k for k in KINDS.values() if type_ids <= set(k.types)), None)


def single_parts(geometries: Any) -> np.ndarray:
    """The single parts (points, lines, rings, polygons) of a geometry or an array of them, in
    order, however deeply they sit in multi geometries and collections (a repair or a clip may
    return a collection holding a multipolygon and a few lines)."""
    parts = shapely.get_parts(geometries)
    while (shapely.get_type_id(parts) >= _MULTIPOINT).any():
        parts = shapely.get_parts(parts)
    return parts
