import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import shapely

from trame.config import LegendItem
from trame.features import ItemFeatures
from trame.staticmap import MAP_HEIGHT, MAP_WIDTH, StaticMaps
from trame.style import COMMUNES_LABEL, HIGHLIGHT, map_style
from trame.territory import Commune

SVG = "{http://www.w3.org/2000/svg}"


INHERITED = {"fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-opacity",
             "stroke-dasharray"}  # fmt: skip
"""Presentation attributes a shape takes from its group (the maps group each layer's shapes)."""


def painted(root: ET.Element, tag: str = "path") -> list[tuple[ET.Element, dict[str, str]]]:
    """Each ``tag`` element with the presentation attributes it draws with, its own or its
    groups'."""
    found = []

    def walk(element: ET.Element, inherited: dict[str, str]) -> None:
        own = {k: v for k, v in element.attrib.items() if k in INHERITED}
        look = {**inherited, **own}
        if element.tag == f"{SVG}{tag}":
            found.append((element, look))
        for child in element:
            walk(child, look)

    walk(root, {})
    return found


def group(root: ET.Element, name: str) -> ET.Element:
    (found,) = [g for g in root.iter(f"{SVG}g") if g.get("class") == name]
    return found


def numbers(path_data: str) -> np.ndarray:
    return np.array(re.findall(r"-?\d+(?:\.\d+)?", path_data), dtype=float)


def assert_true_scale_bar(root: ET.Element, commune: Commune) -> None:
    """The scale bar says a round length, and its bar is that long at the map's scale (measured
    on the highlighted commune border, whose width in metres is known)."""
    bar = group(root, "echelle")
    (label,) = ["".join(t.itertext()) for t in bar.iter(f"{SVG}text")]
    match = re.fullmatch(r"(\d+(?:[.]\d+)?) (m|km)", label)
    assert match, label
    metres = float(match[1]) * (1000 if match[2] == "km" else 1)
    assert metres / 10 ** math.floor(math.log10(metres)) in (1, 2, 5), label
    (tick,) = bar.iter(f"{SVG}path")  # M x y-6 V y H x+length V y-6
    x0, _, _, x1, _ = numbers(tick.get("d"))
    (border,) = [p for p, look in painted(root) if look.get("stroke") == HIGHLIGHT["line-color"]]
    xs = numbers(border.get("d"))[0::2]
    minx, _, maxx, _ = commune.geometry.bounds
    metres_per_pixel = (maxx - minx) / (xs.max() - xs.min())
    assert abs((x1 - x0) * metres_per_pixel - metres) <= 0.02 * metres
    assert MAP_WIDTH / 10 <= x1 - x0 <= MAP_WIDTH / 4


def assert_drawn_like_the_web_map(root: ET.Element, style: dict) -> None:
    """Background, mask and highlighted border: the web map style's values."""
    paint = {layer["id"]: layer["paint"] for layer in style["layers"]}
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert paint["fond"]["background-color"] in fills
    mask = paint["commune-masque"]
    assert any(
        look.get("fill") == mask["fill-color"]
        and float(look.get("fill-opacity", 1)) == mask["fill-opacity"]
        for _, look in painted(root)
    )
    selection = paint["commune-selection"]
    (width,) = [
        look["stroke-width"]
        for _, look in painted(root)
        if look.get("stroke") == selection["line-color"]
    ]
    assert float(width) == selection["line-width"]


def assert_north_arrow(root: ET.Element) -> None:
    """An upward arrow in the top right corner of the map, the letter N under it."""
    arrow = group(root, "nord")
    (triangle,) = arrow.iter(f"{SVG}path")
    (letter,) = arrow.iter(f"{SVG}text")
    assert letter.text == "N"
    match = re.fullmatch(r"M(\d+) (\d+)l9 24h-18z", triangle.get("d"))
    assert match, triangle.get("d")  # apex, then the base 24 px lower
    x, y = float(match[1]), float(match[2])
    assert x > MAP_WIDTH * 0.75 and y < MAP_HEIGHT / 4
    assert float(letter.get("x")) == x and float(letter.get("y")) > y + 24


