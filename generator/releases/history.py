"""The history folder: every release's files, stored once by content, and a log of releases.

Layout (``releases/<slug>/`` by default, beside the site folder; the config's ``releases`` key or
``--releases`` choose another)::

    history.json              the releases in order (id, dates, listing digest, build key,
                              published or not, summary of changes) and the log of events
    listings/<id>.json        one release: {"files": {site path: SHA-256}}
    objects/<aa>/<bbbb…>      a file's bytes, named by their SHA-256: stored once for every
                              release (and every path) that holds them
    LISEZMOI.txt              what this folder is, for whoever finds it

Objects are only ever added; a listing and ``history.json`` are replaced atomically (written
aside, then renamed) and last, so a build that fails leaves every release as it was. Losing the
site folder loses nothing: the next build assembles it again from here. ``make clean`` never
touches this folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import memo
from ..config import Config
from ..errors import UserError
from ..files import file_digest, index_json_bytes, json_bytes, parse_json

HISTORY = "history.json"
LISTINGS = "listings"
OBJECTS = "objects"
CACHES = "caches"
README = "LISEZMOI.txt"
FORMAT = 1
_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")

README_TEXT = """\
Historique des versions publiées du site Trame de ce territoire.

Ce dossier garde chaque version (release) du site, fichier par fichier : un fichier identique
d'une version à l'autre (une tuile, une page inchangée) n'y est stocké qu'une fois (objects/).
history.json liste les versions, dit lesquelles ont été publiées (make deploy) et garde le
journal des remplacements (--replace). Une version publiée ne change plus : une construction qui
la modifierait est refusée.

Gardez ce dossier et sauvegardez-le : le site (site/) se reconstruit à partir de lui, mais pas
l'inverse. `make clean` n'y touche pas. Ne modifiez pas ses fichiers à la main.
"""


def release_id(config: Config, version: str | None) -> str:
    """``--version``, else the config's ``version``, else the data date (``YYYY-MM-DD``)."""
    chosen = version or config.version or config.data_date.isoformat()
    if not _ID.match(chosen) or chosen in {".", ".."}:
        raise UserError(
            f"{config.config_path} : identifiant de version {chosen!r} invalide ; utilisez des "
            "lettres, des chiffres, « . », « _ » ou « - » (64 caractères au plus), "
            "par exemple VERSION=2016-09"
        )
    return chosen


def history_folder(config: Config, site: Path, override: Path | None = None) -> Path:
    """``--releases``, else the config's ``releases``, else ``releases/<slug>/`` beside the site."""
    return (override or config.releases or site.parent / "releases" / config.slug).resolve()


@dataclass(frozen=True)
class Release:
    id: str
    date: str
    """The release's date (ISO): the build date, SOURCE_DATE_EPOCH or else the data date."""
    data_date: str
    listing: str
    """SHA-256 of ``listings/<id>.json``."""
    build_key: str
    """The cache key of everything the release was built from: same key, same files."""
    files: int = 0
    published: str | None = None
    """When ``make deploy`` first published it (UTC, ISO 8601); None until then."""
    summary: dict[str, Any] | None = None
    """Counts of changes against the previous release (None for the first one)."""


