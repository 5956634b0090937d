"""Write the demo territory: fictitious communes and fictitious SRCE-TVB layers.

Everything here is invented, from pure geometry: no randomness, no external data. The layers
follow the same schema as the test data in ../shared/data (five layers of a COVADIS-like
"standard SRCE"), so the shared legend ``layers/legendes/srce-ddtm59.yml`` works unchanged.

Outputs, in this folder unless ``--out`` is given:

- ``communes.geojson``: 13 communes tiling a ~15 km x 12 km territory, EPSG:4326. One of them,
  Haute-Fresnoye (00001), deliberately meets no SRCE feature, to show a commune page with nothing.
- ``srce_fictif.gpkg``: the five SRCE layers, EPSG:2154 (Lambert-93); every feature carries
  ``ID_SRCE = 'FICTIF'``.

Run: ``.venv/bin/python layers/demo/make_demo.py`` (from the project root).
"""

from __future__ import annotations

import argparse
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry

HERE = Path(__file__).resolve().parent

# Centre of the fictitious territory in Lambert-93, in the Nord département's range of coordinates
# so that maps, scales and reprojections behave as they would for real data.
CENTRE_X = 720_000.0
CENTRE_Y = 7_030_000.0

# Every SRCE feature is marked so that the site shows its "données fictives" banner.
FICTIF = "FICTIF"

# Communes in the order of their seeds (north-west to south-east). Codes start with "00", which no
# real INSEE code does, so a demo page can never be mistaken for a real commune's page.
# Seeds are offsets in metres from the centre: a hand-placed jittered grid, 4 + 5 + 4 cells.
COMMUNES: tuple[tuple[str, str, str, tuple[float, float]], ...] = (
    ("00001", "Haute-Fresnoye", "00110", (-5200.0, 3300.0)),
    ("00002", "Bois-l'Abbesse", "00120", (-1800.0, 4200.0)),
    ("00003", "Quérémont", "00130", (1700.0, 3800.0)),
    ("00004", "Sorinval-la-Chaussée", "00140", (5000.0, 2900.0)),
    ("00005", "Marlières-d'en-Haut", "00150", (-6000.0, -300.0)),
    ("00006", "L'Épinoy-sur-Rhonelle", "00160;00161", (-3000.0, 700.0)),
    ("00007", "Hérinval", "00170", (200.0, 400.0)),
    ("00008", "Cœurval-lès-Marais", "00180", (3300.0, -200.0)),
    ("00009", "Aulnaie-l'Étang", "00190", (6200.0, 300.0)),
    ("00010", "Préaux-les-Saules", "00210", (-4500.0, -3600.0)),
    ("00011", "Saint-Aubin-d'Écaillon", "00220", (-1200.0, -3000.0)),
    ("00012", "Maçonville-le-Bosquet", "00230", (2000.0, -3900.0)),
    ("00013", "Saint-Amé-du-Riez", "00240", (5000.0, -3300.0)),
)

LAYER_FIELDS: dict[str, tuple[str, ...]] = {
    "reservoirs_biodiversite": (
        "ID_RESV", "ID_SRCE", "NOM_RESV", "OBJ_ASSI", "MILMAJ_NAT", "MILMAJ_REG",
        "DELIMIT", "INTERREG", "INTERNAT",
    ),
    "corridors_ecologiques": (
        "ID_CORR", "ID_SRCE", "NOM_CORR", "OBJ_ASSI", "MILMAJ_NAT", "MILMAJ_REG",
        "TYPE_CORR", "LARG_M",
    ),
    "corridors_a_renaturer": ("ID_CORR", "ID_SRCE", "OBJ_ASSI", "MILMAJ_NAT", "MILMAJ_REG"),
    "obstacles_ponctuels": ("ID_OBST", "ID_SRCE", "TYPE_OBST", "NATURE", "ID_CORR"),
    "obstacles_lineaires": ("ID_OBST", "ID_SRCE", "TYPE_OBST", "NATURE", "ID_CORR"),
}  # fmt: skip
LAYER_GEOMETRY: dict[str, str] = {
    "reservoirs_biodiversite": "MultiPolygon",
    "corridors_ecologiques": "LineString",
    "corridors_a_renaturer": "Polygon",
    "obstacles_ponctuels": "Point",
    "obstacles_lineaires": "LineString",
}

