"""The PDF map sheets: text, pages, paper, fonts, tags, notice, golden image, reproducibility.

The golden image (tests/expected/sheet-00002.png) is page 1 of the demo's commune 00002 at
36 dpi. After an intended change of the sheets' look, refresh it and look at it before
committing:  TRAME_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_sheets.py -k golden
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pypdf
import pypdfium2
import pytest
import shapely
from PIL import Image

from trame.build import load_territory
from trame.config import build_date, load_config
from trame.sheets import (
    SheetMaps,
    SheetsConfig,
    document,
    write_atlas,
    write_commune_sheet,
    write_sheets,
)
from trame.sheets.layout import atlas_grid, fit_scale, frame_mm, neighbours
from trame.staticmap import StaticMaps

PROJECT = Path(__file__).resolve().parent.parent
EXPECTED = PROJECT / "tests" / "expected"
MM = 72 / 25.4  # PDF points per millimetre
MAP_NOTICE = "Données fictives : cette carte ne décrit pas la réalité du terrain."
SHEET_NOTICE = "Données fictives de démonstration : elles ne décrivent pas la réalité du terrain"
DEMO_COMMUNE = "communes/00002-bois-l-abbesse/carte.pdf"
SEED = SheetsConfig(
    territory_label="E.P.C.I Valenciennes Métropole",
    title="Carte S.R.C.E",
    title_lines=("Schéma Régional de Cohérence Écologique", "trame verte et bleue"),
    service_lines=("D.D.T.M 59", "Direction Départementale des Territoires et de la Mer du Nord"),
    purpose_lines=("Porter à connaissance pour la procédure de planification urbaine",),
)


def texts(path: Path) -> list[str]:
    """Each page's text, white space collapsed (line breaks fall anywhere in a cartouche)."""
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(path).pages]


def missing(words: list[str], text: str) -> list[str]:
    """The words not in ``text``, white space ignored (a cartouche wraps lines anywhere)."""
    squashed = re.sub(r"\s+", "", text)
    return [w for w in words if re.sub(r"\s+", "", w) not in squashed]


