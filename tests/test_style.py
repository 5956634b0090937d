import json
import xml.etree.ElementTree as ET
from pathlib import Path

from trame.config import load_config
from trame.style import COMMUNE_FILL, item_layers, legend_symbol, map_style

PROJECT = Path(__file__).resolve().parent.parent
BOUNDS = (3.2, 50.3, 3.3, 50.4)


def demo():
    return load_config(PROJECT / "layers" / "demo.yml")


def test_every_legend_item_is_drawn_with_its_own_colour_and_labels():
    config = demo()
    style = map_style(config, BOUNDS)
    for item in config.legend:
        layers = [layer for layer in style["layers"] if layer.get("source-layer") == item.id]
        assert layers and all(layer["id"].startswith(item.id) for layer in layers)
        paint = json.dumps(layers[0]["paint"])
        assert item.style.color in paint
        assert layers[0]["metadata"]["trame:fields"] == [list(pair) for pair in item.fields.items()]
        assert layers[0]["metadata"]["trame:label"] == item.label
        assert item.style.color in legend_symbol(item.style, item.geometry)


def test_first_legend_item_is_drawn_last_like_on_the_paper_map():
    config = demo()
    ids = [layer["id"] for layer in map_style(config, BOUNDS)["layers"]]
    assert ids.index(config.legend[0].id) > ids.index(config.legend[-1].id)


def test_no_third_party_source_by_default_and_basemap_only_on_request():
    config = demo()
    assert "http" not in json.dumps(map_style(config, BOUNDS))
    with_plan = map_style(config.model_copy(update={"basemap": "ign-plan"}), BOUNDS)
    assert with_plan["sources"]["fond-de-plan"]["type"] == "raster"
    assert with_plan["layers"][1]["id"] == "fond-de-plan"
    # the basemap shows through the communes, and that did not alter the shared values
    assert communes_fill(with_plan)["fill-opacity"] < 1
    assert communes_fill(map_style(config, BOUNDS)) == dict(COMMUNE_FILL)


def communes_fill(style: dict) -> dict:
    return next(la for la in style["layers"] if la["id"] == "communes-fond")["paint"]


def test_dashed_lines_keep_their_dash():
    item = next(i for i in demo().legend if i.style.dash)
    assert item_layers(item)[0]["paint"]["line-dasharray"] == list(item.style.dash)


def svg_attributes(markup: str) -> dict[str, str]:
    """The attributes of the one shape of an inline SVG symbol."""
    (shape,) = list(ET.fromstring(str(markup)))
    return dict(shape.attrib)


def expected_svg(layers: list[dict]) -> dict[str, str]:
    """What the SVG must say, read from MapLibre paints independently of the code under test."""
    svg: dict[str, str] = {}
    for layer in layers:
        paint = {key: f"{value:g}" if isinstance(value, float | int) else value
                 for key, value in layer["paint"].items() if key != "line-dasharray"}  # fmt: skip
        if layer["type"] == "fill":
            svg |= {"fill": paint["fill-color"], "fill-opacity": paint["fill-opacity"]}
        elif layer["type"] == "line":
            svg |= {"stroke": paint["line-color"], "stroke-width": paint["line-width"]}
            svg |= {"stroke-opacity": paint["line-opacity"]} if "line-opacity" in paint else {}
            dash = layer["paint"].get("line-dasharray", [])
            width = layer["paint"]["line-width"]
            svg |= {"stroke-dasharray": " ".join(f"{d * width:g}" for d in dash)} if dash else {}
        else:
            svg |= {
                "fill": paint["circle-color"], "r": paint["circle-radius"],
                "fill-opacity": paint["circle-opacity"], "stroke": paint["circle-stroke-color"],
                "stroke-width": paint["circle-stroke-width"],
            }  # fmt: skip
    return svg


def test_legend_symbols_paint_exactly_what_the_map_paints():
    config = demo()
    seen = set()
    for item in config.legend:
        layers = item_layers(item)
        seen |= {layer["type"] for layer in layers}
        drawn = svg_attributes(legend_symbol(item.style, item.geometry))
        assert expected_svg(layers).items() <= drawn.items(), item.id
    assert seen == {"fill", "line", "circle"}  # every kind and the polygons' outline
    contour = next(
        la for la in map_style(config, BOUNDS)["layers"] if la["id"] == "communes-contour"
    )
    drawn = svg_attributes(legend_symbol(config.communes.style, "line"))
    assert expected_svg([contour]).items() <= drawn.items()


