import re
from pathlib import Path

import pydantic
import pytest
import yaml

from trame.config import (
    Config,
    LegendItem,
    Style,
    config_models,
    config_reference,
    load_config,
    yaml_keys,
)
from trame.errors import UserError

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

LINE_ITEM = """
  - id: corridors
    label: Corridors
    source: {path: srce.gpkg}
    geometry: line
    style: {color: "#1565c0"}
"""


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "text.md").write_text("Texte.", encoding="utf-8")
    path = tmp_path / "territory.yml"
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(UserError) as error:
        load_config(path)
    return str(error.value)


def test_minimal_config_loads_with_defaults(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL))
    assert config.tiles.minzoom == 0 and config.tiles.maxzoom == 14
    assert config.tiles.name == "test"
    item = config.item("reservoirs")
    assert item.source.path == tmp_path / "srce.gpkg"
    assert item.filter is not None and item.filter.matches({"OBJ_ASSI": "01"})
    assert not item.filter.matches({"OBJ_ASSI": "02"})
    assert item.style.opacity == 0.6
    assert config.explanatory_text == tmp_path / "text.md"
    assert config.config_path == tmp_path / "territory.yml" and config.legend_path is None


def test_defaults_come_from_the_declaration(tmp_path):
    """Every key the YAML leaves out holds the default its declaration gives."""
    raw = yaml.safe_load(MINIMAL)
    config = load_config(write_config(tmp_path, MINIMAL))
    item = config.legend[0]
    loaded = [
        (config, raw),
        (config.tiles, {}),
        (config.communes, raw["communes"]),
        (config.communes.source, raw["communes"]["source"]),
        (item, raw["legend"][0]),
        (item.source, raw["legend"][0]["source"]),
        (item.style, raw["legend"][0]["style"]),
    ]
    # The slug, as its doc says (the other keys of `tiles` are checked on config.tiles).
    derived = {("tiles", "name"), ("territory config", "tiles")}
    checked = 0
    for model, given in loaded:
        title = type(model).model_config["title"]
        for key, field in yaml_keys(type(model)).items():
            if key in given or (title, key) in derived:
                continue
            assert getattr(model, key) == field.get_default(call_default_factory=True), (title, key)
            checked += 1
    assert checked >= 15


def test_lines_and_points_are_opaque_unless_the_style_says(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL + LINE_ITEM))
    assert config.item("reservoirs").style.opacity == Style.model_fields["opacity"].default
    assert config.item("corridors").style.opacity == 1.0
    half = MINIMAL + LINE_ITEM.replace('color: "#1565c0"', 'color: "#1565c0", opacity: 0.5')
    assert load_config(write_config(tmp_path, half)).item("corridors").style.opacity == 0.5


def test_empty_keys_take_their_defaults(tmp_path):
    text = MINIMAL.replace("name: Test", "name: Test\nsources:\nfictitious_marker:\ntiles:")
    config = load_config(write_config(tmp_path, text))
    assert config.sources == () and config.fictitious_marker == {}
    assert (config.tiles.name, config.tiles.maxzoom) == ("test", 14)


def test_data_dir_overrides_paths(tmp_path):
    data = tmp_path / "data"
    config = load_config(write_config(tmp_path, MINIMAL), data_dir=data)
    assert config.communes.source.path == data / "communes.geojson"
    assert config.item("reservoirs").source.path == data / "srce.gpkg"


def test_data_dir_key_is_relative_to_the_config(tmp_path):
    path = write_config(tmp_path, MINIMAL + "data_dir: donnees\n")
    assert load_config(path).communes.source.path == tmp_path / "donnees" / "communes.geojson"
    assert (
        load_config(path, tmp_path / "x").communes.source.path
        == tmp_path / "x" / "communes.geojson"
    )


