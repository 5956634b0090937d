"""rsync deploys: to a folder served by a real nginx (README's snippet), and over a real sshd.

Both servers are Debian's binaries, started here on 127.0.0.1 with their own config in a
temporary folder, and stopped at the end. The tests skip, saying why, when a binary is missing.
"""

from __future__ import annotations

import filecmp
import functools
import getpass
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from trame.cli import main
from trame.deploy.check import check_site
from trame.deploy.policy import cache_control, content_type
from trame.deploy.rsync import (
    State,
    Target,
    deploy_rsync,
    parse_state,
    parse_target,
    rollback_rsync,
    state_script,
    switch_script,
    to_prune,
)
from trame.errors import UserError

README = Path(__file__).resolve().parent.parent / "README.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
MIME_TYPES = Path("/etc/nginx/mime.types")


def need(*binaries: str) -> None:
    for binary in binaries:
        if not (shutil.which(binary) or Path(binary).is_file()):
            pytest.skip(
                f"{binary} not installed (Debian: apt-get install nginx openssh-server rsync)"
            )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited: {log.read_text(errors='replace') if log.exists() else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port} after 10 s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def variant(site: Path, folder: Path, marker: str) -> Path:
    """A copy of ``site`` whose pages differ (a comment), with a manifest that matches."""
    shutil.copytree(site, folder)
    for page in folder.rglob("index.html"):
        page.write_text(page.read_text(encoding="utf-8") + f"<!-- {marker} -->\n", encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in manifest["files"]
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def readme_nginx_snippet() -> str:
    match = re.search(r"```nginx\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert match, "README.md has no nginx snippet"
    return match.group(1)


@pytest.fixture(scope="module")
def sites(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("variants")
    return variant(demo_site, root / "a", "build A"), variant(demo_site, root / "b", "build B")


@pytest.fixture(scope="module")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """Debian's nginx serving ``<www>/current`` with the README's server block; (port, www)."""
    need(NGINX, "rsync")
    if not MIME_TYPES.is_file():
        pytest.skip(f"{MIME_TYPES} missing (Debian package nginx-common)")
    tmp = tmp_path_factory.mktemp("nginx")
    www, port = tmp / "www", free_port()
    www.mkdir()
    server = readme_nginx_snippet()
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};")
    server = server.replace("root /var/www/tvb/current;", f"root {www}/current;")
    assert str(port) in server and str(www) in server
    temp = "\n".join(
        f"    {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )  # fmt: skip
    user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"""{user}
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log off;
{temp}
    # A host that compresses everything: the snippet must keep .pmtiles as they are.
    gzip on;
    gzip_types *;
{server}
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, process, tmp / "error.log")
        yield port, www
    finally:
        stop(process)


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def live_release(www: Path) -> str:
    return os.readlink(www / "current").removeprefix("releases/")


def test_deploy_switch_rollback_behind_nginx(nginx: tuple[int, Path], sites: tuple[Path, Path]) -> None:  # fmt: skip
    """Deploys A, then B, A, B while a client keeps asking: every answer is a whole build."""
    port, www = nginx
    site_a, site_b = sites
    homes = {(site_a / "index.html").read_bytes(): "A", (site_b / "index.html").read_bytes(): "B"}
    first = deploy_rsync(site_a, str(www), keep=3, log=lambda _: None)
    assert get(port, "/")[2] == (site_a / "index.html").read_bytes()

    (assets,) = [p.name for p in (site_a / "assets").iterdir()]
    paths = ["/", "/communes/00001-haute-fresnoye/", "/communes/", "/api/communes.json",
             "/tiles/0/0/0.pbf", f"/assets/{assets}/trame/carte.mjs"]  # fmt: skip
    seen: dict[str, int] = {}
    failures: list[str] = []
    done = threading.Event()

    def visitor() -> None:  # bounded in count and time
        deadline = time.monotonic() + 30
        for n in range(20_000):
            if done.is_set() or time.monotonic() > deadline:
                return
            path = paths[n % len(paths)]
            status, _, body = get(port, path)
            if status != 200:
                failures.append(f"{path}: {status}")
            if path == "/":
                build = homes.get(body, "a mix")
                seen[build] = seen.get(build, 0) + 1

    thread = threading.Thread(target=visitor)
    thread.start()
    try:
        releases = [deploy_rsync(site, str(www), keep=3, log=lambda _: None)
                    for site in (site_b, site_a, site_b)]  # fmt: skip
    finally:
        done.set()
        thread.join(timeout=35)
    assert not failures, failures[:5]
    assert set(seen) <= {"A", "B"} and seen.get("B"), seen
    assert sum(seen.values()) >= 10, f"too few requests during the deploys: {seen}"

    # keep=3: the first release is gone, the live one is the last; unchanged files are hard links
    kept = sorted(p.name for p in (www / "releases").iterdir())
    assert kept == releases and first not in kept and live_release(www) == releases[-1]
    tile = "tiles/0/0/0.pbf"
    assert len({(www / "releases" / r / tile).stat().st_ino for r in kept}) == 1

    assert rollback_rsync(str(www), log=lambda _: None) == releases[1]
    assert get(port, "/")[2] == (site_a / "index.html").read_bytes()
    assert main(["rollback", "--target", str(www)]) == 0
    assert live_release(www) == releases[0]
    assert get(port, "/")[2] == (site_b / "index.html").read_bytes()
    assert main(["rollback", "--target", str(www)]) == 2  # the oldest kept: nothing before it
    assert live_release(www) == releases[0]


def test_nginx_snippet_serves_the_policy_and_check_deploy_passes(
    nginx: tuple[int, Path], sites: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    port, www = nginx
    if not (www / "current").exists():
        deploy_rsync(sites[0], str(www), log=lambda _: None)
    findings = check_site(f"http://127.0.0.1:{port}/")
    assert [f.sentence for f in findings if not f.ok] == []
    assert {f.name for f in findings} >= {
        "page d'accueil", "tuile", "archive PMTiles", "page 404", "page de commune d'une version"
    }  # fmt: skip
    assert not any(f.note and f.name == "page de commune d'une version" for f in findings)
    assert not any(f.note and f.name == "tuile" for f in findings), "tiles should carry CORS"
    assert main(["check-deploy", "--url", f"http://127.0.0.1:{port}/"]) == 0
    assert "vérifications sont passées" in capsys.readouterr().out

    (assets,) = [f"assets/{p.name}" for p in (sites[0] / "assets").iterdir()]
    for path in ["index.html", "communes/00001-haute-fresnoye/index.html", "api/communes.json",
                 "tiles/0/0/0.pbf", "tiles/demo.pmtiles", f"{assets}/trame/carte.mjs",
                 f"{assets}/trame/trame.css", "versions/index.html", "api/versions.json",
                 "versions/2016-09-30/communes/00001-haute-fresnoye/index.html",
                 "versions/2016-09-30/tiles/0/0/0.pbf", "versions/2016-09-30/api/communes.json",
                 "communes/00001-haute-fresnoye/integrer/index.html"]:  # fmt: skip
        status, headers, _ = get(port, "/" + path.removesuffix("index.html"))
        assert status == 200, path
        assert headers["content-type"].lower() == content_type(path).lower(), path
        assert headers["cache-control"] == cache_control(path), path
    status, headers, body = get(port, "/tiles/demo.pmtiles", {"Range": "bytes=0-126", "Accept-Encoding": "gzip"})  # fmt: skip
    assert status == 206 and body[:7] == b"PMTiles" and "content-encoding" not in headers
    assert headers["access-control-allow-origin"] == "*"
    status, headers, body = get(port, "/communes/nowhere/")
    assert status == 404 and body == (www / "current" / "404.html").read_bytes()
    # Text gzipped for a browser that asks; tiles as they are (the snippet's gzip_types wins
    # over this test's `gzip_types *`).
    for path, gzipped in [("/", True), ("/carte.svg", True), ("/api/communes.json", True),
                          (f"/{assets}/trame/carte.mjs", True), ("/tiles/0/0/0.pbf", False)]:  # fmt: skip
        status, headers, body = get(port, path, {"Accept-Encoding": "gzip, br"})
        assert status == 200 and (headers.get("content-encoding") == "gzip") is gzipped, path
        if gzipped:
            assert headers["vary"] == "Accept-Encoding", path
            assert gzip.decompress(body) == get(port, path)[2], path


def test_deploy_failures_leave_the_live_site_alone(
    nginx: tuple[int, Path], sites: tuple[Path, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    port, www = nginx
    if not (www / "current").exists():
        deploy_rsync(sites[0], str(www), log=lambda _: None)
    live, releases = live_release(www), sorted(os.listdir(www / "releases"))
    home = get(port, "/")[2]

    def untouched() -> None:
        assert live_release(www) == live and sorted(os.listdir(www / "releases")) == releases
        status, _, body = get(port, "/")
        assert (status, body) == (200, home)

    # no build
    assert main(["deploy", "--site", str(tmp_path / "nothing"), "--target", str(www)]) == 2
    assert "lancez d'abord `make build`" in capsys.readouterr().err
    untouched()
    # an incomplete build: a file the manifest lists is missing
    broken = shutil.copytree(sites[1], tmp_path / "broken")
    (broken / "tiles" / "0" / "0" / "0.pbf").unlink()
    with pytest.raises(UserError, match="incomplète"):
        deploy_rsync(broken, str(www))
    untouched()
    # no destination, or two
    assert main(["deploy", "--site", str(sites[1])]) == 2
    assert "indiquez où déployer" in capsys.readouterr().err
    assert main(["deploy", "--site", str(sites[1]), "--target", str(www), "--git-remote", "x"]) == 2
    # a folder whose parent does not exist
    with pytest.raises(UserError, match="son dossier parent existe-t-il"):
        deploy_rsync(sites[1], str(tmp_path / "no" / "such" / "www"))
    assert not (tmp_path / "no").exists()
    # rsync fails half-way: the partial release is removed, `current` is not switched
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "rsync").write_text(
        '#!/bin/sh\nfor a; do dest=$a; done\nmkdir -p "$dest" && echo half > "$dest/index.html"\n'
        'echo "rsync: write failed: No space left on device (28)" >&2\nexit 11\n'
    )
    (fake / "rsync").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(UserError, match="No space left on device.*le site en ligne n'a pas changé"):
        deploy_rsync(sites[1], str(www))
    untouched()
    # `current` is a real folder (a hand-made site): not replaced
    other = tmp_path / "handmade"
    (other / "current").mkdir(parents=True)
    with pytest.raises(UserError, match="vrai dossier"):
        deploy_rsync(sites[1], str(other))
    assert os.listdir(other / "current") == []
    # nothing deployed there yet
    with pytest.raises(UserError, match="rien n'est déployé"):
        rollback_rsync(str(tmp_path / "never"))


# --- over SSH ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """Debian's sshd on 127.0.0.1 with a throwaway host key and client key: (user, port, tmp)."""
    need(SSHD, "ssh", "ssh-keygen", "rsync")
    tmp = tmp_path_factory.mktemp("sshd")
    if os.geteuid() == 0:  # sshd wants its privilege separation folder (systemd makes it)
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp / name)], check=True)  # fmt: skip
    shutil.copyfile(tmp / "client_key.pub", tmp / "authorized_keys")
    port = free_port()
    (tmp / "sshd_config").write_text(
        f"""Port {port}
ListenAddress 127.0.0.1
HostKey {tmp}/host_key
PidFile {tmp}/sshd.pid
AuthorizedKeysFile {tmp}/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
LogLevel ERROR
"""
    )
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(tmp / "sshd_config")],
        stdout=subprocess.DEVNULL, stderr=(tmp / "sshd.log").open("wb"),
    )  # fmt: skip
    try:
        wait_for_port(port, process, tmp / "sshd.log")
        yield getpass.getuser(), port, tmp
    finally:
        stop(process)


