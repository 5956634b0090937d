"""``trame validate``: read and check the data, print the report (``make validate``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import territory_options

NAME = "validate"
HELP = "lit et vérifie les données, affiche le rapport"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    territory_options(parser)
    parser.add_argument(
        "--report", type=Path, default=None, metavar="FICHIER",
        help="écrit aussi le rapport (JSON) dans ce fichier",
    )  # fmt: skip


def run(arguments: argparse.Namespace) -> int:
    from ..config import load_config
    from ..territory import load_territory

    territory = load_territory(load_config(arguments.config, arguments.data_dir))
    if arguments.report:
        from ..files import write_json

        write_json(arguments.report, territory.report.as_dict())
    for layer in territory.report.layers:
        print(
            f"{layer.name} ({layer.source}) : {layer.read} lus, {layer.kept} gardés, "
            f"{layer.repaired} réparés, "
            f"{layer.outside} hors du territoire, {layer.clipped} découpés"
        )
        for warning in layer.warnings:
            print(f"  attention : {warning}")
    for source in territory.report.sources:
        if source.warning():
            print(f"attention : {source.warning()}")
    return 0
