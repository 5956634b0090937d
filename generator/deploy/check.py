"""Probe a deployed site the way a visitor's browser would, and say in sentences what it gets.

A host can break a static site in ways a file listing never shows: no HTTP Range (the PMTiles
archive is unreadable), compression added to ``.pmtiles`` (its byte offsets point into gzip
data), ``.mjs`` served as ``application/octet-stream`` (browsers refuse module scripts without a
JavaScript type), tiles with a generic type, a 404 answered with 200. Each check is one request,
one finding, one sentence; notes never fail the check.
"""

from __future__ import annotations

import gzip
import json
import re
import uuid
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin, urlsplit
from urllib.request import Request, urlopen

from ..errors import UserError
from .policy import JAVASCRIPT_TYPES, VECTOR_TILE_TYPES, media_type

BROWSER_ENCODINGS = "gzip, deflate, br"  # what browsers accept: reveals hosts that compress


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    sentence: str
    note: bool = False  # informative only, never a failure


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes  # decoded when the host compressed it
    error: str = ""  # why there is no answer at all (status 0)

    def header(self, name: str) -> str:
        return self.headers.get(name, "")

    def said(self, ctype: str | None = None) -> str:
        """`répond 200 avec text/html`, or `est injoignable (timed out)`."""
        if self.status == 0:
            return f"est injoignable ({self.error})"
        return f"répond {self.status}" + ("" if ctype is None else f" avec {ctype or 'aucun type'}")


class Unreachable(Exception):
    """No HTTP answer at all (DNS, refused connection, TLS, timeout)."""


def fetch(
    url: str, headers: dict[str, str] | None = None, limit: int = 20 << 20, timeout: float = 10.0
) -> Answer:
    """GET ``url`` following redirects; 4xx and 5xx are answers too. Reads at most ``limit``."""
    request = Request(url, headers={"User-Agent": "trame-check-deploy", **(headers or {})})
    try:
        with urlopen(request, timeout=timeout) as response:
            status, raw, body = response.status, response.headers, response.read(limit)
    except HTTPError as error:
        status, raw, body = error.code, error.headers, error.read(limit)
    except (URLError, OSError) as error:
        raise Unreachable(str(getattr(error, "reason", error))) from None
    lowered = {k.lower(): v for k, v in raw.items()}
    encoding = lowered.get("content-encoding", "").strip().lower()
    try:
        if encoding in {"gzip", "x-gzip"}:
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
    except (OSError, EOFError, zlib.error):
        pass  # truncated by `limit` or not really compressed: the checks look at the headers
    return Answer(status, lowered, body)


def base_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise UserError(f"{url!r} n'est pas une adresse de site ; donnez URL=https://hôte/chemin/")
    return url.strip() if url.strip().endswith("/") else url.strip() + "/"


def page(name: str, url: str, answer: Answer) -> Finding:
    ctype = media_type(answer.header("content-type"))
    ok = answer.status == 200 and ctype == "text/html"
    return Finding(
        name,
        ok,
        f"{name.capitalize()} {url} : {answer.said(ctype)}"
        + ("." if ok else ", alors qu'un navigateur attend 200 avec text/html."),
    )


def json_body(answer: Answer) -> Any:
    try:
        return json.loads(answer.body) if answer.status == 200 else None
    except ValueError:
        return None


def api(name: str, url: str, answer: Answer, expected: type) -> tuple[Finding, Any]:
    data = json_body(answer)
    ctype = media_type(answer.header("content-type"))
    ok = isinstance(data, expected) and ctype in {"application/json", "application/geo+json"}
    why = answer.said(ctype)
    if answer.status == 200 and not isinstance(data, expected):
        why += " mais son contenu n'est pas le JSON attendu"
    return Finding(name, ok, f"API JSON {url} : {why}."), data if ok else None


def tile(url: str, answer: Answer) -> Finding:
    ctype = media_type(answer.header("content-type"))
    problems = []
    if answer.status != 200:
        problems.append(answer.said())
    if ctype not in VECTOR_TILE_TYPES:
        problems.append(f"type {ctype or 'absent'} au lieu de application/x-protobuf")
    if answer.body[:2] == b"\x1f\x8b":
        problems.append(
            "données gzip sans en-tête Content-Encoding (la carte ne peut pas les lire) ; "
            "servez les tuiles avec Content-Encoding: gzip"
        )
    if answer.status == 200 and not answer.body:
        problems.append("réponse vide")
    if problems:
        return Finding("tuile", False, f"Tuile vectorielle {url} : " + " ; ".join(problems) + ".")
    return Finding("tuile", True, f"Tuile vectorielle {url} : répond 200 avec {ctype}.")


