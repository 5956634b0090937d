import json
from pathlib import Path

from generator.config import load_config
from generator.style import item_layers, legend_symbol, map_style

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


def test_dashed_lines_keep_their_dash():
    item = next(i for i in demo().legend if i.style.dash)
    assert item_layers(item)[0]["paint"]["line-dasharray"] == list(item.style.dash)
