"""Publish: MkDocs builds the pages into a staging folder that replaces the site only on success."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import UserError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MKDOCS_CONFIG = PROJECT_ROOT / "mkdocs.yml"
PAGES_DIR = PROJECT_ROOT / "site_src" / "pages"
MAPLIBRE_DIST = PROJECT_ROOT / "node_modules" / "maplibre-gl" / "dist"
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


@contextlib.contextmanager
def staging_folder(output: Path) -> Iterator[Path]:
    """A fresh folder beside ``output`` (same file system, so the final rename is atomic).

    Whatever is left in it is removed at the end: on failure, the previous site stays exactly
    as it was.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.building-", dir=output.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_site(staging: Path, output: Path) -> None:
    """Swap the finished ``staging`` folder into ``output``; the old site is removed after."""
    previous = None
    if output.exists():
        previous = output.with_name(f".{output.name}.previous-{os.getpid()}")
        output.rename(previous)
    staging.rename(output)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def copy_narrative_pages(docs_dir: Path) -> None:
    shutil.copytree(PAGES_DIR, docs_dir, dirs_exist_ok=True)


def mkdocs_build(docs_dir: Path, site_dir: Path, site_name: str, extra: dict[str, Any],
                 source_date_epoch: int, quiet: bool = False,
                 site_url: str | None = None) -> None:  # fmt: skip
    """Run MkDocs (strict) on ``docs_dir``; the nav holds only the narrative pages.

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
        build(load_config(**options))
    except MkDocsException as error:
        raise UserError(f"MkDocs could not build the site: {error}") from None
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
                if "src=" not in m["attributes"] and "application/json" not in m["attributes"]
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


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest(site_dir: Path, inputs: list[Path], inputs_base: Path) -> dict[str, Any]:
    """Every published file and every input with its SHA-256, in a stable order.

    Inputs are named relative to ``inputs_base`` (the config's folder) so that the manifest
    does not depend on where the checkout lives.
    """
    files = sorted(p for p in site_dir.rglob("*") if p.is_file() and p.name != "manifest.json")
    return {
        "files": {p.relative_to(site_dir).as_posix(): sha256(p) for p in files},
        "inputs": {
            Path(os.path.relpath(p, inputs_base)).as_posix(): sha256(p) for p in sorted(set(inputs))
        },
    }


def copy_vendor_assets(site_dir: Path) -> None:
    """Serve MapLibre GL JS from the site itself (no CDN), from the npm lock's copy."""
    if not MAPLIBRE_DIST.is_dir():
        raise UserError(
            f"{MAPLIBRE_DIST} not found: install the JavaScript dependencies with `npm ci` "
            "(`make build` does it)"
        )
    target = site_dir / "assets" / "vendor" / "maplibre-gl"
    target.mkdir(parents=True, exist_ok=True)
    for name in MAPLIBRE_FILES:
        shutil.copyfile(MAPLIBRE_DIST / name, target / name)


def link_tree_file(source: Path | str, target: Path | str) -> None:
    """Hard-link a file (no copy of the tiles' bytes) or copy it across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def link_tree(source: Path, target: Path) -> None:
    """Put a copy of ``source`` at ``target`` using hard links where the file system allows."""
    shutil.copytree(source, target, copy_function=link_tree_file, dirs_exist_ok=True)
