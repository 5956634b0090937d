"""Tile engine: decoded tiles against independently computed expectations (mercantile, shapely),
the PMTiles archive against the z/x/y files, determinism, and a property test on clipping."""

from __future__ import annotations

import gzip
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import mapbox_vector_tile
import mercantile
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType
from shapely.geometry import LineString, Point, Polygon, box, shape

from trame.kinds import LINE, POINT, POLYGON
from trame.tiles import TileLayer, TileStats, build_tiles
from trame.tiles.encode import encode_layer, geometry_commands, tile_message
from trame.tiles.render import PIXEL, BlockTask, LayerChunk, render_block
from trame.tiles.shape import simplify_for_zoom

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


@pytest.fixture(scope="module")
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


def test_every_tile_decodes_with_its_layers_and_properties(built):
    _, stats, tiles = built
    assert tiles and all(MINZOOM <= z <= MAXZOOM for z, _, _ in tiles)
    names = set()
    for data in tiles.values():
        decoded = decode(data)
        assert decoded, "empty tiles must not be written"
        for name, layer in decoded.items():
            assert layer["extent"] == EXTENT and layer["version"] == 2 and layer["features"]
            names.add(name)
    assert names == {"communes", "corridors", "obstacles"}
    any_commune = next(iter(features_where(tiles, "communes", "rang", 5).values()))[0]
    assert any_commune["properties"] == {
        "code": "59005",
        "nom": "Commune 5",
        "part": 5 / 7,
        "rang": 5,
    }
    assert stats.tiles == len(tiles)
    assert {s.zoom: s.tiles for s in stats.zooms} == {
        z: sum(1 for k in tiles if k[0] == z) for z in range(MINZOOM, MAXZOOM + 1)
    }
    assert stats.bytes == sum(map(len, tiles.values()))
    assert stats.max_tile_bytes == max(map(len, tiles.values()))
    assert "tiles" in stats.summary()


def test_known_point_round_trips_within_one_unit(built):
    _, _, tiles = built
    lon, lat = POINT_LONLAT
    for z in range(MINZOOM, MAXZOOM + 1):
        t = mercantile.tile(lon, lat, z)
        b = mercantile.xy_bounds(t)
        px, py = mercantile.xy(lon, lat)
        expected = (
            (px - b.left) / (b.right - b.left) * EXTENT,
            (b.top - py) / (b.top - b.bottom) * EXTENT,
        )
        layer = decode(tiles[(z, t.x, t.y)])["obstacles"]
        (feature,) = [f for f in layer["features"] if f["properties"] == {"nature": "Seuil"}]
        x, y = feature["geometry"]["coordinates"]
        assert abs(x - expected[0]) <= 0.5 + 1e-9 and abs(y - expected[1]) <= 0.5 + 1e-9, (
            z,
            x,
            y,
            expected,
        )


def test_polygons_are_valid_with_mvt_v2_winding(built):
    _, _, tiles = built
    checked = 0
    for data in tiles.values():
        for layer in decode(data)["communes"]["features"] if "communes" in decode(data) else []:
            geometry = layer["geometry"]
            polygons = (
                [geometry["coordinates"]]
                if geometry["type"] == "Polygon"
                else geometry["coordinates"]
            )
            for rings in polygons:
                exterior, *holes = [ring[:-1] for ring in rings]
                assert signed_area(exterior) > 0, "exterior rings need positive area (y down)"
                assert all(signed_area(h) < 0 for h in holes), "holes need negative area"
                checked += 1
            assert shape(geometry).is_valid
    assert checked > 100


def test_polygon_crossing_tile_borders_is_in_exactly_the_tiles_it_touches(built):
    _, _, tiles = built
    polygon = crossing_polygon()
    found = features_where(tiles, "communes", "rang", 0)
    west, south, east, north = mercantile.bounds(mercantile.tile(LON, LAT, 12))
    for z in range(MINZOOM, MAXZOOM + 1):
        candidates = mercantile.tiles(west - 0.1, south - 0.1, east + 0.1, north + 0.1, z)
        expected = set()
        for t in candidates:
            overlap = buffered_tile_box(t).intersection(polygon).area
            unit = ((mercantile.xy_bounds(t).right - mercantile.xy_bounds(t).left) / EXTENT) ** 2
            assert overlap == 0 or overlap > 4 * unit, "test polygon too close to a tile edge"
            if overlap:
                expected.add((z, t.x, t.y))
        assert {k for k in found if k[0] == z} == expected
    assert sum(1 for k in found if k[0] == MAXZOOM) == 4  # it sits on a corner of four tiles
    # and the visible parts put back together are the polygon (within a few units of area)
    pieces = []
    for (z, x, y), (feature, *_) in found.items():
        if z != MAXZOOM:
            continue
        b = mercantile.xy_bounds(x, y, z)
        k = (b.right - b.left) / EXTENT
        local = shapely.affinity.affine_transform(
            shape(feature["geometry"]), [k, 0, 0, -k, b.left, b.top]
        )
        pieces.append(local.intersection(box(b.left, b.bottom, b.right, b.top)))
    assert shapely.union_all(pieces).symmetric_difference(polygon).area < polygon.area * 0.01


