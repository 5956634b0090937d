"""`check-deploy` against good and bad hosts, all on 127.0.0.1: every failure is named."""

from __future__ import annotations

import functools
import gzip
import io
import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from trame.cli import main
from trame.deploy.check import Finding, check_site, report
from trame.serve import SiteHandler, SiteServer, make_server


class Quiet(SimpleHTTPRequestHandler):
    """Python's own static server: no HTTP Range, its own 404 page."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class AddsEncoding(SiteHandler):
    """Answers ranges right but labels .pmtiles `Content-Encoding: gzip` (as some CDNs do)."""

    quiet = True

    def send_header(self, keyword: str, value: str) -> None:
        super().send_header(keyword, value)
        if keyword == "Content-Type" and self.path.endswith(".pmtiles"):
            super().send_header("Content-Encoding", "gzip")


class Compresses(SiteHandler):
    """Gzips .pmtiles whole whatever the Range asked (nginx with `gzip_types *`, say)."""

    quiet = True

    def send_head(self) -> Any:
        if not self.path.endswith(".pmtiles"):
            return super().send_head()
        body = gzip.compress(Path(self.translate_path(self.path)).read_bytes())
        self._length = len(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


class Misconfigured(SiteHandler):
    """Generic types for .mjs and .pbf, pre-gzipped tiles without the header, no 404 at all."""

    quiet = True

    def guess_type(self, path: Any) -> str:
        if str(path).endswith((".mjs", ".pbf")):
            return "application/octet-stream"
        return super().guess_type(path)

    def send_head(self) -> Any:
        if self.path.endswith(".pbf"):
            body = gzip.compress(Path(self.translate_path(self.path)).read_bytes())
            self._length = len(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        if not Path(self.translate_path(self.path)).exists():
            self.path = "/"  # a single-page-app host: every missing path gets the home page
        return super().send_head()


class Slow(SiteHandler):
    """The archive never comes (an overloaded host, a proxy that buffers ranges)."""

    quiet = True

    def send_head(self) -> Any:
        if self.path.endswith(".pmtiles"):
            time.sleep(2)
        return super().send_head()


@pytest.fixture(scope="module")
def serve(demo_site: Path) -> Iterator[Callable[[type | None], str]]:
    """Start a server on a free port for the demo site with a given handler; its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(handler: type | None) -> str:
        if handler is None:
            httpd = make_server(demo_site, "127.0.0.1", 0, quiet=True)
        else:
            factory = functools.partial(handler, directory=str(demo_site))
            httpd = SiteServer(("127.0.0.1", 0), factory)  # quiet about dropped connections
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}/"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def failed(findings: list[Finding]) -> dict[str, str]:
    return {f.name: f.sentence for f in findings if not f.ok}


def test_the_projects_server_passes(
    serve: Callable[[type | None], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve(None)
    findings = check_site(url)
    assert failed(findings) == {}
    names = {f.name for f in findings}
    assert names >= {"page d'accueil", "page de commune", "API JSON", "tuile", "archive PMTiles",
                     "script de la carte", "feuille de style", "page 404"}  # fmt: skip
    assert main(["check-deploy", "--url", url.rstrip("/")]) == 0
    out = capsys.readouterr().out
    assert "répond à une requête Range par 206, sans Content-Encoding" in out
    assert out.strip().endswith("un navigateur reçoit le site tel qu'il a été construit.")


def test_no_range_support_is_named(
    serve: Callable[[type | None], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = serve(Quiet)
    problems = failed(check_site(url))
    assert "ne gère pas les requêtes HTTP Range" in problems["archive PMTiles"]
    assert main(["check-deploy", "--url", url]) == 1
    out = capsys.readouterr().out
    assert "ÉCHEC  Archive PMTiles" in out and " en échec : " in out
    assert "archive PMTiles" in out.strip().splitlines()[-1]


@pytest.mark.parametrize("handler", [AddsEncoding, Compresses])
def test_content_encoding_on_pmtiles_is_named(
    serve: Callable[[type | None], str], handler: type
) -> None:
    problems = failed(check_site(serve(handler)))
    assert "Content-Encoding: gzip" in problems.pop("archive PMTiles")
    assert problems == {}


def test_other_host_mistakes_are_named(serve: Callable[[type | None], str]) -> None:
    problems = failed(check_site(serve(Misconfigured)))
    assert set(problems) == {"tuile", "script de la carte", "page 404"}
    assert "données gzip sans en-tête Content-Encoding" in problems["tuile"]
    assert "application/octet-stream" in problems["tuile"]
    assert "refusent d'exécuter un script module" in problems["script de la carte"]
    assert "répond 200" in problems["page 404"]


def test_a_request_that_times_out_is_that_checks_failure(
    serve: Callable[[type | None], str],
) -> None:
    problems = failed(check_site(serve(Slow), timeout=0.5))
    assert problems == {"archive PMTiles": problems["archive PMTiles"]}
    assert "est injoignable (timed out)" in problems["archive PMTiles"]


def test_unreachable_site_and_bad_url(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    findings = check_site(f"http://127.0.0.1:{port}/", timeout=2)
    assert [f.name for f in findings] == ["site"] and "est injoignable" in findings[0].sentence
    text, passed = report(findings)
    assert not passed and text.endswith("1 vérification(s) sur 1 en échec : site.")
    assert main(["check-deploy", "--url", "tvb.example.org"]) == 2
    assert "n'est pas une adresse de site" in capsys.readouterr().err
    assert main(["check-deploy"]) == 2
    assert "URL=" in capsys.readouterr().err
