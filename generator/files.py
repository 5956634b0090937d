"""Writing files: stable JSON, digests, staging folders swapped in whole, hard-linked copies."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson


def json_bytes(data: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the same data always gives the same bytes."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


def index_json_bytes(data: Any) -> bytes:
    """:func:`json_bytes` of data without floats (names, digests, integers: the manifest, the
    tile record, the history's listings), written by orjson: the same bytes, 30 times faster
    (Nord's manifest of 19,140 files: 0.42 ms against 12.7 ms; the tile record 0.42 against
    8.2 ms). Not for data with floats: orjson writes some differently (0.00001 for 1e-05)."""
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(json_bytes(data))


def write_files(root: Path, files: dict[str, bytes]) -> dict[str, str]:
    """Write ``files`` ({path below ``root``: bytes}); return their SHA-256 digests by path."""
    digests = {}
    made: set[Path] = set()
    for name, data in files.items():
        path = root / name
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)
        digests[name] = hashlib.sha256(data).hexdigest()
    return digests


def sha256_rows(records: Iterable[bytes]) -> np.ndarray:
    """SHA-256 of each record, as an (n, 32) array of bytes: one row per record, so that the
    digests of any selection of records are one fancy index away (incremental builds' keys)."""
    rows = [hashlib.sha256(record).digest() for record in records]
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(len(rows), 32)


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes (``hashlib.file_digest``, read in blocks)."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, algorithm).hexdigest()


@contextlib.contextmanager
def staging_folder(output: Path) -> Iterator[Path]:
    """A fresh folder beside ``output`` (same file system, so the final rename is atomic).

    Whatever is left in it is removed at the end: on failure, the previous output stays exactly
    as it was.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.building-", dir=output.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def replace_folder(finished: Path, output: Path) -> None:
    """Swap the ``finished`` folder into ``output``; the old one is removed after."""
    previous = None
    if output.exists():
        previous = output.with_name(f".{output.name}.previous-{os.getpid()}")
        output.rename(previous)
    finished.rename(output)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)


def link_file(source: Path | str, target: Path | str) -> None:
    """Hard-link a file (no copy of its bytes) or copy it across file systems."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
