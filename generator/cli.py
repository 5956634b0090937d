"""The ``trame`` command: build, tiles, validate, serve, deploy. Thin: each command calls one stage."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

from .argparse_fr import FrenchParser
from .config import THEMES
from .errors import UserError
from .paths import DEMO_CONFIG

DESCRIPTION = (
    "Trame : le site de consultation d'une trame verte et bleue (SRCE), commune par commune. "
    "Chaque commande fait une étape : new, init, build, tiles, validate, serve, deploy, "
    "rollback, check-deploy ; trame COMMANDE --help dit ce qu'elle attend."
)
DEFAULT_CONFIG = DEMO_CONFIG
LOCAL_CONFIG = Path("trame.yml")
"""Read by default when in the current folder (``trame new`` writes it)."""


def default_config() -> Path:
    """``trame.yml`` in the current folder if there is one, else the packaged demo territory."""
    return LOCAL_CONFIG if LOCAL_CONFIG.is_file() else DEFAULT_CONFIG


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("trame")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "inconnue (non installée)"


def _territory_options(parser: argparse.ArgumentParser) -> None:
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


def _releases_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--releases", type=Path, default=None, metavar="DOSSIER",
        help="dossier de l'historique des versions (par défaut : la clé releases de la "
        "configuration, sinon releases/<slug>/ à côté du site)",
    )  # fmt: skip


def parser() -> argparse.ArgumentParser:
    main = FrenchParser(prog="trame", description=DESCRIPTION)
    main.add_argument(
        "--version", action="version", version=f"trame {version()}",
        help="affiche la version de Trame et s'arrête",
    )  # fmt: skip
    commands = main.add_subparsers(
        dest="command", required=True, metavar="COMMANDE", title="commandes"
    )

    new = commands.add_parser(
        "new", help="crée un dossier de territoire (configuration, légende, texte, données de "
        "démonstration) que `trame build` construit aussitôt",
    )  # fmt: skip
    new.add_argument(
        "folder", type=Path, metavar="DOSSIER", help="le dossier à créer (absent ou vide)"
    )
    new.add_argument(
        "--name", default=None, metavar="NOM",
        help="nom du territoire, affiché sur chaque page (par défaut : le nom du dossier)",
    )  # fmt: skip

    build = commands.add_parser("build", help="construit tout le site statique")
    _territory_options(build)
    build.add_argument(
        "--output", type=Path, default=Path("site"), metavar="DOSSIER",
        help="dossier du site (par défaut : site)",
    )  # fmt: skip
    build.add_argument(
        "--force", action="store_true", help="reconstruit même si rien n'a changé"
    )  # fmt: skip
    build.add_argument("--no-pdf", action="store_true", help="sans les cartes PDF (plus rapide)")
    build.add_argument(
        "--theme", choices=THEMES, default=None,
        help="l'apparence du site (par défaut : la clé theme de la configuration, sinon "
        "default) ; dsfr : le système de design de l'État, réservé aux services de l'État",
    )  # fmt: skip
    build.add_argument(
        "--version", default=None,
        help="identifiant de la version construite (par défaut : la clé version de la "
        "configuration, sinon la date des données AAAA-MM-JJ)",
    )  # fmt: skip
    build.add_argument(
        "--replace", action="store_true",
        help="permet à cette construction de changer une version publiée (noté dans "
        "l'historique)",
    )  # fmt: skip
    _releases_option(build)

    tiles = commands.add_parser("tiles", help="construit seulement les tuiles vectorielles")
    _territory_options(tiles)
    tiles.add_argument(
        "--output", type=Path, default=None, metavar="DOSSIER",
        help="dossier des tuiles (par défaut : tiles/<slug>/)",
    )  # fmt: skip

    validate = commands.add_parser(
        "validate", help="lit et vérifie les données, affiche le rapport"
    )  # fmt: skip
    _territory_options(validate)
    validate.add_argument(
        "--report", type=Path, default=None, metavar="FICHIER",
        help="écrit aussi le rapport (JSON) dans ce fichier",
    )  # fmt: skip

    serve = commands.add_parser(
        "serve", help="sert le site construit (répond aux requêtes HTTP Range)"
    )  # fmt: skip
    serve.add_argument(
        "--site", type=Path, default=Path("site"), metavar="DOSSIER",
        help="dossier du site construit (par défaut : site)",
    )  # fmt: skip
    serve.add_argument(
        "--host", default="127.0.0.1", metavar="ADRESSE",
        help="adresse d'écoute (par défaut : 127.0.0.1)",
    )  # fmt: skip
    serve.add_argument(
        "--port", type=int, default=8000, help="port d'écoute (par défaut : 8000)"
    )  # fmt: skip

    deploy = commands.add_parser(
        "deploy", help="publie le site construit : rsync (dossier ou SSH), S3, ou branche git"
    )
    deploy.add_argument(
        "--site", type=Path, default=Path("site"), metavar="DOSSIER",
        help="le site construit (par défaut : site)",
    )  # fmt: skip
    deploy.add_argument(
        "--target", metavar="CIBLE",
        help="cible rsync : /var/www/tvb ou utilisateur@hôte:/var/www/tvb",
    )  # fmt: skip
    deploy.add_argument(
        "--ssh", metavar="COMMANDE",
        help="commande ssh pour une cible SSH (par défaut : $TRAME_SSH, sinon ssh)",
    )  # fmt: skip
    deploy.add_argument(
        "--keep", type=int, default=5, metavar="N",
        help="nombre de versions gardées sur la cible (par défaut : 5)",
    )  # fmt: skip
    deploy.add_argument(
        "--s3-bucket", metavar="BUCKET", help="bucket S3 (par défaut : $TRAME_S3_BUCKET)"
    )  # fmt: skip
    deploy.add_argument(
        "--s3-prefix", metavar="PRÉFIXE", help="préfixe des clés dans le bucket ($TRAME_S3_PREFIX)"
    )  # fmt: skip
    deploy.add_argument(
        "--s3-endpoint", metavar="URL",
        help="adresse d'un service compatible S3 ($AWS_ENDPOINT_URL)",
    )  # fmt: skip
    deploy.add_argument(
        "--force", action="store_true", help="S3 : envoie aussi les fichiers inchangés"
    )  # fmt: skip
    deploy.add_argument(
        "--git-remote", metavar="DÉPÔT",
        help="dépôt git (adresse ou chemin) d'une branche Pages",
    )  # fmt: skip
    deploy.add_argument(
        "--git-branch", default="gh-pages", metavar="BRANCHE",
        help="branche (par défaut : gh-pages)",
    )  # fmt: skip
    deploy.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, metavar="FICHIER",
        help="configuration du territoire (pour sa clé releases)",
    )  # fmt: skip
    _releases_option(deploy)

    rollback = commands.add_parser(
        "rollback", help="remet une cible rsync sur sa version précédente"
    )  # fmt: skip
    rollback.add_argument(
        "--target", metavar="CIBLE", help="la même cible que pour deploy"
    )  # fmt: skip
    rollback.add_argument(
        "--ssh", metavar="COMMANDE",
        help="commande ssh pour une cible SSH (par défaut : $TRAME_SSH, sinon ssh)",
    )  # fmt: skip

    init = commands.add_parser(
        "init", help="écrit la configuration d'un territoire à partir des données (SRCE, communes)",
        description="Inspecte les données (dossiers, zip, GeoPackage, GeoJSON, FlatGeobuf), "
        "reconnaît les tables SRCE du standard COVADIS et une couche de communes (IGN Admin "
        "Express), puis écrit dans un dossier la config du territoire, sa légende, ses communes "
        "et un texte, prêts pour trame build.",
    )  # fmt: skip
    init.add_argument(
        "data", nargs="+", type=Path, metavar="DONNÉES",
        help="fichiers ou dossiers de données : tables SRCE et couche des communes",
    )  # fmt: skip
    chosen = init.add_mutually_exclusive_group()
    chosen.add_argument("--epci", metavar="SIREN", help="les communes d'un EPCI (numéro SIREN)")
    chosen.add_argument("--departement", metavar="CODE", help="les communes d'un département")
    chosen.add_argument(
        "--insee", metavar="CODES", help="des communes par code INSEE, séparés par des virgules"
    )
    chosen.add_argument(
        "--communes", type=Path, metavar="FICHIER", help="un fichier de codes INSEE de communes"
    )
    init.add_argument(
        "--output", type=Path, default=None, metavar="DOSSIER",
        help="dossier du territoire (par défaut : le nom du territoire, dans le dossier courant)",
    )  # fmt: skip
    init.add_argument("--force", action="store_true", help="remplace les fichiers déjà écrits")

    check = commands.add_parser(
        "check-deploy", help="vérifie un site en ligne comme le ferait un navigateur"
    )  # fmt: skip
    check.add_argument("--url", metavar="URL", help="l'adresse publique du site")
    check.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDES",
        help="attente maximale par requête, en secondes (par défaut : 10)",
    )  # fmt: skip
    return main


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


def run(arguments: argparse.Namespace) -> int:
    if getattr(arguments, "config", False) is None:
        arguments.config = default_config()
    if arguments.command == "new":
        from .scaffold import new_territory

        written = new_territory(arguments.folder, arguments.name)
        names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in written)
        print(f"Territoire créé dans {arguments.folder} : {names}.")
        print("Ces données sont fictives : remplacez-les par les vôtres, puis adaptez trame.yml.")
        print(f"Pour construire le site : cd {shlex.quote(str(arguments.folder))} && trame build")
    elif arguments.command == "build":
        from .build import build_site

        with tile_workers(arguments.workers) as (workers, executor):
            build_site(
                arguments.config, arguments.data_dir, arguments.output, workers=workers,
                executor=executor, quiet=arguments.quiet, force=arguments.force,
                pdf=not arguments.no_pdf,
                theme=arguments.theme,
                version=arguments.version, replace=arguments.replace,
                releases_dir=arguments.releases,
            )  # fmt: skip
    elif arguments.command == "tiles":
        from .tilestep import build_tiles_only

        with tile_workers(arguments.workers) as (workers, executor):
            build_tiles_only(
                arguments.config, arguments.data_dir, arguments.output, workers=workers,
                quiet=arguments.quiet, executor=executor,
            )  # fmt: skip
    elif arguments.command == "validate":
        from .config import load_config
        from .territory import load_territory

        territory = load_territory(load_config(arguments.config, arguments.data_dir))
        if arguments.report:
            from .files import write_json

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
    elif arguments.command == "init":
        from .init.communes import make_selection
        from .init.run import init_territory

        selection = make_selection(
            arguments.epci, arguments.departement, arguments.insee, arguments.communes
        )
        init_territory(arguments.data, selection, arguments.output, force=arguments.force)
    elif arguments.command == "serve":
        from .serve import serve

        if not (arguments.site / "index.html").is_file():
            raise UserError(
                f"{arguments.site} : aucun site construit ici ; lancez d'abord `make build` "
                "(ou trame build)"
            )
        serve(arguments.site, arguments.host, arguments.port)
    elif arguments.command == "deploy":
        import os

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
        from .releases.publish import mark_published, releases_of

        pending = releases_of(arguments.site, arguments.config, arguments.releases)
        if arguments.target:
            from .deploy.rsync import deploy_rsync

            deploy_rsync(arguments.site, arguments.target, keep=arguments.keep, ssh=arguments.ssh)
        elif arguments.git_remote:
            from .deploy.gitbranch import deploy_git

            deploy_git(arguments.site, arguments.git_remote, arguments.git_branch)
        else:
            from .deploy.s3 import deploy_s3

            deploy_s3(
                arguments.site, arguments.s3_bucket, arguments.s3_prefix,
                arguments.s3_endpoint, force=arguments.force,
            )  # fmt: skip
        mark_published(pending, arguments.target or arguments.git_remote or "S3")
    elif arguments.command == "rollback":
        from .deploy.rsync import rollback_rsync

        if not arguments.target:
            raise UserError(
                "indiquez quel déploiement remettre en arrière : TARGET=/var/www/tvb ou "
                "utilisateur@hôte:/chemin"
            )
        rollback_rsync(arguments.target, ssh=arguments.ssh)
    elif arguments.command == "check-deploy":
        from .deploy.check import check_site, report

        if not arguments.url:
            raise UserError("donnez l'adresse du site à vérifier : URL=https://example.org/tvb/")
        text, passed = report(check_site(arguments.url, arguments.timeout))
        print(text)
        return 0 if passed else 1
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
