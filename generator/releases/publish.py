"""``make deploy`` records the releases it publishes: from then on, they never change.

The site's ``manifest.json`` names its releases and its territory; the history folder is found by
the build's own rule (``--releases``, else the config's ``releases``, else ``releases/<slug>/``
beside the site).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from .history import History, history_lock


@dataclass(frozen=True)
class Pending:
    history: History
    ids: list[str]


def releases_of(site: Path, config_path: Path | None, releases_dir: Path | None) -> Pending | None:
    """The history and the releases a deploy of ``site`` publishes, checked before uploading.

    None (with a warning) when the site names no releases or no history can be found; an error
    when the history found does not hold the site's releases.
    """
    try:
        manifest = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # load_site says what is wrong with the site
    ids, slug = manifest.get("releases"), manifest.get("territory")
    if not ids or not slug:
        return None
    folder = releases_dir
    if folder is None and config_path is not None and config_path.is_file():
        from ..config import load_config

        try:
            config = load_config(config_path)
            if config.slug == slug and config.releases:
                folder = config.releases
        except UserError:
            pass
    folder = (folder or site.resolve().parent / "releases" / slug).resolve()
    if not (folder / "history.json").is_file():
        print(
            f"trame : attention : historique des versions introuvable ({folder}) : les versions "
            f"{', '.join(ids)} ne seront pas notées publiées ; indiquez RELEASES=dossier "
            "(--releases) pour qu'une construction ne puisse plus les changer",
            file=sys.stderr,
        )
        return None
    history = History.open(folder)
    missing = [i for i in ids if history.get(i) is None]
    if missing:
        raise UserError(
            f"{folder} : l'historique ne connaît pas la version {missing[0]} du site {site} ; "
            "reconstruisez le site (make build) ou indiquez le bon dossier avec RELEASES=…"
        )
    return Pending(history, list(ids))


def mark_published(pending: Pending | None, target: str) -> None:
    if pending is None:
        return
    folder = pending.history.folder
    with history_lock(folder):  # read again: a build may have added a release meanwhile
        newly = History.open(folder).mark_published(pending.ids, target)
    if newly:
        print(
            f"Versions désormais publiées (elles ne changeront plus) : {', '.join(newly)}",
            file=sys.stderr,
        )
