"""``trame init DONNÉES…``: a territory's config written from its data (SRCE tables, communes)."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "init"
HELP = "écrit la configuration d'un territoire à partir des données (SRCE, communes)"
DESCRIPTION = (
    "Inspecte les données (dossiers, zip, GeoPackage, GeoJSON, FlatGeobuf), reconnaît les tables "
    "SRCE du standard COVADIS et une couche de communes (IGN Admin Express), puis écrit dans un "
    "dossier la config du territoire, sa légende, ses communes et un texte, prêts pour trame build."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data", nargs="+", type=Path, metavar="DONNÉES",
        help="fichiers ou dossiers de données : tables SRCE et couche des communes",
    )  # fmt: skip
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--epci", metavar="SIREN", help="les communes d'un EPCI (numéro SIREN)")
    chosen.add_argument("--departement", metavar="CODE", help="les communes d'un département")
    chosen.add_argument(
        "--insee", metavar="CODES", help="des communes par code INSEE, séparés par des virgules"
    )
    chosen.add_argument(
        "--communes", type=Path, metavar="FICHIER", help="un fichier de codes INSEE de communes"
    )
    parser.add_argument(
        "--output", type=Path, default=None, metavar="DOSSIER",
        help="dossier du territoire (par défaut : le nom du territoire, dans le dossier courant)",
    )  # fmt: skip
    parser.add_argument("--force", action="store_true", help="remplace les fichiers déjà écrits")


def run(arguments: argparse.Namespace) -> int:
    from ..init.communes import make_selection
    from ..init.run import init_territory

    selection = make_selection(
        arguments.epci, arguments.departement, arguments.insee, arguments.communes
    )
    init_territory(arguments.data, selection, arguments.output, force=arguments.force)
    return 0
