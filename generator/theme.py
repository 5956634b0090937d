"""The site's theme outside MkDocs' build: pages rendered straight from Jinja2 into the configured
MkDocs theme, with the context MkDocs gives its templates.

MkDocs renders one page in about 10 ms, nearly all of it Markdown parsing the page's raw HTML;
a commune page is HTML already. So the commune pages skip MkDocs' build: a worker renders the
page body with Jinja2 and puts it into the theme's template (``main.html``, or the page's
``template``) through MkDocs' own objects — its config (``mkdocs.yml`` with the build's
overrides, so whichever theme is configured), its theme environment (the ``url`` filter…), its
navigation, ``Page`` and ``get_context`` — exactly as ``mkdocs build`` would, only without the
Markdown step. The few Markdown parts of a commune page (the operator's explanatory text) are
the same on every commune page: MkDocs renders them once, in the driver (:func:`prepare_theme`).

MkDocs itself still builds the narrative pages, the home page, the commune list and the
processing report (:mod:`generator.assemble`), with the same options (:func:`mkdocs_options`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config, build_date, source_date_epoch
from .dsfr import inline_styles, write_dsfr_assets
from .errors import UserError
from .files import file_digest
from .paths import DEFAULT_THEME_DIR, MAPLIBRE_DIST, MKDOCS_CONFIG, theme_dirs

NAV = [
    {"Accueil": "index.md"},
    {"Communes": "communes/index.md"},
    {"Méthode et données": "methode.md"},
    {"Traitement des données": "traitement.md"},
    {"À propos": "a-propos.md"},
    {"Accessibilité": "accessibilite.md"},
]


def theme_context(config: Config, release: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the theme's templates read from MkDocs' ``extra``: the territory's words, and the
    release the site shows (``release``: :meth:`generator.releases.info.ReleaseInfo.theme`)."""
    from .french import french_date

    return {
        "trame": {
            "territory": config.name,
            "fictitious": config.fictitious,
            "data_date": french_date(config),
            "build_date": build_date(config).strftime("%d/%m/%Y"),
            "sources": list(config.sources),
            "licence": config.licence,
            "producer": config.producer,
            "theme": config.theme,
            "marianne": list(config.dsfr.marianne),
            "service": config.dsfr.service or config.name,
            "tagline": config.dsfr.tagline,
            **(release or {}),
            # The DSFR theme's inlined rules, minified (main.html falls back on its includes).
            **({"styles": inline_styles(theme_dirs("dsfr"))} if config.theme == "dsfr" else {}),
        }
    }


def mkdocs_options(config: Config, release: dict[str, Any] | None = None) -> dict[str, Any]:
    """The overrides of ``mkdocs.yml`` for this territory (and ``release``, see
    :func:`theme_context`), shared by MkDocs' build and by the pages rendered outside it
    (everything but ``docs_dir`` and ``site_dir``)."""
    options: dict[str, Any] = {
        "config_file": str(MKDOCS_CONFIG), "site_name": config.name,
        "extra": theme_context(config, release), "nav": NAV, "strict": True,
    }  # fmt: skip
    if config.site_url:
        options["site_url"] = config.site_url
    return options