def test_tiny_polygon_is_never_dropped_silently(built):
    """A 1 m square is in its tile at the last zoom and wherever it has its pixel to itself;
    where thinning leaves it out, a feature of its layer fills that pixel and it is counted."""
    _, stats, tiles = built
    found = features_where(tiles, "communes", "rang", 31)
    square = demo_layers()[0].geometries[31]
    thinned = {(layer, z) for layer, z, _ in stats.thinned}
    for z in range(MINZOOM, MAXZOOM + 1):
        t = mercantile.tile(*mercantile.lnglat(square.centroid.x, square.centroid.y), z)
        if (z, t.x, t.y) in found:
            continue
        assert z < MAXZOOM and ("communes", z) in thinned, z
        b = mercantile.xy_bounds(t)
        k = (b.right - b.left) / EXTENT
        px, py = (square.centroid.x - b.left) / k // PIXEL, (b.top - square.centroid.y) / k // PIXEL
        pixel = box(px * PIXEL, py * PIXEL, (px + 1) * PIXEL, (py + 1) * PIXEL).buffer(1)
        features = decode(tiles[(z, t.x, t.y)])["communes"]["features"]
        assert any(shape(f["geometry"]).intersects(pixel) for f in features), z
    assert {z for z, _, _ in found} >= set(range(MAXZOOM - 4, MAXZOOM + 1))


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


def test_thinning_keeps_every_pixel_and_counts_what_it_leaves_out(tmp_path):
    runs = {}
    for thin in (True, False):
        out = tmp_path / str(thin)
        stats = build_tiles(
            dust_layers(), minzoom=4, maxzoom=13, directory=out, pmtiles_path=tmp_path / f"{thin}.pmtiles",
            name="dust", workers=1, progress=False, thin=thin,
        )  # fmt: skip
        runs[thin] = stats, read_dir(out)
    (thin_stats, thinned), (full_stats, full) = runs[True], runs[False]
    assert thinned.keys() == full.keys()
    assert full_stats.thinned == () and all(s.thinned == 0 for s in full_stats.zooms)
    assert {k: v for k, v in thinned.items() if k[0] == 13} == {
        k: v for k, v in full.items() if k[0] == 13
    }, "nothing is thinned at the last zoom"
    by_zoom = {s.zoom: s for s in thin_stats.zooms}
    assert by_zoom[4].thinned > 400 and by_zoom[13].thinned == 0
    assert by_zoom[4].max_bytes * 5 < {s.zoom: s for s in full_stats.zooms}[4].max_bytes
    left_out = dict.fromkeys(range(4, 14), 0)
    for (z, x, y), data in full.items():
        ours = decode(thinned[(z, x, y)])
        for name, layer in decode(data).items():
            kept = {f["properties"]["n"]: shape(f["geometry"]) for f in ours[name]["features"]}
            left_out[z] += len(layer["features"]) - len(kept)
            if name == "squares" and any(f["properties"]["n"] == 150 for f in layer["features"]):
                assert 150 in kept, "the 2 km square is never thinned"
            others = np.array(list(kept.values()), dtype=object)
            for f in layer["features"]:  # whatever is left out has a kept feature in its pixel
                if f["properties"]["n"] not in kept:
                    g = shape(f["geometry"])
                    assert shapely.distance(g, others).min() <= PIXEL * 1.5 + 1
    assert left_out == {s.zoom: s.thinned for s in thin_stats.zooms}
    per_layer = {z: sum(n for _, zz, n in thin_stats.thinned if zz == z) for z in range(4, 14)}
    assert per_layer == left_out


