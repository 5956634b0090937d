"""Writing files: stable JSON, digests, staging folders swapped in whole, hard-linked copies."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson


def standard_json_bytes(data: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON, as the standard library writes it."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode("utf-8")


_DIGITS = frozenset(b"0123456789")


def _orjson_own(written: bytes) -> bool:
    """Whether orjson's bytes may not be the standard library's: a float under 1e-4, which
    orjson writes ``1e-7`` (an exponent: ``e-`` after a digit) or ``0.00001`` (``0.0000`` at
    the start of a number) where the standard library writes ``1e-07`` and ``1e-05``. A string
    holding the same characters only sends its document to the standard library, which writes
    the same bytes more slowly. (``bytes.find``: a regular expression took 0.67 ms for a 14 KB
    GeoJSON.)"""
    return _after(written, b"e-", lambda before: before in _DIGITS) or _after(
        written, b"0.0000", lambda before: before not in _DIGITS and before != ord(".")
    )


def _after(written: bytes, needle: bytes, test: Callable[[int], bool]) -> bool:
    """Whether ``needle`` occurs in ``written`` after a byte that passes ``test`` (0 at the
    start)."""
    at = written.find(needle)
    while at != -1:
        if test(written[at - 1] if at else 0):
            return True
        at = written.find(needle, at + 1)
    return False


def json_bytes(data: Any) -> bytes:
    """Compact, key-sorted UTF-8 JSON: the same data always gives the same bytes, those of
    :func:`standard_json_bytes`, written by orjson unless it refuses the data (an integer
    over 64 bits, a key that is not a string) or writes a float under 1e-4 (then the standard
    library writes it), except NaN and infinities, which are written ``null`` (the standard
    library writes ``NaN``, which is not JSON). Hauts-de-France's commune files (3,808 ×
    GeoJSON, figures): the standard library took 5 % of the workers' time (py-spy, 100 Hz);
    Valenciennes' GeoJSON there (14 KB): 0.075 ms instead of 0.44 ms, the check included."""
    try:
        written = orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    except TypeError:  # (orjson.JSONEncodeError is a TypeError)
        return standard_json_bytes(data)
    return standard_json_bytes(data) if _orjson_own(written) else written


def parse_json(data: bytes | str) -> Any:
    """The data of one of Trame's JSON files (indexes, listings, caches, API files), parsed by
    orjson: the objects the standard library gives, 4 to 6 times faster, but for an integer
    over 64 bits, which comes back a float (Trame's integers are counts, sizes and int64
    attributes). A document orjson refuses (NaN) is parsed by the standard library;
    ValueError when neither can."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def index_json_bytes(data: Any) -> bytes:
    """:func:`json_bytes` of data without floats (names, digests, integers: the manifest, the
    tile record, the history's listings), written by orjson with no check: the same bytes, 30
    times faster than the standard library (Nord's manifest of 19,140 files: 0.42 ms against
    12.7 ms; the tile record 0.42 against 8.2 ms)."""
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
    as it was. After a build that went through, a warm process removes it once the build is
    over (:func:`memo.after_build <generator.memo.after_build>`).
    """
    from . import memo  # (memo reads this module's helpers)

    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.building-", dir=output.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    memo.after_build(lambda: shutil.rmtree(staging, ignore_errors=True))


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
