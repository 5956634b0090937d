"""Build cache keys: a SHA-256 of everything an output depends on (inputs, config, code).

A key only says "these exact bytes went in"; it never trusts file dates, so a copied or
checked-out tree hits the cache exactly when nothing that matters changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KEY_FILE = "cle-de-construction.txt"


def _digest_files(digest: hashlib._Hash, paths: Iterable[Path], base: Path | None) -> None:
    for path in sorted(set(paths)):
        name = (
            path.relative_to(base).as_posix() if base and path.is_relative_to(base) else path.name
        )
        digest.update(name.encode() + b"\0")
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")


@cache
def code_fingerprint(*parts: str) -> str:
    """The project's own files under ``parts`` (e.g. "generator", "site_src"), hashed."""
    files = []
    for part in parts:
        root = PROJECT_ROOT / part
        candidates = [root] if root.is_file() else root.rglob("*")
        files += [p for p in candidates if p.is_file() and "__pycache__" not in p.parts]
    digest = hashlib.sha256()
    _digest_files(digest, files, PROJECT_ROOT)
    return digest.hexdigest()


def fingerprint(inputs: Iterable[Path], *, code: tuple[str, ...], extra: str = "") -> str:
    """The key of an output made from ``inputs`` by the project's code under ``code``."""
    digest = hashlib.sha256()
    digest.update(code_fingerprint(*code).encode())
    digest.update(extra.encode())
    _digest_files(digest, inputs, None)
    return digest.hexdigest()


def read_key(folder: Path) -> str | None:
    try:
        return (folder / KEY_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def write_key(folder: Path, key: str) -> None:
    (folder / KEY_FILE).write_text(key + "\n", encoding="ascii")
