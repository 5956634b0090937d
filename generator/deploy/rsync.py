"""Deploy with rsync to a folder or an SSH host, atomically, and roll back.

Layout on the target (the web server's root is ``<target>/current``)::

    <target>/releases/20250102-101500-123456-3f9a1c2b/   one finished build per folder
    <target>/current -> releases/20250102-101500-123456-3f9a1c2b

A build is uploaded into a new release folder (unchanged files hard-linked from the live release
with ``--link-dest``, so only what changed travels and takes space), then ``current`` is replaced
by a new symlink with one rename(2): every request sees the old build or the new one, never a mix,
never a missing file. The same small shell scripts run locally (``sh -c``) or through ssh, so one
code path serves both kinds of target.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import UserError
from . import load_site, run_tool, tool_message

RELEASE = re.compile(r"^\d{8}-\d{6}-\d{6}-[0-9a-f]{8}$")
SSH_DEFAULTS = ("-o", "BatchMode=yes", "-o", "ConnectTimeout=10")


@dataclass(frozen=True)
class Target:
    """``host`` is ``user@host`` for an SSH target, None for a local folder."""

    host: str | None
    path: str

    def __str__(self) -> str:
        return f"{self.host}:{self.path}" if self.host else self.path


@dataclass(frozen=True)
class State:
    """What the target holds: the release ``current`` points to, and every release folder."""

    current: str | None
    current_is_folder: bool  # `current` exists but is a real folder: not ours to replace
    releases: tuple[str, ...]
    root: str | None = None
    """The target folder's absolute path on its machine (``pwd -P`` there)."""


def parse_target(text: str) -> Target:
    """rsync's own rule: a colon before the first slash means ``host:path``."""
    text = text.strip()
    head, colon, tail = text.partition(":")
    if colon and head and "/" not in head:
        path = tail.removeprefix("~/").rstrip("/")  # relative paths start in the home folder
        if not path or path == "~":
            raise UserError(
                f"{text} : donnez le dossier après les deux-points, par exemple {head}:/var/www/tvb"
            )
        return Target(head, path)
    if not text or not text.strip("/"):
        raise UserError(
            "indiquez où déployer : TARGET=/var/www/tvb ou TARGET=utilisateur@hôte:/var/www/tvb"
        )
    return Target(None, str(Path(text).expanduser().absolute()))


def ssh_command(ssh: str | None = None) -> list[str]:
    """The ssh command (``--ssh``, else $TRAME_SSH, else ``ssh``); never prompts, times out."""
    words = shlex.split(ssh or os.environ.get("TRAME_SSH") or "ssh")
    return [*words, *SSH_DEFAULTS]  # ssh keeps the first value given: the user's options win


def release_name(now: datetime, digest: str) -> str:
    """Sortable by time (to the microsecond) and naming the build it holds."""
    return f"{now.astimezone(UTC):%Y%m%d-%H%M%S-%f}-{digest[:8]}"


def state_script(path: str, create: bool) -> str:
    q, releases = shlex.quote(path), shlex.quote(f"{path}/releases")
    make = f"[ -d {q} ] || mkdir -- {q}\nmkdir -p -- {releases}\n" if create else ""
    return f"""set -e
{make}cd -- {q}
printf 'root %s\\n' "$(pwd -P)"
if [ -L current ]; then printf 'link %s\\n' "$(readlink current)"
elif [ -e current ]; then echo folder; fi
for r in releases/*/; do [ -d "$r" ] && printf 'release %s\\n' "$(basename "$r")"; done
exit 0
"""


def switch_script(path: str, release: str, remove: Sequence[str] = ()) -> str:
    """Point ``current`` at ``release`` with one rename (GNU or busybox ``mv -T``), then remove
    the ``remove`` releases: one connection for both."""
    q, r = shlex.quote(path), shlex.quote(release)
    names = " ".join(shlex.quote(f"releases/{name}") for name in remove)
    return f"""set -e
cd -- {q}
[ -f releases/{r}/index.html ] || {{ echo "releases/{r} est incomplète" >&2; exit 1; }}
ln -sfn releases/{r} .current-{r}
mv -T .current-{r} current
{f"rm -rf -- {names}" if names else ""}
"""


def remove_script(path: str, releases: Sequence[str]) -> str:
    names = " ".join(shlex.quote(f"releases/{name}") for name in releases)
    return f"set -e\ncd -- {shlex.quote(path)}\nrm -rf -- {names}\n"


def parse_state(output: str) -> State:
    current, folder, releases, root = None, False, [], None
    for line in output.splitlines():
        kind, _, value = line.partition(" ")
        if kind == "root" and value.startswith("/"):
            root = value
        elif kind == "link":
            current = value.removeprefix("releases/").strip("/")
        elif kind == "folder":
            folder = True
        elif kind == "release" and RELEASE.match(value):
            releases.append(value)
    return State(current, folder, tuple(sorted(releases)), root)


def to_prune(releases: Sequence[str], keep: int, current: str) -> list[str]:
    """Releases beyond the ``keep`` newest, never the live one."""
    newest = sorted(releases, reverse=True)[:keep]
    return sorted(name for name in releases if name not in newest and name != current)


