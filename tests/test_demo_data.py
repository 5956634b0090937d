"""The embedded demo territory: committed data = script output, and fit for the shared legend."""

from __future__ import annotations

import importlib.util
import json
import sys
import unicodedata
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import shape

from trame.config import Config, load_config

PROJECT = Path(__file__).resolve().parent.parent
DEMO_DIR = PROJECT / "layers" / "demo"
DEMO_CONFIG = PROJECT / "layers" / "demo.yml"


def _load_script() -> ModuleType:
    # layers/demo is data, not a package: load the script from its path.
    spec = importlib.util.spec_from_file_location("make_demo", DEMO_DIR / "make_demo.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules while the module runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_demo() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def config() -> Config:
    # No DATA_DIR: the config's own data_dir must lead to layers/demo, as `make build` relies on.
    return load_config(DEMO_CONFIG)


@pytest.fixture(scope="module")
def communes() -> list[dict[str, Any]]:
    return json.loads((DEMO_DIR / "communes.geojson").read_text(encoding="utf-8"))["features"]


def _read_layer(path: Path, layer: str) -> tuple[list[dict[str, Any]], np.ndarray]:
    meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer)
    records = [
        dict(zip(meta["fields"], values, strict=True)) for values in zip(*columns, strict=True)
    ]
    return records, shapely.from_wkb(wkb)


def _to_lambert93(geometry: shapely.Geometry) -> shapely.Geometry:
    transformer = Transformer.from_crs("EPSG:4326", "EPSG:2154", always_xy=True)
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def test_committed_geojson_is_what_the_script_writes(make_demo: ModuleType, tmp_path: Path):
    make_demo.main(["--out", str(tmp_path), "--communes-only"])
    fresh = (tmp_path / "communes.geojson").read_text(encoding="utf-8")
    committed = (DEMO_DIR / "communes.geojson").read_text(encoding="utf-8")
    assert fresh == committed, "layers/demo/communes.geojson is stale: rerun make_demo.py"


def test_committed_gpkg_has_what_the_script_writes(make_demo: ModuleType, tmp_path: Path):
    # The GeoPackage may differ in internal metadata; compare layers, attributes and geometries.
    make_demo.write_srce(tmp_path / "srce.gpkg")
    committed = DEMO_DIR / "srce_fictif.gpkg"
    assert pyogrio.list_layers(tmp_path / "srce.gpkg").tolist() == (
        pyogrio.list_layers(committed).tolist()
    )
    for layer, _ in pyogrio.list_layers(committed):
        fresh_records, fresh_geometries = _read_layer(tmp_path / "srce.gpkg", layer)
        records, geometries = _read_layer(committed, layer)
        assert fresh_records == records, f"{layer}: attributes are stale, rerun make_demo.py"
        assert shapely.equals_exact(fresh_geometries, geometries, tolerance=0).all(), layer


def test_gpkg_schema_matches_the_shared_test_data(make_demo: ModuleType):
    # Same layer names, geometry types and fields as ../shared/data (see its README), so that
    # the shared legend layers/legendes/srce-ddtm59.yml applies unchanged.
    path = DEMO_DIR / "srce_fictif.gpkg"
    layers = {name: kind for name, kind in pyogrio.list_layers(path)}
    assert layers == make_demo.LAYER_GEOMETRY
    for layer, fields in make_demo.LAYER_FIELDS.items():
        info = pyogrio.read_info(path, layer=layer)
        assert tuple(info["fields"]) == fields
        assert info["crs"] == "EPSG:2154"


def test_files_stay_small():
    size = sum(p.stat().st_size for p in DEMO_DIR.iterdir() if p.is_file())
    assert size < 200_000, f"layers/demo weighs {size} bytes"


