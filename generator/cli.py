"""The ``trame`` command: its parser and the dispatch to one module per command
(:mod:`generator.commands`). Thin: each command calls one stage."""

from __future__ import annotations

import argparse
import sys

from .argparse_fr import FrenchParser
from .commands import COMMANDS
from .commands.options import default_config
from .errors import UserError

DESCRIPTION = (
    "Trame : le site de consultation d'une trame verte et bleue (SRCE), commune par commune. "
    "Chaque commande fait une étape : new, init, build, tiles, validate, serve, deploy, "
    "rollback, check-deploy ; trame COMMANDE --help dit ce qu'elle attend."
)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("trame")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "inconnue (non installée)"


def parser() -> argparse.ArgumentParser:
    main = FrenchParser(prog="trame", description=DESCRIPTION)
    main.add_argument(
        "--version", action="version", version=f"trame {version()}",
        help="affiche la version de Trame et s'arrête",
    )  # fmt: skip
    commands = main.add_subparsers(
        dest="command", required=True, metavar="COMMANDE", title="commandes"
    )
    for command in COMMANDS:
        description = getattr(command, "DESCRIPTION", None)
        extra = {"description": description} if description else {}
        command.add_arguments(commands.add_parser(command.NAME, help=command.HELP, **extra))
    return main


def run(arguments: argparse.Namespace) -> int:
    if getattr(arguments, "config", False) is None:
        arguments.config = default_config()
    by_name = {command.NAME: command for command in COMMANDS}
    return by_name[arguments.command].run(arguments)


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    try:
        return run(arguments)
    except UserError as error:
        print(f"trame: erreur : {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
