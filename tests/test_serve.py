"""The static server: Range requests, content types, directories and the 404 page."""

from __future__ import annotations

import gzip
import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from trame.serve import make_server

BLOB = bytes(range(256)) * 40  # 10 240 bytes, every offset distinguishable


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    site = tmp_path_factory.mktemp("site")
    (site / "tiles" / "0" / "0").mkdir(parents=True)
    (site / "tiles" / "0" / "0" / "0.pbf").write_bytes(b"\x1a\x02ab")
    (site / "tiles" / "demo.pmtiles").write_bytes(BLOB)
    (site / "tiles" / "empty.pmtiles").write_bytes(b"")
    (site / "communes" / "59606-valenciennes").mkdir(parents=True)
    (site / "communes" / "59606-valenciennes" / "index.html").write_text(
        "<h1>Valenciennes</h1>", encoding="utf-8"
    )
    (site / "index.html").write_text("<h1>Accueil</h1>", encoding="utf-8")
    (site / "404.html").write_text("<h1>Page introuvable</h1>", encoding="utf-8")
    for name, text in {
        "api/style.json": "{}",
        "api/communes.geojson": "{}",
        "assets/carte.mjs": "export {};",
        "assets/vendor.js": ";",
        "assets/trame.css": "body{}",
        "assets/symbole.svg": "<svg/>",
    }.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text, encoding="utf-8")
    httpd = make_server(site, "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


def get(
    server: tuple[str, int], path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(*server, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_whole_file_advertises_ranges(server: tuple[str, int]) -> None:
    status, headers, body = get(server, "/tiles/demo.pmtiles")
    assert status == 200
    assert body == BLOB
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-length"] == str(len(BLOB))


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [
        ("0-126", 0, 126),
        ("1000-1999", 1000, 1999),
        ("10000-", 10000, 10239),
        ("-100", 10140, 10239),
        ("10200-99999", 10200, 10239),
        ("-99999", 0, 10239),
    ],
)
def test_range_gives_206_and_exact_bytes(
    server: tuple[str, int], spec: str, start: int, end: int
) -> None:
    status, headers, body = get(server, "/tiles/demo.pmtiles", {"Range": f"bytes={spec}"})
    assert status == 206
    assert body == BLOB[start : end + 1]
    assert headers["content-range"] == f"bytes {start}-{end}/{len(BLOB)}"
    assert headers["content-length"] == str(end - start + 1)
    assert headers["content-type"] == "application/octet-stream"
    assert "content-encoding" not in headers


@pytest.mark.parametrize(
    ("path", "spec"),
    [
        ("/tiles/demo.pmtiles", "10240-"),
        ("/tiles/demo.pmtiles", "-0"),
        ("/tiles/empty.pmtiles", "0-10"),
    ],
)
def test_unsatisfiable_range_gives_416(server: tuple[str, int], path: str, spec: str) -> None:
    status, headers, body = get(server, path, {"Range": f"bytes={spec}"})
    assert status == 416
    assert headers["content-range"].startswith("bytes */")
    assert body == b""


@pytest.mark.parametrize("spec", ["bytes=20-10", "bytes=0-1,5-6", "items=0-1"])
def test_invalid_or_multiple_ranges_give_whole_file(server: tuple[str, int], spec: str) -> None:
    status, _, body = get(server, "/tiles/demo.pmtiles", {"Range": spec})
    assert status == 200
    assert body == BLOB


def test_head_sends_no_body(server: tuple[str, int]) -> None:
    status, headers, body = get(server, "/tiles/demo.pmtiles", method="HEAD")
    assert (status, body) == (200, b"")
    assert headers["content-length"] == str(len(BLOB))


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/tiles/0/0/0.pbf", "application/x-protobuf"),
        ("/tiles/demo.pmtiles", "application/octet-stream"),
        ("/assets/carte.mjs", "text/javascript; charset=utf-8"),
        ("/assets/vendor.js", "text/javascript; charset=utf-8"),
        ("/api/style.json", "application/json; charset=utf-8"),
        ("/api/communes.geojson", "application/geo+json; charset=utf-8"),
        ("/assets/symbole.svg", "image/svg+xml; charset=utf-8"),
        ("/assets/trame.css", "text/css; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ],
)
def test_content_types(server: tuple[str, int], path: str, ctype: str) -> None:
    status, headers, _ = get(server, path)
    assert status == 200
    assert headers["content-type"] == ctype
    assert "content-encoding" not in headers


def test_pbf_bytes_untouched(server: tuple[str, int]) -> None:
    assert get(server, "/tiles/0/0/0.pbf")[2] == b"\x1a\x02ab"


def test_directory_serves_index_and_redirects_without_slash(server: tuple[str, int]) -> None:
    status, _, body = get(server, "/communes/59606-valenciennes/")
    assert (status, body) == (200, b"<h1>Valenciennes</h1>")
    status, headers, _ = get(server, "/communes/59606-valenciennes?x=1")
    assert status == 301
    assert headers["location"] == "/communes/59606-valenciennes/?x=1"


@pytest.mark.parametrize("path", ["/absent/", "/tiles/9/9/9.pbf", "/communes/", "/../etc/passwd"])
def test_missing_gives_site_404_page(server: tuple[str, int], path: str) -> None:
    status, headers, body = get(server, path)
    assert status == 404
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == b"<h1>Page introuvable</h1>"


def test_make_server_refuses_missing_site(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="construisez-le d.abord"):
        make_server(tmp_path / "site", port=0)


@pytest.mark.parametrize(
    "path",
    ["/", "/assets/trame.css", "/assets/carte.mjs", "/api/style.json", "/assets/symbole.svg"],
)
def test_text_is_gzipped_when_the_browser_asks(server: tuple[str, int], path: str) -> None:
    """As hosts do: a page's weight in the benchmarks is what a visitor receives."""
    _, _, plain = get(server, path)
    status, headers, body = get(server, path, {"Accept-Encoding": "gzip, deflate, br"})
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert headers["vary"] == "Accept-Encoding" and int(headers["content-length"]) == len(body)
    assert gzip.decompress(body) == plain
    for refused in ("br", "gzip;q=0", "identity"):
        _, headers, again = get(server, path, {"Accept-Encoding": refused})
        assert "content-encoding" not in headers and again == plain


@pytest.mark.parametrize("path", ["/tiles/demo.pmtiles", "/tiles/0/0/0.pbf"])
def test_tiles_and_ranges_are_never_compressed(server: tuple[str, int], path: str) -> None:
    status, headers, body = get(server, path, {"Accept-Encoding": "gzip"})
    assert status == 200 and "content-encoding" not in headers
    status, headers, body = get(server, "/index.html", {"Accept-Encoding": "gzip",
                                                        "Range": "bytes=0-3"})  # fmt: skip
    assert status == 206 and "content-encoding" not in headers and body == b"<h1>"


def test_compress_false_sends_files_as_they_are(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>Accueil</h1>", encoding="utf-8")
    httpd = make_server(tmp_path, "127.0.0.1", 0, quiet=True, compress=False)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        _, headers, body = get(("127.0.0.1", httpd.server_address[1]), "/", {"Accept-Encoding": "gzip"})  # fmt: skip
        assert "content-encoding" not in headers and body == b"<h1>Accueil</h1>"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_changed_file_is_sent_changed(tmp_path: Path) -> None:
    """Each answer is made from the file as it is now (``trame serve --watch`` rewrites pages)."""
    page = tmp_path / "index.html"
    page.write_text("<h1>Avant</h1>", encoding="utf-8")
    httpd = make_server(tmp_path, "127.0.0.1", 0, quiet=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    address = ("127.0.0.1", httpd.server_address[1])
    try:
        assert (
            gzip.decompress(get(address, "/", {"Accept-Encoding": "gzip"})[2]) == b"<h1>Avant</h1>"
        )
        page.write_text("<h1>Apr\u00e8s</h1>", encoding="utf-8")
        after = gzip.decompress(get(address, "/", {"Accept-Encoding": "gzip"})[2])
        assert after.decode("utf-8") == "<h1>Apr\u00e8s</h1>"
    finally:
        httpd.shutdown()
        httpd.server_close()