Attributes = dict[str, str | None]


@dataclass(frozen=True)
class Feature:
    geometry: BaseGeometry
    attributes: Attributes


# --- deterministic "noise" -------------------------------------------------------------------


def noise(key: str, index: int) -> float:
    """A stable pseudo-random number in [-1, 1] for (key, index).

    A hash rather than a seeded generator: NumPy does not promise the same stream across versions,
    and the committed outputs must be reproducible anywhere.
    """
    digest = hashlib.sha256(f"{key}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**63 - 1.0


def at(dx: float, dy: float) -> tuple[float, float]:
    """Lambert-93 coordinates of an offset (metres) from the territory's centre."""
    return (CENTRE_X + dx, CENTRE_Y + dy)


def rounded(geometry: BaseGeometry, grid: float = 1.0) -> BaseGeometry:
    """Snap to a metre grid: smaller files, and exact, reproducible coordinates."""
    result = shapely.set_precision(geometry, grid)
    if not result.is_valid:
        raise RuntimeError(f"geometry became invalid on the {grid} m grid: {result.wkt[:80]}")
    return result


def blob(
    key: str, centre: tuple[float, float], rx: float, ry: float, angle: float = 0.0, n: int = 48
) -> Polygon:
    """An irregular, natural-looking oval: an ellipse whose radius wobbles by a few harmonics."""
    cx, cy = at(*centre)
    phases = [math.pi * noise(key, k) for k in range(3)]
    cos_a, sin_a = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    points = []
    for i in range(n):
        theta = 2 * math.pi * i / n
        wobble = (
            1.0
            + 0.10 * math.sin(2 * theta + phases[0])
            + 0.07 * math.sin(3 * theta + phases[1])
            + 0.04 * math.sin(5 * theta + phases[2])
        )
        x, y = rx * wobble * math.cos(theta), ry * wobble * math.sin(theta)
        points.append((cx + x * cos_a - y * sin_a, cy + x * sin_a + y * cos_a))
    return Polygon(points)


def meander(key: str, waypoints: Sequence[tuple[float, float]], amplitude: float) -> LineString:
    """A smooth line through waypoints (offsets from the centre), bending gently between them."""
    points: list[tuple[float, float]] = []
    for index, (start, end) in enumerate(zip(waypoints, waypoints[1:], strict=False)):
        (x0, y0), (x1, y1) = at(*start), at(*end)
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        steps = max(4, int(length // 250))
        phase = math.pi * noise(key, index)
        for step in range(steps):
            t = step / steps
            # Zero offset at every waypoint, so the line really passes through them.
            offset = amplitude * math.sin(math.pi * t) * math.sin(2 * math.pi * t + phase)
            points.append((x0 + t * (x1 - x0) + offset * nx, y0 + t * (y1 - y0) + offset * ny))
    points.append(at(*waypoints[-1]))
    return LineString(points)


# --- communes ----------------------------------------------------------------------------------


def outline() -> Polygon:
    """The territory's outer boundary: a wobbly ellipse of about 15 km x 12 km."""
    return rounded(blob("territoire", (0.0, 0.0), 7300.0, 5800.0, angle=-8.0, n=96))


def _wiggle(line: LineString, key: str) -> LineString:
    """Bend a straight Voronoi edge so that it looks like a commune boundary.

    The offset vanishes at both ends, so edges still meet at the same nodes; it depends only on
    the edge (its key), so the two communes sharing an edge get exactly the same border.
    """
    (x0, y0), (x1, y1) = line.coords[0], line.coords[-1]
    length = math.hypot(x1 - x0, y1 - y0)
    if length < 400:
        return line
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length
    amplitude = min(300.0, 0.06 * length)
    phases = [math.pi * noise(key, k) for k in range(3)]
    steps = int(length // 150)
    points = [(x0, y0)]
    for step in range(1, steps):
        t = step / steps
        offset = (
            amplitude
            * math.sin(math.pi * t)
            * (
                math.sin(2 * math.pi * t + phases[0])
                + 0.4 * math.sin(5 * math.pi * t + phases[1])
                + 0.2 * math.sin(11 * math.pi * t + phases[2])
            )
        )
        points.append((x0 + t * (x1 - x0) + offset * nx, y0 + t * (y1 - y0) + offset * ny))
    points.append((x1, y1))
    return LineString(points)


def build_communes() -> list[tuple[str, str, str, Polygon]]:
    """Communes as (code, name, postcodes, polygon in Lambert-93), tiling the outline exactly.

    Built as a planar partition (Voronoi edges, noded with the outline, then polygonized) rather
    than by clipping cells one by one, so neighbours share the very same vertices: no gaps, no
    overlaps, even after rounding and reprojection.
    """
    boundary = outline()
    seeds = shapely.MultiPoint([at(*seed) for *_, seed in COMMUNES])
    cells = shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=boundary.buffer(5000)))
    # Snapping the whole linework to one grid nodes it: every crossing becomes a shared vertex.
    network = rounded(shapely.union_all([*shapely.boundary(cells), boundary.exterior]))
    pieces = []
    for piece in shapely.get_parts(shapely.line_merge(network)):
        # The grid snap moves nodes by up to 0.7 m, hence the 2 m tolerance.
        if not piece.within(boundary.buffer(2.0)):
            continue  # a Voronoi edge outside the territory
        if piece.within(boundary.exterior.buffer(2.0)):
            pieces.append(piece)  # a stretch of the outline: already irregular
            continue
        # Key the bends on the edge's end points, not on GEOS's output order.
        ends = sorted((round(x), round(y)) for x, y in (piece.coords[0], piece.coords[-1]))
        pieces.append(_wiggle(piece, f"limite-{ends}"))
    linework = rounded(shapely.union_all(pieces))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    if len(faces) != len(COMMUNES):
        raise RuntimeError(f"expected {len(COMMUNES)} communes, polygonize gave {len(faces)}")
    communes = []
    for code, name, postcodes, seed in COMMUNES:
        (face,) = [face for face in faces if face.contains(Point(at(*seed)))]
        communes.append((code, name, postcodes, shapely.normalize(face)))
    return communes


# --- SRCE layers ---------------------------------------------------------------------------------


def _reservoir(
    number: int,
    shape: BaseGeometry,
    name: str | None,
    objective: str,
    habitat: tuple[str, str],
    interregional: bool = False,
) -> Feature:
    milieu, sous_trame = habitat
    attributes: Attributes = {
        "ID_RESV": f"FICTIF-RS{number:04d}",
        "ID_SRCE": FICTIF,
        "NOM_RESV": name,
        "OBJ_ASSI": objective,
        "MILMAJ_NAT": milieu,
        "MILMAJ_REG": sous_trame,
        # Same codes as the test data of ../shared; the site never interprets them.
        "DELIMIT": "DS",
        "INTERREG": "T" if interregional else "F",
        "INTERNAT": "F",
    }
    return Feature(MultiPolygon(list(shapely.get_parts(rounded(shape)))), attributes)


# Sous-trames (MILMAJ_REG) with their broad type of habitat (MILMAJ_NAT).
FORETS = ("boisé", "forêts")
ZONES_HUMIDES = ("humide", "zones humides")
COURS_D_EAU = ("humide", "cours d'eau")
PRAIRIES = ("ouvert", "prairies et bocage")
PELOUSES = ("ouvert", "pelouses calcicoles")
TERRILS = ("ouvert", "terrils et autres milieux anthropiques")


def reservoirs() -> list[Feature]:
    # A forest over five communes, with a clearing that is not part of it (a hole).
    forest = blob("RS1", (-1000, 2600), 2300, 1500, angle=12).difference(
        blob("RS1-clairiere", (-700, 2750), 500, 300, angle=30)
    )
    # A marsh that crosses the territory's eastern edge, around a hamlet (a hole).
    marsh = blob("RS2", (6700, -1500), 1800, 1150, angle=-25).difference(
        blob("RS2-hameau", (6300, -1350), 260, 180)
    )
    # Two patches of hedged meadows forming one reservoir (a MultiPolygon of two parts).
    bocage = blob("RS3a", (-4700, -2400), 1300, 800, angle=40).union(
        blob("RS3b", (-3000, -4300), 900, 550, angle=-10)
    )
    wood = blob("RS5", (2900, -3000), 1400, 900, angle=20).difference(
        blob("RS5-clairiere", (3000, -2950), 380, 260, angle=-15)
    )
    meadows = blob("RS6", (-900, -900), 2200, 480, angle=-18)
    return [
        _reservoir(1, forest, "Bois de Quérémont", "01", FORETS),
        _reservoir(2, marsh, "Marais de l'Aulnaie", "01", ZONES_HUMIDES, interregional=True),
        _reservoir(3, bocage, None, "02", PRAIRIES),
        _reservoir(4, blob("RS4", (3600, 3700), 700, 420, angle=-5), None, "01", PELOUSES),
        _reservoir(5, wood, "Bois des Saules", "02", FORETS),
        _reservoir(6, meadows, "Prés de la Sorelle", "02", ZONES_HUMIDES),
        _reservoir(7, blob("RS7", (5300, 2100), 380, 320), "Terril de Sorinval", "01", TERRILS),
    ]


@dataclass(frozen=True)
class _Corridor:
    waypoints: tuple[tuple[float, float], ...]
    amplitude: float
    habitat: tuple[str, str]
    objective: str
    kind: str
    width: str | None
    name: str | None = None


# Line corridors between reservoirs; the obstacles are derived from them.
CORRIDORS: dict[str, _Corridor] = {
    # The river, the blue corridor, crossing the territory from west to east into the marsh.
    "CE0001": _Corridor(
        ((-7900, -1900), (-4200, -1300), (-900, -800), (2400, -1200), (5200, -1300), (6600, -1500)),
        220, COURS_D_EAU, "01", "linéaire", "100", "Vallée de la Sorelle",
    ),
    "CE0002": _Corridor(
        ((-1300, 1700), (600, -300), (2600, -2200)), 180, FORETS, "01", "linéaire", "50"
    ),
    "CE0003": _Corridor(
        ((1100, 3400), (2100, 3900), (3000, 3700)), 150, PELOUSES, "02", "en pas japonais", None
    ),
    "CE0004": _Corridor(
        ((-4300, -2000), (-2800, -1300), (-1700, -1000)), 120, PRAIRIES, "02", "paysager", "200"
    ),
    "CE0005": _Corridor(((4200, 3500), (5000, 2500)), 80, TERRILS, "01", "en pas japonais", None),
    # Leaves the territory to the west, as a real corridor would.
    "CE0006": _Corridor(
        ((-3100, 2100), (-4800, 600), (-8300, 0)), 150, FORETS, "01", "linéaire", "50",
        "Liaison boisée de Marlières",
    ),
}  # fmt: skip


def corridor_lines() -> dict[str, LineString]:
    return {
        f"FICTIF-{key}": rounded(meander(key, corridor.waypoints, corridor.amplitude))
        for key, corridor in CORRIDORS.items()
    }


def corridors() -> list[Feature]:
    lines = corridor_lines()
    features = []
    for key, corridor in CORRIDORS.items():
        attributes: Attributes = {
            "ID_CORR": f"FICTIF-{key}",
            "ID_SRCE": FICTIF,
            "NOM_CORR": corridor.name,
            "OBJ_ASSI": corridor.objective,
            "MILMAJ_NAT": corridor.habitat[0],
            "MILMAJ_REG": corridor.habitat[1],
            "TYPE_CORR": corridor.kind,
            "LARG_M": corridor.width,
        }
        features.append(Feature(lines[f"FICTIF-{key}"], attributes))
    return features


def corridors_to_renature() -> list[Feature]:
    # Bands about 250 m wide along links that are broken today; drawn as polygons on the map.
    bands = {
        "CR0001": (((3600, -2500), (4700, -2100), (5900, -1900)), FORETS),
        "CR0002": (((-4200, -1700), (-4300, 0), (-3700, 1500)), PRAIRIES),
        "CR0003": (((-200, -4600), (900, -3900), (1700, -3300)), ZONES_HUMIDES),
    }
    features = []
    for key, (waypoints, (milieu, sous_trame)) in bands.items():
        band = meander(key, waypoints, 120).buffer(125, quad_segs=4)
        attributes: Attributes = {
            "ID_CORR": f"FICTIF-{key}",
            "ID_SRCE": FICTIF,
            "OBJ_ASSI": "02",
            "MILMAJ_NAT": milieu,
            "MILMAJ_REG": sous_trame,
        }
        features.append(Feature(rounded(band), attributes))
    return features


def infrastructures() -> dict[str, LineString]:
    """Transport lines that cut the network: obstacles are taken where they meet it."""
    return {
        "Route à fort trafic": meander("route", ((-700, -7000), (200, 0), (-500, 7000)), 250),
        "Voie ferrée": meander("rail", ((-8500, 1000), (0, 300), (8500, -600)), 200),
    }


def _obstacle(prefix: str, number: int, nature: str, corridor: str | None) -> Attributes:
    return {
        "ID_OBST": f"FICTIF-{prefix}{number:04d}",
        "ID_SRCE": FICTIF,
        "TYPE_OBST": "ponctuel" if prefix == "OP" else "linéaire",
        "NATURE": nature,
        "ID_CORR": corridor,
    }


def _longest(geometry: BaseGeometry) -> LineString:
    parts = [part for part in shapely.get_parts(geometry) if isinstance(part, LineString)]
    return max(parts, key=lambda part: part.length)


def obstacles_lines() -> list[Feature]:
    roads = infrastructures()
    lines = corridor_lines()
    forest = reservoirs()[0].geometry
    river = lines["FICTIF-CE0001"]
    pieces: list[tuple[BaseGeometry, str, str | None]] = [
        # The road through the forest reservoir: a barrier for the whole forest, no one corridor.
        (
            roads["Route à fort trafic"].intersection(forest.buffer(150)),
            "Route à fort trafic",
            None,
        ),
        # The railway where it runs across the forest corridor.
        (
            roads["Voie ferrée"].intersection(lines["FICTIF-CE0002"].buffer(600)),
            "Voie ferrée",
            "FICTIF-CE0002",
        ),
        # A canalised stretch of the river, with its weirs and locks.
        (
            river.intersection(Point(at(2400, -1200)).buffer(900)),
            "Ouvrage hydraulique (seuil, écluse)",
            "FICTIF-CE0001",
        ),
    ]
    return [
        Feature(rounded(_longest(geometry)), _obstacle("OL", number, nature, corridor))
        for number, (geometry, nature, corridor) in enumerate(pieces, start=1)
    ]


def obstacles_points() -> list[Feature]:
    lines = corridor_lines()
    found: list[tuple[Point, str, str]] = []
    # Where a road or a railway crosses a corridor, in a fixed order (corridor, then line).
    for corridor_id, line in lines.items():
        for nature, road in infrastructures().items():
            for point in shapely.get_parts(line.intersection(road)):
                if isinstance(point, Point) and not point.is_empty:
                    found.append((point, nature, corridor_id))
    river = lines["FICTIF-CE0001"]
    for fraction, nature in ((0.12, "Seuil"), (0.33, "Moulin"), (0.86, "Seuil"), (0.62, "Écluse")):
        found.append((river.interpolate(fraction, normalized=True), nature, "FICTIF-CE0001"))
    meadow_link = lines["FICTIF-CE0004"].interpolate(0.5, normalized=True)
    found.append((meadow_link, "Zone urbanisée", "FICTIF-CE0004"))
    return [
        Feature(rounded(point), _obstacle("OP", number, nature, corridor))
        for number, (point, nature, corridor) in enumerate(found, start=1)
    ]


def build_srce() -> dict[str, list[Feature]]:
    """The five layers, keyed by layer name, in the order they are written."""
    return {
        "reservoirs_biodiversite": reservoirs(),
        "corridors_ecologiques": corridors(),
        "corridors_a_renaturer": corridors_to_renature(),
        "obstacles_ponctuels": obstacles_points(),
        "obstacles_lineaires": obstacles_lines(),
    }


# --- writing -------------------------------------------------------------------------------------


def _to_wgs84() -> Callable[[np.ndarray], np.ndarray]:
    transformer = Transformer.from_crs("EPSG:2154", "EPSG:4326", always_xy=True)

    def transform(coords: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(coords[:, 0], coords[:, 1])
        # 6 decimals (~0.1 m). Shared vertices are the same input, so they stay the same output.
        return np.round(np.column_stack([lon, lat]), 6)

    return transform


def write_communes(path: Path) -> None:
    transform = _to_wgs84()
    codes, names, postcodes, geometries = [], [], [], []
    for code, name, postcode, polygon in build_communes():
        # Exterior rings counter-clockwise, as RFC 7946 asks; normalize() fixed the start vertex.
        polygon = shapely.orient_polygons(shapely.transform(polygon, transform))
        if not polygon.is_valid:
            raise RuntimeError(f"commune {name} is not valid after reprojection")
        codes.append(code)
        names.append(name)
        postcodes.append(postcode)
        geometries.append(polygon)
    path.unlink(missing_ok=True)
    pyogrio.raw.write(
        path,
        geometry=shapely.to_wkb(np.array(geometries, dtype=object)),
        field_data=[np.array(values, dtype=object) for values in (codes, names, postcodes)],
        fields=["code", "nom", "codes_postaux"],
        layer="communes_demo",
        driver="GeoJSON",
        geometry_type="Polygon",
        crs="EPSG:4326",
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": 6},
    )


def write_srce(path: Path) -> None:
    path.unlink(missing_ok=True)
    # GeoPackage stamps "last_change" with the current time; pin it so that reruns give the same
    # bytes (with this GDAL at least), then unset it so the rest of the process is unaffected.
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2016-09-30T00:00:00Z"})
    try:
        for index, (layer, features) in enumerate(build_srce().items()):
            fields = LAYER_FIELDS[layer]
            columns = [np.array([f.attributes[n] for f in features], dtype=object) for n in fields]
            pyogrio.raw.write(
                path,
                geometry=shapely.to_wkb(np.array([f.geometry for f in features], dtype=object)),
                field_data=columns,
                fields=list(fields),
                layer=layer,
                driver="GPKG",
                geometry_type=LAYER_GEOMETRY[layer],
                crs="EPSG:2154",
                append=index > 0,
                # No R-tree: it would double the file for a few dozen features read whole anyway.
                layer_options={"SPATIAL_INDEX": "NO"},
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    parser.add_argument("--communes-only", action="store_true", help="write communes.geojson only")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    write_communes(args.out / "communes.geojson")
    if not args.communes_only:
        write_srce(args.out / "srce_fictif.gpkg")


if __name__ == "__main__":
    main()
