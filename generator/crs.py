"""Coordinate reference systems: Lambert-93 for measures, WGS84 for the web, Web Mercator for tiles."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely
from pyproj import CRS, Transformer

LAMBERT_93 = CRS.from_epsg(2154)
WGS84 = CRS.from_epsg(4326)
WEB_MERCATOR = CRS.from_epsg(3857)


_TRANSFORMERS: dict[tuple[str, str], Transformer | None] = {}


def _transformer(source: CRS, target: CRS) -> Transformer | None:
    """None when both are the same CRS. Cached by the CRS' definitions: comparing or hashing
    CRS objects writes their whole WKT each time, too slow for a call per commune."""
    key = (source.srs, target.srs)
    if key not in _TRANSFORMERS:
        same = source == target
        _TRANSFORMERS[key] = None if same else Transformer.from_crs(source, target, always_xy=True)
    return _TRANSFORMERS[key]


def reproject(geometries: np.ndarray, source: CRS, target: CRS) -> np.ndarray:
    """Reproject an array of shapely geometries (2D; a Z coordinate is dropped)."""
    transformer = _transformer(source, target)
    if transformer is None:
        return shapely.force_2d(geometries)

    def project(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    def in_threads(coords: np.ndarray) -> np.ndarray:
        threads = min(os.cpu_count() or 1, -(-len(coords) // THREADED))
        if threads < 2:
            return project(coords)
        # (each point alone: the same numbers; the first part in this thread, whose PROJ
        # transformer is made: pyproj makes one per thread, ~8 ms each)
        first, *others = np.array_split(coords, threads)
        with ThreadPoolExecutor(threads - 1) as pool:
            rest = pool.map(project, others)
            return np.concatenate([project(first), *rest])

    return shapely.transform(geometries, in_threads)


THREADED = 100_000
"""Coordinates per thread at least: PROJ releases the GIL, and pyproj's transformers are
thread-safe since 3.1 (at ~8 ms for each new thread's own). Nord's tile layers (512,407
points, Lambert-93 to Web Mercator, in one call): 0.19 s in one thread, 0.11 s in two (2-core
VM, ``/tmp`` probe, three rounds)."""


def wgs84_bounds(geometry: shapely.Geometry) -> tuple[float, float, float, float]:
    """(west, south, east, north) in degrees, rounded to about 10 cm."""
    projected = reproject(np.array([geometry], dtype=object), LAMBERT_93, WGS84)[0]
    return tuple(round(v, 6) for v in projected.bounds)  # type: ignore[return-value]
