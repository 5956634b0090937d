"""Rendering a block of tiles: clipping at tile borders, thinning to one feature per pixel,
lines cut at tile edges, and a property test on clipping and encoding any polygon."""

from __future__ import annotations

import math

import mercantile
import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box, shape

from trame.kinds import POLYGON
from trame.tiles import build_tiles
from trame.tiles.render import PIXEL, BlockTask, LayerChunk, render_block, shared
from trame.tiles.shape import simplify_for_zoom

from .conftest import (
    BUFFER,
    EXTENT,
    LAT,
    LON,
    MAXZOOM,
    MINZOOM,
    buffered_tile_box,
    crossing_polygon,
    decode,
    demo_layers,
    dust_layers,
    features_where,
    read_dir,
    signed_area,
    star,
    thin_polygon,
)


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


def test_a_layer_chunk_pickles_its_geometries_whole_and_comes_back_equal():
    """Tasks travel to the workers (and are hashed into keys) with their geometries as one WKB
    string per array: every geometry, empty ones and None included, comes back the same."""
    import pickle

    geometries = np.array(
        [box(0, 0, 1, 1), shapely.Polygon(), None, shapely.LineString([(0, 0), (2.5, 1e-9)]),
         star(0.0, 0.0, [3.0, 1.0, 2.5, 0.5, 3.0]), shapely.MultiPoint([(1, 2), (3, 4)])], dtype=object,
    )  # fmt: skip
    chunk = LayerChunk("l", POLYGON, geometries, [{"a": i} for i in range(6)],
                       zooms={3: geometries[:2], 4: geometries[:0]})  # fmt: skip
    back = pickle.loads(pickle.dumps(chunk, protocol=5))
    assert back.name == "l" and back.kind is POLYGON and back.properties == chunk.properties
    for before, after in [(chunk.geometries, back.geometries), *(
        (chunk.zooms[z], back.zooms[z]) for z in (3, 4)
    )]:  # fmt: skip
        assert after.dtype == object and len(after) == len(before)
        assert [None if g is None else g.wkb for g in after] == [
            None if g is None else g.wkb for g in before
        ]
    assert pickle.dumps(back, protocol=5) == pickle.dumps(chunk, protocol=5)


def test_zooms_that_share_an_array_travel_once_and_still_share_it():
    """A coverage with nothing to simplify at its finer zooms gives them one array: a task
    packs it once (not once per zoom), and the worker's zooms share the one it reads back."""
    import pickle

    communes = np.array([box(i, 0, i + 1, 1) for i in range(50)], dtype=object)
    coarser = np.array([box(i, 0, i + 1, 1) for i in range(50)], dtype=object)
    chunk = LayerChunk("communes", POLYGON, communes, [{"i": i} for i in range(50)],
                       coverage=True, zooms={11: coarser, 12: communes, 13: communes,
                                             14: communes})  # fmt: skip
    distinct = LayerChunk("communes", POLYGON, communes, chunk.properties, coverage=True,
                          zooms={11: coarser, 12: communes.copy(), 13: communes.copy(),
                                 14: communes.copy()})  # fmt: skip
    data = pickle.dumps(chunk, protocol=5)
    assert len(pickle.dumps(distinct, protocol=5)) - len(data) > 3 * len(communes) * 90
    back = pickle.loads(data)
    assert back.zooms[12] is back.zooms[13] is back.zooms[14] is back.geometries
    assert back.zooms[11] is not back.geometries
    assert [g.wkb for g in back.zooms[11]] == [g.wkb for g in coarser]
    assert [g.wkb for g in back.zooms[14]] == [g.wkb for g in communes]
    # selecting features keeps the sharing
    some = chunk.select(np.array([1, 3]))
    assert some.zooms[12] is some.zooms[14] and some.zooms[11] is not some.zooms[12]
    assert shared({1: communes, 2: communes, 3: coarser}, len) == {1: 50, 2: 50, 3: 50}


def test_gzipped_tiles_are_one_plain_gzip_member():
    """What PMTiles stores and a server sends: any gzip reader gets the tile back; no name and
    modification time 0 in the header, so the bytes depend on the tile alone."""
    import gzip

    from trame.tiles.render import gzipped

    data = b"".join(i.to_bytes(4, "little") for i in range(5000))
    packed = gzipped(data)
    assert gzip.decompress(packed) == data and gzipped(data) == packed
    assert packed[:4] == b"\x1f\x8b\x08\x00" and packed[4:8] == b"\0\0\0\0"  # no FNAME, mtime 0
    assert len(packed) < len(data) / 2
