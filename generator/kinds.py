"""The three geometry kinds of a legend item, each defined once: a row of :data:`KINDS`.

Everything that differs between polygons, lines and points and is a fact rather than an
algorithm lives here: which shapely geometry types a kind accepts, its MVT geometry type, the
MapLibre layer types that draw it, the shape of its legend symbol. Validation, the tile engine,
the map style, the legend and the static maps read these rows instead of comparing strings.
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
