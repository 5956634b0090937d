"""The site's static files (the theme's, MapLibre's, the DSFR's) in one folder named by their
hash, ``assets/<hash>/``: any change makes a new folder, so a host can serve them as immutable.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from .config import Config
from .dsfr import write_dsfr_assets
from .errors import UserError
from .files import file_digest
from .mkdocsconfig import ASSETS, load_mkdocs_config
from .paths import MAPLIBRE_DIST, theme_dirs

VENDOR_FOLDER = "vendor/maplibre-gl"
"""MapLibre's files, below the assets folder."""
MAPLIBRE_FILES = (
    "maplibre-gl.mjs",
    "maplibre-gl-worker.mjs",
    "maplibre-gl-shared.mjs",
    "maplibre-gl.css",
)


def write_assets(config: Config, site_dir: Path, options: dict[str, Any]) -> str:
    """Every static file of the site into ``site_dir/assets/<hash>/``: the theme's (those
    MkDocs would copy to ``assets/``), MapLibre's and, for the DSFR theme, the DSFR's; returns
    that folder (``assets/<12 hex digits>``), named by a hash of the files' names and bytes.
    Any change makes a new folder, so a host can serve them as immutable
    (generator/deploy/policy.py); relative links between them still work. ``options``:
    MkDocs' overrides (:func:`generator.mkdocsconfig.mkdocs_options`), for the theme's files."""
    from mkdocs.structure.files import Files

    staging = site_dir / f".{ASSETS}-{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        docs_dir, out_dir = os.path.join(folder, "docs"), os.path.join(folder, "site")
        os.mkdir(docs_dir)
        mkdocs_config = load_mkdocs_config(options, docs_dir, out_dir, ASSETS, config.theme)
        files = Files([])
        files.add_files_from_theme(mkdocs_config.theme.get_env(), mkdocs_config)
    for file in files:
        if file.dest_uri.startswith(ASSETS + "/"):
            target = staging / file.dest_uri
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.abs_src_path, target)
    if not MAPLIBRE_DIST.is_dir():
        raise UserError(
            f"{MAPLIBRE_DIST} not found: install the JavaScript dependencies with `npm ci` "
            "(`make build` does it)"
        )
    (staging / ASSETS / VENDOR_FOLDER).mkdir(parents=True, exist_ok=True)
    for name in MAPLIBRE_FILES:
        shutil.copyfile(MAPLIBRE_DIST / name, staging / ASSETS / VENDOR_FOLDER / name)
    if config.theme == "dsfr":
        write_dsfr_assets(staging, theme_dirs(config.theme))
    digest = hashlib.sha256()
    root = staging / ASSETS
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(file_digest(path).encode() + b"\0")
    assets = f"{ASSETS}/{digest.hexdigest()[:12]}"
    (site_dir / assets).parent.mkdir(parents=True, exist_ok=True)
    root.rename(site_dir / assets)
    staging.rmdir()
    return assets
