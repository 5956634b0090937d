"""The site updated in place: a build changes only the files that differ.

Assembling the whole site at every build — every release under ``versions/<id>/`` and the latest
one at the current addresses, in a new folder swapped in whole — costs a link per file of every
release, and as many removals of the old folder, whatever changed: for Nord's one release about
22,000 links, and a site's history only grows. When the site folder is exactly what the history
last assembled (its manifest's ``build_key`` is the history's), a build of the latest release
again, or of a new release after it, instead changes that folder through a :class:`Journal`:

- ``versions/<id>/``: the release's new and changed files are put in place and the files it no
  longer has removed (a new release's folder is moved in whole); the other releases are not
  touched;
- the current addresses: the same, for the files whose published form changed;
- the manifest last.

The communes an incremental build keeps are not linked anywhere: their files are already in the
site (``carried``). On failure the journal is rolled back: the folder is as it was.
``FORCE=1`` (``--force``) assembles the whole site again, as a site folder changed by hand needs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import memo
from .history import History
from .journal import Journal
from .site import VERSIONS, CurrentAddresses

MANIFEST = "manifest.json"
CURRENT = "current addresses"
"""The store's name for a manifest's files at the current addresses (:attr:`InPlace.current`)."""


@dataclass(frozen=True)
class InPlace:
    """A site folder a build may change in place, and what it holds now."""

    output: Path
    release: str
    """The release being built: the latest one again, or a new one after it."""
    files: dict[str, str]
    """The site's files now (its manifest): every release's and the current addresses'."""
    listing: dict[str, str] | None
    """The release's files before this build (None: a new release)."""

    @classmethod
    def open(cls, output: Path, history: History, release: str, key: str) -> InPlace | None:
        """The site in ``output``, when it is the one assembled from ``history`` (whose site key
        is ``key``). ``release`` must be its latest release or a new one
        (:meth:`Plan.becomes_latest <generator.releases.step.Plan.becomes_latest>`)."""
        existing = history.get(release)
        if history.latest is None:  # the first release: the site is assembled whole
            return None
        try:
            # (a warm process finds the one it wrote: Hauts-de-France's ~100,000 files, ~0.1 s
            # of JSON per build)
            manifest = memo.read_json(MANIFEST, output / MANIFEST)
        except (OSError, ValueError):
            return None
        if manifest.get("build_key") != key or (
            existing is not None and not history.is_complete(existing)
        ):
            return None
        listing = dict(history.listing(release)) if existing is not None else None
        return cls(output, release, manifest.get("files", {}), listing)

    @functools.cached_property
    def current(self) -> dict[str, str]:
        """The files at the current addresses now (the manifest's, outside ``versions/``; asked
        twice per build: ~0.014 s each for Nord's manifest). A warm process finds those of the
        manifest it wrote at the last build (:func:`.step.update_site`), not filtered again
        (~9 ms of a warm Nord build)."""
        return memo.of_object(
            CURRENT, self.files,
            lambda: {n: d for n, d in self.files.items() if not n.startswith(f"{VERSIONS}/")},
        )  # fmt: skip

    def update(
        self, tree: Path, stored: dict[str, str], listing: dict[str, str],
        made: CurrentAddresses, manifest: dict[str, Any], staging: Path,
    ) -> None:  # fmt: skip
        """Change the site into the release built in ``tree`` (its files ``stored``; the whole
        release is ``listing``, the files kept in the site included), with the current
        addresses ``made`` and ``manifest``; undone whole on failure."""
        journal = Journal(self.output, staging / "remplaces")
        base = f"{VERSIONS}/{self.release}"
        try:
            if self.listing is None:  # a new release: its folder, whole
                journal.put(tree, base)
            else:
                for name, digest in stored.items():
                    if self.listing.get(name) != digest:
                        journal.put(f"{tree}/{name}", f"{base}/{name}")
                for name in sorted(self.listing.keys() - listing.keys()):
                    journal.remove(f"{base}/{name}")
            for name in sorted(made.placed):
                journal.put(f"{made.root}/{name}", name)
            for name in sorted(self.current.keys() - listing.keys()):
                journal.remove(name)
            memo.write_json(MANIFEST, staging / MANIFEST, manifest)
            journal.put(staging / MANIFEST, MANIFEST)
        except BaseException:
            journal.rollback()
            raise
