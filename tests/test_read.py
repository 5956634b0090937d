import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely

from trame.errors import UserError
from trame.read import layer_label, read_layer


def write(path, geometries, fields, crs, layer=None, **options):
    pyogrio.raw.write(
        path,
        geometry=shapely.to_wkb(np.array(geometries, dtype=object)),
        field_data=[np.array(values, dtype=object) for values in fields.values()],
        fields=list(fields),
        geometry_type=geometries[0].geom_type,
        crs=crs,
        layer=layer,
        **options,
    )


def test_geojson_in_wgs84_is_reprojected_to_lambert_93(tmp_path):
    path = tmp_path / "points.geojson"
    # Valenciennes town hall, about (3.5235, 50.3578) in WGS84
    write(path, [shapely.Point(3.5235, 50.3578)], {"nom": ["Valenciennes"]}, "EPSG:4326")
    layer = read_layer(path)
    x, y = layer.geometries[0].x, layer.geometries[0].y
    # Independent reference from the IGN converter's order of magnitude: x ≈ 737 km, y ≈ 7 030 km
    assert 735_000 < x < 740_000 and 7_028_000 < y < 7_033_000
    assert layer.attributes == [{"nom": "Valenciennes"}]
    assert layer.crs == "EPSG:4326"


def test_geopackage_layer_in_lambert_93_is_kept_as_is(tmp_path):
    path = tmp_path / "data.gpkg"
    square = shapely.box(700_000, 7_000_000, 701_000, 7_001_000)
    write(path, [square], {"ID": ["A"]}, "EPSG:2154", layer="reservoirs")
    layer = read_layer(path, "reservoirs")
    assert shapely.equals_exact(layer.geometries[0].normalize(), square.normalize(), 1e-6)


def test_shapefile_cp1252_attributes_are_decoded(tmp_path):
    path = tmp_path / "obstacles.shp"
    write(
        path, [shapely.Point(700_000, 7_000_000)], {"NATURE": ["Écluse à sas"]}, "EPSG:2154",
        encoding="cp1252",
    )  # fmt: skip
    assert (tmp_path / "obstacles.cpg").read_text().strip().upper() in ("CP1252", "1252")
    assert read_layer(path).attributes[0]["NATURE"] == "Écluse à sas"


def test_3d_coordinates_are_dropped(tmp_path):
    path = tmp_path / "lines.geojson"
    write(
        path, [shapely.LineString([(3.5, 50.3, 12.0), (3.6, 50.4, 15.0)])], {"a": [1]}, "EPSG:4326"
    )
    assert not shapely.has_z(read_layer(path).geometries[0])


def test_missing_file_names_it(tmp_path):
    with pytest.raises(UserError, match="missing.gpkg.* : fichier introuvable"):
        read_layer(tmp_path / "missing.gpkg", "x")


def test_missing_layer_lists_the_layers(tmp_path):
    path = tmp_path / "data.gpkg"
    write(path, [shapely.Point(700_000, 7_000_000)], {"a": [1]}, "EPSG:2154", layer="obstacles")
    with pytest.raises(UserError, match="couche introuvable ; le fichier contient 'obstacles'"):
        read_layer(path, "reservoirs")


def test_a_layer_that_reads_is_not_looked_for_first(tmp_path, monkeypatch):
    path = tmp_path / "data.gpkg"
    write(path, [shapely.Point(700_000, 7_000_000)], {"a": [1]}, "EPSG:2154", layer="obstacles")
    monkeypatch.setattr(pyogrio, "list_layers", lambda *_: pytest.fail("layers listed"))
    assert len(read_layer(path, "obstacles").geometries) == 1


def test_a_file_that_does_not_open_says_so_with_or_without_a_layer(tmp_path):
    """(the layers are listed only once the read failed: the same messages as before)"""
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"not a GeoPackage at all" * 100)
    with pytest.raises(UserError, match="broken.gpkg.* : ouverture du fichier impossible") as error:
        read_layer(path, "reservoirs")
    assert error.value.__suppress_context__  # (one message, no chained traceback)
    with pytest.raises(UserError, match="broken.gpkg : lecture du fichier impossible"):
        read_layer(path)


