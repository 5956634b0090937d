"""Integration: build the demo and Valenciennes Métropole sites and check what is published."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import mapbox_vector_tile
import pytest

from trame.build import build_site

ITEM_IDS = [  # the legend item ids the issue asks for, in legend order
    "reservoirs-a-preserver",
    "reservoirs-a-renaturer",
    "corridors-ecologiques",
    "corridors-a-renaturer",
    "obstacles-ponctuels",
    "obstacles-lineaires",
]
PROJECT = Path(__file__).resolve().parent.parent


def check_site(site: Path, expected_communes: int | None = None) -> list[dict]:
    communes = json.loads((site / "api" / "communes.json").read_text(encoding="utf-8"))
    if expected_communes is not None:
        assert len(communes) == expected_communes
    assert (site / "index.html").is_file() and (site / "404.html").is_file()
    assert (site / "carte.svg").read_text(encoding="utf-8").startswith("<svg")  # home page map
    assert 'src="carte.svg"' in (site / "index.html").read_text(encoding="utf-8")
    for summary in communes:
        assert set(summary) == {"insee", "nom", "codes_postaux", "url", "bbox", "label"}
        assert re.fullmatch(r"communes/[0-9AB]{5}-[a-z0-9-]+/", summary["url"])
        page = site / summary["url"] / "index.html"
        assert page.is_file(), page
        svg = (site / summary["url"] / "carte.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg") and "<script" not in svg
        assert 'src="carte.svg"' in page.read_text(encoding="utf-8")
        geojson = json.loads(
            (site / "api" / "communes" / f"{summary['insee']}.geojson").read_text()
        )
        assert geojson["type"] == "FeatureCollection"
        csv_lines = (site / "api" / "communes" / f"{summary['insee']}.csv").read_text().splitlines()
        assert len(csv_lines) == 1 + len(ITEM_IDS)
        west, south, east, north = summary["bbox"]
        assert -180 < west < east < 180 and -90 < south < north < 90
        redirect = (site / "communes" / summary["insee"] / "index.html").read_text()
        assert f"url=../{summary['url'].split('/')[1]}/" in redirect
        detail = json.loads((site / "api" / "communes" / f"{summary['insee']}.json").read_text())
        assert sorted(detail["items"]) == sorted(ITEM_IDS)
        assert detail["url"] == summary["url"] and detail["area_ha"] > 0
    return communes


def html_pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def test_demo_site_has_every_output(demo_site):
    communes = check_site(demo_site)
    assert len(communes) >= 10
    names = " ".join(c["nom"] for c in communes)
    assert "'" in names and re.search(r"[éèêàçœÉ]", names)
    assert any((demo_site / "tiles").glob("*.pmtiles"))
    assert any((demo_site / "tiles").glob("*/*/*.pbf"))
    style = json.loads((demo_site / "api" / "style.json").read_text())
    items_in_style = {layer.get("metadata", {}).get("trame:item") for layer in style["layers"]}
    assert set(ITEM_IDS) <= items_in_style
    (assets,) = (demo_site / "assets").iterdir()  # assets/<hash of its files>/
    assert re.fullmatch(r"[0-9a-f]{12}", assets.name)
    for name in ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"):
        assert (assets / "vendor" / "maplibre-gl" / name).is_file()
    home = (demo_site / "index.html").read_text(encoding="utf-8")
    assert f"assets/{assets.name}/trame/carte.mjs" in home and "assets/trame/" not in home


def test_what_the_tiles_left_out_is_published(demo_site):
    report = json.loads((demo_site / "api" / "validation.json").read_text())
    thinned = report["tiles"]["thinned"]
    assert all(set(entry) == {"layer", "zoom", "features"} for entry in thinned)
    assert all(entry["zoom"] < 14 for entry in thinned)  # every feature is in the last zoom
    assert thinned, "the demo's sub-pixel features at low zooms should be counted"
    page = (demo_site / "traitement" / "index.html").read_text(encoding="utf-8")
    assert f"{sum(e['features'] for e in thinned)} apparitions" in page


def test_the_report_names_the_data_files_relative_to_the_config(demo_site):
    """The build machine's folders never reach the site (they differ per checkout)."""
    text = (demo_site / "api" / "validation.json").read_text(encoding="utf-8")
    report = json.loads(text)
    sources = {entry["source"] for entry in report["layers"] + report["sources"]}
    assert "demo/communes.geojson" in sources
    assert "demo/srce_fictif.gpkg, couche 'reservoirs_biodiversite'" in sources
    assert all(source.startswith("demo/") for source in sources), sources
    assert str(PROJECT) not in text and str(demo_site.parent) not in text


