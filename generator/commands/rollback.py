"""``trame rollback``: an rsync target back on its previous deployment (``make rollback``)."""

from __future__ import annotations

import argparse

from ..errors import UserError
from .deploy import SSH_HELP

NAME = "rollback"
HELP = "remet une cible rsync sur sa version précédente"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", metavar="CIBLE", help="la même cible que pour deploy")
    parser.add_argument("--ssh", metavar="COMMANDE", help=SSH_HELP)


def run(arguments: argparse.Namespace) -> int:
    from ..deploy.rsync import rollback_rsync

    if not arguments.target:
        raise UserError(
            "indiquez quel déploiement remettre en arrière : TARGET=/var/www/tvb ou "
            "utilisateur@hôte:/chemin"
        )
    rollback_rsync(arguments.target, ssh=arguments.ssh)
    return 0
