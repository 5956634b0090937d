"""Bad input end to end: one clear message and exit code 2 for fatal problems, a build and a
report for repairable ones. Each case edits a copy of the demo territory."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from trame.build import build_site
from trame.cli import main

PROJECT = Path(__file__).resolve().parent.parent


def rewrite_layer(gpkg: Path, layer: str, edit) -> None:
    """Read a layer, let ``edit`` change (geometries, columns), write it back."""
    meta, _, wkb, columns = pyogrio.raw.read(gpkg, layer=layer)
    geometries, columns = edit(shapely.from_wkb(wkb), list(columns))
    pyogrio.raw.write(
        gpkg, geometry=shapely.to_wkb(geometries), field_data=columns, fields=list(meta["fields"]),
        geometry_type=meta["geometry_type"] if len(geometries) else "Unknown", crs=meta["crs"],
        layer=layer, append=False,
    )  # fmt: skip


def run_cli(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err


def test_fatal_error_exits_2_with_one_message_and_no_traceback(territory, capsys, tmp_path):
    (territory.parent / "demo" / "communes.geojson").unlink()
    code, err = run_cli(
        capsys, "build", "--config", str(territory), "--output", str(tmp_path / "s"), "-q"
    )
    assert code == 2
    assert "communes.geojson : fichier introuvable" in err
    assert "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_filter_on_a_missing_field_names_item_and_field(territory, capsys, tmp_path):
    legend = territory.parent / "legendes" / "srce-ddtm59.yml"
    legend.write_text(
        legend.read_text(encoding="utf-8").replace("OBJ_ASSI == '01'", "OBJECTIF == '01'"),
        encoding="utf-8",
    )
    code, err = run_cli(capsys, "validate", "--config", str(territory))
    assert code == 2
    assert "l'élément de légende 'reservoirs-a-preserver' utilise le champ 'OBJECTIF'" in err


def test_empty_layer_builds_and_shows_zero_everywhere(territory, tmp_path):
    gpkg = territory.parent / "demo" / "srce_fictif.gpkg"
    rewrite_layer(gpkg, "obstacles_lineaires", lambda g, c: (g[:0], [col[:0] for col in c]))
    result = build_site(
        territory, None, tmp_path / "site", quiet=True, workers=1, tiles_dir=tmp_path / "t"
    )
    details = sorted((tmp_path / "site" / "api" / "communes").glob("*.json"))
    assert len(details) == result.communes > 0
    for detail in details:
        assert json.loads(detail.read_text())["items"]["obstacles-lineaires"]["count"] == 0
    assert any("aucun objet ne correspond" in w for w in result.report.warnings)


def test_invalid_mixed_and_null_geometries_are_repaired_or_reported(territory, tmp_path):
    gpkg = territory.parent / "demo" / "srce_fictif.gpkg"

    def damage(geometries, columns):
        geometries = geometries.copy()
        x, y = shapely.get_coordinates(geometries[0])[0]
        geometries[0] = shapely.Polygon(
            [(x, y), (x + 500, y + 500), (x + 500, y), (x, y + 500)]
        )  # bow-tie
        geometries[1] = None
        geometries[2] = shapely.GeometryCollection([geometries[2], shapely.Point(x, y)])
        return geometries, columns

    rewrite_layer(gpkg, "reservoirs_biodiversite", damage)
    result = build_site(
        territory, None, tmp_path / "site", quiet=True, workers=1, tiles_dir=tmp_path / "t"
    )
    reports = {layer.name: layer for layer in result.report.layers}
    touched = [reports["reservoirs-a-preserver"], reports["reservoirs-a-renaturer"]]
    assert sum(r.repaired for r in touched) == 1
    assert sum(r.empty for r in touched) == 1
    warnings = " ".join(w for r in touched for w in r.warnings)
    assert (
        "Self-intersection" in warnings and "réparée" in warnings and "sans géométrie" in warnings
    )
    published = json.loads((tmp_path / "site" / "api" / "validation.json").read_text())
    assert {layer["name"] for layer in published["layers"]} >= {
        "communes",
        "reservoirs-a-preserver",
    }


def test_unknown_config_key_is_fatal(territory, capsys):
    territory.write_text(
        territory.read_text(encoding="utf-8") + "\nlegende: oops\n", encoding="utf-8"
    )
    code, err = run_cli(capsys, "validate", "--config", str(territory))
    assert code == 2 and "à legende : clé inconnue" in err


@pytest.mark.parametrize("insee", ["00002", None])
def test_duplicate_or_missing_insee_is_fatal(territory, capsys, insee):
    path = territory.parent / "demo" / "communes.geojson"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["code"] = insee
    path.write_text(json.dumps(data), encoding="utf-8")
    code, err = run_cli(capsys, "validate", "--config", str(territory))
    assert code == 2
    assert ("ont le même code INSEE 00002" if insee else "absent ou mal formé") in err
    assert np.char.count(err, "\n") == 1  # one message, one line


def test_unclosed_ring_duplicate_points_and_mixed_types_in_one_layer(tmp_path):
    """A hand-written GeoJSON: an unclosed ring, repeated vertices, a point in a polygon layer."""
    from trame.read import read_layer
    from trame.validate import LayerReport, clean_geometries

    x, y = 3.5, 50.35
    features = [
        {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01]]]},
        {"type": "Polygon", "coordinates": [[[x, y], [x, y], [x + 0.01, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y]]]},
        {"type": "Point", "coordinates": [x, y]},
    ]  # fmt: skip
    path = tmp_path / "mixed.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": {"ID": f"F{i}"}, "geometry": g}
                    for i, g in enumerate(features)
                ],
            }
        ),  # fmt: skip
        encoding="utf-8",
    )
    layer = read_layer(path)
    assert layer.unclosed == {0}
    report = LayerReport("reservoirs", str(path))
    cleaned, kept = clean_geometries(layer.geometries, "polygon", ["F0", "F1", "F2"], report)
    assert list(kept) == [True, True, False]
    assert all(shapely.is_valid(cleaned)) and all(g.area > 0 for g in cleaned)
    assert report.wrong_type == 1 and any(
        "F2" in w and "géométrie Point, pas une surface" in w for w in report.warnings
    )
