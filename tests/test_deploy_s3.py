"""S3 deploys against an S3-compatible server (moto's server mode) on 127.0.0.1.

Asserts the object keys, Content-Type and Cache-Control of what a visitor would download, the
order (pages after what they point at, the manifest last, deletions after every upload), the
skipping of unchanged files, and that every failure leaves the bucket as it was.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trame.cli import main
from trame.deploy.policy import IMMUTABLE, cache_control, content_type
from trame.deploy.s3 import deploy_s3, make_client, settings
from trame.errors import UserError

SECRET = "trame-test-secret-never-printed"


def rehash(folder: Path) -> None:
    """Rewrite the manifest after editing files, as a build would have written it."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    manifest["files"] = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in sorted(names)
        if name != "manifest.json"
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture(scope="module")
def sites(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A: the demo plus an .svg and a .geojson; B: pages changed, the .svg gone."""
    root = tmp_path_factory.mktemp("s3sites")
    a = shutil.copytree(demo_site, root / "a")
    (a / "assets" / "symbole.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (a / "api" / "communes.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    rehash(a)
    b = shutil.copytree(a, root / "b")
    (b / "assets" / "symbole.svg").unlink()
    for page in b.rglob("*.html"):
        page.write_text(page.read_text(encoding="utf-8") + "<!-- B -->\n", encoding="utf-8")
    rehash(b)
    return a, b


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Test credentials in the environment only; no ~/.aws, no instance metadata lookups."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "TRAME_S3_ENDPOINT",
                 "TRAME_S3_BUCKET", "TRAME_S3_PREFIX"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))


def new_bucket(endpoint: str, name: str) -> Any:
    client = make_client(settings(name, "", endpoint))
    client.create_bucket(Bucket=name)
    return client


def keys(client: Any, bucket: str) -> dict[str, str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", [])}


def recorder(client: Any) -> list[tuple[str, str]]:
    """The S3 calls the client makes, in order: (operation, key)."""
    calls: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append((model.name, params.get("Key", "")))

    client.meta.events.register("before-parameter-build.s3.PutObject", record)
    client.meta.events.register("before-parameter-build.s3.DeleteObjects", record)
    return calls


def test_keys_types_cache_and_order(
    aws: None, endpoint: str, sites: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    site_a, site_b = sites
    client = new_bucket(endpoint, "tvb")
    client.put_object(Bucket="tvb", Key="elsewhere/keep.txt", Body=b"not the site's")
    client.put_object(Bucket="tvb", Key="carte/old/stale.html", Body=b"an old page")
    calls = recorder(client)

    report = deploy_s3(site_a, "tvb", "/carte/", endpoint, client=client)
    files = json.loads((site_a / "manifest.json").read_text())["files"]
    expected = {f"carte/{name}" for name in [*files, "manifest.json"]}
    assert set(keys(client, "tvb")) == expected | {"elsewhere/keep.txt"}
    assert report.deleted == ["carte/old/stale.html"] and not report.skipped

    puts = [key.removeprefix("carte/") for op, key in calls if op == "PutObject"]
    first_page = min(i for i, k in enumerate(puts) if k.endswith(".html"))
    assert all(not k.endswith(".html") for k in puts[:first_page])
    assert all(k.endswith(".html") for k in puts[first_page:-1]) and puts[-1] == "manifest.json"
    assert calls[-1] == ("DeleteObjects", "") and len(puts) == len(calls) - 1

    (assets,) = [f"assets/{p.name}" for p in (site_a / "assets").iterdir() if p.is_dir()]
    wanted = {
        "tiles/0/0/0.pbf": ("application/x-protobuf", "public, max-age=86400"),
        "tiles/demo.pmtiles": ("application/octet-stream", "public, max-age=86400"),
        "api/communes.json": ("application/json; charset=utf-8", "public, max-age=300"),
        "api/communes.geojson": ("application/geo+json; charset=utf-8", "public, max-age=300"),
        "assets/symbole.svg": ("image/svg+xml; charset=utf-8", "public, max-age=3600"),
        f"{assets}/trame/carte.mjs": ("text/javascript; charset=utf-8", IMMUTABLE),
        f"{assets}/trame/trame.css": ("text/css; charset=utf-8", IMMUTABLE),
        "index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "communes/00001-haute-fresnoye/index.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "404.html": ("text/html; charset=utf-8", "public, max-age=300"),
        "sitemap.xml.gz": ("application/gzip", "public, max-age=300"),
    }  # fmt: skip
    for name, (ctype, cache) in wanted.items():
        head = client.head_object(Bucket="tvb", Key=f"carte/{name}")
        assert (head["ContentType"], head["CacheControl"]) == (ctype, cache), name
        assert (content_type(name), cache_control(name)) == (ctype, cache), name
        assert head["Metadata"]["sha256"] == files[name]
        assert "ContentEncoding" not in head, name
    body = client.get_object(Bucket="tvb", Key="carte/tiles/demo.pmtiles", Range="bytes=0-6")
    assert body["Body"].read() == b"PMTiles"

    # B: only what changed goes up; what B no longer has goes away; the rest of the bucket stays
    calls.clear()
    report = deploy_s3(site_b, "tvb", "carte", endpoint, client=client)
    changed = {n for n in files if n.endswith(".html")} | {"manifest.json"}
    assert set(report.uploaded) == changed
    assert report.deleted == ["carte/assets/symbole.svg"]
    assert "carte/assets/symbole.svg" not in keys(client, "tvb")
    assert "elsewhere/keep.txt" in keys(client, "tvb")
    page = client.get_object(Bucket="tvb", Key="carte/index.html")["Body"].read()
    assert page == (site_b / "index.html").read_bytes()
    assert SECRET not in capsys.readouterr().out


def test_cli_reads_the_environment(
    aws: None, endpoint: str, sites: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = new_bucket(endpoint, "from-env")
    monkeypatch.setenv("TRAME_S3_BUCKET", "from-env")
    monkeypatch.setenv("TRAME_S3_PREFIX", "tvb")
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    assert main(["deploy", "--site", str(sites[0])]) == 0
    assert "tvb/index.html" in keys(client, "from-env")


def test_failures_leave_the_bucket_alone(
    aws: None, endpoint: str, sites: tuple[Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    client = new_bucket(endpoint, "live")
    deploy_s3(sites[0], "live", "", endpoint, client=client, log=lambda _: None)
    before = keys(client, "live")
    site_b = str(sites[1])

    def fails(argv: list[str], message: str) -> None:
        assert main(["deploy", "--site", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and SECRET not in err and "Traceback" not in err
        assert keys(client, "live") == before

    fails([str(tmp_path / "nothing"), "--s3-bucket", "live", "--s3-endpoint", endpoint],
          "lancez d'abord `make build`")  # fmt: skip
    fails([site_b, "--s3-bucket", "missing", "--s3-endpoint", endpoint], "le bucket n'existe pas")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    started = time.monotonic()
    fails([site_b, "--s3-bucket", "live", "--s3-endpoint", f"http://127.0.0.1:{closed}"],
          "impossible de joindre le bucket")  # fmt: skip
    assert time.monotonic() - started < 20
    # no credentials at all (moto accepts any key, so a wrong one cannot be shown here)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    fails([site_b, "--s3-bucket", "live", "--s3-endpoint", endpoint], "aucun identifiant trouvé")
    with pytest.raises(UserError, match="aucun bucket indiqué"):
        settings(None, None, endpoint)


def test_a_published_release_is_never_deleted(
    endpoint: str, aws: None, sites: tuple[Path, Path], tmp_path: Path
) -> None:
    """A build whose history lost a release does not take it off the bucket (generator/releases)."""
    client = new_bucket(endpoint, "releases")
    deploy_s3(sites[0], "releases", "", endpoint, client=client, log=lambda _: None)
    released = {k for k in keys(client, "releases") if k.startswith("versions/2016-09-30/")}
    assert released
    without = shutil.copytree(sites[0], tmp_path / "without")
    shutil.rmtree(without / "versions" / "2016-09-30")
    (without / "assets" / "symbole.svg").unlink()
    rehash(without)
    report = deploy_s3(without, "releases", "", endpoint, client=client, log=lambda _: None)
    assert report.deleted == ["assets/symbole.svg"]  # stale files still go
    assert released <= set(keys(client, "releases"))
