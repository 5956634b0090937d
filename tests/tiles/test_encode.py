"""The MVT encoder against mapbox_vector_tile's bytes."""

from __future__ import annotations

import mapbox_vector_tile
import numpy as np
import shapely
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
