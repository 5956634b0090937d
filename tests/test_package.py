"""The installable package: the wheel built from this checkout, installed in a fresh virtual
environment, builds the demo and a new territory in an empty folder — no checkout, no make, no
Node. Offline: the wheel builds with the project's setuptools (no build isolation) and the fresh
environment borrows the project's locked dependencies (a .pth line) instead of downloading them.
Also `trame new` and `--version` in process, and the editable install that `make setup` makes."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from trame import paths
from trame.cli import main

PROJECT = Path(__file__).resolve().parent.parent
MAPLIBRE = PROJECT / "node_modules" / "maplibre-gl"
GENERATED = {".git", ".venv", "node_modules", "site", "tiles", "build", "dist", "test-results"}
"""Top-level folders of a checkout that are not sources (the wheel is built from a clean copy)."""
VERSION = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]


def _copy_sources(target: Path) -> None:
    """The checkout's sources, plus the part of node_modules the wheel takes, in ``target``."""
    import shutil

    def ignore(folder: str, names: list[str]) -> set[str]:
        top = Path(folder) == PROJECT
        return {
            n
            for n in names
            if n in {"__pycache__", "node_modules", ".pytest_cache", ".ruff_cache"}
            or n.endswith(".egg-info")
            or (top and (n in GENERATED or n.startswith(".trame")))
        }

    shutil.copytree(PROJECT, target, ignore=ignore)
    shutil.copytree(MAPLIBRE, target / "node_modules" / "maplibre-gl", ignore=ignore)
    for source, names in (
        (paths.ADMIN_CODES_SOURCE, paths.ADMIN_CODES_FILES),
        (paths.FONT_SOURCE, paths.FONT_FILES),
    ):
        for name in names:
            destination = target / source / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PROJECT / source / name, destination)


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PIP_NO_INDEX"] = "1"  # offline, whatever the machine's pip configuration says
    env.pop("SOURCE_DATE_EPOCH", None)
    return env


def _run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=_environment(), capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the fresh environment's bin folder) with the wheel installed there."""
    if not (MAPLIBRE / "dist").is_dir():
        pytest.skip(f"{MAPLIBRE} not found: run `make setup` (npm ci) before building the wheel")
    root = tmp_path_factory.mktemp("paquet")
    sources, dist, venv = root / "sources", root / "dist", root / "venv"
    _copy_sources(sources)
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--wheel-dir", dist, sources], root)  # fmt: skip
    (wheel,) = dist.glob("trame-*.whl")

    _run([sys.executable, "-m", "venv", "--without-pip", venv], root)
    python = venv / "bin" / "python"
    purelib = Path(
        _run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], root)
        .stdout.strip()
    )  # fmt: skip
    # The project's own dependencies, found after the fresh environment's own packages. A plain
    # path line: the .pth files there (the checkout's editable install) are not run.
    (purelib / "_trame_test_dependencies.pth").write_text(
        "\n".join([sysconfig.get_path("purelib"), *site.getsitepackages()]) + "\n"
    )
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
          wheel], root)  # fmt: skip
    return wheel, venv / "bin"


