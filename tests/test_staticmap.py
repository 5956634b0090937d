import xml.etree.ElementTree as ET

import numpy as np
import shapely

from tests.test_pages import EVIL, config
from trame.config import LegendItem
from trame.features import ItemFeatures
from trame.staticmap import MAP_HEIGHT, MAP_WIDTH, StaticMaps
from trame.territory import Commune

SVG = "{http://www.w3.org/2000/svg}"


def test_static_map_is_valid_svg_with_escaped_text_legend_scale_and_north(tmp_path):
    cfg = config(tmp_path)
    commune = Commune(
        "59606", EVIL, "evil", (), shapely.box(700_000, 7_000_000, 702_000, 7_001_500)
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
    assert root.find(f"{SVG}title").text.endswith(EVIL)
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Légende" in texts and "Contour de commune" in texts and "Réservoir <b>" in texts
    assert " km" in texts or " m" in texts  # scale bar label
    assert "N" in texts  # north arrow
    # the reservoir is drawn with the legend item's colour and sits inside the map frame
    paths = [p for p in root.iter(f"{SVG}path") if p.get("fill") == item.style.color]
    assert len(paths) == 2  # on the map and in the legend
    coords = np.array(paths[0].get("d").replace("M", " ").replace("Z", " ").split(), dtype=float)
    assert (
        coords.min() >= 0 and coords[0::2].max() <= MAP_WIDTH and coords[1::2].max() <= MAP_HEIGHT
    )
