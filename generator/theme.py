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
processing report (:mod:`generator.assemble`), with the same options (:func:`generator.mkdocsconfig.mkdocs_options`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import mkdocsconfig, pagecache
from .assets import write_assets
from .config import Config, build_date, source_date_epoch
from .errors import UserError
from .mkdocsconfig import NAV, load_mkdocs_config, mkdocs_messages


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

    options = mkdocsconfig.mkdocs_options(config, release)
    epoch = int(build_date(config).timestamp())
    assets = write_assets(config, site_dir, mkdocsconfig.mkdocs_options(config))
    with (
        tempfile.TemporaryDirectory() as site_dir,
        mkdocs_messages() as warnings,
        source_date_epoch(epoch),
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
            pagecache.render(page, mkdocs_config, Files([*files, page.file]))
            rendered[name] = Fragment(page.content or "", page.toc)
        if warnings:
            raise UserError(
                f"{config.explanatory_text} : MkDocs signale « {' ; '.join(warnings)} » ; "
                "corrigez ce texte explicatif (un lien vers une page ou une ancre qui n'existe "
                "pas ?), puis relancez la construction"
            )
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


class ThemeRenderer:
    """MkDocs' config, theme environment and navigation, loaded once per worker process."""

    def __init__(self, spec: ThemeSpec):
        from mkdocs.structure.files import File, Files, set_exclusions
        from mkdocs.structure.nav import get_navigation

        self.spec = spec
        with (
            tempfile.TemporaryDirectory() as folder,
            mkdocs_messages(),
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
