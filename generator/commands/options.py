"""What several commands share: the territory's options, the history's, ``--workers``."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

from ..errors import UserError
from ..paths import DEMO_CONFIG

DEFAULT_CONFIG = DEMO_CONFIG
LOCAL_CONFIG = Path("trame.yml")
"""Read by default when in the current folder (``trame new`` writes it)."""


def default_config() -> Path:
    """``trame.yml`` in the current folder if there is one, else the packaged demo territory."""
    return LOCAL_CONFIG if LOCAL_CONFIG.is_file() else DEFAULT_CONFIG


def territory_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, default=None, metavar="FICHIER",
        help="configuration du territoire (YAML) ; par défaut trame.yml du dossier courant, "
        "sinon le territoire de démonstration",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, default=None, metavar="DOSSIER",
        help="dossier dont partent les chemins des données de la configuration (par défaut : "
        "le dossier de la configuration)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", default=None, metavar="N",
        help="calcul des tuiles : un nombre de processus locaux, ou dask://hôte:8786 pour une "
        "grappe Dask",
    )  # fmt: skip
    parser.add_argument("--quiet", "-q", action="store_true", help="sans affichage de l'avancement")


def site_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site", type=Path, default=Path("site"), metavar="DOSSIER",
        help="dossier du site construit (par défaut : site)",
    )  # fmt: skip


def releases_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--releases", type=Path, default=None, metavar="DOSSIER",
        help="dossier de l'historique des versions (par défaut : la clé releases de la "
        "configuration, sinon releases/<slug>/ à côté du site)",
    )  # fmt: skip


@contextlib.contextmanager
def tile_workers(spec: str | None) -> Iterator[tuple[int | None, Executor | None]]:
    """``--workers``: a number of local processes, or a Dask scheduler (dask://host:port) whose
    standard ``concurrent.futures`` executor the tile step uses unchanged."""
    if spec is None or spec.isdigit():
        yield (int(spec) if spec else None), None
        return
    if not spec.startswith("dask://"):
        raise UserError(f"--workers {spec!r} : donnez un nombre de processus ou dask://hôte:port")
    try:
        from distributed import Client
    except ImportError:
        raise UserError(
            "--workers dask://… : installez le paquet Python `distributed` (pip install distributed)"
        ) from None
    address = "tcp://" + spec.removeprefix("dask://")
    try:
        client = Client(address, timeout="10s")
    except OSError as error:
        raise UserError(
            f"--workers {spec} : impossible de joindre l'ordonnanceur Dask ({error}) ; vérifiez "
            "son adresse et qu'il est lancé"
        ) from None
    with client:
        workers = sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
        yield max(workers, 1), client.get_executor()
