"""The ``trame`` command: build, tiles, validate, serve, deploy. Thin: each command calls one stage."""

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

    rollback = commands.add_parser("rollback", help="point an rsync target at its previous release")
    rollback.add_argument("--target", help="the same target as for deploy")
    rollback.add_argument("--ssh", help="ssh command for an SSH target (default: $TRAME_SSH, ssh)")

    check = commands.add_parser("check-deploy", help="probe a live site like a browser would")
    check.add_argument("--url", help="the site's public address")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
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
