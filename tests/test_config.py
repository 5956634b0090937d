from pathlib import Path

import pytest

from generator.config import load_config
from generator.errors import UserError
from tests.test_build import ITEM_IDS

PROJECT = Path(__file__).resolve().parent.parent

MINIMAL = """
name: Test
slug: test
data_date: 2016-09-30
explanatory_text: text.md
communes:
  source: {path: communes.geojson}
  insee_field: code
  name_field: nom
legend:
  - id: reservoirs
    label: Réservoirs
    source: {path: srce.gpkg, layer: reservoirs}
    filter: "OBJ_ASSI == '01'"
    geometry: polygon
    style: {color: "#2e7d32"}
"""


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "text.md").write_text("Texte.", encoding="utf-8")
    path = tmp_path / "territory.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_loads_with_defaults(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL))
    assert config.tiles.minzoom == 0 and config.tiles.maxzoom == 14
    assert config.tiles.name == "test"
    item = config.item("reservoirs")
    assert item.source.path == tmp_path / "srce.gpkg"
    assert item.filter is not None and item.filter.matches({"OBJ_ASSI": "01"})
    assert item.style.opacity == 0.6


def test_data_dir_overrides_paths(tmp_path):
    data = tmp_path / "data"
    config = load_config(write_config(tmp_path, MINIMAL), data_dir=data)
    assert config.communes.source.path == data / "communes.geojson"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("name: Test", "name: Test\ncolour: red"), "unknown key(s) colour"),
        (("geometry: polygon", "geometry: surface"), "legend[0].geometry"),
        (('color: "#2e7d32"', "color: green"), "legend[0].style.color"),
        (("filter: \"OBJ_ASSI == '01'\"", 'filter: "open(1)"'), "legend[0].filter"),
        (("data_date: 2016-09-30", "data_date: hier"), "data_date"),
        (("id: reservoirs", "id: Réservoirs!"), "legend[0].id"),
        (("  insee_field: code\n", ""), "communes.insee_field: this key is required"),
        (("explanatory_text: text.md", "explanatory_text: missing.md"), "file not found"),
    ],
)
def test_config_errors_name_the_key(tmp_path, change, message):
    path = write_config(tmp_path, MINIMAL.replace(*change))
    with pytest.raises(UserError) as error:
        load_config(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "nope.yml")


def test_shipped_configs_load():
    for name in ("valenciennes-metropole", "nord"):
        config = load_config(PROJECT / "layers" / f"{name}.yml", PROJECT / "unused")
        assert [item.id for item in config.legend] == ITEM_IDS
        assert config.fictitious
