"""Publish a built site: rsync (a folder or an SSH host), S3-compatible storage, or a git branch.

Every target starts from `load_site`, so that nothing is sent when the build is missing or
incomplete: a host only ever receives a whole, finished build, and when anything goes wrong
before the switch the live site stays as it was. `check` then probes the live site the way a
browser would.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..errors import UserError

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BuiltSite:
    """A finished build: its folder, every file with its SHA-256, and the build's own digest."""

    root: Path
    files: dict[str, str]  # site-relative POSIX path -> SHA-256, manifest.json included
    digest: str  # SHA-256 of manifest.json: names the build (release folders, commit messages)


def load_site(site: Path) -> BuiltSite:
    """Check that ``site`` holds a complete build and read its manifest.

    The manifest (written last by the build) is the list of what to publish; a file it names
    that is missing means an interrupted or hand-edited build, which is never published.
    """
    manifest_path = site / MANIFEST
    if not (site / "index.html").is_file() or not manifest_path.is_file():
        raise UserError(
            f"{site} : aucun site construit ici (index.html ou manifest.json manque) ; "
            "lancez d'abord `make build` (ou trame build)"
        )
    raw = manifest_path.read_bytes()
    try:
        files = json.loads(raw)["files"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise UserError(
            f"{manifest_path} : ce n'est pas un manifeste de Trame ; relancez `make build`"
        ) from None
    for name in files:
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or ".." in parts:
            raise UserError(
                f"{manifest_path} : nomme {name!r}, hors du site ; reconstruisez le site "
                "(make build)"
            )
    missing = sorted(name for name in files if not (site / name).is_file())
    if missing:
        raise UserError(
            f"{site} : {len(missing)} fichier(s) de la liste de manifest.json manque(nt) "
            f"(le premier : {missing[0]}) ; la construction est incomplète, relancez `make build`"
        )
    digest = hashlib.sha256(raw).hexdigest()
    return BuiltSite(site, {**files, MANIFEST: digest}, digest)


def run_tool(
    argv: Sequence[str], *, package: str, timeout: float | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    """Run an external tool (rsync, ssh, git) and capture its output; never raises on exit code.

    A missing binary becomes a `UserError` naming the Debian package to install.
    """
    try:
        return subprocess.run(  # type: ignore[call-overload, no-any-return]
            list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs
        )
    except FileNotFoundError:
        raise UserError(
            f"`{argv[0]}` introuvable : installez-le (Debian : apt-get install {package})"
        ) from None
    except subprocess.TimeoutExpired:
        raise UserError(
            f"`{argv[0]}` n'a pas fini en {timeout:.0f} s ; réessayez plus tard"
        ) from None


# Lines of rsync's, ssh's and git's error output that never say what went wrong.
NOISE = (
    "Please make sure", "and the repository exists", "fatal: Could not read from remote",
    "rsync error:", "hint:", "To ", "error: failed to push", "Warning:", "** WARNING",
)  # fmt: skip


def tool_message(text: str) -> str:
    """The most telling line of a tool's error output: the first one that is not noise."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(NOISE)]
    return (useful or lines or ["aucun message d'erreur"])[0]
