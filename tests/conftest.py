"""Shared fixtures. Tests that need ../shared/data skip with a clear message when it is absent."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
        PROJECT / "layers" / "demo.yml", None, site, quiet=True, workers=1, tiles_dir=root / "tiles"
    )
    return site


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