def test_thin_polygon_stays_along_its_whole_length(built):
    _, _, tiles = built
    sliver = thin_polygon()
    found = features_where(tiles, "communes", "rang", 32)
    west, south, east, north = (
        *mercantile.lnglat(*sliver.bounds[:2]),
        *mercantile.lnglat(*sliver.bounds[2:]),
    )
    for z in range(MINZOOM, MAXZOOM + 1):
        unit = (
            mercantile.xy_bounds(mercantile.tile(LON, LAT, z)).right
            - mercantile.xy_bounds(mercantile.tile(LON, LAT, z)).left
        ) / EXTENT
        got = {k for k in found if k[0] == z}
        for t in mercantile.tiles(west - 0.2, south - 0.2, east + 0.2, north + 0.2, z):
            tile_box = buffered_tile_box(t)
            if tile_box.intersection(sliver.buffer(0.01)).length > 6 * unit:
                assert (z, t.x, t.y) in got, (z, t)
            if (z, t.x, t.y) in got:
                assert tile_box.distance(sliver) < 2 * unit
        assert got


def test_a_tile_over_budget_is_made_coarser_and_reported(tmp_path, monkeypatch):
    """With a 6 KB budget, the dense low-zoom tiles are made again with coarser tolerances and
    thinning grid until they fit; the last zoom is never thinned, so a tile there that does
    not fit is named in the notes instead."""
    monkeypatch.setattr("trame.tiles.render.MAX_TILE_BYTES", 6_000)
    monkeypatch.setattr("trame.tiles.pyramid.MAX_TILE_BYTES", 6_000)
    out = tmp_path / "t"
    stats = build_tiles(
        dust_layers(), minzoom=4, maxzoom=13, directory=out, pmtiles_path=tmp_path / "t.pmtiles",
        name="dust", workers=1, progress=False,
    )  # fmt: skip
    tiles = read_dir(out)
    assert all(len(data) <= 6_000 for (z, _, _), data in tiles.items() if z < 13)
    assert sum(s.coarser for s in stats.zooms) > 0 and stats.zooms[-1].coarser == 0
    over = [k for k, data in tiles.items() if len(data) > 6_000]
    assert over and all(z == 13 for z, _, _ in over)
    assert all(any(f"tuile {z}/{x}/{y} :" in note for note in stats.notes) for z, x, y in over)
    assert "au-delà de la taille visée" in stats.summary()
    for data in tiles.values():  # the 2 km square is never thinned
        squares = decode(data).get("squares", {"features": []})["features"]
        assert any(f["properties"]["n"] == 150 for f in squares) or not squares


def test_coverage_needs_polygons_and_a_broken_coverage_is_reported(tmp_path):
    kwargs = dict(minzoom=8, maxzoom=9, directory=tmp_path / "t", name="x", workers=1)
    kwargs |= dict(pmtiles_path=tmp_path / "t.pmtiles", progress=False)
    line = TileLayer("l", np.array([LineString([(0, 0), (1, 1)])]), [{}], coverage=True)
    with pytest.raises(ValueError, match="coverage=True needs polygons"):
        build_tiles([line], **kwargs)
    overlapping = TileLayer(
        "c", np.array([box(0, 0, 2000, 2000), box(1000, 0, 3000, 2000)]), [{}, {}], coverage=True
    )
    stats = build_tiles([overlapping], **kwargs)
    assert any("pas un pavage valide" in note for note in stats.notes)


def neighbours(coverage: bool) -> TileLayer:
    """Two 20 km squares side by side, sharing a 400-vertex wiggly border."""
    cx, cy = xy(LON, LAT)
    t = np.linspace(0, 20_000, 400)
    wiggle = 700 * np.sin(t / 900) + 250 * np.sin(t / 130) + 60 * np.cos(t / 23)
    border = np.column_stack([cx + wiggle, cy + t])
    west = Polygon([(cx - 20_000, cy), *border, (cx - 20_000, cy + 20_000)])
    east = Polygon([*border, (cx + 20_000, cy + 20_000), (cx + 20_000, cy)])
    return TileLayer(
        "communes",
        np.array([west, east], dtype=object),
        [{"nom": "Ouest"}, {"nom": "Est"}],
        coverage=coverage,
    )