@contextlib.contextmanager
def quiet_mkdocs(quiet: bool = True) -> Iterator[None]:
    logger = logging.getLogger("mkdocs")
    level = logger.level
    logger.setLevel(logging.ERROR if quiet else logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


@dataclass(frozen=True)
class Fragment:
    """Markdown rendered once by MkDocs, for every page of one folder depth."""

    html: str
    toc: Any
    """MkDocs' ``TableOfContents`` of the fragment's headings (``page.toc``)."""


@dataclass(frozen=True)
class ThemeSpec:
    """What a worker needs to render pages into the theme: small, picklable, the same for
    every task. Built by :func:`prepare_theme` in the driver."""

    options: str
    """``mkdocs_options`` as JSON (also the key of each worker's cached renderer)."""
    documentation: tuple[str, ...]
    """Every page MkDocs builds (``src_uri``), for the navigation and the ``pages`` variable."""
    epoch: int
    fragments: dict[str, Fragment]
    policy: str
    """The Content-Security-Policy of every page (see :func:`generator.style.secure_page`)."""
    assets: str = "assets"
    """Where the static files are published: ``assets/<hash>`` (see :func:`write_assets`)."""
    theme: str = "default"
    """The config's theme (``default`` or ``dsfr``): whose templates render the pages."""


ASSETS = "assets"
VENDOR_FOLDER = "vendor/maplibre-gl"
"""MapLibre's files, below the assets folder."""
MAPLIBRE_FILES = (
    "maplibre-gl.mjs",
    "maplibre-gl-worker.mjs",
    "maplibre-gl-shared.mjs",
    "maplibre-gl.css",
)


class AssetsPlugin:
    """Registered on MkDocs' config (its plugin events): the theme's ``url`` filter sends
    ``assets/…`` to the hashed folder, for MkDocs' pages and for those rendered outside it."""

    def __init__(self, folder: str):
        self.folder = folder

    def on_env(self, env, /, *, config, files):
        from jinja2 import pass_context

        original = env.filters["url"]

        @pass_context
        def url(context, value):
            value = str(value)
            if value == ASSETS or value.startswith(ASSETS + "/"):
                value = self.folder + value[len(ASSETS) :]
            return original(context, value)

        env.filters["url"] = url
        return env


def load_mkdocs_config(
    options: dict[str, Any], docs_dir: str, site_dir: str, assets: str, theme: str = "default"
):
    """MkDocs' config with the build's options, the templates of ``theme`` (``default`` or
    ``dsfr``) and the static files' folder ``assets`` (:func:`write_assets`)."""
    from mkdocs.config import load_config

    try:
        mkdocs_config = load_config(**options, docs_dir=docs_dir, site_dir=site_dir)
    except Exception as error:  # MkDocs' own config errors (e.g. an unknown theme)
        raise UserError(f"{MKDOCS_CONFIG}: MkDocs cannot load its config: {error}") from None
    # mkdocs.yml names the default theme's folder; the theme's own folders replace it.
    folders = mkdocs_config.theme.dirs
    resolved = [Path(d).resolve() for d in folders]
    if DEFAULT_THEME_DIR in resolved:
        at = resolved.index(DEFAULT_THEME_DIR)
        folders[at : at + 1] = [str(d) for d in theme_dirs(theme)]
    if assets != ASSETS:
        mkdocs_config.plugins["trame-assets"] = AssetsPlugin(assets)
    return mkdocs_config


def write_assets(config: Config, site_dir: Path) -> str:
    """Every static file of the site into ``site_dir/assets/<hash>/``: the theme's (those
    MkDocs would copy to ``assets/``), MapLibre's and, for the DSFR theme, the DSFR's; returns
    that folder (``assets/<12 hex digits>``), named by a hash of the files' names and bytes.
    Any change makes a new folder, so a host can serve them as immutable
    (generator/deploy/policy.py); relative links between them still work."""
    from mkdocs.structure.files import Files

    staging = site_dir / f".{ASSETS}-{os.getpid()}"
    with tempfile.TemporaryDirectory() as folder:
        docs_dir, out_dir = os.path.join(folder, "docs"), os.path.join(folder, "site")
        os.mkdir(docs_dir)
        mkdocs_config = load_mkdocs_config(
            mkdocs_options(config), docs_dir, out_dir, ASSETS, config.theme
        )
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


def prepare_theme(
    config: Config, docs_dir: Path, site_dir: Path, fragments: dict[str, tuple[str, str]],
    policy: str, release: dict[str, Any] | None = None,
) -> ThemeSpec:  # fmt: skip
    """Write the site's static files into ``site_dir`` (:func:`write_assets`), render the
    shared Markdown ``fragments`` ({name: (page src_uri, Markdown)}) the way MkDocs renders a
    page there (its extensions, links resolved from that page), and gather what workers need.
    ``docs_dir`` holds the pages MkDocs will build."""
    from mkdocs.structure.files import File, Files, get_files, set_exclusions
    from mkdocs.structure.pages import Page

    options = mkdocs_options(config, release)
    epoch = int(build_date(config).timestamp())
    assets = write_assets(config, site_dir)
    with (
        tempfile.TemporaryDirectory() as site_dir,
        quiet_mkdocs(),
        source_date_epoch(epoch),
        _warnings_are_errors() as warnings,
    ):
        mkdocs_config = load_mkdocs_config(options, str(docs_dir), site_dir, assets, config.theme)
        files = get_files(mkdocs_config)
        for path in _nav_paths(NAV):  # generated pages not written yet
            if files.get_file_from_path(path) is None:
                files.append(File(path, str(docs_dir), site_dir, mkdocs_config.use_directory_urls))
        set_exclusions(files, mkdocs_config)
        rendered = {}
        for name, (src_uri, text) in fragments.items():
            page = Page(None, File(src_uri, str(docs_dir), site_dir, True), mkdocs_config)
            page.markdown, page.meta = text, {}
            page.render(mkdocs_config, Files([*files, page.file]))
            rendered[name] = Fragment(page.content or "", page.toc)
        if warnings:
            raise UserError("MkDocs: " + " ; ".join(warnings))
        documentation = tuple(f.src_uri for f in files.documentation_pages())
    options_json = json.dumps(options, sort_keys=True)
    return ThemeSpec(options_json, documentation, epoch, rendered, policy, assets, config.theme)


def _nav_paths(nav: Any) -> Iterator[str]:
    if isinstance(nav, str) and nav.endswith(".md"):
        yield nav
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_paths(value)
    elif isinstance(nav, list):
        for value in nav:
            yield from _nav_paths(value)


@contextlib.contextmanager
def _warnings_are_errors() -> Iterator[list[str]]:
    """MkDocs' strict mode for the fragments: its warnings (a broken link…) are collected."""
    collected: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    try:
        yield collected
    finally:
        logger.removeHandler(handler)


class ThemeRenderer:
    """MkDocs' config, theme environment and navigation, loaded once per worker process."""

    def __init__(self, spec: ThemeSpec):
        from mkdocs.structure.files import File, Files, set_exclusions
        from mkdocs.structure.nav import get_navigation

        self.spec = spec
        with (
            tempfile.TemporaryDirectory() as folder,
            quiet_mkdocs(),
            source_date_epoch(spec.epoch),
        ):
            # Neither folder is read or written: pages come from the tasks (they must exist).
            docs_dir, site_dir = os.path.join(folder, "docs"), os.path.join(folder, "site")
            os.mkdir(docs_dir)
            options = json.loads(spec.options)
            self.config = load_mkdocs_config(options, docs_dir, site_dir, spec.assets, spec.theme)
            urls = self.config.use_directory_urls
            self.files = Files([File(p, docs_dir, site_dir, urls) for p in spec.documentation])
            set_exclusions(self.files, self.config)
            self.nav = get_navigation(self.files, self.config)
            self.env = self.config.plugins.on_env(
                self.config.theme.get_env(), config=self.config, files=self.files
            )
            self.env.auto_reload = False  # no stat() of the templates for every page
        self.pages = self.files.documentation_pages()
        self._nav_pages = {page.file.src_uri: page for page in self.nav.pages}

    def render(self, src_uri: str, title: str, meta: dict[str, Any], content: str, toc: Any) -> str:
        """The whole HTML document of the page ``src_uri`` (e.g. ``communes/x.md``) whose body
        is ``content`` (HTML), as MkDocs' ``_build_page`` would write it."""
        from mkdocs.commands.build import get_context
        from mkdocs.structure.files import File
        from mkdocs.structure.pages import Page

        page = self._nav_pages.get(src_uri)
        if page is None:
            file = File(src_uri, self.config.docs_dir, self.config.site_dir, True)
            page = Page(title, file, self.config)
        page.markdown, page.meta, page.content, page.toc = "", dict(meta), content, toc
        page.update_date = _build_day(self.spec.epoch)
        page.active = True
        try:
            context = get_context(self.nav, self.pages, self.config, page)
            context = self.config.plugins.on_page_context(
                context, page=page, config=self.config, nav=self.nav
            )
            template = self.env.get_template(page.meta.get("template", "main.html"))
            output = template.render(context)
            output = self.config.plugins.on_post_page(output, page=page, config=self.config)
        finally:
            page.active = False
        # MkDocs writes ``output.encode('utf-8', errors='xmlcharrefreplace')``.
        return output.encode("utf-8", errors="xmlcharrefreplace").decode("utf-8")


def empty_toc() -> Any:
    """The table of contents of a page without Markdown headings."""
    from mkdocs.structure.toc import get_toc

    return get_toc([])


def _build_day(epoch: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).strftime("%Y-%m-%d")


_RENDERERS: dict[tuple[str, tuple[str, ...], str, str], ThemeRenderer] = {}


def renderer(spec: ThemeSpec) -> ThemeRenderer:
    """This process's renderer for ``spec`` (loaded on its first task, reused after)."""
    key = (spec.options, spec.documentation, spec.assets, spec.theme)
    if key not in _RENDERERS:
        _RENDERERS.clear()
        _RENDERERS[key] = ThemeRenderer(spec)
    return _RENDERERS[key]
