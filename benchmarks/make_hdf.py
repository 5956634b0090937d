"""Fictitious SRCE layers over real communes, for scale runs: the 3,808 communes of
Hauts-de-France, or the 35,228 of metropolitan France.

    .venv/bin/python benchmarks/make_hdf.py                 # writes /tmp/trame-hdf
    make build CONFIG=layers/hauts-de-france.yml DATA_DIR=/tmp/trame-hdf
    .venv/bin/python benchmarks/make_hdf.py --territory france   # writes /tmp/trame-france
    make build CONFIG=layers/france.yml DATA_DIR=/tmp/trame-france

Writes, into ``--out`` (default ``/tmp/trame-hdf`` or ``/tmp/trame-france``; never into the
repository):

- ``srce_fictif.gpkg``: the five layers of the shared Nord test data (same layer names, fields
  and value lists, EPSG:2154), spread over the region with the Nord data's density per km²
  (692 reservoirs, 435 corridors, 192 corridor bands, 775 point and 456 line obstacles for
  5,768 km²) and shapes like theirs: reservoirs are MultiPolygons of ~400 vertices (~1.4 km
  across, some with a hole, a few of two parts), corridors smooth 201-vertex lines of 1–3 km,
  corridor bands buffered lines, obstacles on the corridors. Every feature has
  ``ID_SRCE = 'FICTIF'``.
- ``communes.geojson``: a symbolic link to ``../shared/data/hauts-de-france/communes.geojson``
  or ``../shared/data/france/communes-2018.geojson`` (read where it is, never copied).

France (543,900 km², 94 × Nord): ~65,000 reservoirs, ~41,000 corridors, ~18,000 corridor
bands, ~73,000 point and ~43,000 line obstacles, ~38 million vertices, in about a minute.

Deterministic: a fixed seed, and the GeoPackage's timestamp pinned, so reruns give the same
bytes (with this GDAL).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from common import SHARED_DATA, need
from pyproj import Transformer

NORD_KM2 = 5768.0
PER_KM2 = {  # features of the shared Nord test data per km²
    "reservoirs_biodiversite": 692 / NORD_KM2,
    "corridors_ecologiques": 435 / NORD_KM2,
    "corridors_a_renaturer": 192 / NORD_KM2,
    "obstacles_ponctuels": 775 / NORD_KM2,
    "obstacles_lineaires": 456 / NORD_KM2,
}
SOUS_TRAMES = {  # MILMAJ_NAT -> MILMAJ_REG, as in the Nord data
    "boisé": "forêts",
    "ouvert": "prairies et bocage",
    "humide": "zones humides",
    "anthropique": "terrils et autres milieux anthropiques",
    "calcicole": "coteaux calcaires",
}
NATURES = [
    "Voie ferrée", "Autoroute", "Route à fort trafic", "Zone urbanisée", "Seuil", "Écluse",
    "Canal", "Barrage",
]  # fmt: skip


def _sample_inside(rng: np.random.Generator, region: shapely.Geometry, n: int) -> np.ndarray:
    """``n`` points uniformly inside ``region`` (rejection sampling over its bounds)."""
    minx, miny, maxx, maxy = region.bounds
    shapely.prepare(region)
    found: list[np.ndarray] = []
    count = 0
    while count < n:
        xy = rng.uniform((minx, miny), (maxx, maxy), (2 * n, 2))
        xy = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        found.append(xy)
        count += len(xy)
    return np.concatenate(found)[:n]


def _wiggly_ring(rng: np.random.Generator, cx: float, cy: float, radius: float, n: int):
    """A closed ring of ``n`` vertices: a few smooth harmonics plus small noise."""
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in (2, 3, 5, 9, 17):
        r += rng.uniform(0.02, 0.12) / math.sqrt(k) * np.sin(k * theta + rng.uniform(0, 6.3))
    r += rng.normal(0, 0.01, n)
    return np.column_stack([cx + radius * r * np.cos(theta), cy + radius * r * np.sin(theta)])


def _reservoir(rng: np.random.Generator, cx: float, cy: float) -> shapely.Geometry:
    radius = float(np.exp(rng.normal(math.log(650), 0.45)))
    shell = _wiggly_ring(rng, cx, cy, radius, 400)
    holes = []
    if rng.random() < 0.1:
        holes.append(_wiggly_ring(rng, cx, cy, 0.3 * radius, 60)[::-1])
    parts = [shapely.Polygon(shell, holes)]
    if rng.random() < 0.05:
        angle = rng.uniform(0, 6.3)
        ox, oy = cx + 2.2 * radius * math.cos(angle), cy + 2.2 * radius * math.sin(angle)
        parts.append(shapely.Polygon(_wiggly_ring(rng, ox, oy, 0.5 * radius, 200)))
    return shapely.MultiPolygon([shapely.make_valid(p) if not p.is_valid else p for p in parts])


def _smooth_line(rng: np.random.Generator, x: float, y: float, n: int = 201) -> np.ndarray:
    length = rng.uniform(800, 3200)
    heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.05, n - 1))
    step = length / (n - 1)
    xy = np.zeros((n, 2))
    xy[0] = (x, y)
    xy[1:] = (x, y) + np.cumsum(np.column_stack([np.cos(heading), np.sin(heading)]) * step, 0)
    return xy


def build(communes_path: Path, seed: int) -> dict[str, tuple[list[str], list, list[list]]]:
    """{layer: (field names, geometries, one column of values per field)}."""
    rng = np.random.default_rng(seed)
    raw = pyogrio.raw.read(communes_path)
    to_l93 = Transformer.from_crs(4326, 2154, always_xy=True)
    communes = shapely.transform(
        shapely.from_wkb(raw[2]), lambda xy: np.column_stack(to_l93.transform(*xy.T))
    )
    region = shapely.union_all(shapely.make_valid(communes))
    km2 = region.area / 1e6
    count = {layer: round(density * km2) for layer, density in PER_KM2.items()}
    layers = {}

    natures = list(SOUS_TRAMES)
    centres = _sample_inside(rng, region, count["reservoirs_biodiversite"])
    geoms, rows = [], []
    for i, (cx, cy) in enumerate(centres, 1):
        geoms.append(_reservoir(rng, cx, cy))
        nat = natures[rng.integers(len(natures))]
        named = rng.random() < 0.35
        rows.append([
            f"FICTIF-RS{i:05d}", "FICTIF",
            f"Réservoir {SOUS_TRAMES[nat]} n°{i}" if named else None,
            "01" if rng.random() < 0.68 else "02", nat, SOUS_TRAMES[nat],
            "DG" if rng.random() < 0.5 else "DS", "F", "T" if rng.random() < 0.1 else "F",
        ])  # fmt: skip
    layers["reservoirs_biodiversite"] = (
        ["ID_RESV", "ID_SRCE", "NOM_RESV", "OBJ_ASSI", "MILMAJ_NAT", "MILMAJ_REG", "DELIMIT",
         "INTERREG", "INTERNAT"],
        geoms, rows,
    )  # fmt: skip

    starts = _sample_inside(rng, region, count["corridors_ecologiques"])
    lines, geoms, rows = [], [], []
    for i, (x, y) in enumerate(starts, 1):
        line = shapely.LineString(_smooth_line(rng, x, y))
        lines.append((f"FICTIF-CL{i:05d}", line))
        nat = natures[rng.integers(len(natures))]
        geoms.append(line)
        rows.append([
            f"FICTIF-CL{i:05d}", "FICTIF", None, "01", nat, SOUS_TRAMES[nat],
            ["fonctionnel", "à restaurer", "potentiel"][rng.integers(3)],
            [None, "50", "100", "200"][rng.integers(4)],
        ])  # fmt: skip
    layers["corridors_ecologiques"] = (
        ["ID_CORR", "ID_SRCE", "NOM_CORR", "OBJ_ASSI", "MILMAJ_NAT", "MILMAJ_REG", "TYPE_CORR",
         "LARG_M"],
        geoms, rows,
    )  # fmt: skip

    starts = _sample_inside(rng, region, count["corridors_a_renaturer"])
    geoms, rows = [], []
    for i, (x, y) in enumerate(starts, 1):
        band = shapely.LineString(_smooth_line(rng, x, y, 80)).buffer(
            rng.uniform(50, 125), quad_segs=8
        )
        geoms.append(shapely.MultiPolygon([band]))
        nat = natures[rng.integers(len(natures))]
        rows.append([f"FICTIF-CR{i:05d}", "FICTIF", "02", nat, SOUS_TRAMES[nat]])
    layers["corridors_a_renaturer"] = (
        ["ID_CORR", "ID_SRCE", "OBJ_ASSI", "MILMAJ_NAT", "MILMAJ_REG"], geoms, rows
    )  # fmt: skip

    geoms, rows = [], []
    for i in range(1, count["obstacles_ponctuels"] + 1):
        corridor, line = lines[rng.integers(len(lines))]
        geoms.append(line.interpolate(rng.uniform(0, 1), normalized=True))
        nature = NATURES[rng.integers(len(NATURES))]
        rows.append([f"FICTIF-OP{i:05d}", "FICTIF", "ponctuel", nature, corridor])
    layers["obstacles_ponctuels"] = (
        ["ID_OBST", "ID_SRCE", "TYPE_OBST", "NATURE", "ID_CORR"], geoms, rows
    )  # fmt: skip

    geoms, rows = [], []
    for i in range(1, count["obstacles_lineaires"] + 1):
        corridor, line = lines[rng.integers(len(lines))]
        at = line.interpolate(rng.uniform(0, 1), normalized=True)
        angle, half = rng.uniform(0, np.pi), rng.uniform(400, 850)
        dx, dy = half * math.cos(angle), half * math.sin(angle)
        geoms.append(shapely.LineString([(at.x - dx, at.y - dy), (at.x + dx, at.y + dy)]))
        nature = NATURES[rng.integers(4)]
        rows.append([f"FICTIF-OL{i:05d}", "FICTIF", "linéaire", nature, corridor])
    layers["obstacles_lineaires"] = (
        ["ID_OBST", "ID_SRCE", "TYPE_OBST", "NATURE", "ID_CORR"], geoms, rows
    )  # fmt: skip
    return layers


def write(out: Path, layers: dict) -> None:
    path = out / "srce_fictif.gpkg"
    path.unlink(missing_ok=True)
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2016-09-30T00:00:00Z"})
    try:
        for index, (layer, (fields, geoms, rows)) in enumerate(layers.items()):
            columns = [np.array([row[k] for row in rows], dtype=object) for k in range(len(fields))]
            kind = {6: "MultiPolygon", 1: "LineString", 0: "Point"}[shapely.get_type_id(geoms[0])]
            pyogrio.raw.write(
                path,
                geometry=shapely.to_wkb(np.array(geoms, dtype=object)),
                field_data=columns,
                fields=fields,
                layer=layer,
                driver="GPKG",
                geometry_type=kind,
                crs="EPSG:2154",
                append=index > 0,
            )
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


TERRITORIES = {  # --territory: (communes file below the shared data, default output, config)
    "hdf": ("hauts-de-france/communes.geojson", "/tmp/trame-hdf", "hauts-de-france"),
    "france": ("france/communes-2018.geojson", "/tmp/trame-france", "france"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--territory", choices=sorted(TERRITORIES), default="hdf")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=2016)
    arguments = parser.parse_args()
    source, default_out, config = TERRITORIES[arguments.territory]
    arguments.out = arguments.out or Path(default_out)
    communes = need(SHARED_DATA / source).resolve()
    started = time.perf_counter()
    arguments.out.mkdir(parents=True, exist_ok=True)
    link = arguments.out / "communes.geojson"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(communes)
    layers = build(communes, arguments.seed)
    write(arguments.out, layers)
    sizes = ", ".join(f"{name} {len(g)}" for name, (_, g, _) in layers.items())
    print(f"{arguments.out}: {sizes} ({time.perf_counter() - started:.1f} s)")
    print(
        f"build it: make build CONFIG=layers/{config}.yml DATA_DIR={arguments.out} "
        f"OUTPUT={arguments.out}-site"
    )


if __name__ == "__main__":
    main()
