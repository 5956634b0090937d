"""A small static server for the built site, with HTTP Range (needed by .pmtiles) and exact types.

`python -m http.server` answers Range requests with the whole file and guesses some types wrong;
this one answers single ranges with 206, serves `index.html` for directories and the site's own
`404.html` (status 404) for missing files. Text (pages, CSS, JavaScript, JSON, SVG) is sent
gzipped to a browser that asks for it, as static hosts do (and the README's nginx snippet):
a page's weight is then what a visitor receives (Hauts-de-France's territory map, `carte.svg`:
591 KB, 159 KB gzipped). Never a Range answer, a tile or a `.pmtiles` archive: their bytes go
as they are.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import os
import re
import sys
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

from .mediatypes import TEXT_TYPES, TYPES

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 64 * 1024


def compressible(ctype: str) -> bool:
    """Text, JSON and SVG: what hosts compress (not tiles, archives, images or zip files)."""
    ctype = ctype.partition(";")[0]
    return ctype.startswith("text/") or ctype in TEXT_TYPES


def accepts_gzip(header: str) -> bool:
    """``gzip`` in an Accept-Encoding header, with a quality other than 0."""
    for coding in header.lower().split(","):
        name, _, params = coding.partition(";")
        quality = params.strip().removeprefix("q=").strip() if params else "1"
        if name.strip() == "gzip":
            try:
                return float(quality) > 0
            except ValueError:
                return False
    return False


class SiteHandler(SimpleHTTPRequestHandler):
    """Serves one directory; see the module docstring."""

    quiet = False
    compress = True
    """Gzip text for browsers that ask (False: every file as it is, like a host that does not)."""
    _length = 0

    def guess_type(self, path: str | os.PathLike[str]) -> str:
        ctype = TYPES.get(Path(path).suffix.lower()) or super().guess_type(path)
        if ctype.startswith("text/") or ctype in TEXT_TYPES:
            ctype += "; charset=utf-8"
        return ctype

    def send_head(self) -> BinaryIO | None:  # type: ignore[override]
        parts = urlsplit(self.path)
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not parts.path.endswith("/"):
                self.send_response(HTTPStatus.MOVED_PERMANENTLY)
                self.send_header("Location", urlunsplit(parts._replace(path=parts.path + "/")))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            path = path / "index.html"
        if not path.is_file():
            return self._not_found()
        header = self.headers.get("Range")
        ctype = self.guess_type(path)
        accepts = accepts_gzip(self.headers.get("Accept-Encoding", ""))
        if self.compress and not header and accepts and compressible(ctype):
            return self._gzipped(path, ctype)
        f = path.open("rb")
        size = os.fstat(f.fileno()).st_size
        start, end = 0, size - 1
        status = HTTPStatus.OK
        match = RANGE.match(header.strip()) if header else None
        first, last = match.groups() if match else ("", "")
        if first and last and int(last) < int(first):
            first = last = ""  # an invalid range is ignored (RFC 9110 14.2)
        if first or last:  # one range; several ranges get the whole file
            if first:
                start, end = int(first), min(int(last), size - 1) if last else size - 1
            else:  # suffix range: the last N bytes
                start = max(size - int(last), 0)
            if start >= size or start > end:
                f.close()
                self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            status = HTTPStatus.PARTIAL_CONTENT
        f.seek(start)
        self._length = end - start + 1
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(self._length))
        self.send_header("Accept-Ranges", "bytes")
        if compressible(ctype):
            self.send_header("Vary", "Accept-Encoding")
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Last-Modified", self.date_time_string(int(os.fstat(f.fileno()).st_mtime)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        return f  # type: ignore[return-value]

    def _gzipped(self, path: Path, ctype: str) -> BinaryIO:
        # Compressed at each request: Hauts-de-France's 591 KB territory map (before 18611c0)
        # took 52 ms on the tenth session's machine; a cache would be one more thing to keep
        # in step with the files, for a local server.
        stat = path.stat()
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self._length = len(body)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(stat.st_mtime)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        return io.BytesIO(body)

    def _not_found(self) -> BinaryIO:
        page = Path(self.directory) / "404.html"
        body = page.read_bytes() if page.is_file() else b"<!DOCTYPE html><title>404</title>"
        self._length = len(body)
        self.send_response(HTTPStatus.NOT_FOUND)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def copyfile(self, source: Any, outputfile: Any) -> None:
        remaining = self._length
        while remaining > 0:
            chunk = source.read(min(CHUNK, remaining))
            if not chunk:
                break
            outputfile.write(chunk)
            remaining -= len(chunk)

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # browsers drop connections
            super().handle_error(request, client_address)


def make_server(
    site_dir: Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False,
    compress: bool = True,
) -> ThreadingHTTPServer:  # fmt: skip
    """A server for `site_dir`, not started; port 0 picks a free port (see `server_address`).
    ``compress``: :attr:`SiteHandler.compress`."""
    if not Path(site_dir).is_dir():
        raise FileNotFoundError(f"{site_dir} : aucun site à servir ici ; construisez-le d'abord")
    handler = type("Handler", (SiteHandler,), {"quiet": quiet, "compress": compress})
    return SiteServer((host, port), functools.partial(handler, directory=str(site_dir)))


def serve(site_dir: Path, host: str = "127.0.0.1", port: int = 8000, quiet: bool = False) -> None:
    """Serve `site_dir` until Ctrl-C."""
    with make_server(site_dir, host, port, quiet) as server:
        print(f"Site servi sur http://{host}:{server.server_address[1]}/ (Ctrl-C pour arrêter)")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
