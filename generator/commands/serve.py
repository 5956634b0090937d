"""``trame serve``: the built site on a local web server (``make serve``)."""

from __future__ import annotations

import argparse

from ..errors import UserError
from .options import site_option

NAME = "serve"
HELP = "sert le site construit (répond aux requêtes HTTP Range)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    site_option(parser)
    parser.add_argument(
        "--host", default="127.0.0.1", metavar="ADRESSE",
        help="adresse d'écoute (par défaut : 127.0.0.1)",
    )  # fmt: skip
    parser.add_argument(
        "--port", type=int, default=8000, help="port d'écoute (par défaut : 8000)"
    )  # fmt: skip


def run(arguments: argparse.Namespace) -> int:
    from ..serve import serve

    if not (arguments.site / "index.html").is_file():
        raise UserError(
            f"{arguments.site} : aucun site construit ici ; lancez d'abord `make build` "
            "(ou trame build)"
        )
    serve(arguments.site, arguments.host, arguments.port)
    return 0