def test_legend_in_its_own_file(tmp_path):
    config_text, legend_text = MINIMAL.split("legend:\n")
    (tmp_path / "legendes").mkdir()
    legend = tmp_path / "legendes" / "commune.yml"
    legend.write_text(legend_text + LINE_ITEM, encoding="utf-8")
    path = write_config(tmp_path, config_text + "legend: legendes/commune.yml\n")
    config = load_config(path, tmp_path / "data")
    assert config.legend_path == legend
    assert [item.id for item in config.legend] == ["reservoirs", "corridors"]
    assert config.item("corridors").source.path == tmp_path / "data" / "srce.gpkg"

    legend.write_text(legend_text + LINE_ITEM.replace("geometry: line", "geometry: ligne"))
    message = config_error(path)
    assert message.startswith(f"{legend} : erreur de configuration à legend[1].geometry : ")
    assert "'ligne'" in message

    path.write_text(config_text + "legend: legendes/absente.yml\n", encoding="utf-8")
    message = config_error(path)
    assert message.startswith(f"{path} : erreur de configuration à legend : ")
    assert "absente.yml" in message


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (("name: Test", "name: Test\ncolour: red"), "colour", "clé inconnue ; clés permises ici : basemap, communes, data_date, data_dir,"),
        (('color: "#2e7d32"', 'color: "#2e7d32", symbol: circle'), "legend[0].style.symbol", "clé inconnue ; clés permises ici : color, dash, opacity, outline, radius, width"),
        (("name: Test", "name: Test\nconfig_path: x.yml"), "config_path", "clé inconnue"),
        (("geometry: polygon", "geometry: surface"), "legend[0].geometry", "'polygon', 'line' ou 'point', pas 'surface'"),
        (('color: "#2e7d32"', "color: green"), "legend[0].style.color", "pas 'green'"),
        (('color: "#2e7d32"', 'color: "#2e7d32", opacity: 1.5'), "legend[0].style.opacity", "inférieur ou égal à 1, pas 1.5"),
        (('color: "#2e7d32"', 'color: "#2e7d32", width: "2"'), "legend[0].style.width", "il faut un nombre, pas '2'"),
        (('color: "#2e7d32"', 'color: "#2e7d32", dash: [2, 0]'), "legend[0].style.dash[1]", "strictement supérieur à 0"),
        (("name: Test", "name: Test\ntiles: {maxzoom: 14.5}"), "tiles.maxzoom", "il faut un nombre entier, pas 14.5"),
        (("name: Test", "name: Test\ntiles: {minzoom: 15}"), "tiles", "minzoom 15 est au-dessus de maxzoom 14"),
        (("name: Test", "name: Test\ntiles: {communes_minzoom: 15}"), "tiles", "communes_minzoom 15 est au-dessus de maxzoom 14 : aucune tuile"),
        (("name: Test", "name: Test\nfictitious: oui"), "fictitious", "il faut true ou false, pas 'oui'"),
        (("name: Test", "name: Test\nsources: une source"), "sources", "il faut une liste"),
        (("name: Test", "name: Test\nbasemap: osm"), "basemap", "'none', 'ign-plan' ou 'ign-ortho', pas 'osm'"),
        (("  source: {path: communes.geojson}", "  source: communes.geojson"), "communes.source", "il faut une table de clés"),
        (("filter: \"OBJ_ASSI == '01'\"", 'filter: "open(1)"'), "legend[0].filter", "open(1)"),
        (("data_date: 2016-09-30", "data_date: hier"), "data_date", "AAAA-MM-JJ"),
        (("id: reservoirs", "id: Réservoirs!"), "legend[0].id", "'Réservoirs!' n'est pas un identifiant valide"),
        (("slug: test", "slug: Test"), "slug", "n'est pas un identifiant valide"),
        (("  insee_field: code\n", ""), "communes.insee_field", "cette clé est obligatoire ; ajoutez-la"),
        (("  insee_field: code\n", "  insee_field:\n"), "communes.insee_field", "cette clé est obligatoire"),
        (("explanatory_text: text.md", "explanatory_text: missing.md"), "explanatory_text", "fichier introuvable"),
        ((MINIMAL[MINIMAL.index("legend:"):], "legend: []\n"), "legend", "il faut au moins 1 élément"),
        (("    label: Réservoirs", "    label: Réservoirs\n    fields: {NOM: [1]}"), "legend[0].fields.NOM", "il faut un texte"),
    ],
)  # fmt: skip
def test_config_errors_name_the_file_and_the_key(tmp_path, change, where, message):
    assert change[0] in MINIMAL
    path = write_config(tmp_path, MINIMAL.replace(*change))
    text = config_error(path)
    assert text.startswith(f"{path} : erreur de configuration à {where} : "), text
    assert message in text
    assert "\n" not in text, "one problem, one message"