def gaps_and_overlaps(tiles: dict) -> tuple[float, float]:
    """Worst gap and overlap (tile units squared) between the two squares in any tile: the two
    decoded polygons, cut to their tile, against the snapped outline of both."""
    cx, cy = xy(LON, LAT)
    worst_gap = worst_overlap = 0.0
    for (z, x, y), data in tiles.items():
        b = mercantile.xy_bounds(x, y, z)
        k = (b.right - b.left) / EXTENT
        tile = box(0, 0, EXTENT, EXTENT)
        features = decode(data)["communes"]["features"]
        found = {f["properties"]["nom"]: shape(f["geometry"]) for f in features}
        west, east = (found.get(n, Polygon()).intersection(tile) for n in ("Ouest", "Est"))
        outline = box(
            round((cx - 20_000 - b.left) / k), round((b.top - cy - 20_000) / k),
            round((cx + 20_000 - b.left) / k), round((b.top - cy) / k),
        ).intersection(tile)  # fmt: skip
        worst_overlap = max(worst_overlap, west.intersection(east).area)
        worst_gap = max(worst_gap, outline.difference(west.union(east)).area)
    return worst_gap, worst_overlap


@pytest.mark.parametrize("subtrees", [32, 1], ids=["coarse-zoom-blocks", "subtree-tasks"])
def test_coverage_keeps_shared_borders_without_gaps_or_overlaps(tmp_path, monkeypatch, subtrees):
    """Simplified once for both neighbours, then snapped: the border is the same in both
    polygons, at every zoom, in the coarse-zoom tasks and in the subtree tasks (one subtree
    task per tile of zoom 6 when SUBTREES is 1). Without the flag, each polygon is simplified
    on its own and gaps and overlaps open along the border."""
    monkeypatch.setattr("trame.tiles.pyramid.SUBTREES", subtrees)
    results = {}
    for coverage in (True, False):
        out = tmp_path / str(coverage)
        build_tiles(
            [neighbours(coverage)], minzoom=4, maxzoom=12, directory=out,
            pmtiles_path=tmp_path / f"{coverage}.pmtiles", name="x", workers=1, progress=False,
        )  # fmt: skip
        tiles = read_dir(out)
        assert {z for z, _, _ in tiles} == set(range(4, 13))
        results[coverage] = gaps_and_overlaps(tiles)
    assert results[True] == (0.0, 0.0)
    gap, overlap = results[False]
    assert gap + overlap > 10, "the test case must break plain simplification"


def line_pieces(tiles: dict, z: int, kind: str) -> list:
    """Decoded lines of the corridors layer with property type=kind, back in metres and cut
    to their tile's own (unbuffered) square."""
    pieces = []
    for (tz, x, y), data in tiles.items():
        layer = decode(data).get("corridors") if tz == z else None
        for feature in layer["features"] if layer else []:
            if feature["properties"]["type"] == kind:
                b = mercantile.xy_bounds(x, y, z)
                k = (b.right - b.left) / EXTENT
                local = shape(feature["geometry"])
                local = shapely.affinity.affine_transform(local, [k, 0, 0, -k, b.left, b.top])
                pieces.append(local.intersection(box(b.left, b.bottom, b.right, b.top)))
    return pieces


def test_lines_are_cut_at_tile_edges_and_never_vanish(built):
    _, _, tiles = built
    line = demo_layers()[1].geometries[0]
    for z in range(MINZOOM, MAXZOOM + 1):
        unit = 2 * math.pi * 6378137 / 2**z / EXTENT
        pieces = line_pieces(tiles, z, "fonctionnel")
        assert abs(sum(p.length for p in pieces) - line.length) < 60 * unit  # ~1 unit per vertex
        assert shapely.union_all(pieces).hausdorff_distance(line) < 2 * unit
        short = line_pieces(tiles, z, "court")
        assert short and all(p.length > 0 for p in short), z  # a 1 m line stays a visible stub


def test_invalid_input_is_repaired_and_mixed_kinds_are_refused(tmp_path):
    bowtie = Polygon([(0, 0), (1000, 1000), (1000, 0), (0, 1000)])
    out = tmp_path / "t"
    build_tiles(
        [
            TileLayer("bowtie", np.array([bowtie], dtype=object), [{"n": 1}]),
            TileLayer("empty", np.array([], dtype=object), []),
        ],
        minzoom=10,
        maxzoom=12,
        directory=out,
        pmtiles_path=tmp_path / "t.pmtiles",
        name="x",
        workers=1,
        progress=False,
    )
    features = [f for data in read_dir(out).values() for f in decode(data)["bowtie"]["features"]]
    assert features and all(shape(f["geometry"]).is_valid for f in features)
    with open(tmp_path / "t.pmtiles", "rb") as f:
        layers = Reader(MmapSource(f)).metadata()["vector_layers"]
    assert [layer["id"] for layer in layers] == ["bowtie", "empty"]
    mixed = TileLayer("mixed", np.array([Point(0, 0), bowtie], dtype=object), [{}, {}])
    with pytest.raises(ValueError, match="mixes geometry types"):
        build_tiles(
            [mixed],
            minzoom=0,
            maxzoom=1,
            directory=out,
            pmtiles_path=tmp_path / "m.pmtiles",
            name="x",
            workers=1,
            progress=False,
        )


