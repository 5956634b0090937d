"""The MVT encoder against mapbox_vector_tile's bytes."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

from trame.kinds import LINE, POINT, POLYGON
from trame.tiles.encode import encode_layer, geometry_commands, tile_message


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


def _theirs(name, geometries):
    """mapbox_vector_tile's bytes of one layer of ``geometries`` (no properties)."""
    return mapbox_vector_tile.encode(
        [{"name": name, "features": [{"geometry": g, "properties": {}} for g in geometries]}],
        default_options={"y_coord_down": True, "check_winding_order": False},
    )


def _ours(name, kind, geometries):
    data, _ = encode_layer(name, kind, geometry_commands(geometries, kind), [()] * len(geometries))
    return tile_message([data])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 3),  # parts (1: a single polygon or line)
            st.integers(-300_000, 300_000),  # where (far ones need varints of three bytes)
            st.integers(-300_000, 300_000),
            st.integers(1, 40_000),  # size
            st.booleans(),  # a repeated point
        ),
        min_size=1,
        max_size=8,
    )
)
def test_single_and_multi_parts_mixed_and_far_coordinates_give_the_reference_bytes(shapes):
    """Single and multi-part geometries in any order (only the multi ones are split into
    parts), repeated points, and coordinates whose deltas take one, two or three varint bytes:
    the bytes of mapbox_vector_tile."""
    polygons, lines = [], []
    for parts, x, y, size, repeat in shapes:
        boxes = [box(x + 3 * i * size, y, x + 3 * i * size + size, y + size) for i in range(parts)]
        polygons.append(boxes[0] if parts == 1 else shapely.MultiPolygon(boxes))
        paths = [
            [(x + 3 * i * size, y), *([(x + 3 * i * size, y)] if repeat else []),
             (x + 3 * i * size + size, y + size // 2)]
            for i in range(parts)
        ]  # fmt: skip
        lines.append(LineString(paths[0]) if parts == 1 else shapely.MultiLineString(paths))
    polygons = shapely.orient_polygons(np.array(polygons, dtype=object))
    lines = np.array(lines, dtype=object)
    assert _ours("polygones", POLYGON, polygons) == _theirs("polygones", polygons)
    assert _ours("lignes", LINE, lines) == _theirs("lignes", lines)
