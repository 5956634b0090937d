"""The build's release steps: plan the release (its id, history and key), and record it (check
that a published release does not change, store its files, assemble the site from the history).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import memo
from ..cache import SITE_CODE, code_fingerprint, input_digest, inputs, site_key
from ..config import Config, build_date
from ..errors import UserError
from ..files import file_digest, parse_json, replace_folder, staging_folder
from .history import History, Release, history_folder, release_id, tree_listing
from .inplace import CURRENT, MANIFEST, InPlace
from .renamed import renamed_file
from .site import VERSIONS, CurrentAddresses, assemble_releases


@dataclass
class Plan:
    """The release a build makes: its id, the history it joins and its key."""

    id: str
    history: History
    key: str
    replace: bool = False

    @property
    def existing(self) -> Release | None:
        return self.history.get(self.id)

    def current_addresses(
        self, site: Path, tree: Path, config: Config, inplace: InPlace | None = None
    ) -> CurrentAddresses | None:
        """Where the build may make this release's current addresses as it renders it: only
        when the release will be the latest (a new id, or the latest rebuilt). ``inplace``:
        only those that differ from the site's."""
        if not self.becomes_latest():
            return None
        published = inplace.current if inplace is not None else None
        return CurrentAddresses(self.history, site, self.id, tree, site_url(config), published)

    def in_place(self, output: Path, force: bool) -> InPlace | None:
        """The site in ``output``, when this build may update it in place (not ``force``)."""
        if force or not self.becomes_latest():
            return None
        return InPlace.open(output, self.history, self.id, history_site_key(self.history))

    def becomes_latest(self) -> bool:
        """The release is a new one (it comes last) or the latest one built again."""
        latest = self.history.latest
        return self.existing is None or (latest is not None and latest.id == self.id)

    def unchanged(self) -> bool:
        """The release is in the history, whole, built from these exact inputs and code."""
        existing = self.existing
        return (
            existing is not None
            and existing.build_key == self.key
            and self.history.is_complete(existing)
        )


def plan_release(
    config: Config, output: Path, version: str | None, releases_dir: Path | None, replace: bool,
    *, pdf: bool = False,
) -> Plan:  # fmt: skip
    history = History.open(history_folder(config, output, releases_dir))
    identifier = release_id(config, version)
    return Plan(identifier, history, release_key(config, identifier, history, pdf=pdf), replace)


def site_url(config: Config) -> str | None:
    """The site's address with one final slash, or None."""
    return config.site_url.rstrip("/") + "/" if config.site_url else None


def release_key(config: Config, identifier: str, history: History, *, pdf: bool = False) -> str:
    """What a release's files depend on: the site's inputs and code, its id, the releases before
    it (its changes and its list of versions) and the renamed communes' file."""
    digest = hashlib.sha256(site_key(config, pdf=pdf).encode())
    digest.update(f"\0release={identifier}".encode())
    for release in history.before(identifier):
        digest.update(f"\0{release.id}={release.listing}".encode())
    renamed = renamed_file(config)
    if renamed is not None and renamed.is_file():
        digest.update(f"\0renamed={file_digest(renamed)}".encode())
    return digest.hexdigest()


def history_site_key(history: History) -> str:
    """The assembled site's key: every release's listing and the project's code."""
    digest = hashlib.sha256(code_fingerprint(*SITE_CODE).encode())
    for release in history.releases:
        digest.update(f"\0{release.id}={release.listing}".encode())
    return digest.hexdigest()


def assemble_site(
    history: History, site: Path, config: Config, fresh: tuple[str, Path] | None = None,
    made: CurrentAddresses | None = None,
) -> None:  # fmt: skip
    """``versions/<id>/`` for each release, the latest at the root, then the manifest
    (``fresh``, ``made``: see :func:`assemble_releases`)."""
    latest = history.latest
    assert latest is not None
    written = assemble_releases(history, site, site_url(config), fresh, made)
    current = {
        name: written.get(name, digest) for name, digest in history.listing(latest.id).items()
    }
    memo.write_json(MANIFEST, site / MANIFEST, site_manifest(history, config, site, current))


def update_site(
    history: History, inplace: InPlace, tree: Path, stored: dict[str, str],
    carried: dict[str, str], made: CurrentAddresses, config: Config,
) -> None:  # fmt: skip
    """The site changed in place into the release just stored (see :mod:`.inplace`): its
    current addresses made below ``made.root`` where they changed, then put in place."""
    listing = history.listing(inplace.release)
    made.stored()
    made.add({n: d for n, d in listing.items() if n not in made.done and n not in carried})
    before = inplace.current
    current = {
        name: made.written.get(name) or (before.get(name, d) if name in carried else d)
        for name, d in listing.items()
    }
    manifest = site_manifest(history, config, tree, current)
    memo.known_of_object(CURRENT, manifest["files"], current)  # (for the next build)
    inplace.update(tree, stored, listing, made, manifest, Path(made.root).parent)