def ssh_command(port: int, key: Path) -> str:
    """No user config, no known_hosts: the host key is a throwaway one."""
    return (
        f"ssh -F /dev/null -p {port} -i {key} -o IdentitiesOnly=yes "
        "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
    )


def test_deploy_and_rollback_over_ssh(sshd: tuple[str, int, Path], sites: tuple[Path, Path]) -> None:  # fmt: skip
    user, port, tmp = sshd
    ssh = ssh_command(port, tmp / "client_key")
    www = tmp / "remote" / "tvb"
    www.parent.mkdir()
    target = f"{user}@127.0.0.1:{www}"
    first = deploy_rsync(sites[0], target, ssh=ssh, log=lambda _: None)
    assert main(["deploy", "--site", str(sites[1]), "--target", target, "--ssh", ssh]) == 0
    second = live_release(www)
    assert second != first
    comparison = filecmp.dircmp(sites[1], www / "current")
    assert not comparison.left_only and not comparison.right_only and not comparison.diff_files
    assert filecmp.cmp(sites[1] / "tiles/demo.pmtiles", www / "current/tiles/demo.pmtiles", shallow=False)  # fmt: skip
    assert rollback_rsync(target, ssh=ssh, log=lambda _: None) == first
    assert live_release(www) == first
    assert (www / "current" / "index.html").read_bytes() == (sites[0] / "index.html").read_bytes()