@dataclass
class History:
    folder: Path
    releases: list[Release] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    _listings: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _written: dict[str, bytes] = field(default_factory=dict, repr=False)
    """The bytes of each listing :meth:`add` made, for :meth:`save` to write (the same bytes
    its digest names; made once: Nord's took ~15 ms)."""
    _complete: set[tuple[str, str]] = field(default_factory=set, repr=False)
    """(id, listing digest) of the releases :meth:`is_complete` found whole: objects are only
    ever added to a history, so one check per build is enough."""

    @classmethod
    def open(cls, folder: Path) -> History:
        path = folder / HISTORY
        if not path.is_file():
            return cls(folder)
        try:
            data = parse_json(path.read_bytes())
            releases = [Release(**entry) for entry in data["releases"]]
            log = list(data.get("log", []))
        except (ValueError, KeyError, TypeError) as error:
            raise UserError(
                f"{path} : historique des versions illisible ({error}) ; restaurez-le depuis "
                "votre sauvegarde, ou indiquez un autre dossier avec RELEASES=…"
            ) from None
        return cls(folder, releases, log)

    # Reading -------------------------------------------------------------------------------

    def get(self, identifier: str) -> Release | None:
        return next((r for r in self.releases if r.id == identifier), None)

    @property
    def latest(self) -> Release | None:
        return self.releases[-1] if self.releases else None

    def before(self, identifier: str) -> list[Release]:
        """The releases before ``identifier`` (all of them when it is a new id)."""
        ids = [r.id for r in self.releases]
        return self.releases[: ids.index(identifier)] if identifier in ids else list(self.releases)

    def previous(self, identifier: str) -> Release | None:
        earlier = self.before(identifier)
        return earlier[-1] if earlier else None

    def listing(self, identifier: str) -> dict[str, str]:
        if identifier not in self._listings:
            release = self.get(identifier)
            path = self.folder / LISTINGS / f"{identifier}.json"
            self._listings[identifier] = _read_listing(
                str(path), release.listing if release else ""
            )
        return self._listings[identifier]

    def __getstate__(self) -> dict[str, Any]:
        """Sent to a worker without the listings read so far (a national release's listing has
        hundreds of thousands of files): the worker reads those it needs, once per process."""
        return {**self.__dict__, "_listings": {}, "_written": {}}

    def object_file(self, digest: str) -> str:
        """Where the object of this SHA-256 is (a string: cheaper than a Path, for loops over
        every file of a release)."""
        return f"{self.folder}/{OBJECTS}/{digest[:2]}/{digest[2:]}"

    def object_path(self, digest: str) -> Path:
        return Path(self.object_file(digest))

    def read_bytes(self, identifier: str, path: str) -> bytes | None:
        digest = self.listing(identifier).get(path)
        return None if digest is None else self.object_path(digest).read_bytes()

    def read_json(self, identifier: str, path: str) -> Any:
        data = self.read_bytes(identifier, path)
        return None if data is None else parse_json(data)

    def is_complete(self, release: Release) -> bool:
        """Its listing is the one recorded and every object it names is there."""
        if (release.id, release.listing) in self._complete:
            return True
        path = self.folder / LISTINGS / f"{release.id}.json"
        if not path.is_file() or file_digest(path) != release.listing:
            return False
        wanted = memo.value(
            "objects wanted", lambda: release.listing.encode(),
            lambda: _by_folder(self.listing(release.id).values()),
        )  # fmt: skip
        if self._has_objects(wanted):
            self._complete.add((release.id, release.listing))
            return True
        return False

    def _has_objects(self, wanted: dict[str, frozenset[str]]) -> bool:
        """Every object of ``wanted`` (:func:`_by_folder`) is there: one listing per objects
        folder, not one stat per object (Nord, 8,905 objects: 16 ms instead of 45 ms)."""
        try:
            return all(
                names <= _folder_names(f"{self.folder}/{OBJECTS}/{prefix}")
                for prefix, names in wanted.items()
            )
        except (FileNotFoundError, NotADirectoryError):
            return False

    # Writing -------------------------------------------------------------------------------

    def store(self, tree: Path, listing: dict[str, str]) -> None:
        """Add the files of ``tree`` to the objects (those already there are kept as they are),
        and make each file of ``tree`` the object itself (a hard link), so that ``tree`` can
        join the site as it is and take no space of its own."""
        folders: set[str] = set()
        for name, digest in sorted(listing.items()):
            target, source = self.object_file(digest), f"{tree}/{name}"
            try:
                existing = os.stat(target)
            except FileNotFoundError:
                existing = None
            if existing is None:
                folder = target.rpartition("/")[0]
                if folder not in folders:
                    os.makedirs(folder, exist_ok=True)
                    folders.add(folder)
                try:
                    os.link(source, target)
                except FileExistsError:
                    pass
                except OSError:  # another file system: copy aside, then rename into place
                    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".tmp-")
                    os.close(handle)
                    shutil.copyfile(source, temporary)
                    os.replace(temporary, target)
            elif existing.st_ino != os.stat(source).st_ino:  # same bytes, made again
                with contextlib.suppress(OSError):  # else (another file system) kept as is
                    os.link(target, source + ".~objet")
                    os.replace(source + ".~objet", source)
        if memo.active():  # (their listings kept: see _folder_names)
            for folder in sorted(folders):
                _folder_names(folder, ours=True)

    def add(self, release: Release, listing: dict[str, str]) -> Release:
        """Put ``release`` (new, or replacing the one of the same id) in this history, in memory:
        :meth:`save` writes it."""
        data = listing_bytes(listing)
        release = replace(release, listing=_sha256(data), files=len(listing))
        self._written[release.id] = data
        self._listings[release.id] = dict(listing)
        ids = [r.id for r in self.releases]
        if release.id in ids:
            self.releases[ids.index(release.id)] = release
        else:
            self.releases.append(release)
        return release

    def save(self, release: str | None = None, event: dict[str, Any] | None = None) -> None:
        """Write ``release``'s listing (when given), then ``history.json``, each atomically."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if release is not None:
            path = self.folder / LISTINGS / f"{release}.json"
            data = self._written.pop(release, None) or listing_bytes(self._listings[release])
            _atomic_bytes(path, data)
            _keep_listing(str(path), _sha256(data), self._listings[release])
        if event:
            self.log.append({"at": _now(), **event})
        data = {"format": FORMAT, "releases": [asdict(r) for r in self.releases], "log": self.log}
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"
        _atomic_bytes(self.folder / HISTORY, text.encode())
        readme = self.folder / README
        if not readme.is_file():
            readme.write_text(README_TEXT, encoding="utf-8")

    def save_cache(self, release: str, data: dict[str, Any]) -> None:
        """What an incremental rebuild of ``release`` may reuse (its communes' keys…), tied to
        its listing as recorded now: :meth:`read_cache` gives it back while they match."""
        recorded = self.get(release)
        assert recorded is not None
        # (orjson, with the standard library's bytes: ~5 ms a warm Nord build with the latter)
        written = json_bytes({"listing": recorded.listing, **data})
        _atomic_bytes(self.folder / CACHES / f"{release}.json", written)

    def read_cache(self, release: str) -> dict[str, Any] | None:
        """:meth:`save_cache`'s data, if it is the one of ``release``'s files as recorded."""
        recorded = self.get(release)
        try:
            data = parse_json((self.folder / CACHES / f"{release}.json").read_bytes())
        except (OSError, ValueError):
            return None
        if recorded is None or data.pop("listing", None) != recorded.listing:
            return None
        return data

    def mark_published(self, ids: Iterable[str], target: str) -> list[str]:
        """Record that ``ids`` are now published at ``target``; the ones newly published."""
        wanted, now, newly = set(ids), _now(), []
        for index, release in enumerate(self.releases):
            if release.id in wanted and release.published is None:
                self.releases[index] = replace(release, published=now)
                newly.append(release.id)
        self.save(event={"event": "publish", "releases": sorted(wanted), "target": target})
        return newly


LOCK = ".verrou"


@contextlib.contextmanager
def history_lock(folder: Path) -> Iterator[None]:
    """Hold the history folder for one build or one deploy at a time (an advisory lock on
    ``folder/.verrou``, released when the process ends, even killed): two builds writing one
    history would each save it without the other's release."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(
                f"{folder} : une autre construction ou une autre publication utilise déjà cet "
                "historique des versions ; attendez qu'elle se termine, puis relancez"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_LISTINGS: dict[tuple[str, str], dict[str, str]] = {}
"""The last listings this process read or wrote, by (path, digest): a process that builds again
and again (``trame serve --watch``) finds the one it wrote at the last build, not parsed back
(Hauts-de-France's ~52,000 files: ~0.1 s of JSON per build)."""


SETTLED_NS = 1_000_000_000
"""How long after its last change a folder's listing is kept (:func:`_folder_names`): a change
made in the same tick of the file system's clock as an earlier one leaves its time as it was."""


def _folder_names(path: str, ours: bool = False) -> frozenset[str]:
    """The names in a folder. A warm process keeps a folder's listing while its modification
    time stays the same (an entry added or removed changes it), when that time was over a
    second old at listing time. Nord, a reservoir moved: listing the 256 objects folders took
    ~0.02–0.03 s at the start of each warm build; a build stores objects in ~70 of them.

    ``ours``: :meth:`History.store` has just written to it: its listing is kept however recent
    the change, since the releases' lock keeps other builds out and a history's objects are
    only ever added (the folder changes next at the next build's store, later than the file
    system's clock tick). Without it the next build listed again the ~75 folders the last
    one had written within the second: 15–35 ms of each warm Nord build (``listdir`` ~0.3 ms
    each while the tile thread held the interpreter, ~0.02 ms alone; ``/tmp`` probe)."""
    if not memo.active():
        return frozenset(os.listdir(path))
    changed = os.stat(path).st_mtime_ns
    key = memo.key(path, str(changed))
    (names,) = memo.lookup("objects folder", [key])
    if names is None:
        names = frozenset(os.listdir(path))
        if ours or time.time_ns() - changed > SETTLED_NS:
            memo.keep("objects folder", [key], [names])
    return names


def _by_folder(digests: Iterable[str]) -> dict[str, frozenset[str]]:
    """The objects of ``digests``, folder by folder (their first two hex digits): kept by a
    warm process for a listing it checks again (Nord's 8,905 objects: ~7 ms a build)."""
    wanted: dict[str, set[str]] = {}
    for digest in digests:
        wanted.setdefault(digest[:2], set()).add(digest[2:])
    return {prefix: frozenset(names) for prefix, names in wanted.items()}


def _read_listing(path: str, digest: str) -> dict[str, str]:
    """A listing file's files; ``digest`` (the release's record of it) tells versions apart."""
    if (path, digest) not in _LISTINGS:
        _keep_listing(path, digest, parse_json(Path(path).read_bytes())["files"])
    return _LISTINGS[path, digest]


def _keep_listing(path: str, digest: str, listing: dict[str, str]) -> None:
    _LISTINGS[path, digest] = listing
    while len(_LISTINGS) > 4:
        del _LISTINGS[next(iter(_LISTINGS))]


def tree_listing(tree: Path, known: dict[str, str] | None = None) -> dict[str, str]:
    """Every file under ``tree`` (site-relative POSIX path) with its SHA-256. ``known``: the
    digests of files whose writer computed them already (the per-commune tasks, the tile step),
    not read again."""
    known = known or {}
    names = []
    for folder, _, files in os.walk(tree):  # strings, not Path objects: 10^5 files
        below = os.path.relpath(folder, tree).replace(os.sep, "/")
        prefix = "" if below == "." else below + "/"
        names += [prefix + name for name in files]
    names.sort()
    todo = [name for name in names if name not in known]
    with ThreadPoolExecutor(max_workers=4) as pool:
        digests = dict(zip(todo, pool.map(file_digest, [tree / n for n in todo]), strict=True))
    return {name: known.get(name) or digests[name] for name in names}


def listing_bytes(listing: dict[str, str]) -> bytes:
    """A listing file's exact bytes (compact, sorted, ASCII JSON): its digest names it in the
    history. (Written by orjson, :func:`index_json_bytes`, when its names are ASCII: the same
    bytes; else non-ASCII characters are escaped, as they always were.)"""
    data = index_json_bytes({"files": listing})
    if data.isascii():
        return data
    return (json.dumps({"files": listing}, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _atomic_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