def test_demo_covers_every_legend_item(demo_site):
    totals = dict.fromkeys(ITEM_IDS, 0)
    for detail_path in (demo_site / "api" / "communes").glob("*.json"):
        for item_id, figures in json.loads(detail_path.read_text())["items"].items():
            totals[item_id] += figures["count"]
    assert all(count > 0 for count in totals.values()), totals


FICTITIOUS_NOTICE = "Données fictives de démonstration"


def test_every_page_says_the_data_is_fictitious(demo_site):
    for page in html_pages(demo_site):
        assert FICTITIOUS_NOTICE in page.read_text(encoding="utf-8"), page


@pytest.mark.parametrize(("marker", "notice"), [(True, True), (False, False)])
def test_the_notice_follows_the_data(territory, tmp_path, marker, notice):
    """The config says fictitious: false; the notice still shows when the features carry the
    fictitious marker (ID_SRCE = FICTIF), and only then."""
    config = territory.read_text(encoding="utf-8").replace("fictitious: true", "fictitious: false")
    if not marker:
        config = config.replace("fictitious_marker: {ID_SRCE: FICTIF}", "")
    territory.write_text(config, encoding="utf-8")
    site = tmp_path / "site"
    build_site(territory, None, site, quiet=True, workers=1, tiles_dir=tmp_path / "tiles")
    for page in (site / "index.html", *(site / "communes").glob("*-*/index.html")):
        assert (FICTITIOUS_NOTICE in page.read_text(encoding="utf-8")) is notice, page
    assert (
        json.loads((site / "api" / "communes" / "00002.json").read_text())["fictitious"] is notice
    )


def test_no_page_refers_to_a_third_party_host(demo_site):
    for page in html_pages(demo_site):
        text = page.read_text(encoding="utf-8")
        for url in re.findall(r"""(?:src|href)=["']?(https?:)?//([^/"' >]+)""", text):
            pytest.fail(f"{page} refers to {url}")


def test_commune_pages_do_not_list_every_commune_in_their_navigation(demo_site):
    communes = json.loads((demo_site / "api" / "communes.json").read_text())
    page = (demo_site / communes[0]["url"] / "index.html").read_text(encoding="utf-8")
    other_links = [c for c in communes[1:] if f"{c['insee']}-" in page]
    assert not other_links


def test_tiles_decode_with_the_legend_layers(demo_site):
    layers: set[str] = set()
    for tile in (demo_site / "tiles").glob("1[0-4]/*/*.pbf"):
        data = tile.read_bytes()
        assert data[:2] != b"\x1f\x8b"  # directory tiles are not gzipped
        layers |= set(mapbox_vector_tile.decode(data))
    assert {"communes", *ITEM_IDS} <= layers