def test_the_wheel_carries_the_package_and_its_resources(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    assert not any(n.startswith("generator/") for n in names)
    packages = [p.parent.relative_to(PROJECT / "generator") for p in
                (PROJECT / "generator").rglob("__init__.py")]  # fmt: skip
    for package in packages:
        assert (Path("trame") / package / "__init__.py").as_posix() in names
    templates = PROJECT / "generator" / "templates"
    for template in (p for p in templates.rglob("*") if p.is_file()):
        assert f"trame/templates/{template.relative_to(templates).as_posix()}" in names
    data = "trame/_data/"
    for resource in ("mkdocs.yml", "site_src/theme/main.html", "site_src/pages/methode.md",
                     "layers/demo.yml", "layers/demo/srce_fictif.gpkg",
                     "layers/legendes/srce-ddtm59.yml"):  # fmt: skip
        assert data + resource in names
    vendor = {n.removeprefix(data + "vendor/maplibre-gl/") for n in names if "vendor/" in n}
    assert {"maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css", "LICENSE.txt"} <= vendor
    assert not any(n.endswith((".map", "-dev.mjs")) for n in vendor)


def test_installed_trame_builds_anywhere(installed, tmp_path):
    _, bin_dir = installed
    trame = bin_dir / "trame"
    empty = tmp_path / "vide"
    empty.mkdir()

    version = _run([trame, "--version"], empty).stdout.strip()
    assert version == f"trame {VERSION}"
    where = _run([bin_dir / "python", "-c", "import trame, trame.paths as p; "
                  "print(trame.__file__, p.INSTALLED, p.PROJECT_ROOT)"], empty)  # fmt: skip
    module, flag, resources = where.stdout.split()
    assert Path(module).is_relative_to(bin_dir.parent) and flag == "True"
    assert Path(resources).is_relative_to(bin_dir.parent)

    # A new territory, built from its own folder with no option.
    created = _run([trame, "new", "territoire", "--name", "Communauté Essai"], empty)
    assert "cd territoire && trame build" in created.stdout
    territory = empty / "territoire"
    _run([trame, "build", "--quiet", "--workers", "1"], territory)
    _check_site(territory / "site", "Communauté Essai", 13)
    assert (territory / "tiles" / "communaute-essai").is_dir()
    again = _run([trame, "build", "--workers", "1"], territory)
    assert "Rien n'a changé" in again.stderr  # the cache key works installed too

    # The packaged demo, the default when the folder has no trame.yml.
    demo = tmp_path / "demo"
    demo.mkdir()
    _run([trame, "build", "--quiet", "--workers", "1"], demo)
    _check_site(demo / "site", "Territoire de démonstration (fictif)", 13)
    # The site, the tiles cache and the history of releases (releases/<slug>/, issue #10).
    assert sorted(p.name for p in demo.iterdir()) == ["releases", "site", "tiles"]
    assert (demo / "releases" / "demo" / "history.json").is_file()


def _check_site(site: Path, name: str, communes: int) -> None:
    home = (site / "index.html").read_text(encoding="utf-8")
    assert name in home
    pages = sorted(site.glob("communes/*-*/index.html"))
    assert len(pages) == communes
    assert name in pages[0].read_text(encoding="utf-8")
    listed = json.loads((site / "api" / "communes.json").read_text(encoding="utf-8"))
    assert len(listed) == communes
    (assets,) = (site / "assets").iterdir()  # assets/<hash of its files>/
    for vendor in ("maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"):
        served = assets / "vendor" / "maplibre-gl" / vendor
        assert served.read_bytes() == (MAPLIBRE / "dist" / vendor).read_bytes()
    assert (site / "tiles" / "0" / "0" / "0.pbf").stat().st_size > 0
    assert len(list(site.glob("tiles/*.pmtiles"))) == 1
    assert len(list(site.glob("tiles/14/*/*.pbf"))) > 10
    manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    assert all((site / f).is_file() for f in manifest["files"])
    assert str(PROJECT) not in home


def test_new_writes_a_territory_that_loads(tmp_path, capsys):
    from trame.config import load_config

    folder = tmp_path / "Vallée de l'Écaillon"
    assert main(["new", str(folder)]) == 0
    config = load_config(folder / "trame.yml")
    assert config.name == "Vallée de l'Écaillon" and config.slug == "vallee-de-l-ecaillon"
    assert config.fictitious and config.communes.source.path.is_relative_to(folder / "donnees")
    assert all(item.source.path.is_relative_to(folder / "donnees") for item in config.legend)
    assert config.explanatory_text == (folder / "texte.md").resolve()
    assert (folder / "legende.yml").read_text(encoding="utf-8").startswith("# Légende")
    assert "trame build" in capsys.readouterr().out


def test_new_refuses_a_folder_that_is_not_empty(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("à garder")
    assert main(["new", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path) in error and "n'est pas un dossier vide" in error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_version(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out.strip() == f"trame {VERSION}"


def test_the_checkout_reads_its_own_files():
    """`make setup`'s editable install: the package is generator/, resources are read in place."""
    import trame

    assert Path(trame.__file__).parent == PROJECT / "generator"
    assert not paths.INSTALLED and paths.PROJECT_ROOT == PROJECT
    assert paths.MAPLIBRE_DIST == MAPLIBRE / "dist"
    assert paths.DEFAULT_SITE == PROJECT / "site" and paths.TILES_CACHE == PROJECT / "tiles"
