"""``trame deploy``: publish the built site (rsync to a folder or over SSH, S3, a git branch),
then mark its releases published in the history (``make deploy``)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import UserError
from .options import DEFAULT_CONFIG, releases_option, site_option

NAME = "deploy"
HELP = "publie le site construit : rsync (dossier ou SSH), S3, ou branche git"
SSH_HELP = "commande ssh pour une cible SSH (par défaut : $TRAME_SSH, sinon ssh)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    site_option(parser)
    parser.add_argument(
        "--target", metavar="CIBLE",
        help="cible rsync : /var/www/tvb ou utilisateur@hôte:/var/www/tvb",
    )  # fmt: skip
    parser.add_argument("--ssh", metavar="COMMANDE", help=SSH_HELP)
    parser.add_argument(
        "--keep", type=int, default=5, metavar="N",
        help="nombre de versions gardées sur la cible (par défaut : 5)",
    )  # fmt: skip
    parser.add_argument(
        "--s3-bucket", metavar="BUCKET", help="bucket S3 (par défaut : $TRAME_S3_BUCKET)"
    )  # fmt: skip
    parser.add_argument(
        "--s3-prefix", metavar="PRÉFIXE", help="préfixe des clés dans le bucket ($TRAME_S3_PREFIX)"
    )  # fmt: skip
    parser.add_argument(
        "--s3-endpoint", metavar="URL",
        help="adresse d'un service compatible S3 ($AWS_ENDPOINT_URL)",
    )  # fmt: skip
    parser.add_argument(
        "--force", action="store_true", help="S3 : envoie aussi les fichiers inchangés"
    )  # fmt: skip
    parser.add_argument(
        "--git-remote", metavar="DÉPÔT",
        help="dépôt git (adresse ou chemin) d'une branche Pages",
    )  # fmt: skip
    parser.add_argument(
        "--git-branch", default="gh-pages", metavar="BRANCHE",
        help="branche (par défaut : gh-pages)",
    )  # fmt: skip
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, metavar="FICHIER",
        help="configuration du territoire (pour sa clé releases)",
    )  # fmt: skip
    releases_option(parser)


def run(arguments: argparse.Namespace) -> int:
    kinds = [
        name
        for name, given in (
            ("TARGET", arguments.target),
            ("S3_BUCKET", arguments.s3_bucket or os.environ.get("TRAME_S3_BUCKET")),
            ("GIT_REMOTE", arguments.git_remote),
        )
        if given
    ]
    if len(kinds) != 1:
        raise UserError(
            "indiquez où déployer, une seule fois : TARGET=/var/www/tvb ou "
            "utilisateur@hôte:/var/www/tvb, S3_BUCKET=…, ou GIT_REMOTE=… (donné : "
            f"{', '.join(kinds) or 'aucun'})"
        )
    from ..releases.publish import mark_published, releases_of

    pending = releases_of(arguments.site, arguments.config, arguments.releases)
    if arguments.target:
        from ..deploy.rsync import deploy_rsync

        deploy_rsync(arguments.site, arguments.target, keep=arguments.keep, ssh=arguments.ssh)
    elif arguments.git_remote:
        from ..deploy.gitbranch import deploy_git

        deploy_git(arguments.site, arguments.git_remote, arguments.git_branch)
    else:
        from ..deploy.s3 import deploy_s3

        deploy_s3(
            arguments.site, arguments.s3_bucket, arguments.s3_prefix,
            arguments.s3_endpoint, force=arguments.force,
        )  # fmt: skip
    mark_published(pending, arguments.target or arguments.git_remote or "S3")
    return 0
