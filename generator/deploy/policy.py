"""What a host must send with each published file: its Content-Type and its Cache-Control.

One place for the policy, so that the S3 upload, the nginx snippet in the README (its test compares
nginx's answers with these functions) and `check-deploy` agree. The types are the local server's
(`trame.mediatypes.TYPES`), so a site behaves the same under `make serve` and once deployed.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import PurePosixPath

from ..mediatypes import TEXT_TYPES, TYPES

# `sitemap.xml.gz` is a gzip file, to be served as such: guessing from `.xml` would give
# `application/xml` and tempt a host into adding `Content-Encoding: gzip`.
EXTRA_TYPES: dict[str, str] = {".gz": "application/gzip"}

# Content types a browser (MapLibre) accepts for a vector tile, as `check-deploy` sees them.
VECTOR_TILE_TYPES = frozenset(
    {"application/vnd.mapbox-vector-tile", "application/x-protobuf", "application/protobuf"}
)
JAVASCRIPT_TYPES = frozenset(
    {"text/javascript", "application/javascript", "application/x-javascript", "text/ecmascript"}
)

# Cache-Control values. Tile and asset URLs do not change between builds (no content hash in
# their names), so they are cached for a while but never `immutable`: a new deploy reaches every
# browser within a day (tiles) or an hour (assets). Pages, the JSON API and the manifest change
# with every build and say what the rest means: five minutes.
IMMUTABLE = "public, max-age=31536000, immutable"
TILES = "public, max-age=86400"
ASSETS = "public, max-age=3600"
SHORT = "public, max-age=300"

# A file whose name carries a content hash (`carte.3f9a1c2b.mjs`, `app-5d41402abc.css`) never
# changes under that name: it can be cached for a year. So does every file of the build's
# static files folder, `assets/<hash of them all>/` (generator.theme.asset_folder).
HASHED_NAME = re.compile(r"[.-][0-9a-f]{8,}\.[a-z0-9]+$")
HASHED_ASSETS = re.compile(r"^assets/[0-9a-f]{12}/")


def content_type(path: str) -> str:
    """The Content-Type for a site-relative path, with `charset=utf-8` on text types."""
    suffix = PurePosixPath(path).suffix.lower()
    ctype = EXTRA_TYPES.get(suffix) or TYPES.get(suffix)
    if ctype is None:
        guessed, encoding = mimetypes.guess_type(path, strict=False)
        ctype = guessed if guessed and encoding is None else "application/octet-stream"
    if ctype.startswith("text/") or ctype in TEXT_TYPES:
        ctype += "; charset=utf-8"
    return ctype


# A published release (`versions/<id>/…`) never changes: every file under it is immutable.
RELEASE_PATH = re.compile(r"^versions/[^/]+/")


def cache_control(path: str) -> str:
    """The Cache-Control for a site-relative path (see the constants above for the reasons)."""
    name = PurePosixPath(path).name
    if HASHED_NAME.search(name) or HASHED_ASSETS.match(path) or RELEASE_PATH.match(path):
        return IMMUTABLE
    if path.startswith("tiles/"):
        return TILES
    if path.startswith("assets/"):
        return ASSETS
    return SHORT


def is_page(path: str) -> bool:
    """HTML pages go up last: they are what points at everything else."""
    return path.endswith(".html")


def media_type(header: str | None) -> str:
    """`text/html; charset=utf-8` -> `text/html` (lower case), `""` when absent."""
    return (header or "").split(";", 1)[0].strip().lower()