def test_ssh_failures_are_clear(sshd: tuple[str, int, Path], sites: tuple[Path, Path]) -> None:
    user, port, tmp = sshd
    started = time.monotonic()
    with pytest.raises(
        UserError, match=r"impossible de joindre \S*127\.0\.0\.1 par SSH.*Connection refused"
    ):
        deploy_rsync(sites[0], f"{user}@127.0.0.1:{tmp}/x", ssh=ssh_command(free_port(), tmp / "client_key"))  # fmt: skip
    assert time.monotonic() - started < 15
    wrong_key = tmp / "wrong_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(wrong_key)], check=True
    )
    with pytest.raises(UserError, match="Permission denied.*ssh-add"):
        deploy_rsync(sites[0], f"{user}@127.0.0.1:{tmp}/y", ssh=ssh_command(port, wrong_key))
    assert not (tmp / "x").exists() and not (tmp / "y").exists()


# --- the pieces -------------------------------------------------------------------------------


def test_targets_prune_and_scripts_on_relative_paths(tmp_path: Path) -> None:
    """A remote path without a leading slash starts in the home folder: the scripts, run from
    there as ssh would, must never `cd` twice."""
    assert parse_target("deploy@web1:/var/www/tvb/") == Target("deploy@web1", "/var/www/tvb")
    assert parse_target("web1:~/tvb") == Target("web1", "tvb")
    assert parse_target("./a:b") == Target(None, str(Path("a:b").absolute()))
    for bad in ("web1:", "web1:~/", "", "/"):
        with pytest.raises(UserError):
            parse_target(bad)
    names = ["r1", "r2", "r3", "r4"]
    assert to_prune(names, 2, "r4") == ["r1", "r2"]
    assert to_prune(names, 2, "r1") == ["r2"]  # rolled back to r1: it stays
    assert to_prune(names, 5, "r4") == []

    release = "20250102-101500-123456-3f9a1c2b"
    run = functools.partial(subprocess.run, cwd=tmp_path, capture_output=True, text=True)
    assert run(["sh", "-c", state_script("www/tvb", create=True)]).returncode == 1  # no www
    (tmp_path / "www").mkdir()
    assert run(["sh", "-c", state_script("www/tvb", create=True)]).returncode == 0
    (tmp_path / "www/tvb/releases" / release).mkdir()
    done = run(["sh", "-c", switch_script("www/tvb", release)])
    assert done.returncode == 1 and "incomplète" in done.stderr  # no index.html: not switched
    (tmp_path / "www/tvb/releases" / release / "index.html").write_text("ok")
    (tmp_path / "www/tvb/releases/old").mkdir()
    done = run(["sh", "-c", switch_script("www/tvb", release, ["old"])])
    assert done.returncode == 0, done.stderr
    state = parse_state(run(["sh", "-c", state_script("www/tvb", create=False)]).stdout)
    root = str((tmp_path / "www/tvb").resolve())  # where a --link-dest points: absolute
    assert state == State(release, False, (release,), root)
    assert not (tmp_path / "www/tvb/releases/old").exists()
