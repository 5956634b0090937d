"""`trame init`: inventory, recognition, communes selection, written config that builds."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely
import yaml
from conftest import PROJECT, SHARED_DATA

from trame.build import build_site, load_territory
from trame.cli import main
from trame.config import load_config
from trame.errors import UserError
from trame.init.communes import make_selection, select_communes
from trame.init.discover import discover
from trame.init.legend import draft_legend, load_preset
from trame.init.recognise import (
    CORRIDOR_LINES,
    CORRIDOR_SURFACES,
    OBSTACLES,
    RESERVOIRS,
    WATER_COURSES,
    recognise,
)
from trame.init.run import init_territory

DDTM_ITEMS = (
    "reservoirs-a-preserver", "reservoirs-a-renaturer", "corridors-ecologiques",
    "corridors-a-renaturer", "obstacles-ponctuels", "obstacles-lineaires",
)  # fmt: skip
X0, Y0 = 735_000, 7_030_000  # Lambert-93, near Valenciennes


def write(path: Path, geometries, fields: dict, layer: str | None = None, crs="EPSG:2154", **kw):
    pyogrio.raw.write(
        path,
        geometry=shapely.to_wkb(np.array(geometries, dtype=object)),
        field_data=[np.array(values, dtype=object) for values in fields.values()],
        fields=list(fields),
        geometry_type=kw.pop("geometry_type", geometries[0].geom_type),
        crs=crs,
        layer=layer,
        **kw,
    )


def zip_shapefile(archive: Path, folder: str, table: str, geometries, fields: dict) -> None:
    """A COVADIS-like delivery: ``archive.zip/<folder>/<table>/<table>.shp`` and sidecars."""
    work = archive.parent.parent / f"work-{table}"
    work.mkdir()
    write(work / f"{table}.shp", geometries, fields, encoding="cp1252")
    with zipfile.ZipFile(archive, "a") as bundle:
        for file in sorted(work.iterdir()):
            bundle.write(file, f"{folder}/{table}/{file.name}")


def square(i: int, size: float = 400) -> shapely.Polygon:
    return shapely.box(X0 + i * 500, Y0, X0 + i * 500 + size, Y0 + size)


def line(i: int) -> shapely.LineString:
    return shapely.LineString([(X0 + i * 500, Y0 + 100), (X0 + i * 500 + 450, Y0 + 300)])


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    """A small delivery: one zip with tables at depth 2, a GeoPackage, communes, a stray layer."""
    data = tmp_path / "livraison"
    data.mkdir()
    archive = data / "srce.zip"
    zip_shapefile(
        archive, "SRCE", "N_SRCE_RESERVOIR_S_000", [square(0), square(1), square(2), square(3)],
        {"ID_RESV": ["R1", "R2", "R3", "R4"], "OBJ_ASSI": ["01", "02", None, "07"],
         "NOM_RESV": ["Marais d'Épinoy", None, None, None], "ID_SRCE": ["FICTIF"] * 4},
    )  # fmt: skip
    zip_shapefile(
        archive, "SRCE", "N_SRCE_COURS_EAU_L_000", [line(0), line(1), line(2), line(3)],
        {"ID_CEAU": ["C1", "C2", "C3", "C4"], "EST_RESERV": ["T", "F", "T", "F"],
         "EST_CORRID": ["T", "T", "F", "F"], "ID_SRCE": ["FICTIF"] * 4},
    )  # fmt: skip
    zip_shapefile(
        archive, "SRCE", "N_SRCE_OBSTACLE_P_000",
        [shapely.Point(X0 + 100, Y0 + 100)], {"ID_OBST": ["O1"], "NATURE": ["Écluse"]},
    )  # fmt: skip
    gpkg = data / "autres.gpkg"
    write(gpkg, [line(0), line(2)], {"ID_CORR": ["K1", "K2"], "OBJ_ASSI": ["1", "1"]}, "liens")
    write(gpkg, [line(1)], {"NOM": ["D 934"]}, "routes")
    communes = data / "communes.geojson"
    write(
        communes,
        [shapely.box(3.40, 50.30, 3.50, 50.40), shapely.box(3.50, 50.30, 3.60, 50.40),
         shapely.box(3.60, 50.30, 3.70, 50.40)],
        {"INSEE_COM": ["59606", "59014", "62041"], "NOM": ["Valenciennes", "Anzin", "Autre"],
         "SIREN_EPCI": ["245901160", "245901160", "200000000"]},
        crs="EPSG:4326",
    )  # fmt: skip
    (data / "lisez-moi.json").write_text('{"pas": "une couche"}', encoding="utf-8")
    return data


def test_layers_are_found_in_folders_zips_and_geopackages(delivery):
    layers, problems = discover([delivery])
    labels = sorted(layer.name for layer in layers)
    assert labels == [
        "N_SRCE_COURS_EAU_L_000", "N_SRCE_OBSTACLE_P_000", "N_SRCE_RESERVOIR_S_000",
        "communes", "liens", "routes",
    ]  # fmt: skip
    reservoirs = next(layer for layer in layers if layer.name == "N_SRCE_RESERVOIR_S_000")
    assert (
        reservoirs.path
        == delivery / "srce.zip/SRCE/N_SRCE_RESERVOIR_S_000/N_SRCE_RESERVOIR_S_000.shp"
    )
    assert (reservoirs.kind, reservoirs.count) == ("polygon", 4)
    assert reservoirs.crs.startswith("EPSG:2154")
    assert "OBJ_ASSI" in reservoirs.fields
    assert problems == []  # a .json that is not a layer is passed over


def test_covadis_tables_and_communes_are_recognised(delivery):
    found = recognise(discover([delivery])[0])
    roles = {(t.role, t.layer.name) for t in found.tables}
    assert roles == {
        (RESERVOIRS, "N_SRCE_RESERVOIR_S_000"), (WATER_COURSES, "N_SRCE_COURS_EAU_L_000"),
        (OBSTACLES, "N_SRCE_OBSTACLE_P_000"), (CORRIDOR_LINES, "liens"),
    }  # fmt: skip
    assert found.communes is not None
    assert (found.communes.insee, found.communes.name, found.communes.epci) == (
        "INSEE_COM", "NOM", "SIREN_EPCI",
    )  # fmt: skip
    unplaced = {layer.name: reason for layer, reason in found.unplaced}
    assert list(unplaced) == ["routes"]
    assert "legende.yml" in unplaced["routes"]


def test_renamed_tables_are_recognised_by_their_fields(tmp_path):
    path = tmp_path / "srce.gpkg"
    write(path, [square(0)], {"ID_CORR": ["S1"]}, "bandes")
    write(path, [square(1)], {"id_resv": ["R1"]}, "zones")
    found = recognise(discover([path])[0])
    assert {(t.role, t.layer.name) for t in found.tables} == {
        (CORRIDOR_SURFACES, "bandes"), (RESERVOIRS, "zones"),
    }  # fmt: skip


def test_legend_splits_by_objective_and_flags_and_lists_what_it_cannot_place(delivery):
    found = recognise(discover([delivery])[0])
    draft = draft_legend(found.tables, str)
    items = {item.data["id"]: item.data for item in draft.items}
    assert list(items) == [
        "reservoirs-a-preserver", "reservoirs-a-renaturer", "corridors-ecologiques",
        "cours-eau-reservoirs", "cours-eau-corridors", "obstacles-ponctuels",
    ]  # fmt: skip
    assert items["reservoirs-a-preserver"]["filter"] == "OBJ_ASSI == '01'"
    assert items["reservoirs-a-renaturer"]["filter"] == "OBJ_ASSI == '02'"
    assert items["corridors-ecologiques"]["filter"] == "OBJ_ASSI == '1'"  # the data's spelling
    assert items["cours-eau-reservoirs"]["filter"] == "EST_RESERV == 'T'"
    assert items["cours-eau-corridors"]["filter"] == "EST_CORRID == 'T'"
    preset = load_preset()
    for item_id in ("reservoirs-a-preserver", "obstacles-ponctuels"):
        assert items[item_id]["label"] == preset[item_id]["label"]
        assert items[item_id]["style"] == preset[item_id]["style"]
    assert items["obstacles-ponctuels"]["geometry"] == "point"
    todo = " ".join(draft.todo)
    assert "OBJ_ASSI vide" in todo and "OBJ_ASSI = '07'" in todo
    assert draft.fictitious_values["FICTIF"] == 8


def test_init_writes_a_config_that_builds_and_counts_what_it_does_not_show(delivery, tmp_path):
    output = tmp_path / "territoire"
    lines: list[str] = []
    result = init_territory([delivery], make_selection(epci="245901160"), output, say=lines.append)
    assert result.communes == 2
    assert any("N_SRCE_RESERVOIR_S_000" in line and "Polygon" in line for line in lines)
    config = load_config(output / "trame.yml")
    assert config.name == "CA Valenciennes Métropole"  # from the official list
    assert config.fictitious
    assert [item.id for item in config.legend] == result.items
    text = (output / "trame.yml").read_text(encoding="utf-8")
    assert "À ÉCRIRE À LA MAIN" in text and "OBJ_ASSI = '07'" in text
    communes = pyogrio.raw.read(output / "communes.geojson", read_geometry=False)
    fields = list(communes[0]["fields"])
    codes = communes[3][fields.index("INSEE_COM")].tolist()
    postcodes = communes[3][fields.index("CODES_POSTAUX")].tolist()
    assert codes == ["59014", "59606"]
    assert postcodes == ["59410", "59300"]  # @etalab/decoupage-administratif

    territory = load_territory(config)
    by_name = {source.name.split(" ")[0]: source for source in territory.report.sources}
    reservoirs = by_name["N_SRCE_RESERVOIR_S_000.shp"]
    assert (reservoirs.read, reservoirs.shown) == (4, 2)
    assert [u.id for u in reservoirs.unmatched] == ["R3", "R4"]
    assert reservoirs.unmatched[0].values == {"OBJ_ASSI": None}
    water = by_name["N_SRCE_COURS_EAU_L_000.shp"]
    # C4 is neither reservoir nor corridor (F and F): the written legend declares it excluded
    assert (water.shown, list(water.unmatched), water.excluded) == (3, [], ("C4",))
    assert any("R3" in warning and "R4" in warning for warning in territory.report.warnings)
    saved = territory.report.as_dict()["sources"]
    assert {s["unmatched"] for s in saved if "RESERVOIR" in s["name"]} == {2}


def test_init_refuses_to_overwrite_and_names_a_wrong_selection(delivery, tmp_path, capsys):
    output = tmp_path / "territoire"
    init_territory([delivery], make_selection(insee="59606"), output, say=lambda _: None)
    with pytest.raises(UserError, match="--force"):
        init_territory([delivery], make_selection(insee="59606"), output, say=lambda _: None)
    assert main(["init", str(delivery), "--epci", "2459", "--output", str(output)]) == 2
    assert "SIREN à 9 chiffres" in capsys.readouterr().err
    code = main(["init", str(delivery), "--departement", "80", "--output", str(tmp_path / "x")])
    assert code == 2
    assert "aucune commune ne correspond à --departement 80" in capsys.readouterr().err


def test_init_help_is_in_french(capsys):
    with pytest.raises(SystemExit):
        main(["init", "--help"])
    text = capsys.readouterr().out
    assert "--epci SIREN" in text and "les communes d'un EPCI" in text


def test_communes_file_selection(tmp_path):
    listing = tmp_path / "communes.txt"
    listing.write_text("# mes communes\n59606 Valenciennes\n59014;Anzin\n", encoding="utf-8")
    assert make_selection(communes_file=listing).codes == ("59606", "59014")
    with pytest.raises(UserError, match="code INSEE"):
        make_selection(insee="59606,Anzin")


# --- the real layout: COVADIS delivery of the Nord, national communes file -------------------


@pytest.fixture(scope="module")
def valenciennes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`trame init` on the Nord COVADIS delivery and the 35,228 communes, then both builds."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}; these tests need ../shared/data")
    root = tmp_path_factory.mktemp("valenciennes")
    folder = root / "territoire"
    code = main(
        [
            "init", str(SHARED_DATA / "nord" / "covadis"),
            str(SHARED_DATA / "france" / "communes-2018.geojson"),
            "--epci", "245901160", "--output", str(folder),
        ]
    )  # fmt: skip
    assert code == 0
    build_site(
        folder / "trame.yml", None, root / "site-init", quiet=True, workers=1,
        tiles_dir=root / "tiles-init",
    )  # fmt: skip
    # The hand-written legend of layers/valenciennes-metropole.yml, on the GeoPackage the COVADIS
    # delivery was made from, over the same communes.
    hand = root / "main" / "territoire.yml"
    hand.parent.mkdir()
    hand.write_text(
        yaml.safe_dump(
            {
                "name": "Valenciennes Métropole", "slug": "valenciennes-main", "fictitious": True,
                "data_date": "2016-09-30", "licence": "Licence Ouverte / Etalab 2.0",
                "data_dir": str(SHARED_DATA / "nord"),
                "explanatory_text": str(PROJECT / "layers/textes/srce-tvb-nord-pas-de-calais.md"),
                "communes": {
                    "source": {"path": str(folder / "communes.geojson")},
                    "insee_field": "INSEE_COM", "name_field": "NOM",
                },
                "legend": str(PROJECT / "layers/legendes/srce-ddtm59.yml"),
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )  # fmt: skip
    build_site(hand, None, root / "site-main", quiet=True, workers=1, tiles_dir=root / "tiles-main")
    return {"folder": folder, "init": root / "site-init", "main": root / "site-main"}


@pytest.mark.shared
def test_init_selects_valenciennes_metropole(valenciennes):
    expected = json.loads(
        (SHARED_DATA / "valenciennes-metropole" / "composition.json").read_text(encoding="utf-8")
    )
    reference = sorted(commune["insee"] for commune in expected["communes"])
    assert len(reference) == 35
    communes = json.loads((valenciennes["init"] / "api" / "communes.json").read_text())
    assert sorted(c["insee"] for c in communes) == reference
    pages = [
        p for p in (valenciennes["init"] / "communes").iterdir() if re.match(r"\d{5}-", p.name)
    ]
    assert len(pages) == 35 and all((p / "index.html").is_file() for p in pages)
    postcodes = {c["insee"]: ";".join(c["codes_postaux"]) for c in communes}
    assert postcodes == {c["insee"]: c["codes_postaux"] for c in expected["communes"]}
    config = load_config(valenciennes["folder"] / "trame.yml")
    assert config.name == "CA Valenciennes Métropole"
    assert [i.id for i in config.legend if i.id in DDTM_ITEMS] == list(DDTM_ITEMS)
    assert {"cours-eau-reservoirs", "cours-eau-corridors"} <= {i.id for i in config.legend}


@pytest.mark.shared
def test_init_gives_the_figures_of_the_hand_written_config(valenciennes):
    """Same features, same figures: the COVADIS tables are the GeoPackage's layers, except that
    its corridors are split into corridors (OBJ_ASSI 01 / 02) and water courses."""
    corridor_items = (
        "corridors-ecologiques", "corridors-a-remettre-en-bon-etat",
        "cours-eau-reservoirs", "cours-eau-corridors",
    )  # fmt: skip
    files = sorted((valenciennes["main"] / "api" / "communes").glob("*.json"))
    assert len(files) == 35
    compared = 0
    for hand_file in files:
        hand = json.loads(hand_file.read_text())
        made = json.loads((valenciennes["init"] / "api" / "communes" / hand_file.name).read_text())
        assert made["area_ha"] == hand["area_ha"]
        for item_id in (
            "reservoirs-a-preserver",
            "reservoirs-a-renaturer",
            "corridors-a-renaturer",
            "obstacles-ponctuels",
            "obstacles-lineaires",
        ):
            assert made["items"][item_id] == hand["items"][item_id], (hand_file.name, item_id)
            compared += hand["items"][item_id]["count"]
        hand_corridors = {
            e["id"]: e["length_km"]
            for e in hand["elements"]
            if e["item"] == "corridors-ecologiques"
        }
        made_corridors = {
            e["id"]: e["length_km"] for e in made["elements"] if e["item"] in corridor_items
        }
        assert made_corridors == hand_corridors, hand_file.name
        compared += len(hand_corridors)
    assert compared > 100  # the comparison looked at real features, not empty communes


@pytest.mark.shared
def test_every_feature_of_the_delivery_has_a_legend_item(valenciennes):
    report = json.loads((valenciennes["init"] / "api" / "validation.json").read_text())
    sources = {s["name"]: s for s in report["sources"]}
    assert len(sources) == 6
    assert sources["N_SRCE_RESERVOIR_S_000.shp"]["read"] == 692
    assert all(s["unmatched"] == 0 and s["shown"] == s["read"] for s in sources.values())
    page = (valenciennes["init"] / "traitement" / "index.html").read_text(encoding="utf-8")
    assert "Objets sans élément de légende" in page and "N_SRCE_COURS_EAU_L_000.shp" in page


def test_departement_selection_without_a_departement_field(delivery, tmp_path):
    result = init_territory(
        [delivery], make_selection(departement="59"), tmp_path / "nord", say=lambda _: None
    )
    assert result.communes == 2
    assert load_config(result.config).name == "Nord (département 59)"


def test_a_national_layer_needs_a_selection(delivery):
    from dataclasses import replace

    communes = recognise(discover([delivery])[0]).communes
    national = replace(communes, layer=replace(communes.layer, count=35_228))
    with pytest.raises(UserError, match="choisissez celles du territoire avec --epci"):
        select_communes(national, make_selection())
