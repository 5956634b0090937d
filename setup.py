"""Build hook: a wheel carries the project's resources and MapLibre's files as package data.

Everything else is in pyproject.toml. The importable package is ``trame``; its source folder
is ``generator/`` (``package_dir``). When a wheel (or an sdist's wheel) is built, ``build_py``
copies the files that ``generator/paths.py`` lists (theme, narrative pages, mkdocs.yml, legend
presets, texts, demo territory) and MapLibre's dist files — ``npm ci``'s copy, checked against
package-lock.json — into ``trame/_data/``, so the installed package needs no checkout and no Node.
An editable install (``pip install -e .``, the Makefile's) reads them in the checkout instead.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

ROOT = Path(__file__).resolve().parent


def _paths_module():
    """generator/paths.py on its own (standard library only): the list of resource files."""
    spec = importlib.util.spec_from_file_location("_trame_paths", ROOT / "generator" / "paths.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _maplibre_files(paths) -> list[tuple[Path, Path]]:
    """(source, destination under _data) of MapLibre's files, from the npm lock's install."""
    package = ROOT / paths.MAPLIBRE_SOURCE
    try:
        lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
        locked = lock["packages"][paths.MAPLIBRE_SOURCE.as_posix()]["version"]
        installed = json.loads((package / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, KeyError, ValueError):
        raise SetupError(
            f"{package} introuvable : installez les bibliothèques JavaScript avec `npm ci` "
            "(ou construisez le paquet avec `make wheel`)"
        ) from None
    if installed != locked:
        raise SetupError(
            f"{package} est en version {installed}, package-lock.json demande {locked} : "
            "relancez `npm ci` (ou `make wheel`)"
        )
    files = [
        (p, paths.MAPLIBRE_VENDOR / p.name) for p in paths.maplibre_dist_files(package / "dist")
    ]
    return [*files, (package / "LICENSE.txt", paths.MAPLIBRE_VENDOR / "LICENSE.txt")]


class BuildPyWithResources(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return  # the editable package reads them in the checkout
        paths = _paths_module()
        target = Path(self.build_lib) / "trame" / paths.DATA_FOLDER
        shutil.rmtree(target, ignore_errors=True)  # no stale file from an earlier build
        copies = [
            (p, p.relative_to(ROOT))
            for pattern in paths.RESOURCE_FILES
            for p in sorted(ROOT.glob(pattern))
            if p.is_file() and "__pycache__" not in p.parts
        ]
        codes = [
            (ROOT / paths.ADMIN_CODES_SOURCE / name, paths.ADMIN_CODES_VENDOR / name)
            for name in paths.ADMIN_CODES_FILES
        ]
        for source, destination in [*copies, *_maplibre_files(paths), *codes]:
            (target / destination).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / destination)


setup(
    package_dir={"trame": "generator"},
    packages=["trame", *(f"trame.{name}" for name in find_packages("generator"))],
    cmdclass={"build_py": BuildPyWithResources},
)
