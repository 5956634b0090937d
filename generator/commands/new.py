"""``trame new DOSSIER``: a territory folder that ``trame build`` builds at once."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

NAME = "new"
HELP = (
    "crée un dossier de territoire (configuration, légende, texte, données de démonstration) "
    "que `trame build` construit aussitôt"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "folder", type=Path, metavar="DOSSIER", help="le dossier à créer (absent ou vide)"
    )
    parser.add_argument(
        "--name", default=None, metavar="NOM",
        help="nom du territoire, affiché sur chaque page (par défaut : le nom du dossier)",
    )  # fmt: skip


def run(arguments: argparse.Namespace) -> int:
    from ..scaffold import new_territory

    written = new_territory(arguments.folder, arguments.name)
    names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in written)
    print(f"Territoire créé dans {arguments.folder} : {names}.")
    print("Ces données sont fictives : remplacez-les par les vôtres, puis adaptez trame.yml.")
    print(f"Pour construire le site : cd {shlex.quote(str(arguments.folder))} && trame build")
    return 0
