"""The ``trame`` command: build, tiles, validate, serve. Thin: each command calls one stage."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import UserError

DEFAULT_CONFIG = Path("layers/demo.yml")


def _territory_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="territory config (YAML)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder the config's data paths are relative to (default: the config's folder)",
    )  # fmt: skip
    parser.add_argument("--workers", type=int, default=None, help="processes for the tiles")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="trame", description=__doc__)
    commands = main.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build the whole static site")
    _territory_options(build)
    build.add_argument("--output", type=Path, default=Path("site"), help="site folder")

    tiles = commands.add_parser("tiles", help="build the vector tiles only")
    _territory_options(tiles)
    tiles.add_argument("--output", type=Path, default=None, help="default: tiles/<slug>/")

    validate = commands.add_parser("validate", help="read and check the data, print the report")
    _territory_options(validate)

    serve = commands.add_parser("serve", help="serve the built site (answers HTTP Range)")
    serve.add_argument("--site", type=Path, default=Path("site"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return main


def run(arguments: argparse.Namespace) -> int:
    if arguments.command == "build":
        from .build import build_site

        build_site(
            arguments.config, arguments.data_dir, arguments.output,
            workers=arguments.workers, quiet=arguments.quiet,
        )  # fmt: skip
    elif arguments.command == "tiles":
        from .build import build_tiles_only

        build_tiles_only(
            arguments.config, arguments.data_dir, arguments.output,
            workers=arguments.workers, quiet=arguments.quiet,
        )  # fmt: skip
    elif arguments.command == "validate":
        from .build import load_territory
        from .config import load_config

        territory = load_territory(load_config(arguments.config, arguments.data_dir))
        for layer in territory.report.layers:
            print(
                f"{layer.name}: {layer.read} lus, {layer.kept} gardés, {layer.repaired} réparés, "
                f"{layer.outside} hors du territoire, {layer.clipped} découpés"
            )
            for warning in layer.warnings:
                print(f"  attention : {warning}")
    elif arguments.command == "serve":
        from .serve import serve

        if not (arguments.site / "index.html").is_file():
            raise UserError(f"{arguments.site}: no built site here; run `make build` first")
        serve(arguments.site, arguments.host, arguments.port)
    return 0


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