def run_script(target: Target, script: str, ssh: str | None, what: str) -> str:
    """Run a script on the target (``sh -c`` here, or through ssh); a failure says what to do."""
    if target.host:
        argv = [*ssh_command(ssh), target.host, "sh -c " + shlex.quote(script)]
        done = run_tool(argv, package="openssh-client", timeout=120)
        if done.returncode == 255:
            raise UserError(
                f"{target} : impossible de joindre {target.host} par SSH "
                f"({tool_message(done.stderr)}) ; vérifiez TARGET, que la machine est en marche, "
                "et votre clé (ssh-add, ou TRAME_SSH='ssh -i clé')"
            )
    else:
        done = run_tool(["sh", "-c", script], package="dash", timeout=120)
    if done.returncode != 0:
        raise UserError(f"{target} : impossible de {what} ({tool_message(done.stderr)})")
    return done.stdout


def read_state(target: Target, ssh: str | None, create: bool) -> State:
    if not create and not target.host and not Path(target.path).is_dir():
        raise UserError(f"{target} : rien n'est déployé ici (dossier absent) ; vérifiez TARGET")
    what = (
        "préparer le dossier (son dossier parent existe-t-il ?)"
        if create
        else "lire les versions déployées"
    )
    return parse_state(run_script(target, state_script(target.path, create), ssh, what))


def deploy_rsync(
    site: Path, target: str, *, keep: int = 5, ssh: str | None = None,
    now: datetime | None = None, log: Callable[[str], None] = print,
) -> str:  # fmt: skip
    """Upload ``site`` as a new release on ``target``, switch ``current`` to it, prune; its name.

    Any failure before the switch removes the half-uploaded release and leaves ``current`` alone.
    """
    built = load_site(site)
    if keep < 1:
        raise UserError(
            f"KEEP={keep} : gardez au moins 1 version (2 ou plus pour pouvoir revenir en arrière)"
        )
    where = parse_target(target)
    state = read_state(where, ssh, create=True)
    if state.current_is_folder:
        raise UserError(
            f"{where}/current est un vrai dossier, pas un lien symbolique : déplacez-le, puis "
            "relancez le déploiement (le premier déploiement crée le lien)"
        )
    release = release_name(now or datetime.now(UTC), built.digest)
    # --hard-links: a file shared by several releases (versions/<id>/) and the current addresses
    # is one file in the build (generator/releases): it travels and is stored once.
    argv = ["rsync", "--recursive", "--links", "--hard-links", "--perms", "--checksum",
            "--chmod=D755,F644", "--timeout=60"]  # fmt: skip
    if state.current in state.releases:  # unchanged files become hard links to the live ones
        # An absolute path: over SSH, Debian's rsync 3.2.7-1+deb12u6 (its CVE fixes) takes a
        # wrong basis file for a relative --link-dest=../<release> and fails with "failed
        # verification -- update discarded" (RsyncProject/rsync#928, fixed upstream in 3.4.3+).
        base = f"{state.root}/releases" if state.root else ".."
        argv.append(f"--link-dest={base}/{state.current}")
    if where.host:
        argv += ["-e", shlex.join(ssh_command(ssh))]
    destination = f"{where.path}/releases/{release}/"
    argv += [f"{built.root}/", f"{where.host}:{destination}" if where.host else destination]
    done = run_tool(argv, package="rsync")
    if done.returncode != 0:
        # The message below is the one that matters; a stray release folder is harmless.
        with contextlib.suppress(UserError):
            run_script(
                where, remove_script(where.path, [release]), ssh, "supprimer l'envoi partiel"
            )
        raise UserError(
            f"{where} : échec de rsync ({tool_message(done.stderr)}) ; le site en ligne n'a pas "
            "changé : corrigez la cause, puis relancez le déploiement"
        )
    pruned = to_prune([*state.releases, release], keep, release)
    script = switch_script(where.path, release, pruned)
    run_script(where, script, ssh, "basculer `current` et supprimer les anciennes versions")
    log(f"Publié : {where}/current -> releases/{release} ({len(built.files)} fichiers)")
    return release


def rollback_rsync(
    target: str, *, ssh: str | None = None, log: Callable[[str], None] = print
) -> str:
    """Point ``current`` back at the release before it; the name of that release."""
    where = parse_target(target)
    state = read_state(where, ssh, create=False)
    if state.current is None or state.current not in state.releases:
        raise UserError(
            f"{where} : aucune version `current` d'où revenir en arrière ; déployez d'abord"
        )
    index = state.releases.index(state.current)
    if index == 0:
        raise UserError(
            f"{where} : {state.current} est la plus ancienne version gardée, il n'y a pas de "
            "version précédente où revenir (déployez avec KEEP=n pour en garder plus)"
        )
    previous = state.releases[index - 1]
    run_script(where, switch_script(where.path, previous), ssh, "basculer `current`")
    log(f"Retour arrière : {where}/current -> releases/{previous} (au lieu de {state.current})")
    return previous
