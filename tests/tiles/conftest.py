"""The tile engine's test cases: layers with known shapes around Valenciennes, the demo pyramid
built once for the session, and decoders (mapbox_vector_tile, mercantile, shapely: computed
independently of the engine). Test modules import the helpers from here (tests/tiles is a package);
pytest finds the fixtures itself."""

from __future__ import annotations

import math
from pathlib import Path

import mapbox_vector_tile
import mercantile
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box

from trame.tiles import TileLayer, TileStats, build_tiles

MINZOOM, MAXZOOM = 5, 12
EXTENT, BUFFER = 4096, 64
LON, LAT = 3.5236, 50.3579  # Valenciennes
POINT_LONLAT = (3.5211, 50.3622)


def xy(lon: float, lat: float) -> tuple[float, float]:
    return mercantile.xy(lon, lat)


def star(cx: float, cy: float, radii: list[float], phase: float = 0.0) -> Polygon:
    """A star-shaped polygon around (cx, cy), one vertex per radius at even angles."""
    n = len(radii)
    return Polygon(
        [
            (
                cx + r * math.cos(phase + 2 * math.pi * i / n),
                cy + r * math.sin(phase + 2 * math.pi * i / n),
            )
            for i, r in enumerate(radii)
        ]
    )


def crossing_polygon() -> Polygon:
    """A polygon around the corner shared by four z12 tiles (so it crosses tile borders at
    several zooms), with a hole."""
    t = mercantile.tile(LON, LAT, 12)
    corner = mercantile.xy_bounds(t)
    r = (corner.right - corner.left) * 0.3
    outer = star(corner.left, corner.top, [r, 0.8 * r, r, 0.9 * r] * 8, phase=0.1)
    hole = star(corner.left + r / 3, corner.top, [r / 5] * 12)
    return Polygon(outer.exterior.coords, [hole.exterior.coords])


def thin_polygon() -> Polygon:
    """2 m wide, 12 km long: a sliver at every zoom here but the last ones."""
    cx, cy = xy(LON, LAT)
    return Polygon(
        [
            (cx - 6000, cy - 1500),
            (cx + 6000, cy - 1000),
            (cx + 6000, cy - 998),
            (cx - 6000, cy - 1498),
        ]
    )


def demo_layers() -> list[TileLayer]:
    cx, cy = xy(LON, LAT)
    rng = np.random.default_rng(7)
    polygons = [crossing_polygon()]
    for i in range(30):  # irregular polygons of ~100 vertices spread over ~20 km
        px, py = cx + rng.uniform(-10_000, 10_000), cy + rng.uniform(-10_000, 10_000)
        polygons.append(star(px, py, list(rng.uniform(200, 900, 100)), phase=i))
    polygons.append(box(cx + 3000, cy - 3000, cx + 3001, cy - 2999))  # 1 m square: tiny at z5
    polygons.append(thin_polygon())
    polygons.append(
        shapely.MultiPolygon(
            [box(cx, cy, cx + 500, cy + 500), box(cx + 700, cy, cx + 900, cy + 300)]
        )
    )
    communes = TileLayer(
        "communes",
        np.array(polygons, dtype=object),
        [
            {"nom": f"Commune {i}", "code": f"59{i:03d}", "rang": i, "part": i / 7}
            for i in range(len(polygons))
        ],
    )
    line = LineString([(cx - 12_000 + 400 * i, cy + 3000 * math.sin(i / 5)) for i in range(60)])
    tiny_line = LineString([(cx + 4000, cy + 4000), (cx + 4001, cy + 4000)])  # 1 m long
    corridors = TileLayer(
        "corridors",
        np.array([line, tiny_line], dtype=object),
        [{"type": "fonctionnel", "large": True}, {"type": "court", "large": False}],
    )
    px, py = xy(*POINT_LONLAT)
    points = TileLayer(
        "obstacles",
        np.array([Point(px, py), Point(cx - 5000, cy + 4000)], dtype=object),
        [{"nature": "Seuil"}, {"nature": "Écluse"}],
    )
    return [communes, corridors, points]


def build(out: Path, **kwargs) -> TileStats:
    return build_tiles(
        demo_layers(),
        minzoom=MINZOOM,
        maxzoom=MAXZOOM,
        directory=out / "tiles",
        pmtiles_path=out / "demo.pmtiles",
        name="demo",
        description="Données de test",
        attribution="Trame tests",
        progress=False,
        **kwargs,
    )


def read_dir(directory: Path) -> dict[tuple[int, int, int], bytes]:
    return {
        (int(p.parent.parent.name), int(p.parent.name), int(p.stem)): p.read_bytes()
        for p in directory.glob("*/*/*.pbf")
    }


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TileStats, dict]:
    out = tmp_path_factory.mktemp("tiles")
    stats = build(out, workers=1)
    return out, stats, read_dir(out / "tiles")


def decode(data: bytes) -> dict:
    return mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})


def features_where(
    tiles: dict, layer: str, field: str, value: object
) -> dict[tuple[int, int, int], list]:
    """The features of ``layer`` whose property ``field`` is ``value``, per tile."""
    found = {}
    for key, data in tiles.items():
        layer_data = decode(data).get(layer)
        features = layer_data["features"] if layer_data else []
        hits = [f for f in features if f["properties"].get(field) == value]
        if hits:
            found[key] = hits
    return found


def signed_area(ring: list) -> float:
    """Surveyor's formula in tile coordinates (y down), as the MVT spec defines it."""
    return (
        sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))
        / 2
    )


def buffered_tile_box(t: mercantile.Tile) -> Polygon:
    b = mercantile.xy_bounds(t)
    pad = (b.right - b.left) * BUFFER / EXTENT
    return box(b.left - pad, b.bottom - pad, b.right + pad, b.top + pad)


def dust_layers() -> list[TileLayer]:
    """400 points and 150 squares of 3 to 40 m in a 3 km square, and one 2 km polygon."""
    cx, cy = xy(LON, LAT)
    rng = np.random.default_rng(3)
    points = rng.uniform(-1500, 1500, (400, 2)) + (cx, cy)
    corners = rng.uniform(-1500, 1500, (150, 2)) + (cx, cy)
    sides = rng.uniform(3, 40, 150)
    squares = list(shapely.box(*corners.T, *(corners + sides[:, None]).T))
    squares.append(box(cx - 1000, cy - 1000, cx + 1000, cy + 1000))
    return [
        TileLayer(
            "points",
            shapely.points(points),
            [{"n": i} for i in range(400)],
        ),
        TileLayer(
            "squares",
            np.array(squares, dtype=object),
            [{"n": i} for i in range(151)],
        ),
    ]