def test_pmtiles_holds_the_same_tiles_and_metadata(built):
    out, _, tiles = built
    with open(out / "demo.pmtiles", "rb") as f:
        get_bytes = MmapSource(f)
        reader = Reader(get_bytes)
        header, metadata = reader.header(), reader.metadata()
        archived = {tuple(k): gzip.decompress(v) for k, v in all_tiles(get_bytes)}
    assert archived == tiles
    assert header["tile_type"] == TileType.MVT and header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (MINZOOM, MAXZOOM)
    everything = shapely.union_all([g for layer in demo_layers() for g in layer.geometries])
    minx, miny, maxx, maxy = everything.bounds
    (west, south), (east, north) = mercantile.lnglat(minx, miny), mercantile.lnglat(maxx, maxy)
    got = [header[k] / 1e7 for k in ("min_lon_e7", "min_lat_e7", "max_lon_e7", "max_lat_e7")]
    assert got[0] <= west and got[1] <= south and got[2] >= east and got[3] >= north
    assert np.allclose(got, [west, south, east, north], atol=1e-6)
    assert (
        got[0] < header["center_lon_e7"] / 1e7 < got[2]
        and got[1] < header["center_lat_e7"] / 1e7 < got[3]
    )
    assert MINZOOM <= header["center_zoom"] <= MAXZOOM
    assert metadata["name"] == "demo" and metadata["format"] == "pbf"
    assert metadata["description"] == "Données de test" and metadata["attribution"] == "Trame tests"
    assert metadata["vector_layers"] == [
        {
            "id": "communes",
            "fields": {"code": "String", "nom": "String", "part": "Number", "rang": "Number"},
            "minzoom": MINZOOM,
            "maxzoom": MAXZOOM,
        },
        {
            "id": "corridors",
            "fields": {"large": "Boolean", "type": "String"},
            "minzoom": MINZOOM,
            "maxzoom": MAXZOOM,
        },
        {"id": "obstacles", "fields": {"nature": "String"}, "minzoom": MINZOOM, "maxzoom": MAXZOOM},
    ]


def test_two_runs_and_process_pools_give_identical_bytes(built, tmp_path):
    out, _, tiles = built
    archive = (out / "demo.pmtiles").read_bytes()
    build(tmp_path / "again", workers=1)
    build(tmp_path / "two", workers=2)
    with ProcessPoolExecutor(max_workers=2) as pool:
        build(tmp_path / "given", executor=pool)
    for run in ("again", "two", "given"):
        assert read_dir(tmp_path / run / "tiles") == tiles, run
        assert (tmp_path / run / "demo.pmtiles").read_bytes() == archive, run


def test_a_dask_cluster_plugs_in_as_an_executor(built, tmp_path):
    distributed = pytest.importorskip("distributed")
    out, _, tiles = built
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        build(tmp_path, executor=client.get_executor(), workers=2)
    assert read_dir(tmp_path / "tiles") == tiles
    assert (tmp_path / "demo.pmtiles").read_bytes() == (out / "demo.pmtiles").read_bytes()


def test_the_engine_writes_into_a_new_directory_only(tmp_path, capfd):
    build(tmp_path)
    assert read_dir(tmp_path / "tiles")
    assert capfd.readouterr() == ("", ""), "progress=False prints nothing, even from workers"
    with pytest.raises(FileExistsError):
        build(tmp_path)  # staging and swapping belong to the build's tile step


def test_rejects_properties_mapbox_vector_tile_would_drop(tmp_path):
    layer = TileLayer("bad", np.array([Point(0, 0)], dtype=object), [{"name": None}])
    with pytest.raises(TypeError, match="name"):
        build_tiles(
            [layer],
            minzoom=0,
            maxzoom=1,
            directory=tmp_path / "t",
            pmtiles_path=tmp_path / "t.pmtiles",
            name="x",
            workers=1,
            progress=False,
        )


