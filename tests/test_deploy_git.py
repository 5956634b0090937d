"""Git-branch deploys (GitHub-Pages style) to a bare repository standing in for the remote."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from trame.cli import main
from trame.deploy.gitbranch import deploy_git
from trame.errors import UserError

if not shutil.which("git"):
    pytest.skip("git not installed (Debian: apt-get install git)", allow_module_level=True)


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def blob(remote: Path, rev: str) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={remote}", "cat-file", "blob", rev], check=True, capture_output=True
    ).stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    """A bare repository whose gh-pages branch already holds a CNAME (a custom domain)."""
    bare = tmp_path / "remote.git"
    git("init", "-q", "--bare", str(bare))
    work = tmp_path / "work"
    git("init", "-q", "-b", "gh-pages", str(work))
    (work / "CNAME").write_text("tvb.example.org\n")
    git("add", "CNAME", cwd=work)
    git("-c", "user.name=T", "-c", "user.email=t@example.org", "commit", "-qm", "domain", cwd=work)
    git("push", "-q", str(bare), "gh-pages", cwd=work)
    return bare


@pytest.fixture(scope="module")
def site_b(demo_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    b = shutil.copytree(demo_site, tmp_path_factory.mktemp("git") / "b")
    (b / "index.html").write_text((b / "index.html").read_text() + "<!-- B -->\n")
    manifest = json.loads((b / "manifest.json").read_text())
    manifest["files"]["index.html"] = "0" * 64  # only the list matters to the deploy
    (b / "manifest.json").write_text(json.dumps(manifest))
    return b


def test_branch_holds_exactly_the_build(remote: Path, demo_site: Path, site_b: Path) -> None:
    before = git(f"--git-dir={remote}", "rev-parse", "gh-pages")
    first = deploy_git(demo_site, str(remote), log=lambda _: None)
    assert first and git(f"--git-dir={remote}", "rev-parse", "gh-pages") == first
    assert git(f"--git-dir={remote}", "rev-parse", f"{first}^") == before  # a fast-forward
    files = json.loads((demo_site / "manifest.json").read_text())["files"]
    tree = git(f"--git-dir={remote}", "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert sorted(tree) == sorted([*files, "manifest.json", ".nojekyll", "CNAME"])
    for name in ["index.html", "tiles/demo.pmtiles", "tiles/0/0/0.pbf", "manifest.json"]:
        assert blob(remote, f"gh-pages:{name}") == (demo_site / name).read_bytes(), name
    assert blob(remote, "gh-pages:CNAME") == b"tvb.example.org\n"

    assert deploy_git(demo_site, str(remote), log=lambda _: None) is None  # already there
    assert git(f"--git-dir={remote}", "rev-parse", "gh-pages") == first

    assert main(["deploy", "--site", str(site_b), "--git-remote", str(remote)]) == 0
    second = git(f"--git-dir={remote}", "rev-parse", "gh-pages")
    assert git(f"--git-dir={remote}", "rev-parse", f"{second}^") == first
    assert blob(remote, "gh-pages:index.html") == (site_b / "index.html").read_bytes()


def test_new_branch_on_an_empty_remote(tmp_path: Path, demo_site: Path) -> None:
    bare = tmp_path / "empty.git"
    git("init", "-q", "--bare", str(bare))
    commit = deploy_git(demo_site, str(bare), "pages", log=lambda _: None)
    assert git(f"--git-dir={bare}", "rev-parse", "pages") == commit
    assert git(f"--git-dir={bare}", "rev-list", "--count", "pages") == "1"
    assert "CNAME" not in git(f"--git-dir={bare}", "ls-tree", "--name-only", "pages")


def test_failures_are_clear_and_leave_the_branch(
    remote: Path, demo_site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = git(f"--git-dir={remote}", "rev-parse", "gh-pages")
    assert main(["deploy", "--site", str(tmp_path / "none"), "--git-remote", str(remote)]) == 2
    assert "lancez d'abord `make build`" in capsys.readouterr().err
    with pytest.raises(UserError, match="impossible de le joindre ; vérifiez GIT_REMOTE"):
        deploy_git(demo_site, str(tmp_path / "no-such-repo.git"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(UserError, match="impossible de le joindre.*Connection refused"):
        deploy_git(demo_site, f"ssh://git@127.0.0.1:{closed}/tvb.git")
    assert time.monotonic() - started < 15
    hook = remote / "hooks" / "pre-receive"  # the host refuses the push (rights, protection...)
    hook.write_text("#!/bin/sh\necho 'refused: branch is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    with pytest.raises(
        UserError, match="impossible de pousser la branche gh-pages.*refused: branch is protected"
    ):
        deploy_git(demo_site, str(remote))
    assert git(f"--git-dir={remote}", "rev-parse", "gh-pages") == live