def test_one_message_per_problem(tmp_path):
    text = MINIMAL.replace("name: Test", "colour: red").replace("geometry: polygon", "")
    text += LINE_ITEM.replace("id: corridors", "id: reservoirs")
    lines = config_error(write_config(tmp_path, text)).splitlines()
    assert [re.sub(r" : (?!erreur).*", "", line) for line in lines] == [
        f"{tmp_path / 'territory.yml'} : erreur de configuration à name",
        f"{tmp_path / 'territory.yml'} : erreur de configuration à legend[0].geometry",
        f"{tmp_path / 'territory.yml'} : erreur de configuration à colour",
    ]
    duplicate = MINIMAL + LINE_ITEM.replace("id: corridors", "id: reservoirs")
    message = config_error(write_config(tmp_path, duplicate))
    assert "à legend : l'id 'reservoirs' sert deux fois (legend[0] et legend[1])" in message


def test_missing_or_broken_config_file(tmp_path):
    with pytest.raises(UserError, match="nope.yml : fichier de configuration introuvable"):
        load_config(tmp_path / "nope.yml")
    path = write_config(tmp_path, "name: [oops")
    with pytest.raises(UserError, match="territory.yml : YAML invalide"):
        load_config(path)
    path = write_config(tmp_path, "- a list")
    with pytest.raises(
        UserError, match="territory.yml : erreur de configuration : il faut une table"
    ):
        load_config(path)


def test_config_is_frozen_and_marked_fictitious_by_copy(tmp_path):
    config = load_config(write_config(tmp_path, MINIMAL))
    with pytest.raises(pydantic.ValidationError):
        config.fictitious = True  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError):
        config.legend[0].style.color = "#000000"  # type: ignore[misc]
    marked = config.with_fictitious()
    assert marked.fictitious and not config.fictitious
    assert marked.legend == config.legend and marked.name == config.name


def test_shipped_configs_load():
    """The shipped territories carry the demo's legend items, in its order (test_build pins the
    demo's item ids)."""
    demo = [item.id for item in load_config(PROJECT / "layers" / "demo.yml").legend]
    assert len(demo) == 6
    for name in ("valenciennes-metropole", "nord"):
        config = load_config(PROJECT / "layers" / f"{name}.yml", PROJECT / "unused")
        assert [item.id for item in config.legend] == demo
        assert config.fictitious


# The README's config reference and the declarations ---------------------------------------------

README_START = (
    "<!-- config reference: generated by `python -m trame.config`, do not edit by hand -->"
)
README_END = "<!-- end of config reference -->"


def readme_reference() -> str:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    config_section = readme.split("\n## Config reference\n", 1)[1].split("\n## ", 1)[0]
    return config_section.split(README_START + "\n", 1)[1].split(README_END, 1)[0]


def readme_tables() -> dict[str, dict[str, str]]:
    """{table title: {key: doc}} as the README's config reference lists them."""
    tables: dict[str, dict[str, str]] = {}
    for line in readme_reference().splitlines():
        if title := re.match(r"\*\*(.+?)\*\*:", line):
            rows = tables.setdefault(title.group(1), {})
        elif row := re.match(r"\| `(\w+)` \| .* \| (.*) \|$", line):
            rows[row.group(1)] = row.group(2)
    return tables


def test_readme_config_reference_is_the_declaration():
    assert readme_reference().strip() == config_reference().strip(), (
        "README.md's config reference differs from the declarations (trame/config/): replace it with the "
        "output of `.venv/bin/python -m trame.config`"
    )


def test_every_declared_key_is_in_the_readme_with_its_doc_and_no_other():
    tables = readme_tables()
    declared = {
        model.model_config["title"]: {k: f.description for k, f in yaml_keys(model).items()}
        for model in config_models()
    }
    assert tables == declared
    assert {"basemap", "data_dir", "site_url", "fictitious_marker"} <= set(
        tables["territory config"]
    )
    assert set(tables["legend item"]) == set(yaml_keys(LegendItem)) and "style" in tables
    assert all(doc for rows in declared.values() for doc in rows.values()), "every key has a doc"


def test_keys_set_by_the_loader_are_not_documented_as_yaml_keys():
    keys = set(yaml_keys(Config))
    assert {"config_path", "legend_path"} <= set(Config.model_fields) - keys
    assert "config_path" not in readme_tables()["territory config"]