def test_encoder_gives_the_bytes_mapbox_vector_tile_gives():
    polygons = np.array(
        [
            shapely.orient_polygons(
                Polygon(
                    [(0, 0), (100, 0), (100, 100), (0, 100)],
                    [[(10, 10), (10, 20), (20, 20), (20, 10)]],
                )
            ),
            shapely.orient_polygons(
                shapely.MultiPolygon([box(200, 200, 300, 260), box(-60, 4000, 10, 4150)])
            ),
        ],
        dtype=object,
    )
    lines = np.array(
        [
            LineString([(5, 5), (5, 5), (300, 40), (4100, -30)]),
            shapely.MultiLineString([[(0, 0), (1, 1)], [(9, 9), (20, 2)]]),
        ],
        dtype=object,
    )
    points = np.array([Point(3, 4), shapely.MultiPoint([(1, 1), (4095, 4095)])], dtype=object)
    props = [
        (("a", "x"), ("b", -3), ("c", 2.5)),
        (("a", "y"), ("b", 7), ("d", True)),
    ]
    layers = [
        ("polygons", POLYGON, polygons, props),
        ("lines", LINE, lines, props[::-1]),
        ("points", POINT, points, props),
    ]
    messages, counts = [], {}
    for name, kind, geometries, properties in layers:
        data, counts[name] = encode_layer(
            name, kind, geometry_commands(geometries, kind), properties
        )
        messages.append(data)
    ours = tile_message(messages)
    theirs = mapbox_vector_tile.encode(
        [
            {
                "name": name,
                "features": [
                    {"geometry": g, "properties": dict(p)}
                    for g, p in zip(geometries, properties, strict=True)
                ],
            }
            for name, _, geometries, properties in layers
        ],
        default_options={"y_coord_down": True, "check_winding_order": False},
    )
    assert ours == theirs
    assert counts == {"polygons": 2, "lines": 2, "points": 2}


TILE = mercantile.tile(LON, LAT, 10)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    z=st.integers(4, 14),
    centre=st.tuples(st.floats(-800, 4900), st.floats(-800, 4900)),
    base=st.floats(0.2, 3000),
    spread=st.sampled_from([2.0, 5.0, 50.0, 2000.0]),
    jitter=st.lists(st.floats(-1, 1), min_size=3, max_size=300),
    phase=st.floats(0, 6.3),
)
def test_any_polygon_clipped_and_encoded_stays_within_two_units(
    z, centre, base, spread, jitter, phase
):
    """Star-shaped polygon in tile units of one tile, through the real pipeline (cascaded
    simplification from z14, block clip, snapping, repair, encoding), then decoded: it must be
    valid, wound for MVT v2, and within 2 tile units of the exact clip both ways (dilation
    contains it; it contains the erosion, so slivers thinner than 4 units may go)."""
    # near-circles with wiggles of a few units (like real boundaries) to wild stars with spikes
    polygon_units = star(*centre, [max(0.1, base + spread * j) for j in jitter], phase)
    if not polygon_units.is_valid:
        return
    t = mercantile.tile(LON, LAT, z)
    b = mercantile.xy_bounds(t)
    k = (b.right - b.left) / EXTENT
    to_metres = [k, 0, 0, -k, b.left, b.top]
    geoms = np.array([shapely.affinity.affine_transform(polygon_units, to_metres)], dtype=object)
    for zoom in range(14, z - 1, -1):
        geoms = simplify_for_zoom(geoms, POLYGON, zoom)
    chunk = LayerChunk("p", POLYGON, geoms, [(("k", 1),)])
    tiles = render_block(BlockTask(z, (t.x, t.y, t.x, t.y), (chunk,)))
    expected = polygon_units.intersection(box(-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER))
    decoded = Polygon()
    if tiles:
        (feature,) = decode(tiles[0].data)["p"]["features"]
        decoded = shape(feature["geometry"])
        assert decoded.is_valid and decoded.area > 0
        for part in [decoded] if decoded.geom_type == "Polygon" else decoded.geoms:
            assert signed_area(list(part.exterior.coords)[:-1]) > 0
            assert all(signed_area(list(h.coords)[:-1]) < 0 for h in part.interiors)
    assert decoded.difference(expected.buffer(2)).area < 1e-6
    assert expected.buffer(-2).difference(decoded).area < 1e-6


def test_vectorised_tile_ids_are_the_pmtiles_ones():
    from pmtiles.tile import zxy_to_tileid

    from trame.tiles.archive import tile_ids

    rng = np.random.default_rng(5)
    for z in range(0, 25, 3):
        x, y = rng.integers(0, 1 << z, (2, 50))
        expected = [zxy_to_tileid(z, a, b) for a, b in zip(x.tolist(), y.tolist(), strict=True)]
        assert tile_ids(z, x, y).tolist() == expected
