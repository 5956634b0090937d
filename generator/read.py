"""Read a vector layer (GeoPackage, Shapefile, GeoJSON…) into shapely geometries in Lambert-93.

All I/O with GDAL goes through :func:`read_layer`; the rest of the pipeline sees plain arrays.
pyogrio honours a Shapefile's ``.cpg`` (e.g. CP1252) when decoding attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from .crs import LAMBERT_93, WGS84, reproject
from .errors import UserError


@dataclass(frozen=True)
class Layer:
    """Features of one layer: geometries (EPSG:2154) and one attribute dict per feature."""

    source: str
    geometries: np.ndarray
    attributes: list[dict[str, Any]]
    crs: str
    unclosed: frozenset[int] = frozenset()
    """Indexes of features whose rings were not closed in the file (closed on reading)."""

    def __len__(self) -> int:
        return len(self.geometries)


def read_layer(path: Path, layer: str | None = None) -> Layer:
    """Read every feature of ``layer`` in ``path`` and reproject it to Lambert-93."""
    where = f"{path}" + (f", layer {layer!r}" if layer else "")
    if not path.exists():
        raise UserError(f"{where}: file not found; check the path in the config and DATA_DIR")
    if layer is not None:
        try:
            names = [name for name, _ in pyogrio.list_layers(path)]
        except (DataSourceError, DataLayerError) as error:
            raise UserError(f"{where}: cannot open the file ({error})") from None
        if layer not in names:
            raise UserError(f"{where}: layer not found; the file has {', '.join(map(repr, names))}")
    try:
        meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer)
    except (DataSourceError, DataLayerError, OSError) as error:
        raise UserError(f"{where}: cannot read the file ({error})") from None
    if not meta.get("crs"):
        raise UserError(
            f"{where}: no coordinate reference system declared (a Shapefile needs its .prj); "
            "add it, e.g. with ogr2ogr -a_srs EPSG:2154"
        )
    crs = CRS.from_user_input(meta["crs"])
    geometries, unclosed = _parse(wkb)
    check_coordinates(where, geometries, crs)
    geometries = reproject(geometries, crs, LAMBERT_93)
    names = list(meta["fields"])
    attributes = [
        {name: _plain(column[index]) for name, column in zip(names, columns, strict=True)}
        for index in range(len(geometries))
    ]
    return Layer(
        source=where, geometries=geometries, attributes=attributes, crs=crs.to_string(),
        unclosed=unclosed,
    )  # fmt: skip


def _parse(wkb: np.ndarray | None) -> tuple[np.ndarray, frozenset[int]]:
    """WKB to shapely; a ring left open in the file is closed, and its feature remembered."""
    if wkb is None:
        return np.array([], dtype=object), frozenset()
    geometries = shapely.from_wkb(wkb, on_invalid="ignore")
    present = np.array([w is not None for w in wkb], dtype=bool)
    broken = np.flatnonzero(shapely.is_missing(geometries) & present)
    if len(broken):
        geometries[broken] = shapely.from_wkb(wkb[broken], on_invalid="fix")
    return geometries, frozenset(int(i) for i in broken)


def check_coordinates(where: str, geometries: np.ndarray, crs: CRS) -> None:
    """Refuse coordinates that cannot be in the declared CRS (the usual missing-CRS symptom)."""
    present = geometries[~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)]
    if not len(present):
        return
    minx, miny, maxx, maxy = shapely.total_bounds(present)
    if crs.is_geographic and (max(abs(minx), abs(maxx)) > 360 or max(abs(miny), abs(maxy)) > 90):
        raise UserError(
            f"{where}: coordinates such as ({minx:.0f}, {miny:.0f}) are metres, not degrees, but "
            f'the file declares {crs.to_string()} (a GeoJSON without "crs" is read as WGS84); '
            "declare the real CRS, e.g. ogr2ogr -a_srs EPSG:2154 out.gpkg in.geojson"
        )
    area = crs.area_of_use
    if area is None:
        return
    west, south, east, north = reproject(
        np.array([shapely.box(minx, miny, maxx, maxy)], dtype=object), crs, WGS84
    )[0].bounds
    margin = 1.0  # degrees: an area of use is drawn loosely, real data may overhang a little
    outside = (
        east < area.west - margin or west > area.east + margin
        or north < area.south - margin or south > area.north + margin
        or not all(np.isfinite([west, south, east, north]))
    )  # fmt: skip
    if outside:
        raise UserError(
            f"{where}: the features lie outside the area where {crs.to_string()} is used "
            f"({area.name}); the declared CRS is probably wrong: check the .prj or the "
            "file's CRS"
        )


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones, so JSON and templates see str/int/float/None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if not isinstance(value, str | int | float | bool):
        return str(value)
    return value
