"""Changing a published folder file by file, undone whole on failure.

An incremental build changes a few files of a site of thousands (see :mod:`.inplace`): it puts
each new file in place with one rename, and keeps what it replaces or removes aside (a rename
into a backup folder on the same file system), so that :meth:`Journal.rollback` gives back the
folder exactly as it was, folders included. Each file is replaced atomically; between the first
and the last change a visitor may see some files of the new release and some of the old one,
never a half-written file.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


class Journal:
    """The changes made below ``root``, with what they replaced kept in ``backup``."""

    def __init__(self, root: Path, backup: Path) -> None:
        self.root, self.backup = str(root), str(backup)
        self._undo: list[tuple[str, str, str | None]] = []
        """(kind, path, backup copy) of each change, in order: ``file`` (a file or folder put,
        with what it replaced), ``folder`` (made), ``removed``, ``rmdir`` (left empty)."""
        self._folders: set[str] = set()
        os.makedirs(self.backup, exist_ok=True)

    def _aside(self, target: str) -> str | None:
        """Move ``target`` into the backup folder, if it exists; its new path."""
        aside = f"{self.backup}/{len(self._undo)}"
        try:
            os.rename(target, aside)
        except FileNotFoundError:
            return None
        return aside

    def _folder(self, folder: str) -> None:
        """Make ``folder`` and the missing folders above it, each noted."""
        if folder in self._folders or os.path.isdir(folder):
            self._folders.add(folder)
            return
        self._folder(folder.rpartition("/")[0])
        os.mkdir(folder)
        self._folders.add(folder)
        self._undo.append(("folder", folder, None))

    def put(self, source: Path | str, name: str) -> None:
        """Move ``source`` to ``name`` (below the root), replacing what is there."""
        target = f"{self.root}/{name}"
        self._folder(target.rpartition("/")[0])
        aside = self._aside(target)
        self._undo.append(("file", target, aside))
        os.rename(source, target)

    def remove(self, name: str) -> None:
        """Remove ``name`` (below the root), and the folders it leaves empty (kept aside)."""
        target = f"{self.root}/{name}"
        aside = self._aside(target)
        if aside is None:
            return
        self._undo.append(("removed", target, aside))
        folder = target.rpartition("/")[0]
        while folder != self.root:
            try:
                os.rmdir(folder)
            except OSError:  # not empty
                break
            self._undo.append(("rmdir", folder, None))
            self._folders.discard(folder)
            folder = folder.rpartition("/")[0]

    def rollback(self) -> None:
        """Undo every change, last first: the root is as it was before the first."""
        for kind, path, aside in reversed(self._undo):
            if kind == "file":
                if os.path.isdir(path) and not os.path.islink(path):  # a folder put whole
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                if aside is not None:
                    os.rename(aside, path)
            elif kind == "folder":
                os.rmdir(path)
            elif kind == "rmdir":
                os.mkdir(path)
            else:  # removed
                os.rename(aside, path)
        self._undo.clear()
