"""The media type of each published file, by extension: one table for the local server, the
S3 upload and the deploy checks, so a site behaves the same under `make serve` and once deployed.
"""

from __future__ import annotations

TYPES: dict[str, str] = {
    ".html": "text/html",
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".json": "application/json",
    ".map": "application/json",
    ".geojson": "application/geo+json",
    ".svg": "image/svg+xml",
    ".pbf": "application/x-protobuf",
    ".mvt": "application/vnd.mapbox-vector-tile",
    ".pmtiles": "application/octet-stream",
    ".gpkg": "application/geopackage+sqlite3",
    ".zip": "application/zip",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".xml": "application/xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webmanifest": "application/manifest+json",
}
TEXT_TYPES = {"application/json", "application/geo+json", "application/xml", "image/svg+xml"}