def site_manifest(
    history: History, config: Config, release_dir: Path, current: dict[str, str]
) -> dict[str, Any]:
    """The manifest as assemble.write_manifest writes it, from the listings' digests: the files
    of the releases are not read again. ``current``: the digests of the files at the current
    addresses (a page there differs from its release's by its canonical link);
    ``release_dir``: where the latest release's ``api/communes.json`` is."""
    communes = parse_json((release_dir / "api" / "communes.json").read_bytes())
    files = {
        f"{VERSIONS}/{release.id}/{name}": digest
        for release in history.releases
        for name, digest in history.listing(release.id).items()
    }
    files.update(current)
    base = config.config_path.parent
    return {
        "files": files,  # (its keys sorted when written: index_json_bytes; not before, ~8 ms)
        "inputs": {
            Path(os.path.relpath(p, base)).as_posix(): input_digest(p)
            for p in sorted(set(inputs(config)))
        },
        "build_key": history_site_key(history),
        "communes": len(communes),
        "releases": [r.id for r in history.releases],
        "territory": config.slug,
    }


def reassemble(plan: Plan, output: Path, config: Config) -> None:
    """The site again from the history alone (nothing is read or computed)."""
    with staging_folder(output) as staging:
        assemble_site(plan.history, staging / "site", config)
        replace_folder(staging / "site", output)


def record_release(
    plan: Plan, tree: Path, site: Path, config: Config, summary: dict[str, Any] | None,
    known: dict[str, str] | None = None, cache: dict[str, Any] | None = None,
    made: CurrentAddresses | None = None, carried: dict[str, str] | None = None,
    inplace: InPlace | None = None,
) -> str | None:  # fmt: skip
    """Store the release built in ``tree``, assemble the site into ``site`` (or, with
    ``inplace``, update the site where it is), then write the history; the event logged (None
    when the release came out identical). ``known``: digests of files of ``tree`` already
    computed; ``cache``: what the next build of this release may reuse
    (:meth:`History.save_cache`); ``made``: current addresses made during the build
    (:meth:`Plan.current_addresses`); ``carried``: files of the release not in ``tree``,
    already in the site being updated in place.

    A published release whose files would change is refused unless ``--replace``; so is a change
    to a release that is not the latest (the ones after it were compared with it).
    """
    history = plan.history
    stored = tree_listing(tree, known)
    carried = carried or {}
    listing = dict(sorted({**stored, **carried}.items())) if carried else stored
    existing = plan.existing
    event: str | None = "build"
    if existing is not None:
        old = history.listing(existing.id) if history.is_complete(existing) else None
        if old == listing:
            event = None
        else:
            refuse(plan, existing, listing, old or {})
            event = "replace" if plan.replace else "rebuild"
    history.store(tree, stored)
    release = Release(
        id=plan.id,
        date=build_date(config).date().isoformat(),
        data_date=config.data_date.isoformat(),
        listing="",
        build_key=plan.key,
        published=existing.published if existing else None,
        summary=summary,
    )
    history.add(release, listing)
    if inplace is None:
        assemble_site(history, site, config, (plan.id, tree), made)
    else:
        assert made is not None, "a site updated in place has the release's current addresses"
        update_site(history, inplace, tree, stored, carried, made, config)
    details = {"event": event, "release": plan.id, "files": len(listing)} if event else None
    if event == "replace" and existing is not None:
        details = {**(details or {}), "previously_published": existing.published}
    history.save(plan.id, details)
    if cache is not None:
        history.save_cache(plan.id, cache)
    return event


def refuse(plan: Plan, existing: Release, listing: dict[str, str], old: dict[str, str]) -> None:
    """A published release, or one that is not the latest, does not change without --replace
    (``listing``: its files now, ``old``: as recorded)."""
    history, latest = plan.history, plan.history.latest
    if plan.replace or not (
        existing.published or (latest is not None and latest.id != existing.id)
    ):
        return
    # (only to say what would change: ~0.015 s of every rebuild of Nord's latest release)
    changed = sorted(n for n in set(listing) | set(old) if listing.get(n) != old.get(n))
    example = f" (par exemple {changed[0]})" if changed else ""
    what = f"Cette construction en changerait {len(changed)} fichier(s){example}."
    if existing.published:
        raise UserError(
            f"{history.folder} : la version « {existing.id} » a été publiée le "
            f"{existing.published[:10]} (make deploy) : ses fichiers ne changent plus. {what} "
            "Donnez un nouvel identifiant de version (make build VERSION=…, ou `version` dans la "
            "configuration), ou remplacez la version publiée avec REPLACE=1 (--replace) : le "
            "remplacement est noté dans l'historique."
        )
    if latest is not None and latest.id != existing.id:
        raise UserError(
            f"{history.folder} : la version « {existing.id} » n'est pas la dernière (« {latest.id} » "
            f"la suit et s'y compare). {what} Donnez un nouvel identifiant de version "
            "(make build VERSION=…), ou REPLACE=1 (--replace) pour la remplacer quand même."
        )
