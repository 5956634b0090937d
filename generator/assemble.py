"""Assemble: MkDocs turns the rendered Markdown into HTML, then everything rendered beside it
(static maps, API, style, tiles, vendor files) joins it, the pages get their Content-Security-Policy
and the manifest lists every file. Nothing here computes or renders content."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from .config import Config, build_date
from .dsfr import inline_styles, write_dsfr_assets
from .errors import UserError
from .files import file_digest, link_file, link_tree, write_json
from .pages import theme_context
from .paths import DEFAULT_THEME_DIR, MAPLIBRE_DIST, MKDOCS_CONFIG, theme_dirs
from .style import content_security_policy
from .tilestep import XYZ_FOLDER

MAPLIBRE_FILES = (
    "maplibre-gl.mjs",
    "maplibre-gl-worker.mjs",
    "maplibre-gl-shared.mjs",
    "maplibre-gl.css",
)
NAV = [
    {"Accueil": "index.md"},
    {"Communes": "communes/index.md"},
    {"Méthode et données": "methode.md"},
    {"Traitement des données": "traitement.md"},
    {"À propos": "a-propos.md"},
    {"Accessibilité": "accessibilite.md"},
]


def mkdocs_build(docs_dir: Path, site_dir: Path, site_name: str, extra: dict[str, Any],
                 source_date_epoch: int, quiet: bool = False,
                 site_url: str | None = None, theme: str = "default") -> None:  # fmt: skip
    """Run MkDocs (strict) on ``docs_dir`` with the templates of ``theme``; the nav holds only
    the narrative pages.

    MkDocs stamps the sitemap with SOURCE_DATE_EPOCH when set: we set it to the build date so
    that two builds of the same inputs are byte-identical, whatever the day.
    """
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    previous_epoch = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(source_date_epoch)
    try:
        options: dict[str, Any] = {
            "config_file": str(MKDOCS_CONFIG), "site_name": site_name, "docs_dir": str(docs_dir),
            "site_dir": str(site_dir), "extra": extra, "nav": NAV, "strict": True,
        }  # fmt: skip
        if site_url:
            options["site_url"] = site_url
        mkdocs_config = load_config(**options)
        # mkdocs.yml names the default theme's folder; the theme's own folders replace it.
        folders = mkdocs_config.theme.dirs
        at = [Path(d).resolve() for d in folders].index(DEFAULT_THEME_DIR)
        folders[at : at + 1] = [str(d) for d in theme_dirs(theme)]
        build(mkdocs_config)
    except MkDocsException as error:
        raise UserError(
            f"MkDocs n'a pas pu construire le site ({error}) ; ses avertissements ci-dessus "
            "nomment la page en cause : corrigez-la (souvent un lien du texte explicatif), puis "
            "relancez la construction"
        ) from None
    finally:
        logger.setLevel(level)
        if previous_epoch is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous_epoch


_INLINE_SCRIPT = re.compile(r"<script(?P<attributes>[^>]*)>(?P<code>.*?)</script>", re.DOTALL)
_HEAD = re.compile(r"<meta charset=[^>]*>", re.IGNORECASE)


def add_content_security_policy(site_dir: Path, policy: str) -> None:
    """Put a CSP ``<meta>`` at the top of every page, allowing that page's own inline scripts
    by their SHA-256 (and nothing else inline): data-derived text can never become code."""
    for page in sorted(site_dir.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        hashes = sorted(
            {
                "'sha256-"
                + base64.b64encode(hashlib.sha256(m["code"].encode()).digest()).decode()
                + "'"
                for m in _INLINE_SCRIPT.finditer(html)
                if "src=" not in m["attributes"] and "json" not in m["attributes"]
            }
        )
        page_policy = policy.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]))
        meta = f'<meta http-equiv="Content-Security-Policy" content="{page_policy}">'
        head = _HEAD.search(html)
        if head:
            html = html[: head.end()] + "\n  " + meta + html[head.end() :]
        else:
            html = html.replace("<head>", "<head>\n" + meta, 1)
        page.write_text(html, encoding="utf-8")


def manifest(site_dir: Path, inputs: list[Path], inputs_base: Path) -> dict[str, Any]:
    """Every published file and every input with its SHA-256, in a stable order.

    Inputs are named relative to ``inputs_base`` (the config's folder) so that the manifest
    does not depend on where the checkout lives.
    """
    files = sorted(p for p in site_dir.rglob("*") if p.is_file() and p.name != "manifest.json")
    return {
        "files": {p.relative_to(site_dir).as_posix(): file_digest(p) for p in files},
        "inputs": {
            Path(os.path.relpath(p, inputs_base)).as_posix(): file_digest(p)
            for p in sorted(set(inputs))
        },
    }


def copy_vendor_assets(site_dir: Path, theme: str = "default") -> None:
    """Serve MapLibre GL JS (and the DSFR for its theme) from the site itself (no CDN), from the
    npm lock's copy."""
    if not MAPLIBRE_DIST.is_dir():
        raise UserError(
            f"{MAPLIBRE_DIST} introuvable : installez les dépendances JavaScript avec `npm ci` "
            "(`make build` le fait)"
        )
    target = site_dir / "assets" / "vendor" / "maplibre-gl"
    target.mkdir(parents=True, exist_ok=True)
    for name in MAPLIBRE_FILES:
        shutil.copyfile(MAPLIBRE_DIST / name, target / name)
    if theme == "dsfr":
        write_dsfr_assets(site_dir, theme_dirs(theme))


def assemble_site(
    docs_dir: Path, rendered_dir: Path, tiles_dir: Path, site_dir: Path, config: Config,
    quiet: bool = False, release: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """MkDocs builds ``docs_dir`` into ``site_dir``; the rendered files, the tiles and MapLibre
    join it (hard links where possible); every page gets its Content-Security-Policy.
    ``release`` tells the theme which release it renders (see generator/releases)."""
    epoch = int(build_date(config).timestamp())
    context = theme_context(config)
    context["trame"].update(release or {})
    if config.theme == "dsfr":
        context["trame"]["styles"] = inline_styles(theme_dirs(config.theme))
    mkdocs_build(
        docs_dir, site_dir, config.name, context, epoch, quiet, config.site_url, config.theme
    )
    link_tree(rendered_dir, site_dir)
    link_tree(tiles_dir / XYZ_FOLDER, site_dir / "tiles")
    for archive in tiles_dir.glob("*.pmtiles"):
        link_file(archive, site_dir / "tiles" / archive.name)
    copy_vendor_assets(site_dir, config.theme)
    add_content_security_policy(site_dir, content_security_policy(config))


def write_manifest(
    site_dir: Path, inputs: list[Path], config: Config, key: str, communes: int, **extra: Any
) -> None:
    """Written last: the list of what to publish, with the build's cache key."""
    published = manifest(site_dir, inputs, config.config_path.parent)
    write_json(
        site_dir / "manifest.json", {**published, "build_key": key, "communes": communes, **extra}
    )