def pmtiles(url: str, answer: Answer) -> Finding:
    """The first 127 bytes (the PMTiles header), asked with a Range like a PMTiles reader does."""
    encoding = answer.header("content-encoding").strip().lower()
    problems = []
    if answer.status == 200:
        problems.append(
            "répond à une requête Range par 200 et le fichier entier : l'hébergeur ne gère "
            "pas les requêtes HTTP Range, indispensables à PMTiles ; activez-les"
        )
    elif answer.status != 206:
        problems.append(f"{answer.said()} à une requête Range")
    if encoding and encoding != "identity":
        problems.append(
            f"arrive avec Content-Encoding: {encoding}, donc les plages d'octets tombent dans "
            "des données compressées ; désactivez la compression pour les fichiers .pmtiles"
        )
    elif answer.status == 206 and not answer.body.startswith(b"PMTiles"):
        problems.append("ne commence pas par un en-tête PMTiles")
    if problems:
        return Finding(
            "archive PMTiles", False, f"Archive PMTiles {url} : " + " ; ".join(problems) + "."
        )
    return Finding(
        "archive PMTiles",
        True,
        f"Archive PMTiles {url} : répond à une requête Range par 206, sans Content-Encoding.",
    )


def typed(name: str, url: str, answer: Answer, accepted: frozenset[str], why: str) -> Finding:
    ctype = media_type(answer.header("content-type"))
    ok = answer.status == 200 and ctype in accepted
    sentence = f"{name.capitalize()} {url} : {answer.said(ctype)}"
    return Finding(name, ok, sentence + ("." if ok else f" ; {why}."))


def not_found(url: str, answer: Answer, own_page: bytes | None) -> list[Finding]:
    ctype = media_type(answer.header("content-type"))
    ok = answer.status == 404 and ctype == "text/html"
    findings = [
        Finding(
            "page 404",
            ok,
            f"Page absente ({url}) : {answer.said(ctype)}"
            + ("." if ok else ", alors qu'il faut 404 avec une page HTML ; réglez l'hébergeur."),
        )
    ]
    if ok and own_page is not None and answer.body != own_page:
        findings.append(
            Finding(
                "page 404",
                True,
                "La réponse 404 n'est pas la page 404.html du site ; faites pointer la page "
                "d'erreur de l'hébergeur vers /404.html.",
                note=True,
            )
        )
    return findings


def targets(home: bytes, manifest: Any) -> dict[str, str | None]:
    """Which tile, archive, module and stylesheet to ask for: from manifest.json, else guesses."""
    files = sorted(manifest.get("files", {})) if isinstance(manifest, dict) else []
    tiles = sorted(
        (p for p in files if re.fullmatch(r"tiles/\d+/\d+/\d+\.pbf", p)),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p)],
    )
    text = home.decode("utf-8", "replace")
    module = re.search(r"""["']([^"'\s]+\.mjs)["']""", text)
    css = re.search(r"""<link[^>]+href=["']([^"']+\.css)["']""", text)
    return {
        "tile": tiles[0] if tiles else ("tiles/0/0/0.pbf" if not files else None),
        "pmtiles": next((p for p in files if p.endswith(".pmtiles")), None),
        "module": module.group(1) if module else None,
        "css": css.group(1) if css else None,
    }


def release_page(get: Any, commune_url: str) -> list[Finding]:
    """The latest release's copy of a commune page (``versions/<id>/…``, generator/releases):
    a page that planning documents cite, served for good."""
    _, answer = get("api/versions.json")
    versions = json_body(answer)
    if not isinstance(versions, dict) or not versions.get("latest") or not commune_url:
        return []
    url, answer = get(f"versions/{versions['latest']}/{commune_url}")
    findings = [page("page de commune d'une version", url, answer)]
    cache = answer.header("cache-control")
    if answer.status == 200 and "immutable" not in cache:
        findings.append(
            Finding(
                "page de commune d'une version",
                True,
                f"Les pages des versions arrivent avec Cache-Control: {cache or 'absent'} ; une "
                "version ne change jamais : `public, max-age=31536000, immutable` épargne des "
                "requêtes aux visiteurs.",
                note=True,
            )
        )
    return findings


