"""Where the project's own files are: the one place that knows the checkout's layout."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SITE_SRC = PROJECT_ROOT / "site_src"
PAGES_DIR = SITE_SRC / "pages"
MKDOCS_CONFIG = PROJECT_ROOT / "mkdocs.yml"
MAPLIBRE_DIST = PROJECT_ROOT / "node_modules" / "maplibre-gl" / "dist"
DSFR_DIST = PROJECT_ROOT / "node_modules" / "@gouvfr" / "dsfr" / "dist"
"""The State design system (npm ``@gouvfr/dsfr``), for the ``dsfr`` theme only."""
DEFAULT_SITE = PROJECT_ROOT / "site"
TILES_CACHE = PROJECT_ROOT / "tiles"
"""``tiles/<slug>/``: the tile step's output, reused by builds whose tile inputs did not change."""
DEFAULT_THEME_DIR = SITE_SRC / "theme"
THEMES = ("default", "dsfr")
"""``default``: Trame's own, neutral look; ``dsfr``: the State's design system (State services)."""


def theme_dirs(theme: str) -> list[Path]:
    """The template folders of ``theme``, most specific first: the one place that maps a theme to
    its files, for MkDocs and for any direct Jinja2 render (``FileSystemLoader(theme_dirs(…))``).

    Both themes give the same templates (main.html, commune.html, 404.html) the same context.
    The DSFR theme falls back on the default one for what it does not override: the map and
    search modules and the shared layout (assets/trame/)."""
    if theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; themes are {', '.join(THEMES)}")
    if theme == "dsfr":
        return [SITE_SRC / "theme-dsfr", DEFAULT_THEME_DIR]
    return [DEFAULT_THEME_DIR]