def test_shapefile_without_prj_is_refused(tmp_path):
    path = tmp_path / "noprj.shp"
    write(path, [shapely.Point(700_000, 7_000_000)], {"a": [1]}, "EPSG:2154")
    (tmp_path / "noprj.prj").unlink()
    with pytest.raises(UserError, match="aucun système de coordonnées déclaré"):
        read_layer(path)


def test_garbage_behind_a_known_extension(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not a geopackage")
    with pytest.raises(UserError, match="broken.gpkg"):
        read_layer(path, "x")


def test_geojson_with_metres_but_no_crs_is_refused(tmp_path):
    path = tmp_path / "projected.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},'
        ' "geometry": {"type": "Point", "coordinates": [720000, 7030000]}}]}',
        encoding="utf-8",
    )
    with pytest.raises(UserError, match="sont des mètres, pas des degrés.*ogr2ogr -a_srs"):
        read_layer(path)


def test_crs_declared_but_coordinates_outside_its_area(tmp_path):
    path = tmp_path / "elsewhere.gpkg"
    # Lambert-93 coordinates in a file that claims to be in the Réunion's UTM 40S
    write(path, [shapely.Point(720_000, 7_030_000)], {"a": [1]}, "EPSG:2975", layer="x")
    with pytest.raises(UserError, match="hors de la zone où s'emploie EPSG:2975"):
        read_layer(path, "x")


def test_empty_layer_reads_as_no_feature(tmp_path):
    path = tmp_path / "data.gpkg"
    write(path, [shapely.Point(720_000, 7_030_000)], {"a": [1]}, "EPSG:2154", layer="full")
    pyogrio.raw.write(
        path, geometry=np.array([], dtype=object), field_data=[np.array([], dtype=object)],
        fields=["a"], geometry_type="Point", crs="EPSG:2154", layer="empty", append=False,
    )  # fmt: skip
    assert len(read_layer(path, "empty")) == 0


def test_layer_labels_name_files_relative_to_the_config_folder(tmp_path):
    config_folder, data = tmp_path / "layers", tmp_path / "layers" / "data" / "srce.gpkg"
    elsewhere = tmp_path / "shared" / "communes.geojson"
    assert layer_label(data, "corridors", config_folder) == "data/srce.gpkg, couche 'corridors'"
    assert layer_label(elsewhere, None, config_folder) == "communes.geojson"
    assert layer_label(data, None) == str(data)  # messages to the operator: the whole path


def test_reprojection_in_threads_gives_the_same_numbers(monkeypatch):
    """Large arrays are reprojected in several threads (crs.THREADED points each at least):
    each point alone, so the same coordinates as in one call."""
    import trame.crs
    from trame.crs import LAMBERT_93, WEB_MERCATOR, reproject

    rng = np.random.default_rng(3)
    points = rng.uniform((100_000, 6_100_000), (1_200_000, 7_100_000), (2_000, 2))
    geometries = np.array(
        [shapely.LineString(points[i : i + 20]) for i in range(0, 2_000, 20)], dtype=object
    )
    monkeypatch.setattr(trame.crs, "THREADED", 10**9)
    alone = shapely.get_coordinates(reproject(geometries, LAMBERT_93, WEB_MERCATOR))
    monkeypatch.setattr(trame.crs, "THREADED", 300)
    monkeypatch.setattr(trame.crs.os, "cpu_count", lambda: 4)
    pools = []

    class Counted(trame.crs.ThreadPoolExecutor):
        def __init__(self, workers):
            pools.append(workers)
            super().__init__(workers)

    monkeypatch.setattr(trame.crs, "ThreadPoolExecutor", Counted)
    threaded = shapely.get_coordinates(reproject(geometries, LAMBERT_93, WEB_MERCATOR))
    assert pools == [3]  # (three threads beside this one)
    assert np.array_equal(alone, threaded)
