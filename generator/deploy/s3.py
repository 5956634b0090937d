"""Deploy to S3-compatible object storage (AWS, MinIO, Garage, Scaleway, OVH...) with boto3.

Object storage has no symlink to switch, so the order does the work: tiles, assets and the API
go up first, the HTML pages (which point at all of them) after, ``manifest.json`` last, and only
then are the objects of the previous build that the new one no longer has deleted. Unchanged
objects (same size and MD5 ETag) are skipped. Every check that can fail without harm (settings,
credentials, the endpoint, the bucket) runs before the first upload.

Credentials come only from boto3's usual chain (environment, ``~/.aws``, instance roles); this
module never reads, prints or writes them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..files import file_digest
from . import MANIFEST, BuiltSite, load_site
from .policy import RELEASE_PATH, cache_control, content_type, is_page


@dataclass(frozen=True)
class Settings:
    bucket: str
    prefix: str  # "" or ending with "/"
    endpoint: str | None


@dataclass
class Report:
    """What a deploy did, in order."""

    uploaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)


def settings(bucket: str | None, prefix: str | None, endpoint: str | None) -> Settings:
    """Options win over $TRAME_S3_BUCKET, $TRAME_S3_PREFIX, $AWS_ENDPOINT_URL."""
    bucket = bucket or os.environ.get("TRAME_S3_BUCKET")
    if not bucket:
        raise UserError("S3 : aucun bucket indiqué ; donnez S3_BUCKET=… (ou TRAME_S3_BUCKET)")
    prefix = (prefix if prefix is not None else os.environ.get("TRAME_S3_PREFIX", "")).strip("/")
    endpoint = endpoint or os.environ.get("TRAME_S3_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL")
    return Settings(bucket, f"{prefix}/" if prefix else "", endpoint or None)


def make_client(where: Settings) -> Any:
    """An S3 client; refuses early when no credentials can be found."""
    import boto3
    from botocore.config import Config

    session = boto3.session.Session()
    if session.get_credentials() is None:
        raise UserError(
            f"S3 {where.bucket} : aucun identifiant trouvé ; définissez AWS_ACCESS_KEY_ID et "
            "AWS_SECRET_ACCESS_KEY (ou AWS_PROFILE, ou ~/.aws/credentials)"
        )
    config = Config(
        connect_timeout=10, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"},
        # Checksums only when required: many S3-compatible servers reject the newer defaults.
        request_checksum_calculation="when_required", response_checksum_validation="when_required",
    )  # fmt: skip
    return session.client("s3", endpoint_url=where.endpoint, config=config)


@contextlib.contextmanager
def errors(where: Settings, doing: str) -> Iterator[None]:
    """boto3's exceptions become one sentence naming the bucket and what to do."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    name = f"S3 {where.bucket}" + (f" sur {where.endpoint}" if where.endpoint else "")
    try:
        yield
    except NoCredentialsError:
        raise UserError(
            f"{name} : aucun identifiant trouvé ; définissez AWS_ACCESS_KEY_ID et "
            "AWS_SECRET_ACCESS_KEY"
        ) from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        hint = {
            "404": "le bucket n'existe pas ; créez-le ou vérifiez S3_BUCKET",
            "NoSuchBucket": "le bucket n'existe pas ; créez-le ou vérifiez S3_BUCKET",
            "403": "accès refusé ; vérifiez les identifiants et la politique d'accès du bucket",
            "AccessDenied": "accès refusé ; vérifiez les identifiants et la politique d'accès "
            "du bucket",
            "InvalidAccessKeyId": "clé d'accès inconnue ici ; vérifiez AWS_ACCESS_KEY_ID",
            "SignatureDoesNotMatch": "clé secrète erronée ; vérifiez AWS_SECRET_ACCESS_KEY",
        }.get(code, f"erreur {code} ; réessayez, ou voyez le journal du service S3")
        raise UserError(f"{name} : impossible de {doing} : {hint}") from None
    except BotoCoreError as error:  # endpoint unreachable, timeouts, bad URL...
        raise UserError(
            f"{name} : impossible de {doing} ({error}) ; vérifiez S3_ENDPOINT et le réseau"
        ) from None