def test_the_communes_label_is_written_once():
    """The communes' legend entry comes from style.COMMUNES_LABEL everywhere: the style carries
    it for carte.mjs, the templates get it from the pages; no other file spells it out."""
    from trame.style import COMMUNES_LABEL

    layers = {layer["id"]: layer for layer in map_style(demo(), BOUNDS)["layers"]}
    assert layers["communes-contour"]["metadata"] == {"trame:label": COMMUNES_LABEL}
    places = [
        path.relative_to(PROJECT).as_posix()
        for folder in ("generator", "site_src")
        for path in sorted((PROJECT / folder).rglob("*"))
        if path.is_file() and path.suffix in {".py", ".j2", ".mjs", ".js", ".html", ".css", ".md"}
        and COMMUNES_LABEL in path.read_text(encoding="utf-8")
    ]  # fmt: skip
    assert places == ["generator/style.py"]


def test_svg_paths_of_an_array_are_each_geometrys_own_path():
    """svg_paths draws a whole array at once; each path is what the geometry alone gives, ring by
    ring (holes, multi-parts, lines, collections from clipping, degenerate rings skipped)."""
    import numpy as np
    import shapely

    from trame.style import svg_paths

    def one(geometry):
        commands = []
        for part in shapely.get_parts(geometry):
            rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
            for ring in rings:
                coords = np.rint(shapely.get_coordinates(ring)).astype(np.int32)
                if len(coords) >= 2:
                    close = "Z" if part.geom_type == "Polygon" else ""
                    commands.append("M" + " ".join(map(str, coords.ravel().tolist())) + close)
        return "".join(commands)

    square = shapely.box(0, 0, 10, 10)
    geometries = [
        square.difference(shapely.box(2.4, 2.6, 4, 4)),
        shapely.MultiPolygon([square, shapely.box(20, 20, 30.5, 31)]),
        shapely.LineString([(0, 0), (5.5, 1.49), (9, 9)]),
        shapely.MultiLineString([[(0, 0), (1, 1)], [(3, 3), (4, 5)]]),
        shapely.Polygon(),
        shapely.GeometryCollection(
            [shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (2, 2)]), shapely.Point(1, 1)]
        ),  # fmt: skip
        square,
    ]
    assert svg_paths(geometries) == [one(g) for g in geometries]
    assert svg_paths([]) == []
    assert svg_paths(geometries)[0].count("M") == 2 and svg_paths(geometries)[0].endswith("Z")


def test_svg_layers_draw_each_geometry_as_its_own_layer_alone_would():
    """Several layers drawn in one pass (the static maps): each geometry gets the shapes its
    layer's paints give it alone, points as circles with their layer's radius; ``to_pixels``
    moves the coordinates (here: a shift and a scale)."""
    import numpy as np
    import shapely

    from trame.kinds import kind
    from trame.style import paints, svg_layers, svg_shapes

    config = demo()
    looks = [paints(kind(item.geometry), item.style) for item in config.legend]
    by_kind = {item.geometry: k for k, item in enumerate(config.legend)}
    assert {"polygon", "line", "point"} <= set(by_kind)
    polygon, line, point = by_kind["polygon"], by_kind["line"], by_kind["point"]
    geometries = np.array([
        shapely.box(0, 0, 10, 10), shapely.MultiPoint([(1, 2), (3.5, 4)]),
        shapely.LineString([(0, 0), (5, 5)]), shapely.Point(7, 7), shapely.box(20, 20, 30, 31),
    ], dtype=object)  # fmt: skip
    layer_of = np.array([polygon, point, line, point, polygon])

    def to_pixels(coords):
        return np.column_stack([coords[:, 0] * 2 + 1, 50 - coords[:, 1] * 2])

    drawn = svg_layers(geometries, layer_of, looks, 8, to_pixels)
    moved = shapely.transform(geometries, to_pixels)
    alone = [svg_shapes([g], looks[k], 8)[0] for g, k in zip(moved, layer_of, strict=True)]
    assert drawn == alone
    assert drawn[1].count("<circle") == 2 and drawn[0].startswith("<path")
    assert 'cx="15" cy="36"' in drawn[3]  # (7, 7) moved by hand
    assert drawn[0].startswith('<path d="M21 50 21 30 1 30 1 50 21 50Z"')  # the box by hand
