"""Shared fixtures. Tests that need ../shared/data skip with a clear message when it is absent."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from trame.config import Communes, Config, LegendItem, Source, Style, Tiles

PROJECT = Path(__file__).resolve().parent.parent
SHARED_DATA = next(
    (p / "shared" / "data" for p in PROJECT.parents if (p / "shared" / "data").is_dir()),
    PROJECT.parent / "shared" / "data",
)
"""``../shared/data``, or the nearest ``shared/data`` further up (a git worktree lives deeper)."""


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}; these tests need ../shared/data")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo territory, built once for the whole test session."""
    from trame.build import build_site

    root = tmp_path_factory.mktemp("demo")
    site = root / "site"
    build_site(
        PROJECT / "layers" / "demo.yml", None, site, quiet=True, workers=1,
        tiles_dir=root / "tiles", pdf=True,
    )  # fmt: skip
    return site


@pytest.fixture
def hostile() -> str:
    """A name that breaks out of HTML attributes, scripts and Markdown if it is not escaped."""
    return '"><img src=x onerror=alert(1)></script><script>alert(2)</script>*_x_*'


@pytest.fixture
def hostile_config(hostile: str, tmp_path: Path) -> Config:
    """A one-item config whose name and sources are :func:`hostile`, with an explanatory text."""
    text = tmp_path / "texte.md"
    text.write_text("### Le SRCE\n\nTexte explicatif.", encoding="utf-8")
    item = LegendItem(
        id="reservoirs", label="Réservoir <b>", description="", source=Source(path=tmp_path),
        geometry="polygon", style=Style(color="#2e7d32"), id_field="ID",
        fields={"ID": "Identifiant", "NOM": "Nom"},
    )  # fmt: skip
    return Config(
        name=hostile, slug="t", fictitious=True, data_date=dt.date(2016, 9, 30), sources=(hostile,),
        licence="Licence Ouverte", communes=Communes(source=Source(path=tmp_path), insee_field="code", name_field="nom"),
        legend=(item,), tiles=Tiles(name="t"), explanatory_text=text, config_path=tmp_path,
    )  # fmt: skip


@pytest.fixture
def territory(tmp_path: Path) -> Path:
    """A copy of the demo config, legend, text and data in a temporary folder, to edit."""
    layers = tmp_path / "layers"
    shutil.copytree(PROJECT / "layers" / "demo", layers / "demo")
    shutil.copytree(PROJECT / "layers" / "legendes", layers / "legendes")
    shutil.copytree(PROJECT / "layers" / "textes", layers / "textes")
    shutil.copy(PROJECT / "layers" / "demo.yml", layers / "demo.yml")
    return layers / "demo.yml"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/expected/ from what the build publishes (review the diff after)",
    )
