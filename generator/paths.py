"""Where the project's own files are: the one place that knows the layout, in a checkout and
installed.

The source folder is ``generator/``; installed, it is the package ``trame``. In a checkout (or
an editable install of one) the resources — theme, narrative pages, ``mkdocs.yml``, the legend
presets, texts and demo territory under ``layers/``, MapLibre under ``node_modules/`` — are read
where they are. A wheel carries copies of them in ``trame/_data/``, laid out like the checkout
(``RESOURCE_FILES``), with MapLibre's files in ``_data/vendor/maplibre-gl/``: ``setup.py`` copies
them there when the wheel is built. Nothing here imports anything but the standard library, so
``setup.py`` can load this file on its own.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_FOLDER = "_data"
"""The package's copy of the project's resources, in a wheel (absent from a checkout)."""

RESOURCE_FILES = (
    "mkdocs.yml",
    "site_src/**/*",
    "layers/demo.yml",
    "layers/demo/*",
    "layers/legendes/*",
    "layers/textes/*",
)
"""What a wheel carries besides the code and templates (glob patterns under the project root)."""
MAPLIBRE_SOURCE = Path("node_modules") / "maplibre-gl"
MAPLIBRE_VENDOR = Path("vendor") / "maplibre-gl"
"""Where MapLibre's dist files (``npm ci``'s copy, from the lock) go in ``_data``."""
ADMIN_CODES_SOURCE = Path("node_modules") / "@etalab" / "decoupage-administratif"
ADMIN_CODES_VENDOR = Path("vendor") / "decoupage-administratif"
ADMIN_CODES_FILES = ("package.json", "LICENSE", "data/communes.json", "data/epci.json",
                     "data/departements.json")  # fmt: skip
"""The official code lists ``trame init`` reads (postcodes, EPCI, départements), from the lock."""


def maplibre_dist_files(dist: Path) -> list[Path]:
    """The dist files a site serves: no development builds, source maps or type declarations."""
    return sorted(
        p
        for p in dist.iterdir()
        if p.is_file() and "-dev" not in p.name and p.suffix not in {".map", ".ts"}
    )


INSTALLED = (PACKAGE_DIR / DATA_FOLDER / "mkdocs.yml").is_file()
"""True for an installed wheel, False in a checkout (editable installs included)."""

PROJECT_ROOT = PACKAGE_DIR / DATA_FOLDER if INSTALLED else PACKAGE_DIR.parent
"""The root of the project's resources: the checkout, or the wheel's copy laid out the same way
(``PROJECT_ROOT / "layers" / "legendes"`` works in both)."""
SITE_SRC = PROJECT_ROOT / "site_src"
PAGES_DIR = SITE_SRC / "pages"
MKDOCS_CONFIG = PROJECT_ROOT / "mkdocs.yml"
MAPLIBRE_DIST = (
    PROJECT_ROOT / MAPLIBRE_VENDOR if INSTALLED else PROJECT_ROOT / MAPLIBRE_SOURCE / "dist"
)
ADMIN_CODES_DIR = (
    PROJECT_ROOT / ADMIN_CODES_VENDOR if INSTALLED else PROJECT_ROOT / ADMIN_CODES_SOURCE
) / "data"
LAYERS_DIR = PROJECT_ROOT / "layers"
LEGENDS_DIR = LAYERS_DIR / "legendes"
"""Legend presets (``srce-ddtm59.yml``: the COVADIS SRCE schema)."""
TEXTS_DIR = LAYERS_DIR / "textes"
DEMO_CONFIG = LAYERS_DIR / "demo.yml"
"""The demo territory (fictitious data), built when no config is given."""

# Outputs: beside the checkout in a checkout (`make build`), in the current folder when installed.
DEFAULT_SITE = Path("site") if INSTALLED else PROJECT_ROOT / "site"
TILES_CACHE = Path("tiles") if INSTALLED else PROJECT_ROOT / "tiles"
"""``tiles/<slug>/``: the tile step's output, reused by builds whose tile inputs did not change."""

# What the site's bytes depend on besides the inputs (see cache.py), named as in a checkout.
CODE_ROOT = PACKAGE_DIR if INSTALLED else PROJECT_ROOT
"""The folder code files are named relative to in cache keys."""
_CODE_PARTS = {
    "generator": PACKAGE_DIR,
    "site_src": SITE_SRC,
    "mkdocs.yml": MKDOCS_CONFIG,
    # Installed, the lock's output itself: the MapLibre files the wheel carries.
    "package-lock.json": MAPLIBRE_DIST if INSTALLED else PROJECT_ROOT / "package-lock.json",
}


def code_files(part: str) -> list[Path]:
    """The files of one part of the project's code ("generator", "site_src", "mkdocs.yml",
    "package-lock.json"), in a checkout or installed. The package's own files never include
    its resource copy (``_data``), which the other parts cover."""
    root = _CODE_PARTS[part]
    candidates = [root] if root.is_file() else sorted(root.rglob("*"))
    files = [p for p in candidates if p.is_file() and "__pycache__" not in p.parts]
    if part == "generator":
        data = PACKAGE_DIR / DATA_FOLDER
        files = [p for p in files if not p.is_relative_to(data)]
    return files
