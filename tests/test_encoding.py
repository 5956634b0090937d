"""Shapefile text encodings: declared, detected without a .cpg, or refused rather than garbled."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from trame.errors import UserError
from trame.read import read_layer

NAMES = ["Écluse à sas", "Seuil du moulin", "Étang d'Amaury"]


def shapefile(folder: Path, name: str, encoding: str, cpg: str | None) -> Path:
    """Points with French names, the DBF written in ``encoding``; ``cpg`` None: no .cpg."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.shp"
    points = [shapely.Point(735_000 + i * 100, 7_030_000) for i in range(len(NAMES))]
    pyogrio.raw.write(
        path, geometry=shapely.to_wkb(np.array(points, dtype=object)),
        field_data=[np.array(NAMES, dtype=object)], fields=["NATURE"], geometry_type="Point",
        crs="EPSG:2154", encoding=encoding,
    )  # fmt: skip
    cpg_file = path.with_suffix(".cpg")
    if cpg is None:
        cpg_file.unlink()
    else:
        cpg_file.write_text(cpg, encoding="ascii")
    return path


def names(path: Path, encoding: str | None = None) -> tuple[list[str], tuple[str, ...]]:
    layer = read_layer(path, encoding=encoding)
    return [row["NATURE"] for row in layer.attributes], layer.notes


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_without_cpg_the_encoding_is_detected_and_reported(tmp_path, encoding):
    decoded, notes = names(shapefile(tmp_path, "obstacles", encoding, cpg=None))
    assert decoded == NAMES
    assert len(notes) == 1 and f"lu en {encoding.upper()}" in notes[0]
    assert ".cpg absent" in notes[0]


def test_without_cpg_plain_ascii_needs_no_note(tmp_path):
    path = tmp_path / "ascii.shp"
    pyogrio.raw.write(
        path, geometry=shapely.to_wkb(np.array([shapely.Point(735_000, 7_030_000)])),
        field_data=[np.array(["Seuil"], dtype=object)], fields=["NATURE"],
        geometry_type="Point", crs="EPSG:2154",
    )  # fmt: skip
    path.with_suffix(".cpg").unlink()
    assert names(path) == (["Seuil"], ())


def test_a_zipped_shapefile_without_cpg_is_detected_in_place(tmp_path):
    path = shapefile(tmp_path / "work", "N_SRCE_OBSTACLE_P_000", "cp1252", cpg=None)
    archive = tmp_path / "livraison.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for file in sorted(path.parent.iterdir()):
            bundle.write(file, f"SRCE/{file.name}")
    decoded, notes = names(archive / "SRCE" / "N_SRCE_OBSTACLE_P_000.shp")
    assert decoded == NAMES and "CP1252" in notes[0]


def test_a_dbf_that_decodes_in_no_encoding_is_refused(tmp_path):
    path = shapefile(tmp_path, "obstacles", "cp1252", cpg=None)
    dbf = path.with_suffix(".dbf")
    data = dbf.read_bytes()
    dbf.write_bytes(data.replace("É".encode("cp1252"), b"\x81"))  # 0x81: no character in CP1252
    with pytest.raises(UserError, match="ne se lit pas en UTF-8 ni en CP1252") as error:
        read_layer(path)
    assert "obstacles.shp" in str(error.value) and ".cpg" in str(error.value)


def test_utf8_text_behind_a_cp1252_declaration_is_refused_not_garbled(tmp_path):
    path = shapefile(tmp_path, "obstacles", "utf-8", cpg="CP1252")
    with pytest.raises(UserError, match="UTF-8 lu avec un autre encodage") as error:
        read_layer(path)
    assert "Ã‰cluse" in str(error.value) and "Écluse à sas" in str(error.value)


def test_cp1252_text_behind_a_utf8_declaration_is_refused(tmp_path):
    path = shapefile(tmp_path, "obstacles", "cp1252", cpg="UTF-8")
    with pytest.raises(UserError, match="encodage que déclare son fichier .cpg"):
        read_layer(path)


def test_the_configured_encoding_wins_over_the_cpg(tmp_path):
    path = shapefile(tmp_path, "obstacles", "cp1252", cpg="UTF-8")
    assert names(path, encoding="CP1252") == (NAMES, ())
    with pytest.raises(UserError, match="encodage 'klingon' inconnu"):
        read_layer(path, encoding="klingon")


def test_a_declared_cp1252_shapefile_reads_as_before(tmp_path):
    assert names(shapefile(tmp_path, "obstacles", "cp1252", cpg="CP1252")) == (NAMES, ())


def test_the_detected_encoding_is_said_in_the_build_report(territory):
    """The demo's point obstacles as a Shapefile in CP1252 without .cpg: read, and said."""
    from trame.build import load_territory
    from trame.config import load_config

    demo = territory.parent / "demo"
    meta, _, wkb, columns = pyogrio.raw.read(demo / "srce_fictif.gpkg", layer="obstacles_ponctuels")
    columns = [np.array(column, dtype=object) for column in columns]
    nature = list(meta["fields"]).index("NATURE")
    columns[nature][0] = "Écluse"
    pyogrio.raw.write(
        demo / "obstacles.shp", geometry=wkb, field_data=columns, fields=list(meta["fields"]),
        geometry_type="Point", crs="EPSG:2154", encoding="cp1252",
    )  # fmt: skip
    (demo / "obstacles.cpg").unlink()
    legend = territory.parent / "legendes" / "srce-ddtm59.yml"
    text = legend.read_text(encoding="utf-8")
    old = "{path: srce_fictif.gpkg, layer: obstacles_ponctuels}"
    assert old in text
    legend.write_text(text.replace(old, "{path: obstacles.shp}"), encoding="utf-8")
    report = load_territory(load_config(territory)).report
    (obstacles,) = [layer for layer in report.layers if layer.name == "obstacles-ponctuels"]
    assert any("lu en CP1252" in warning for warning in obstacles.warnings)
    assert any("lu en CP1252" in warning for warning in report.warnings)
