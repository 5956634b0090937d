"""Where the project's own files are: the one place that knows the checkout's layout."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SITE_SRC = PROJECT_ROOT / "site_src"
PAGES_DIR = SITE_SRC / "pages"
MKDOCS_CONFIG = PROJECT_ROOT / "mkdocs.yml"
MAPLIBRE_DIST = PROJECT_ROOT / "node_modules" / "maplibre-gl" / "dist"
DEFAULT_SITE = PROJECT_ROOT / "site"
TILES_CACHE = PROJECT_ROOT / "tiles"
"""``tiles/<slug>/``: the tile step's output, reused by builds whose tile inputs did not change."""