def existing_objects(client: Any, where: Settings) -> dict[str, tuple[int, str]]:
    """Every object under the prefix: key -> (size, ETag without quotes)."""
    found: dict[str, tuple[int, str]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=where.bucket, Prefix=where.prefix
    ):
        for item in page.get("Contents", []):
            found[item["Key"]] = (item["Size"], item.get("ETag", "").strip('"'))
    return found


def unchanged(path: Path, remote: tuple[int, str] | None) -> bool:
    """Same size and same MD5 as the object's ETag (single-part uploads, what we make)."""
    return (
        remote is not None
        and remote[0] == path.stat().st_size
        and remote[1] == file_digest(path, "md5")
    )


def upload_order(files: list[str]) -> list[list[str]]:
    """Phases: everything but pages, then the pages, then the manifest; in each, sorted."""
    rest = sorted(p for p in files if not is_page(p) and p != MANIFEST)
    pages = sorted(p for p in files if is_page(p))
    return [rest, pages, [MANIFEST] if MANIFEST in files else []]


def put(client: Any, built: BuiltSite, where: Settings, path: str) -> None:
    with (built.root / path).open("rb") as body:
        client.put_object(
            Bucket=where.bucket, Key=where.prefix + path, Body=body,
            ContentType=content_type(path), CacheControl=cache_control(path),
            Metadata={"sha256": built.files[path]},
        )  # fmt: skip


def deploy_s3(
    site: Path, bucket: str | None = None, prefix: str | None = None,
    endpoint: str | None = None, *, client: Any = None, force: bool = False, workers: int = 8,
    log: Callable[[str], None] = print,
) -> Report:  # fmt: skip
    """Upload ``site`` under the prefix (pages last), then delete what the build no longer has.

    The prefix belongs to the site: any other object under it is removed after the upload.
    """
    built = load_site(site)
    where = settings(bucket, prefix, endpoint)
    client = client or make_client(where)
    report = Report()
    with errors(where, "joindre le bucket"):
        client.head_bucket(Bucket=where.bucket)
    with errors(where, "lister les objets"):
        remote = existing_objects(client, where)
    with errors(where, "envoyer les fichiers"), ThreadPoolExecutor(max_workers=workers) as pool:
        for phase in upload_order(list(built.files)):
            todo = [
                p
                for p in phase
                if force or not unchanged(built.root / p, remote.get(where.prefix + p))
            ]
            report.skipped += [p for p in phase if p not in todo]
            list(pool.map(lambda p: put(client, built, where, p), todo))  # waits for the phase
            report.uploaded += todo
    keys = {where.prefix + p for p in built.files}
    # A release, once published, stays: its objects are never deleted, even when this build's
    # history lost it (generator/releases).
    report.deleted = sorted(
        key for key in remote
        if key not in keys and not RELEASE_PATH.match(key.removeprefix(where.prefix))
    )  # fmt: skip
    with errors(where, "supprimer les anciens objets"):
        for start in range(0, len(report.deleted), 1000):
            batch = report.deleted[start : start + 1000]
            answer = client.delete_objects(
                Bucket=where.bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
            )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise UserError(
                    f"S3 {where.bucket} : impossible de supprimer {first.get('Key')} "
                    f"({first.get('Code')}) ; le nouveau site est en ligne, d'anciens objets "
                    "restent : supprimez-les à la main ou relancez le déploiement"
                )
    log(
        f"Publié : s3://{where.bucket}/{where.prefix} ({len(report.uploaded)} envoyés, "
        f"{len(report.skipped)} inchangés, {len(report.deleted)} supprimés)"
    )
    return report
