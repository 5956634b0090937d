"""``trame tiles``: the tile step alone (``make tiles``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import territory_options, tile_workers

NAME = "tiles"
HELP = "construit seulement les tuiles vectorielles"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    territory_options(parser)
    parser.add_argument(
        "--output", type=Path, default=None, metavar="DOSSIER",
        help="dossier des tuiles (par défaut : tiles/<slug>/)",
    )  # fmt: skip


def run(arguments: argparse.Namespace) -> int:
    from ..tilestep import build_tiles_only

    with tile_workers(arguments.workers) as (workers, executor):
        build_tiles_only(
            arguments.config, arguments.data_dir, arguments.output, workers=workers,
            quiet=arguments.quiet, executor=executor,
        )  # fmt: skip
    return 0
