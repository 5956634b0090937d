"""The ``trame`` command: build, tiles, validate, serve, deploy. Thin: each command calls one stage."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import sys
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

from .config import THEMES
from .errors import UserError
from .paths import DEMO_CONFIG

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
        "--config", type=Path, default=None,
        help="configuration du territoire (YAML) ; par défaut trame.yml du dossier courant, "
        "sinon le territoire de démonstration",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, default=None,
        help="folder the config's data paths are relative to (default: the config's folder)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", default=None,
        help="tile workers: a number of local processes, or dask://host:8786 for a Dask cluster",
    )  # fmt: skip
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def _releases_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--releases", type=Path, default=None,
        help="history folder (default: the config's `releases`, else releases/<slug>/ beside the site)",
    )  # fmt: skip


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="trame", description=__doc__)
    main.add_argument(
        "--version", action="version", version=f"trame {version()}",
        help="affiche la version de Trame et s'arrête",
    )  # fmt: skip
    commands = main.add_subparsers(dest="command", required=True)

    new = commands.add_parser(
        "new", help="crée un dossier de territoire (configuration, légende, texte, données de "
        "démonstration) que `trame build` construit aussitôt",
    )  # fmt: skip
    new.add_argument("folder", type=Path, help="le dossier à créer (absent ou vide)")
    new.add_argument(
        "--name", default=None,
        help="nom du territoire, affiché sur chaque page (par défaut : le nom du dossier)",
    )  # fmt: skip

    build = commands.add_parser("build", help="build the whole static site")
    _territory_options(build)
    build.add_argument("--output", type=Path, default=Path("site"), help="site folder")
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    build.add_argument("--no-pdf", action="store_true", help="skip the PDF map sheets (faster)")
    build.add_argument(
        "--theme", choices=THEMES, default=None,
        help="the site's look (default: the config's `theme`, else default); dsfr: the State's "
        "design system, reserved to State services",
    )  # fmt: skip
    build.add_argument(
        "--version", default=None,
        help="release id (default: the config's `version`, else the data date YYYY-MM-DD)",
    )  # fmt: skip
    build.add_argument(
        "--replace", action="store_true",
        help="let this build change a published release (logged in the history)",
    )  # fmt: skip
    _releases_option(build)

    tiles = commands.add_parser("tiles", help="build the vector tiles only")
    _territory_options(tiles)
    tiles.add_argument("--output", type=Path, default=None, help="default: tiles/<slug>/")

    validate = commands.add_parser("validate", help="read and check the data, print the report")
    _territory_options(validate)
    validate.add_argument("--report", type=Path, default=None, help="also write the report (JSON)")

    serve = commands.add_parser("serve", help="serve the built site (answers HTTP Range)")
    serve.add_argument("--site", type=Path, default=Path("site"))
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)

    deploy = commands.add_parser(
        "deploy", help="publish the built site: rsync (folder or SSH), S3, or a git branch"
    )
    deploy.add_argument("--site", type=Path, default=Path("site"), help="the built site")
    deploy.add_argument("--target", help="rsync target: /var/www/tvb or user@host:/var/www/tvb")
    deploy.add_argument("--ssh", help="ssh command for an SSH target (default: $TRAME_SSH, ssh)")
    deploy.add_argument("--keep", type=int, default=5, help="releases kept on the target")
    deploy.add_argument("--s3-bucket", help="S3 bucket (default: $TRAME_S3_BUCKET)")
    deploy.add_argument("--s3-prefix", help="key prefix in the bucket ($TRAME_S3_PREFIX)")
    deploy.add_argument("--s3-endpoint", help="S3-compatible endpoint URL ($AWS_ENDPOINT_URL)")
    deploy.add_argument("--force", action="store_true", help="S3: upload unchanged files too")
    deploy.add_argument("--git-remote", help="git remote (URL or path) for a Pages branch")
    deploy.add_argument("--git-branch", default="gh-pages", help="branch (default: gh-pages)")
    deploy.add_argument(
        "--config", type=Path, default=DEFAULT_CONFIG, help="territory config (its `releases`)"
    )
    _releases_option(deploy)

    rollback = commands.add_parser("rollback", help="point an rsync target at its previous release")
    rollback.add_argument("--target", help="the same target as for deploy")
    rollback.add_argument("--ssh", help="ssh command for an SSH target (default: $TRAME_SSH, ssh)")

    init = commands.add_parser(
        "init", help="écrire la config d'un territoire à partir des données (SRCE, communes)",
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
    init.add_argument("--force", action="store_true", help="remplacer les fichiers déjà écrits")

    check = commands.add_parser("check-deploy", help="probe a live site like a browser would")
    check.add_argument("--url", help="the site's public address")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    return main


@contextlib.contextmanager
def tile_workers(spec: str | None) -> Iterator[tuple[int | None, Executor | None]]:
    """``--workers``: a number of local processes, or a Dask scheduler (dask://host:port) whose
    standard ``concurrent.futures`` executor the tile step uses unchanged."""
    if spec is None or spec.isdigit():
        yield (int(spec) if spec else None), None
        return
    if not spec.startswith("dask://"):
        raise UserError(f"--workers {spec!r}: give a number of processes or dask://host:port")
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--workers dask://…: install the `distributed` package") from None
    address = "tcp://" + spec.removeprefix("dask://")
    try:
        client = Client(address, timeout="10s")
    except OSError as error:
        raise UserError(f"--workers {spec}: cannot reach the Dask scheduler ({error})") from None
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
        from .build import build_tiles_only

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
                f"{layer.name}: {layer.read} lus, {layer.kept} gardés, {layer.repaired} réparés, "
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
            raise UserError(f"{arguments.site}: no built site here; run `make build` first")
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
                "say where to deploy, once: TARGET=/var/www/tvb or user@host:/var/www/tvb, "
                f"S3_BUCKET=..., or GIT_REMOTE=... (given: {', '.join(kinds) or 'none'})"
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
            raise UserError("say which deploy to roll back: TARGET=/var/www/tvb or user@host:/path")
        rollback_rsync(arguments.target, ssh=arguments.ssh)
    elif arguments.command == "check-deploy":
        from .deploy.check import check_site, report

        if not arguments.url:
            raise UserError("give the address of the site to check: URL=https://example.org/tvb/")
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
