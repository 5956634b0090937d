"""The published site, assembled from the history: every release under ``versions/<id>/``, and the
latest one again at the current addresses.

A release's files are hard links to the history's objects (a file shared by several releases, or
by a release and the current site, takes its space once). A release's pages are written to be
read under ``versions/<id>/``; their copy at the current addresses differs in two ways only, done
here with exact string replacements:

- the ``<link rel="canonical">`` of a versioned page names itself; the current page's names the
  current address (with ``site_url``), or is left out;
- a link from a release to another release's page is written ``<root>../../versions/<id>/…``
  (``<root>`` being the page's way up to its release's root), which from the current addresses
  is ``<root>versions/<id>/…``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
from pathlib import Path

from ..files import link_file
from .history import History

VERSIONS = "versions"


def assemble_releases(
    history: History, site_dir: Path, site_url: str | None, fresh: tuple[str, Path] | None = None,
    made: CurrentAddresses | None = None,
) -> dict[str, str]:  # fmt: skip
    """``versions/<id>/`` for every release, then the latest release at the site's root; the
    SHA-256 of the pages written there (the others are the history's files).
    ``fresh``: (id, folder) of the release just built and stored: that folder becomes its
    ``versions/<id>/`` as it is (one rename instead of a link per file). ``made``: the
    current addresses already made while the release was built (:class:`CurrentAddresses`)."""
    latest = history.latest
    assert latest is not None, "a site is assembled after at least one release"
    for release in history.releases:
        base = site_dir / VERSIONS / release.id
        if fresh is not None and release.id == fresh[0]:
            base.parent.mkdir(parents=True, exist_ok=True)
            fresh[1].rename(base)
            continue
        link_listing(history, history.listing(release.id), base)
    if made is None or made.release != latest.id:
        made = CurrentAddresses(history, site_dir, latest.id, None, site_url)
    made.stored()
    listing = history.listing(latest.id)
    made.add({name: digest for name, digest in listing.items() if name not in made.done})
    return dict(made.written)


def link_listing(history: History, listing: dict[str, str], base: Path) -> None:
    """The files of ``listing`` ({path: SHA-256}) below ``base``, hard links to the history's
    objects. (Strings, not Path objects: a national release has hundreds of thousands.)"""
    folders: set[str] = set()
    root = str(base)
    for name, digest in sorted(listing.items()):
        target = f"{root}/{name}"
        folder = target.rpartition("/")[0]
        if folder not in folders:
            os.makedirs(folder, exist_ok=True)
            folders.add(folder)
        link_file(history.object_file(digest), target)


class CurrentAddresses:
    """The latest release's files at the current addresses: hard links to the history's
    objects, and the pages :func:`current_page` changes written anew.

    The build makes them as it renders (each chunk of communes as it comes back, while the
    workers render the next ones; only for a release that will be the latest), then
    :func:`assemble_releases` adds the rest. During the build a file's object may not exist
    yet: it is then linked from the release's ``tree``, whose file becomes that object when the
    release is stored, so the links end up the same."""

    def __init__(self, history: History, site_dir: Path, release: str, tree: Path | None,
                 site_url: str | None, published: dict[str, str] | None = None) -> None:  # fmt: skip
        self.history, self.root, self.release = history, str(site_dir), release
        self.tree, self.site_url = tree, site_url
        self.published = published
        """The files at the current addresses of the site being updated in place (see
        :mod:`.inplace`), by digest: a file published as it is already is not made again."""
        self.done: set[str] = set()
        self.written: dict[str, str] = {}
        """SHA-256 of the pages written (rewritten for the current addresses)."""
        self.placed: set[str] = set()
        """The files made below ``site_dir`` (all of them, unless ``published``)."""
        self._folders: set[str] = set()
        self._from_tree: list[tuple[str, str]] = []
        """(target, digest) of the files linked from the tree, before their object existed."""
        self._lock = threading.Lock()

    def add(self, files: dict[str, str]) -> None:
        """Make the current addresses of ``files`` ({path: SHA-256}, files of the tree)."""
        published = self.published or {}
        for name, digest in sorted(files.items()):
            target = f"{self.root}/{name}"
            source = self.history.object_file(digest)
            if self.tree is not None and not os.path.exists(source):
                source = f"{self.tree}/{name}"
            page = data = None
            if name.endswith(".html"):
                with open(source, encoding="utf-8") as file:
                    html = file.read()
                page = current_page(html, name, self.release, self.site_url)
                # (unchanged: no canonical, no link to a release — redirects, embed pages)
                page = None if page == html else page
            if page is not None:
                data = page.encode("utf-8")
                digest = hashlib.sha256(data).hexdigest()
                with self._lock:
                    self.written[name] = digest
            if published.get(name) != digest:
                self._make(target, source, data)
                with self._lock:
                    self.placed.add(name)
                    if data is None and source.startswith(f"{self.tree}/"):
                        self._from_tree.append((target, digest))
            with self._lock:
                self.done.add(name)

    def stored(self) -> None:
        """The release is stored: every file it lists is an object now. A file linked from the
        tree whose bytes were already an object (another file of the release with the same
        bytes, stored first) is linked to that object instead, so it takes no space."""
        self.tree = None
        for target, digest in self._from_tree:
            source = self.history.object_file(digest)
            if os.stat(target).st_ino != os.stat(source).st_ino:
                with contextlib.suppress(OSError):  # another file system: the copy stays
                    os.link(source, target + ".~objet")
                    os.replace(target + ".~objet", target)
        self._from_tree.clear()

    def _make(self, target: str, source: str, data: bytes | None) -> None:
        """``target``, a link to ``source`` or ``data`` written."""
        folder = target.rpartition("/")[0]
        if folder not in self._folders:
            os.makedirs(folder, exist_ok=True)
            with self._lock:
                self._folders.add(folder)
        if data is None:
            link_file(source, target)
        else:
            with open(target, "wb") as file:
                file.write(data)


def up(name: str) -> str:
    """From a file's folder to its release's root: ``communes/x/index.html`` -> ``../../``."""
    return "../" * name.count("/")


def current_page(html: str, name: str, release: str, site_url: str | None) -> str:
    """A release's page as served at the current addresses (see the module's docstring)."""
    root = up(name)
    canonical = re.compile(
        r'<link rel="canonical" href="[^"]*' + re.escape(f"{VERSIONS}/{release}/") + r'([^"]*)">\n?'
    )
    if site_url:
        html = canonical.sub(lambda m: f'<link rel="canonical" href="{site_url}{m[1]}">\n', html)
    else:
        html = canonical.sub("", html)
    return html.replace(f'"{root}../../{VERSIONS}/', f'"{root}{VERSIONS}/')


def cross_link(name: str, release: str, path: str) -> str:
    """The link from page ``name`` of a release to ``path`` in release ``release``."""
    return f"{up(name)}../../{VERSIONS}/{release}/{path}"