def check_site(url: str, timeout: float = 10.0) -> list[Finding]:
    """Every finding for the site at ``url``, in the order a visit would meet them."""
    base = base_url(url)

    def get(path: str, **kwargs: Any) -> tuple[str, Answer]:
        full = urljoin(base, path)
        try:
            return full, fetch(full, timeout=timeout, **kwargs)
        except Unreachable as error:  # one request failing is that check's failure
            return full, Answer(0, {}, b"", str(error))

    try:
        home = fetch(base, {"Accept-Encoding": "gzip"}, timeout=timeout)
    except Unreachable as error:
        return [
            Finding(
                "site",
                False,
                f"Le site {base} est injoignable ({error}) ; vérifiez l'adresse et que le "
                "serveur est en marche.",
            )
        ]
    findings = [page("page d'accueil", base, home)]
    _, manifest_answer = get("manifest.json")
    manifest = json_body(manifest_answer)
    if manifest is None:
        findings.append(
            Finding(
                "manifeste",
                True,
                "manifest.json n'est pas publié : la tuile à demander est devinée.",
                note=True,
            )
        )
    found = targets(home.body, manifest)
    finding, communes = api("API JSON", *get("api/communes.json"), list)
    findings.append(finding)
    if communes:
        first = communes[0] if isinstance(communes[0], dict) else {}
        if first.get("url"):
            findings.append(page("page de commune", *get(str(first["url"]))))
        if first.get("insee"):
            findings.append(api("API JSON", *get(f"api/communes/{first['insee']}.json"), dict)[0])
        findings += release_page(get, str(first.get("url") or ""))
    findings.append(api("API JSON", *get("api/style.json"), dict)[0])
    if found["tile"]:
        tile_url, tile_answer = get(found["tile"], headers={"Accept-Encoding": "gzip"})
        findings.append(tile(tile_url, tile_answer))
        if not tile_answer.header("access-control-allow-origin"):
            findings.append(
                Finding(
                    "tuile",
                    True,
                    "Les tuiles n'ont pas d'en-tête Access-Control-Allow-Origin : rien à changer "
                    "pour ce site, mais d'autres sites ne peuvent pas les utiliser.",
                    note=True,
                )
            )
    if found["pmtiles"]:
        headers = {"Range": "bytes=0-126", "Accept-Encoding": BROWSER_ENCODINGS}
        findings.append(pmtiles(*get(found["pmtiles"], headers=headers, limit=1 << 16)))
    if found["module"]:
        findings.append(
            typed(
                "script de la carte",
                *get(found["module"]),
                JAVASCRIPT_TYPES,
                "les navigateurs refusent d'exécuter un script module sans type JavaScript : "
                "servez les fichiers .mjs en text/javascript",
            )
        )
    if found["css"]:
        findings.append(
            typed(
                "feuille de style",
                *get(found["css"]),
                frozenset({"text/css"}),
                "les navigateurs ignorent une feuille de style qui n'est pas en text/css : "
                "servez les fichiers .css en text/css",
            )
        )
    missing_url, missing = get(f"communes/trame-check-{uuid.uuid4().hex[:12]}/")
    _, own = get("404.html")
    findings += not_found(missing_url, missing, own.body if own.status == 200 else None)
    return findings


def report(findings: list[Finding]) -> tuple[str, bool]:
    """The text for the terminal and whether every check passed."""
    lines = [
        f"{'note ' if f.note else 'ok   ' if f.ok else 'ÉCHEC'}  {f.sentence}" for f in findings
    ]
    checks = [f for f in findings if not f.note]
    failed = [f for f in checks if not f.ok]
    if failed:
        names = ", ".join(dict.fromkeys(f.name for f in failed))
        lines.append(f"{len(failed)} vérification(s) sur {len(checks)} en échec : {names}.")
    else:
        lines.append(
            f"Les {len(checks)} vérifications sont passées : un navigateur reçoit le site tel "
            "qu'il a été construit."
        )
    return "\n".join(lines), not failed