def test_static_map_is_valid_svg_with_escaped_text_legend_scale_and_north(hostile, hostile_config):
    cfg = hostile_config
    commune = Commune(
        "59606", hostile, "evil", (), shapely.box(700_000, 7_000_000, 702_000, 7_001_500)
    )
    neighbour = Commune(
        "59607", "Voisine", "voisine", (), shapely.box(702_000, 7_000_000, 704_000, 7_001_500)
    )
    item: LegendItem = cfg.legend[0]
    reservoir = shapely.box(701_000, 7_000_500, 703_000, 7_001_000)
    features = [ItemFeatures(item, np.array([reservoir], dtype=object), ["R1"], [{"ID": "R1"}])]
    svg = StaticMaps(cfg, [commune, neighbour], features).svg(commune)
    root = ET.fromstring(svg)  # well-formed XML, so the escaped name did not break it
    assert "<script" not in svg and "onerror=alert" not in svg.replace("onerror=alert(1)&gt;", "")
    assert root.find(f"{SVG}title").text.endswith(hostile)
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Légende" in texts and COMMUNES_LABEL in texts and "Réservoir <b>" in texts
    assert_true_scale_bar(root, commune)
    assert_north_arrow(root)
    assert_drawn_like_the_web_map(root, map_style(cfg, (0.0, 0.0, 1.0, 1.0)))
    # the reservoir is drawn with the legend item's colour and sits inside the map frame
    paths = [p for p, look in painted(root) if look.get("fill") == item.style.color]
    assert len(paths) == 2  # on the map and in the legend
    coords = np.array(paths[0].get("d").replace("M", " ").replace("Z", " ").split(), dtype=float)
    assert (
        coords.min() >= 0 and coords[0::2].max() <= MAP_WIDTH and coords[1::2].max() <= MAP_HEIGHT
    )


def test_the_territory_map_draws_one_white_area_and_each_border_once(hostile_config):
    """The home page's map: the territory's outline as its one white area, and each border
    between communes once (a commune's map draws both neighbours' outlines); no borders at all
    when the communes are too small to see."""
    from trame.staticmap import MIN_COMMUNE_PIXELS, map_window
    from trame.style import COMMUNE_FILL

    def communes(n: int, side: float) -> list[Commune]:
        return [
            Commune(f"59{i:03d}", f"C{i}", f"c{i}", (), shapely.box(i * side, 0, (i + 1) * side, side))
            for i in range(n)
        ]  # fmt: skip

    def draw(row: list[Commune]) -> tuple[list, list]:
        outline = shapely.union_all([c.geometry for c in row])
        whole = Commune("00000", "Tout", "tout", (), outline)
        root = ET.fromstring(StaticMaps(hostile_config, row, [], overview=outline).svg(whole))
        root = next(g for g in root.iter(f"{SVG}g") if g.get("clip-path"))  # the map, no legend
        white = (COMMUNE_FILL["fill-color"], str(COMMUNE_FILL["fill-opacity"]))
        fills = [p for p, look in painted(root)
                 if (look.get("fill"), look.get("fill-opacity")) == white]  # fmt: skip
        grey = hostile_config.communes.style.color
        borders = [p for p, look in painted(root) if look.get("stroke") == grey]
        return fills, borders

    fills, borders = draw(communes(3, 10_000.0))
    assert len(fills) == 1 and len(borders) == 1
    # outline (80 km of ground) and the two inner borders, each drawn once: 100 km in all
    _, metres_per_pixel = map_window(shapely.box(0, 0, 30_000, 10_000))
    line = borders[0].get("d")
    length = sum(
        shapely.length(shapely.LineString(numbers(part).reshape(-1, 2)))
        for part in line.split("M")[1:]
    )
    assert abs(length * metres_per_pixel - 100_000) < 2 * metres_per_pixel * 6

    many = 100
    side = 100.0  # 100 communes of 100 m in a row: ~43 pixels each on the map
    _, metres_per_pixel = map_window(shapely.box(0, 0, many * side, side))
    assert side * side < MIN_COMMUNE_PIXELS * metres_per_pixel**2
    fills, borders = draw(communes(many, side))
    assert len(fills) == 1 and borders == []


