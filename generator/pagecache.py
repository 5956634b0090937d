"""MkDocs' Markdown pages rendered once per warm process (``trame serve --watch``) while their
source and what their links resolve against stay the same.

MkDocs converts every page's Markdown at every build (``Page.render``). A site's narrative
pages and the explanatory text's sections rarely change from one build to the next: Nord, a
reservoir moved, twelve warm builds (``/tmp`` probe timing ``Page.render``): ~21 ms a build
for twelve pages, 1–4 ms each, none of them changed.

A page's HTML, table of contents, title and anchors are a function of its Markdown, its place
(its file's source and destination), the Markdown extensions and their settings, the URL style
and the files its links may point to: all of them make the key. A render that said anything
(a broken link: a warning, which strict mode turns into an error) is not kept, so that the
next build says it again.
"""

from __future__ import annotations

import logging
from typing import Any

from . import memo


def _files_key(files: Any) -> bytes:
    """The key of the files a page's links may point to (once per ``Files`` object: a build
    renders all its pages against one)."""
    return memo.of_object("mkdocs files key", files, lambda: memo.key(
        *(f"{f.src_uri}\0{f.dest_uri}\0{f.url}\0{f.inclusion}" for f in files)
    ))  # fmt: skip


def render(page: Any, config: Any, files: Any) -> None:
    """``page.render(config, files)`` (MkDocs' ``Page.render``), or what it gave for the same
    inputs in this build or the last one (a warm process)."""
    from mkdocs.structure.pages import Page

    from .mkdocsconfig import Said  # (mkdocsconfig registers this module's hook)

    if not memo.active():
        Page.render(page, config, files)
        return
    key = memo.key(
        page.markdown, page.file.src_uri, page.file.dest_uri, page.file.url,
        repr(config["markdown_extensions"]), repr(config["mdx_configs"]),
        repr(config["use_directory_urls"]), _files_key(files),
    )  # fmt: skip
    (found,) = memo.lookup("page html", [key])
    if found is None:
        said = Said()
        logger = logging.getLogger("mkdocs")
        logger.addHandler(said)
        try:
            Page.render(page, config, files)
        finally:
            logger.removeHandler(said)
        found = (
            page.content, page.toc, page._title_from_render, page.present_anchor_ids,
            getattr(page, "links_to_anchors", None),
        )  # fmt: skip
        if not said.messages:
            memo.keep("page html", [key], [found])
        return
    page.content, page.toc, page._title_from_render, page.present_anchor_ids, links = found
    if links is not None:
        page.links_to_anchors = links


class RenderCache:
    """Registered on MkDocs' config in a warm process: its pages render through
    :func:`render` (MkDocs calls ``page.render``; the page's own attribute comes first)."""

    def on_pre_page(self, page: Any, /, *, config: Any, files: Any) -> Any:
        page.render = lambda config, files: render(page, config, files)
        return page
