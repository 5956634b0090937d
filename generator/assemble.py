"""Assemble: MkDocs turns the rendered Markdown (narrative pages, home page, commune list,
processing report) into HTML, then everything rendered beside it (commune pages, static maps,
API, style, tiles, vendor files) joins it, MkDocs' pages get their Content-Security-Policy and
the manifest lists every file. Nothing here computes or renders content."""

from __future__ import annotations

import gzip
import os
import shutil
from collections.abc import Collection, Iterable
from pathlib import Path
from typing import Any

from . import mkdocsconfig
from .config import Config, build_date, source_date_epoch
from .errors import UserError
from .files import file_digest, link_file, write_json
from .mkdocsconfig import ASSETS, load_mkdocs_config, mkdocs_messages
from .style import content_security_policy, secure_page
from .tilestep import XYZ_FOLDER


def mkdocs_build(
    docs_dir: Path, site_dir: Path, config: Config, quiet: bool = False, assets: str = ASSETS,
    options: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Run MkDocs (strict) on ``docs_dir`` with the templates of the config's theme; the nav
    holds only the narrative pages. ``assets``: where the pages' links to static files point
    (:func:`generator.assets.write_assets`); MkDocs' own copy of the theme's is not kept.
    ``options``: MkDocs' overrides (:func:`generator.mkdocsconfig.mkdocs_options`, by default
    without a release).

    MkDocs stamps the sitemap with SOURCE_DATE_EPOCH when set: we set it to the build date so
    that two builds of the same inputs are byte-identical, whatever the day.
    """
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    epoch = int(build_date(config).timestamp())
    with mkdocs_messages(quiet) as warnings, source_date_epoch(epoch):
        try:
            options = options or mkdocsconfig.mkdocs_options(config)
            build(load_mkdocs_config(options, str(docs_dir), str(site_dir), assets,
                                           config.theme))  # fmt: skip
        except MkDocsException as error:
            raise UserError(
                f"MkDocs n'a pas pu construire le site ({error}"
                + "".join(f" ; {warning}" for warning in warnings)
                + ") : corrigez la page en cause (souvent un lien du texte explicatif), puis "
                "relancez la construction"
            ) from None
    shutil.rmtree(site_dir / ASSETS, ignore_errors=True)


def write_sitemap(
    site_dir: Path, config: Config, docs_dir: Path, more: Iterable[str],
    options: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """With a ``site_url``, MkDocs' sitemap lists the pages it built: write it again, with its
    own template, listing ``more`` pages too (``src_uri`` of the pages rendered outside it)."""
    if not config.site_url:
        return
    from mkdocs.structure.files import File, Files, get_files
    from mkdocs.structure.pages import Page
    from mkdocs.utils import get_build_timestamp

    epoch = int(build_date(config).timestamp())
    with mkdocs_messages(), source_date_epoch(epoch):
        mkdocs_config = load_mkdocs_config(
            options or mkdocsconfig.mkdocs_options(config),
            str(docs_dir),
            str(site_dir),
            ASSETS,
            config.theme,
        )
        files = get_files(mkdocs_config)
        urls = mkdocs_config.use_directory_urls
        for src_uri in more:
            files.append(File(src_uri, str(docs_dir), str(site_dir), urls))
        pages = list(files.documentation_pages())
        for file in pages:
            Page(None, file, mkdocs_config)
        template = mkdocs_config.theme.get_env().get_template("sitemap.xml")
        text = template.render(pages=Files(pages).documentation_pages(), config=mkdocs_config)
        timestamp = get_build_timestamp(pages=[f.page for f in pages])
    # As MkDocs writes them (mkdocs.commands.build._build_theme_template).
    data = text.encode("utf-8")
    (site_dir / "sitemap.xml").write_bytes(data)
    gz_path = site_dir / "sitemap.xml.gz"
    with (
        gz_path.open("wb") as file,
        gzip.GzipFile(fileobj=file, filename=str(gz_path), mode="wb", mtime=timestamp) as gz,
    ):
        gz.write(data)


def add_content_security_policy(site_dir: Path, policy: str) -> None:
    """Every page MkDocs wrote gets its Content-Security-Policy (:func:`secure_page`)."""
    for page in sorted(site_dir.rglob("*.html")):
        page.write_text(secure_page(page.read_text(encoding="utf-8"), policy), encoding="utf-8")


def manifest(
    site_dir: Path, inputs: list[Path], inputs_base: Path, known: dict[str, str] | None = None
) -> dict[str, Any]:
    """Every published file and every input with its SHA-256, in a stable order.

    Inputs are named relative to ``inputs_base`` (the config's folder) so that the manifest
    does not depend on where the checkout lives. ``known``: digests already computed by whoever
    wrote those files (the per-commune tasks), not read again.
    """
    known = known or {}
    names = []
    for folder, _, files in os.walk(site_dir):  # strings, not Path objects: 10^5 files
        below = os.path.relpath(folder, site_dir).replace(os.sep, "/")
        prefix = "" if below == "." else below + "/"
        names += [prefix + name for name in files if prefix or name != "manifest.json"]
    names.sort()
    return {
        "files": {name: known.get(name) or file_digest(site_dir / name) for name in names},
        "inputs": {
            Path(os.path.relpath(p, inputs_base)).as_posix(): file_digest(p)
            for p in sorted(set(inputs))
        },
    }


def move_tree(source: Path, target: Path) -> None:
    """Move every file of ``source`` to the same place below ``target`` (renames: no copy),
    into folders that may already hold other files."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, destination)


def assemble_site(
    docs_dir: Path, mkdocs_dir: Path, tiles_dir: Path, site_dir: Path, config: Config,
    quiet: bool = False, pages: Iterable[str] = (), assets: str = ASSETS,
    options: dict[str, Any] | None = None, kept_tiles: Collection[str] = (),
    tile_names: Iterable[str] | None = None,
) -> None:  # fmt: skip
    """MkDocs builds ``docs_dir`` into ``mkdocs_dir``, its pages get their
    Content-Security-Policy, and its files move into ``site_dir``, where the rendered files
    already are (``pages``: the ``src_uri`` of the pages among them, for the sitemap, whose
    MkDocs rendering is dropped); the
    tiles join them (hard links). ``assets``: the folder of the static files, already there
    (:func:`generator.assets.write_assets`). ``options``: MkDocs' overrides, those the pages
    rendered outside it had (:attr:`generator.theme.ThemeSpec.options`). ``kept_tiles``: tiles
    (``tiles/{z}/{x}/{y}.pbf``) the site being updated in place already has, not linked;
    ``tile_names``: every tile of the tree, when the tile step's record lists them (the
    tree is not walked)."""
    mkdocs_build(docs_dir, mkdocs_dir, config, quiet, assets, options)
    pages = list(pages)
    for src_uri in pages:  # MkDocs' own rendering of a page rendered outside it: not kept
        stem = src_uri.removesuffix(".md")
        built = mkdocs_dir / (f"{stem}.html" if stem.rsplit("/", 1)[-1] == "index"
                              else f"{stem}/index.html")  # fmt: skip
        built.unlink(missing_ok=True)
    add_content_security_policy(mkdocs_dir, content_security_policy(config))
    write_sitemap(mkdocs_dir, config, docs_dir, pages, options)
    move_tree(mkdocs_dir, site_dir)
    link_tiles(tiles_dir / XYZ_FOLDER, site_dir / "tiles", kept_tiles, tile_names)
    for archive in tiles_dir.glob("*.pmtiles"):
        (site_dir / "tiles").mkdir(exist_ok=True)
        link_file(archive, site_dir / "tiles" / archive.name)


def link_tiles(
    xyz: Path, target: Path, kept: Collection[str] = (), names: Iterable[str] | None = None
) -> None:
    """The tile tree ``xyz`` at ``target`` (hard links), but for the tiles ``kept``
    (``tiles/{z}/{x}/{y}.pbf``): a folder is made only for the tiles it gets. ``names``: the
    tiles of ``xyz`` (same form), when known: then only those not ``kept`` are looked at
    (Nord, a reservoir moved, a warm build: walking the tree's 231 folders and 3,706 tiles
    took 10–17 ms, for the ~60 tiles it links)."""
    if names is not None:
        folders: set[str] = set()
        for name in sorted(n for n in names if n not in kept):
            below = name.removeprefix("tiles/")
            folder = below.rpartition("/")[0]
            if folder not in folders:
                os.makedirs(f"{target}/{folder}", exist_ok=True)
                folders.add(folder)
            link_file(f"{xyz}/{below}", f"{target}/{below}")
        return
    for folder, _, files in os.walk(xyz):  # strings, not Path objects: 10^5 tiles
        below = os.path.relpath(folder, xyz).replace(os.sep, "/")
        prefix = "" if below == "." else below + "/"
        todo = sorted(name for name in files if f"tiles/{prefix}{name}" not in kept)
        if todo:
            os.makedirs(f"{target}/{prefix}", exist_ok=True)
        for name in todo:
            link_file(os.path.join(folder, name), f"{target}/{prefix}{name}")


def write_manifest(
    site_dir: Path, inputs: list[Path], config: Config, key: str, communes: int,
    known: dict[str, str] | None = None, cache: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """Written last: the list of what to publish, with the build's cache key (and ``cache``:
    what the next build may reuse)."""
    published = manifest(site_dir, inputs, config.config_path.parent, known)
    write_json(
        site_dir / "manifest.json",
        {**published, "build_key": key, "communes": communes, **(cache or {})},
    )