def test_the_territory_map_draws_each_look_as_one_element(hostile_config):
    """The home page's map: one SVG element per legend item (thousands of elements kept a
    large territory's page busy), its polygons dissolved, its lines gathered, its points kept
    once per square of the symbol's diameter; a commune's map still draws each shape."""
    from trame.kinds import kind
    from trame.staticmap import map_window
    from trame.style import circle_radius, paints

    polygons = hostile_config.legend[0]
    lines = polygons.model_copy(update={
        "id": "corridors", "geometry": "line", "style": polygons.style.model_copy(update={"color": "#1565c0"})
    })  # fmt: skip
    points = polygons.model_copy(update={
        "id": "obstacles", "geometry": "point", "style": polygons.style.model_copy(update={"color": "#c62828"})
    })  # fmt: skip
    config = hostile_config.model_copy(update={"legend": (polygons, lines, points)})
    outline = shapely.box(0, 0, 30_000, 20_000)
    _, pixel = map_window(outline)
    radius = circle_radius(paints(kind("point"), points.style))
    near, far = 0.5 * radius * pixel, 10 * radius * pixel
    features = [
        ItemFeatures(polygons, np.array([shapely.box(1000, 1000, 5000, 5000),
                                         shapely.box(4000, 4000, 9000, 9000)]), ["a", "b"],
                     [{}, {}]),
        ItemFeatures(lines, np.array([shapely.LineString([(0, 10_000), (30_000, 10_000)]),
                                      shapely.LineString([(15_000, 0), (15_000, 20_000)])]),
                     ["c", "d"], [{}, {}]),
        ItemFeatures(points, np.array([shapely.Point(20_000, 15_000),
                                       shapely.Point(20_000 + near, 15_000),
                                       shapely.Point(20_000 + far, 15_000)]), ["e", "f", "g"],
                     [{}, {}, {}]),
    ]  # fmt: skip
    communes = [Commune("59001", "Tout", "tout", (), outline)]
    whole = Commune("", "Tout", "", (), outline)
    maps = StaticMaps(config, communes, features, overview=outline)
    overview = ET.fromstring(maps.svg(whole))
    assert maps.thinned() == {"obstacles": 1}  # counted, for the processing report
    frame = next(g for g in overview.iter(f"{SVG}g") if g.get("clip-path"))
    assert not list(frame.iter(f"{SVG}circle"))
    looks = {item.id: [p for p, look in painted(frame)
                       if look.get("fill", "none") == item.style.color
                       or look.get("stroke") == item.style.color]
             for item in (polygons, lines, points)}  # fmt: skip
    assert {k: len(v) for k, v in looks.items()} == {
        "reservoirs": 1,
        "corridors": 1,
        "obstacles": 1,
    }
    assert looks["reservoirs"][0].get("d").count("M") == 1  # the two squares, dissolved
    assert looks["corridors"][0].get("d").count("M") == 2  # two lines, one path
    assert looks["obstacles"][0].get("d").count("a") == 2 * 2  # two circles of two arcs: one
    # point was within the first one's diameter
    commune = ET.fromstring(StaticMaps(config, communes, features).svg(communes[0]))
    frame = next(g for g in commune.iter(f"{SVG}g") if g.get("clip-path"))
    assert len(list(frame.iter(f"{SVG}circle"))) == 3  # a commune's map: every point