def fonts(reader: pypdf.PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts") or [font]
            for described in descendants:
                descriptor = described.get_object()["/FontDescriptor"].get_object()
                assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font
            names.add(str(font["/BaseFont"]))
    return names


def structure(node: object, found: list[dict]) -> list[dict]:
    """Every element of the PDF's structure tree (tags), depth first."""
    node = node.get_object() if isinstance(node, pypdf.generic.IndirectObject) else node
    if isinstance(node, pypdf.generic.ArrayObject):
        for kid in node:
            structure(kid, found)
    elif isinstance(node, pypdf.generic.DictionaryObject) and "/S" in node:
        found.append(node)
        structure(node.get("/K", pypdf.generic.ArrayObject()), found)
    elif isinstance(node, pypdf.generic.DictionaryObject):  # the root
        structure(node.get("/K", pypdf.generic.ArrayObject()), found)
    return found


def test_commune_sheet_carries_cartouche_legend_scale_and_text(demo_site):
    config = load_config(PROJECT / "layers" / "demo.yml")
    reader = pypdf.PdfReader(demo_site / DEMO_COMMUNE)
    assert len(reader.pages) == 2
    for page in reader.pages:  # A3 landscape
        assert float(page.mediabox.width) == pytest.approx(420 * MM, abs=0.5)
        assert float(page.mediabox.height) == pytest.approx(297 * MM, abs=0.5)
    sheet, text = texts(demo_site / DEMO_COMMUNE)
    defaults = SheetsConfig()
    expected = [
        config.name, defaults.title, defaults.notice, *defaults.title_lines,
        *defaults.purpose_lines, "Commune de Bois-l'Abbesse", "Code INSEE 00002",
        "Date de mise à jour des données : 30/09/2016", *config.sources, config.licence,
        "Légende", "Contour de commune", *(item.label for item in config.legend),
        "Échelle 1/", "Nord", "Lambert-93", "communes/00002-bois-l-abbesse/",
        "Bois-l'Abbesse", "Hérinval", MAP_NOTICE, SHEET_NOTICE,
    ]  # fmt: skip
    assert missing(expected, sheet) == []
    assert re.search(r"\b7 0\d\d 000\b", sheet) and re.search(r"\b71\d 000\b", sheet)  # ticks
    assert "Texte explicatif" in text and "Qu'est-ce que la trame verte et bleue ?" in text
    assert "Texte explicatif" not in sheet


def test_pdf_metadata_fonts_and_tags(demo_site):
    config = load_config(PROJECT / "layers" / "demo.yml")
    reader = pypdf.PdfReader(demo_site / DEMO_COMMUNE)
    meta = reader.metadata
    assert "Bois-l'Abbesse" in meta.title and meta.author
    assert meta["/CreationDate"] == build_date(config).strftime("D:%Y%m%d%H%M%SZ")
    names = fonts(reader)
    assert names and all(re.fullmatch(r"/[A-Z]{6}\+Trame-Sans(-Bold|-Italic)*", n) for n in names)
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "fr" and "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()
    tags = structure(root["/StructTreeRoot"], [])
    kinds = {str(tag["/S"]) for tag in tags}
    assert {"/H1", "/H2", "/P", "/L", "/LI", "/Figure"} <= kinds
    figures = [" ".join(str(t.get("/Alt", "")).split()) for t in tags if t["/S"] == "/Figure"]
    assert "" not in figures  # every figure has a text alternative
    assert "Carte de la trame verte et bleue à Bois-l'Abbesse, au 1/25 000" in figures
    assert "Symbole : Contour de commune" in figures
    assert str(PROJECT).encode() not in (demo_site / DEMO_COMMUNE).read_bytes()


def test_demo_atlas_and_links(demo_site):
    pages = texts(demo_site / "atlas.pdf")
    assert "Tableau d'assemblage" in pages[0] and "1 planche au 1/50 000" in pages[0]
    assert "PLAN 1/1" in pages[1] and "Échelle 1/50 000" in pages[1]
    assert re.findall(r"PLAN \d+(?![\d/])", pages[1]) == []  # a single sheet: no neighbour
    assert "Texte explicatif" in pages[-1] and len(pages) == 3
    commune_pdfs = sorted(demo_site.glob("communes/*-*/carte.pdf"))
    assert len(commune_pdfs) == 13
    page = (demo_site / "communes" / "00002-bois-l-abbesse" / "index.html").read_text("utf-8")
    assert page.count('href="carte.pdf"') == 2  # downloads, and sources (shown on paper)
    assert "Carte de la commune à imprimer (PDF" in page
    assert 'href="atlas.pdf"' in (demo_site / "index.html").read_text("utf-8")


def test_atlas_grid_numbers_only_the_sheets_that_touch_the_territory():
    frame = (200.0, 100.0)  # 10 km x 5 km at 1:50 000
    ell = shapely.union_all([shapely.box(0, 0, 29_000, 4_000), shapely.box(0, 0, 4_000, 14_000)])
    sheets = atlas_grid(ell, frame, 50_000)
    assert [s.number for s in sheets] == list(range(1, len(sheets) + 1))
    assert len(sheets) == 5  # 3 along the bottom, 2 more up the side; the empty cells dropped
    covered = shapely.union_all([shapely.box(*s.bounds) for s in sheets])
    assert covered.contains(ell)
    assert sorted((s.row, s.column) for s in sheets) == [(s.row, s.column) for s in sheets]


def test_each_atlas_sheet_knows_the_sheets_around_it():
    frame = (200.0, 100.0)
    ell = shapely.union_all([shapely.box(0, 0, 29_000, 4_000), shapely.box(0, 0, 4_000, 14_000)])
    sheets = atlas_grid(ell, frame, 50_000)
    assert [neighbours(s, sheets) for s in sheets] == [
        {"sud": 2},
        {"nord": 1, "sud": 3, "sud-est": 4},
        {"nord": 2, "est": 4},
        {"nord-ouest": 2, "ouest": 3, "est": 5},
        {"ouest": 4},
    ]


def test_commune_scale_is_the_largest_round_one_that_fits():
    frame = frame_mm(SheetsConfig())
    scales = SheetsConfig().commune_scales
    assert fit_scale((0, 0, 2_000, 2_000), frame, scales) == 10_000
    assert fit_scale((0, 0, 6_000, 5_000), frame, scales) == 25_000
    assert fit_scale((0, 0, 9_000, 9_000), frame, scales) == 50_000


def test_sheet_settings_are_typed_frozen_and_documented():
    fields = SheetsConfig.model_fields
    assert all(f.description and f.annotation is not None for f in fields.values())
    with pytest.raises(ValueError):
        SheetsConfig(paper="B5")
    with pytest.raises(ValueError):
        SheetsConfig(unknown="x")
    with pytest.raises(ValueError):
        SheetsConfig().paper = "A4"
    assert SheetsConfig(commune_scales=[25_000, 5_000, 5_000]).commune_scales == (5_000, 25_000)
    assert SheetsConfig(orientation="portrait").paper_mm() == (297, 420)


@pytest.fixture(scope="module")
def demo_maps() -> tuple:
    territory = load_territory(load_config(PROJECT / "layers" / "demo.yml"))
    maps = StaticMaps(territory.config, territory.communes, territory.features)
    return territory, SheetMaps(maps, tuple(territory.communes))


def test_no_fictitious_notice_on_real_data(demo_maps, tmp_path):
    territory, maps = demo_maps
    config = territory.config
    real = (
        config.model_copy(update={"fictitious": False})
        if hasattr(config, "model_copy")
        else dataclasses.replace(config, fictitious=False)
    )
    commune = territory.communes[1]
    url = "https://tvb.example.org/" + commune.path
    write_commune_sheet(real, SheetsConfig(), commune, maps, tmp_path / "real.pdf", url)
    sheet, text = texts(tmp_path / "real.pdf")
    assert MAP_NOTICE not in sheet and SHEET_NOTICE not in sheet and SHEET_NOTICE not in text
    assert missing(["Carte de la trame verte et bleue", "En ligne : " + url], sheet) == []
    links = [
        a.get_object()["/A"]["/URI"]
        for a in pypdf.PdfReader(tmp_path / "real.pdf").pages[0]["/Annots"]
    ]
    assert set(links) == {url}  # one link per line of the wrapped address


def test_golden_image(demo_site):
    """Page 1 at 36 dpi against the golden PNG: same size, nearly every pixel the same."""
    page = pypdfium2.PdfDocument(demo_site / DEMO_COMMUNE)[0]
    image = page.render(scale=0.5).to_pil().convert("RGB")
    golden_path = EXPECTED / "sheet-00002.png"
    if os.environ.get("TRAME_UPDATE_GOLDEN"):
        EXPECTED.mkdir(exist_ok=True)
        image.save(golden_path, optimize=True)
    golden = Image.open(golden_path).convert("RGB")
    assert image.size == golden.size
    diff = np.abs(np.asarray(image, np.int16) - np.asarray(golden, np.int16)).max(axis=2)
    assert diff.mean() < 0.5 and (diff > 64).mean() < 0.001, (diff.mean(), (diff > 64).mean())


def test_a_fresh_process_writes_the_same_bytes(demo_site, tmp_path):
    """Byte-identical across processes: fonts, subsets, ids and dates do not depend on the run."""
    script = (
        "import sys; from pathlib import Path; from trame.build import load_territory\n"
        "from trame.config import load_config; from trame.staticmap import StaticMaps\n"
        "from trame.sheets import SheetMaps, SheetsConfig, write_commune_sheet\n"
        "t = load_territory(load_config(sys.argv[1])); c = t.communes[1]\n"
        "maps = SheetMaps(StaticMaps(t.config, t.communes, t.features), tuple(t.communes))\n"
        "write_commune_sheet(t.config, SheetsConfig(), c, maps, Path(sys.argv[2]), c.path)\n"
    )
    again = tmp_path / "carte.pdf"
    subprocess.run(
        [sys.executable, "-c", script, str(PROJECT / "layers" / "demo.yml"), str(again)],
        check=True, cwd=tmp_path,
    )  # fmt: skip
    assert again.read_bytes() == (demo_site / DEMO_COMMUNE).read_bytes()


def test_worker_processes_leave_no_temporary_folder(demo_maps, tmp_path, monkeypatch):
    """WeasyPrint unpacks the fonts into a temporary folder that it removes only when the
    configuration is collected; a pool's workers end without collecting, and left one folder
    each per build."""
    territory, maps = demo_maps
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # forked workers inherit it
    document._stylesheet.cache_clear()  # or forked workers inherit this process's fonts
    records = write_sheets(tmp_path / "site", territory.config, SheetsConfig(),
                           territory.communes[:2], maps.maps, workers=2)  # fmt: skip
    assert [r.path for r in records][0] == "atlas.pdf" and len(records) == 3
    assert sorted(p.name for p in scratch.iterdir()) == []


@pytest.mark.shared
def test_valenciennes_atlas_with_the_seed_words(shared_data, tmp_path):
    """The DDTM 59 sheet regenerated: its cartouche words, PLAN 1/N … N/N at 1:50 000."""
    config = load_config(
        PROJECT / "layers" / "valenciennes-metropole.yml", shared_data / "valenciennes-metropole"
    )
    territory = load_territory(config)
    maps = SheetMaps(
        StaticMaps(territory.config, territory.communes, territory.features),
        tuple(territory.communes),
    )
    record = write_atlas(territory.config, SEED, maps, tmp_path / "atlas.pdf", "https://x.org/")
    pages = texts(tmp_path / "atlas.pdf")
    count = record.sheets - 1
    assert 3 <= count <= 6 and len(pages) == count + 2 == record.pages
    for number, page in enumerate(pages[1 : count + 1], start=1):
        assert f"PLAN {number}/{count}" in page
    # Each sheet names the sheets around it at its edges, as an atlas does.
    grid = atlas_grid(
        shapely.union_all([c.geometry for c in territory.communes]),
        frame_mm(SEED),
        SEED.atlas_scale,
    )
    assert len(grid) == count
    for sheet, page in zip(grid, pages[1 : count + 1], strict=True):
        # (text extraction may run two labels of one side together: "PLAN 1PLAN 3")
        around = {int(n) for n in re.findall(r"PLAN (\d+)(?![\d/])", page)}
        assert around == set(neighbours(sheet, grid).values()), sheet.number
    assert any(neighbours(sheet, grid) for sheet in grid)
    seed_words = [
        "E.P.C.I Valenciennes Métropole", "Carte S.R.C.E", "Pour information", "D.D.T.M 59",
        "Direction Départementale des Territoires et de la Mer du Nord",
        "Porter à connaissance pour la procédure de planification urbaine",
        "Date de mise à jour des données : 30/09/2016", MAP_NOTICE, "Légende", "Échelle 1/50 000",
    ]  # fmt: skip
    for page in pages[1 : count + 1]:
        assert missing(seed_words, page) == []
    assert any("Valenciennes" in page.replace("Valenciennes Métropole", "") for page in pages[1:-1])
