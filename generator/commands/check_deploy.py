"""``trame check-deploy``: a site online, checked as a browser would (``make check-deploy``)."""

from __future__ import annotations

import argparse

from ..errors import UserError

NAME = "check-deploy"
HELP = "vérifie un site en ligne comme le ferait un navigateur"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", metavar="URL", help="l'adresse publique du site")
    parser.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDES",
        help="attente maximale par requête, en secondes (par défaut : 10)",
    )  # fmt: skip


def run(arguments: argparse.Namespace) -> int:
    from ..deploy.check import check_site, report

    if not arguments.url:
        raise UserError("donnez l'adresse du site à vérifier : URL=https://example.org/tvb/")
    text, passed = report(check_site(arguments.url, arguments.timeout))
    print(text)
    return 0 if passed else 1