def test_a_failing_build_leaves_the_previous_site_untouched(demo_site, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("previous build", encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        (PROJECT / "layers" / "demo.yml").read_text(encoding="utf-8") + "\nunknown_key: true\n",
        encoding="utf-8",
    )
    from trame.errors import UserError

    with pytest.raises(UserError):
        build_site(broken, PROJECT / "layers" / "demo", site, quiet=True, workers=1)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert (site / "index.html").read_text() == "previous build"


@pytest.mark.shared
def test_valenciennes_metropole_site(shared_data, tmp_path):
    site = tmp_path / "site"
    build_site(
        PROJECT / "layers" / "valenciennes-metropole.yml",
        shared_data / "valenciennes-metropole",
        site,
        quiet=True,
        workers=2,
        tiles_dir=tmp_path / "tiles",
    )
    check_site(site, expected_communes=35)
    valenciennes = json.loads((site / "api" / "communes" / "59606.json").read_text())
    assert valenciennes["nom"] == "Valenciennes"
    assert valenciennes["url"] == "communes/59606-valenciennes/"
    assert (site / "communes" / "59606-valenciennes" / "index.html").is_file()
    assert FICTITIOUS_NOTICE in (site / "index.html").read_text(encoding="utf-8")
    archive = next((site / "tiles").glob("*.pmtiles")).read_bytes()
    assert archive[:7] == b"PMTiles"


def test_two_builds_are_byte_identical_and_the_manifest_tells_the_truth(demo_site, tmp_path):
    from trame.files import file_digest as sha256

    again = tmp_path / "again"
    build_site(PROJECT / "layers" / "demo.yml", None, again, quiet=True, workers=2,
               tiles_dir=tmp_path / "tiles", pdf=True)  # fmt: skip
    first = {p.relative_to(demo_site): p.read_bytes() for p in demo_site.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert sorted(first) == sorted(second)
    assert [name for name in first if first[name] != second[name]] == []
    manifest = json.loads((again / "manifest.json").read_text())
    assert len(manifest["files"]) == len(second) - 1
    for name, digest in manifest["files"].items():
        assert sha256(again / name) == digest
    assert {"demo.yml", "demo/communes.geojson", "demo/srce_fictif.gpkg"} <= set(manifest["inputs"])


@pytest.mark.shared
def test_shapefiles_in_cp1252_give_the_same_figures_as_the_geopackage(shared_data, tmp_path):
    """The same fictitious layers as Shapefiles (DBF in CP1252, .cpg, .prj) and as GeoPackage."""
    from trame.config import load_config
    from trame.figures import FeaturesIndex
    from trame.territory import load_territory

    layers = tmp_path / "layers"
    shutil.copytree(PROJECT / "layers" / "textes", layers / "textes")
    legend = (PROJECT / "layers" / "legendes" / "srce-ddtm59.yml").read_text(encoding="utf-8")
    legend = re.sub(r"\{path: srce_fictif.gpkg, layer: (\w+)\}", r"{path: shp/\1.shp}", legend)
    (layers / "legendes").mkdir()
    (layers / "legendes" / "shp.yml").write_text(legend, encoding="utf-8")
    config_text = (PROJECT / "layers" / "valenciennes-metropole.yml").read_text(encoding="utf-8")
    config_path = layers / "vm-shp.yml"
    config_path.write_text(config_text.replace("legendes/srce-ddtm59.yml", "legendes/shp.yml"))
    data = shared_data / "valenciennes-metropole"

    def figures(path: Path) -> list[list[dict]]:
        territory = load_territory(load_config(path, data))
        index = FeaturesIndex(territory.features)
        return [
            [f.as_dict() | {"ids": [e.id for e in f.elements], "attrs": [e.attributes for e in f.elements]}
             for f in index.figures(c.geometry)]
            for c in territory.communes
        ]  # fmt: skip

    from_shapefiles = figures(config_path)
    assert from_shapefiles == figures(PROJECT / "layers" / "valenciennes-metropole.yml")
    natures = {a.get("NATURE") for c in from_shapefiles for f in c for a in f["attrs"]}
    assert any("é" in str(n) for n in natures)  # accents decoded from CP1252


def test_the_api_and_downloads_carry_the_public_fields_only(demo_site):
    from trame.config import load_config

    config = load_config(PROJECT / "layers" / "demo.yml")
    public = {item.id: set(item.fields) for item in config.legend}
    seen = 0
    for detail in sorted((demo_site / "api" / "communes").glob("*.json")):
        for element in json.loads(detail.read_text())["elements"]:
            assert set(element["attributes"]) <= public[element["item"]], detail.name
            seen += 1
        geojson = json.loads(detail.with_suffix(".geojson").read_text())
        for feature in geojson["features"]:
            extra = set(feature["properties"]) - {
                "id",
                "item",
                "libelle",
                "surface_ha",
                "longueur_km",
            }
            assert extra <= public[feature["properties"]["item"]], detail.name
    assert seen > 0
    assert "ID_SRCE" not in (demo_site / "api" / "communes").joinpath(detail.name).read_text()
