"""``trame serve``: the built site on a local web server (``make serve``)."""

from __future__ import annotations

import argparse

from ..errors import UserError
from .options import site_option, territory_options, tile_workers

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
    parser.add_argument(
        "--watch", action="store_true",
        help="construit le site (sans les cartes PDF), puis le reconstruit à chaque "
        "modification de la configuration, des textes ou des données",
    )  # fmt: skip
    territory_options(parser)


def run(arguments: argparse.Namespace) -> int:
    from ..serve import serve

    if arguments.watch:
        return watch_and_serve(arguments)
    if not (arguments.site / "index.html").is_file():
        raise UserError(
            f"{arguments.site} : aucun site construit ici ; lancez d'abord `make build` "
            "(ou trame build)"
        )
    serve(arguments.site, arguments.host, arguments.port)
    return 0


def watch_and_serve(arguments: argparse.Namespace) -> int:
    """Build, serve once built, build again on every change (:mod:`generator.watch`)."""
    import contextlib
    import threading

    from ..build import BuildResult
    from ..serve import make_server
    from ..watch import watch
    from .options import default_config

    config = arguments.config or default_config()
    servers = []

    def built(result: BuildResult) -> None:
        if not servers:  # after the first build: the workers are forked, the site is there
            servers.append(make_server(arguments.site, arguments.host, arguments.port))
            threading.Thread(target=servers[0].serve_forever, daemon=True).start()
            port = servers[0].server_address[1]
            print(f"Site servi sur http://{arguments.host}:{port}/ ; il est reconstruit à chaque "
                  "modification des données (Ctrl-C pour arrêter)", flush=True)  # fmt: skip

    with (
        tile_workers(arguments.workers) as (workers, executor),
        contextlib.suppress(KeyboardInterrupt),
    ):
        watch(config, arguments.data_dir, arguments.site, workers=workers, executor=executor,
              built=built, quiet=arguments.quiet)  # fmt: skip
    for server in servers:
        server.shutdown()
        server.server_close()
    return 0