def test_communes_codes_and_names(communes: list[dict[str, Any]]):
    assert len(communes) >= 10
    properties = [feature["properties"] for feature in communes]
    codes = [p["code"] for p in properties]
    assert len(set(codes)) == len(codes)
    # "00" is no real département, so a fictitious code can never clash with a real INSEE code.
    assert all(len(code) == 5 and code.startswith("00") for code in codes)
    names = [p["nom"] for p in properties]
    assert len(set(names)) == len(names)
    assert any("'" in name for name in names)
    assert any(unicodedata.normalize("NFD", name) != name for name in names)  # accents
    assert any("œ" in name or "ç" in name for name in names)
    for p in properties:
        assert all(len(code) == 5 for code in p["codes_postaux"].split(";"))
    assert any(";" in p["codes_postaux"] for p in properties)


def test_communes_tile_the_territory(communes: list[dict[str, Any]]):
    geometries = [shape(feature["geometry"]) for feature in communes]
    assert all(g.geom_type == "Polygon" and g.is_valid for g in geometries)
    # Neighbours share exact vertices, so the coverage is valid as written (no gap, no overlap).
    assert shapely.coverage_is_valid(geometries)
    lambert = [_to_lambert93(g) for g in geometries]
    union = shapely.union_all(lambert)
    assert union.geom_type == "Polygon" and not union.interiors
    assert union.area == pytest.approx(sum(g.area for g in lambert), rel=1e-9)
    # About 15 km x 12 km.
    xmin, ymin, xmax, ymax = union.bounds
    assert 12_000 < xmax - xmin < 18_000 and 10_000 < ymax - ymin < 15_000


def test_every_legend_item_has_features_in_the_territory(
    config: Config, communes: list[dict[str, Any]]
):
    territory = shapely.union_all([_to_lambert93(shape(f["geometry"])) for f in communes])
    for item in config.legend:
        records, geometries = _read_layer(item.source.path, item.source.layer)
        chosen = [
            geometry
            for record, geometry in zip(records, geometries, strict=True)
            if item.filter is None or item.filter.matches(record)
        ]
        assert chosen, f"legend item {item.id} matches no feature"
        assert any(territory.intersects(g) for g in chosen), f"{item.id} is outside the territory"
        kinds = {g.geom_type.removeprefix("Multi") for g in chosen}
        expected = {"polygon": "Polygon", "line": "LineString", "point": "Point"}[item.geometry]
        assert kinds == {expected}, item.id


def test_config_finds_the_demo_data(config: Config):
    assert config.communes.source.path == DEMO_DIR / "communes.geojson"
    assert {item.source.path for item in config.legend} == {DEMO_DIR / "srce_fictif.gpkg"}
    explicit = load_config(DEMO_CONFIG, DEMO_DIR)  # as with DATA_DIR=layers/demo
    assert explicit.communes.source == config.communes.source
    assert [item.source for item in explicit.legend] == [item.source for item in config.legend]


def test_every_feature_is_marked_fictitious(config: Config):
    assert config.fictitious
    assert config.fictitious_marker == {"ID_SRCE": "FICTIF"}
    path = DEMO_DIR / "srce_fictif.gpkg"
    for layer, _ in pyogrio.list_layers(path):
        records, geometries = _read_layer(path, layer)
        assert records, layer
        assert all(record["ID_SRCE"] == "FICTIF" for record in records), layer
        assert all(g.is_valid and not g.is_empty for g in geometries), layer


def test_reservoirs_cover_the_awkward_cases(communes: list[dict[str, Any]]):
    lambert = [_to_lambert93(shape(f["geometry"])) for f in communes]
    territory = shapely.union_all(lambert)
    _, reservoirs = _read_layer(DEMO_DIR / "srce_fictif.gpkg", "reservoirs_biodiversite")
    parts = [shapely.get_parts(r) for r in reservoirs]
    assert any(any(p.interiors for p in r) for r in parts), "a reservoir with a hole"
    assert any(len(r) > 1 for r in parts), "a reservoir in several parts"
    assert any(r.intersects(territory) and not r.within(territory) for r in reservoirs), (
        "a reservoir crossing the territory's edge"
    )
    spans = [sum(c.intersection(r).area > 1.0 for c in lambert) for r in reservoirs]
    assert max(spans) >= 3, "a reservoir over several communes"
