"""``trame build``: the whole static site (``make build``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import THEMES
from .options import releases_option, territory_options, tile_workers

NAME = "build"
HELP = "construit tout le site statique"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    territory_options(parser)
    parser.add_argument(
        "--output", type=Path, default=Path("site"), metavar="DOSSIER",
        help="dossier du site (par défaut : site)",
    )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true", help="reconstruit même si rien n'a changé"
    )  # fmt: skip
    parser.add_argument("--no-pdf", action="store_true", help="sans les cartes PDF (plus rapide)")
    parser.add_argument(
        "--theme", choices=THEMES, default=None,
        help="l'apparence du site (par défaut : la clé theme de la configuration, sinon "
        "default) ; dsfr : le système de design de l'État, réservé aux services de l'État",
    )  # fmt: skip
    parser.add_argument(
        "--version", default=None,
        help="identifiant de la version construite (par défaut : la clé version de la "
        "configuration, sinon la date des données AAAA-MM-JJ)",
    )  # fmt: skip
    parser.add_argument(
        "--replace", action="store_true",
        help="permet à cette construction de changer une version publiée (noté dans "
        "l'historique)",
    )  # fmt: skip
    releases_option(parser)


def run(arguments: argparse.Namespace) -> int:
    from ..build import build_site

    with tile_workers(arguments.workers) as (workers, executor):
        build_site(
            arguments.config, arguments.data_dir, arguments.output, workers=workers,
            executor=executor, quiet=arguments.quiet, force=arguments.force,
            pdf=not arguments.no_pdf,
            theme=arguments.theme,
            version=arguments.version, replace=arguments.replace,
            releases_dir=arguments.releases,
        )  # fmt: skip
    return 0
