"""Deploy to a git branch (GitHub Pages, GitLab Pages, Codeberg Pages...), like `mkdocs gh-deploy`.

The commit is made in a throwaway repository, never in the project's checkout: the index is filled
straight from the site folder, ``.nojekyll`` is added (GitHub would otherwise run Jekyll over the
site) and a ``CNAME`` found on the branch is kept. The new commit's parent is the branch's tip, and
the push is a plain fast-forward: the branch moves in one ref update, and if someone else pushed
meanwhile the push is refused instead of overwriting their work.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import UserError
from . import load_site, run_tool, tool_message


def git_env() -> dict[str, str]:
    """Never wait for a password or a host-key question: fail with a message instead."""
    env = dict(os.environ, GIT_TERMINAL_PROMPT="0")
    env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=10")
    return env


class Git:
    """A throwaway repository whose work tree is the site folder."""

    def __init__(self, repo: Path, work_tree: Path, remote: str) -> None:
        self.base = [
            "git",
            "--literal-pathspecs",
            f"--git-dir={repo / '.git'}",
            f"--work-tree={work_tree}",
        ]
        self.remote = remote
        self.env = git_env()

    def __call__(
        self, *args: str, stdin: str | None = None, what: str = "", timeout: float | None = None
    ) -> str:
        done = run_tool(
            [*self.base, *args], package="git", input=stdin, env=self.env, timeout=timeout
        )
        if done.returncode != 0:
            raise UserError(
                f"dépôt git {self.remote} : impossible de {what or 'lancer git ' + args[0]} "
                f"({tool_message(done.stderr)})"
            )
        return done.stdout.strip()


def identity(env: dict[str, str]) -> dict[str, str]:
    """Commit as the user when git knows them, else as "Trame"."""
    done = run_tool(["git", "config", "user.email"], package="git", env=env)
    if done.returncode == 0 and done.stdout.strip():
        return {}
    return {
        "GIT_AUTHOR_NAME": "Trame", "GIT_AUTHOR_EMAIL": "trame@localhost",
        "GIT_COMMITTER_NAME": "Trame", "GIT_COMMITTER_EMAIL": "trame@localhost",
    }  # fmt: skip


def deploy_git(
    site: Path, remote: str, branch: str = "gh-pages", *, log: Callable[[str], None] = print
) -> str | None:
    """Push ``site`` as a new commit on ``branch`` of ``remote``; its id, None when up to date."""
    built = load_site(site)
    if not remote:
        raise UserError(
            "git : aucun dépôt distant indiqué ; donnez GIT_REMOTE=git@hôte:compte/depot.git"
        )
    ref = f"refs/heads/{branch}"
    with tempfile.TemporaryDirectory(prefix="trame-deploy-") as tmp:
        repo = Path(tmp)
        init = run_tool(["git", "init", "-q", str(repo)], package="git")
        if init.returncode != 0:
            raise UserError(
                f"git : impossible de créer un dépôt temporaire ({tool_message(init.stderr)}) ; "
                "vérifiez le dossier temporaire (TMPDIR)"
            )
        git = Git(repo, built.root.resolve(), remote)
        reach = "le joindre ; vérifiez GIT_REMOTE et vos droits d'accès"
        heads = git("ls-remote", "--heads", "--", remote, ref, what=reach, timeout=120)
        tip = heads.split()[0] if heads else None
        if tip:
            git(
                "fetch", "-q", "--depth=1", "--", remote, ref, what=f"récupérer la branche {branch}"
            )
        files = "\0".join(sorted(built.files))  # exactly the build: the manifest's list
        git("add", "--force", "--pathspec-from-file=-", "--pathspec-file-nul", stdin=files)
        blob = git("hash-object", "-w", "--stdin", stdin="", what="créer le fichier .nojekyll")
        git("update-index", "--add", "--cacheinfo", f"100644,{blob},.nojekyll")
        if tip and "CNAME" not in built.files:  # the custom domain set on the branch survives
            verify = [*git.base, "rev-parse", "-q", "--verify", f"{tip}:CNAME"]
            cname = run_tool(verify, package="git", env=git.env)
            if cname.returncode == 0:
                git("update-index", "--add", "--cacheinfo", f"100644,{cname.stdout.strip()},CNAME")
        tree = git("write-tree")
        if tip and tree == git("rev-parse", f"{tip}^{{tree}}"):
            log(f"Déjà à jour : {remote} {branch} ({tip[:12]})")
            return None
        git.env.update(identity(git.env))
        message = (
            f"Publication du site (construction {built.digest[:12]}, {len(built.files)} fichiers)"
        )
        commit = git("commit-tree", tree, *(["-p", tip] if tip else []), "-m", message)
        moved = (
            f"pousser la branche {branch} (si elle a changé entre-temps, relancez le déploiement)"
        )
        git("push", "-q", "--", remote, f"{commit}:{ref}", what=moved)
    log(f"Publié : {remote} {branch} -> {commit[:12]}")
    return commit
