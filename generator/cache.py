"""Build cache keys: a SHA-256 of everything an output depends on (inputs, config, code).

A key only says "these exact bytes went in"; it never trusts file dates, so a copied or
checked-out tree hits the cache exactly when nothing that matters changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path

from .config import Config
from .files import file_digest, parse_json
from .paths import CODE_ROOT, code_files
from .read import source_files

KEY_FILE = "cle-de-construction.txt"
SITE_CODE = ("generator", "site_src", "mkdocs.yml", "package-lock.json")
"""What the site's bytes depend on besides the inputs: a change here rebuilds."""
TILES_CODE = ("generator",)
LIBRARIES = (
    "deflate", "shapely", "pyproj", "numpy", "pyogrio", "pmtiles", "orjson",
    "jinja2", "mkdocs", "markdown", "weasyprint", "segno", "tinycss2",
)  # fmt: skip
"""The libraries whose versions belong to the code a key covers, with the GEOS and PROJ they
carry: an upgrade through the lock can change the bytes they make (libdeflate's gzip output
changes with its version, GEOS's simplification and repairs with its own), so an output kept
by an older version must not pass for a new one's."""


_read_once: dict[Path, str] | None = None
"""The input files' digests in the current build (see :func:`one_reading`)."""


@contextlib.contextmanager
def one_reading() -> Iterator[None]:
    """Around one build: each input file is hashed once, however many keys and lists name
    it (reading, the tiles' key, the site's key, the manifest: four times before; Nord's
    data, ~10 MB, ~25 ms each time). A file changed during the build keeps the digest it had
    when first hashed, the same in every key. Inside another, it is that one."""
    global _read_once
    if _read_once is not None:
        yield
        return
    _read_once = {}
    try:
        yield
    finally:
        _read_once = None


def input_digest(path: Path) -> str:
    """The SHA-256 of an input file (once per build inside :func:`one_reading`)."""
    if _read_once is None:
        return file_digest(path)
    if path not in _read_once:
        _read_once[path] = file_digest(path)
    return _read_once[path]


def _digest_files(digest: hashlib._Hash, paths: Iterable[Path], base: Path | None) -> None:
    for path in sorted(set(paths)):
        name = (
            path.relative_to(base).as_posix() if base and path.is_relative_to(base) else path.name
        )
        # (the project's code files: hashed once per process, see code_fingerprint)
        value = file_digest(path) if base is not None else input_digest(path)
        digest.update(name.encode() + b"\0" + value.encode() + b"\0")


@cache
def code_fingerprint(*parts: str) -> str:
    """The project's own files under ``parts`` (e.g. "generator", "site_src"), hashed; installed,
    the package's copies of them (see paths.code_files)."""
    files = [path for part in parts for path in code_files(part)]
    digest = hashlib.sha256()
    _digest_files(digest, files, CODE_ROOT)
    digest.update(library_versions().encode())
    return digest.hexdigest()


@cache
def library_versions() -> str:
    """The versions of :data:`LIBRARIES` (and of GEOS and PROJ), one line each (~6 ms: once
    per process)."""
    import importlib.metadata

    import pyproj
    import shapely

    lines = [f"{name}={importlib.metadata.version(name)}" for name in LIBRARIES]
    lines += [f"GEOS={shapely.geos_version_string}", f"PROJ={pyproj.proj_version_str}"]
    return "\n".join(lines)


def fingerprint(inputs: Iterable[Path], *, code: tuple[str, ...], extra: str = "") -> str:
    """The key of an output made from ``inputs`` by the project's code under ``code``."""
    digest = hashlib.sha256()
    digest.update(code_fingerprint(*code).encode())
    digest.update(extra.encode())
    _digest_files(digest, inputs, None)
    return digest.hexdigest()


def inputs(config: Config) -> list[Path]:
    """The files a build reads: config, texts, data (with a Shapefile's sidecar files)."""
    sources = [config.communes.source, *(item.source for item in config.legend)]
    paths = [config.config_path, config.explanatory_text]
    if config.legend_path:
        paths.append(config.legend_path)
    for source in sources:
        paths += source_files(source.path)
    return paths


def tiles_key(config: Config) -> str:
    """Tiles depend on the data, the config and legend, and the code; not on the texts."""
    return fingerprint([p for p in inputs(config) if p != config.explanatory_text], code=TILES_CODE)


def site_key(config: Config, *, pdf: bool) -> str:
    """The whole site depends on every input, the code, the theme, the build date and whether
    it carries the PDF sheets."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    extra = f"SOURCE_DATE_EPOCH={epoch};pdf={pdf};theme={config.theme}"
    return fingerprint(inputs(config), code=SITE_CODE, extra=extra)


def read_key(folder: Path) -> str | None:
    try:
        return (folder / KEY_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def write_key(folder: Path, key: str) -> None:
    (folder / KEY_FILE).write_text(key + "\n", encoding="ascii")


def site_is_current(output: Path, key: str) -> bool:
    """True if ``output`` was built with ``key`` and every file its manifest lists is there."""
    try:
        published = parse_json((output / "manifest.json").read_bytes())
    except (OSError, ValueError):
        return False
    return published.get("build_key") == key and all(
        (output / name).is_file() for name in published.get("files", {})
    )
