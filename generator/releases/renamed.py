"""Communes that changed code: ``renamed_communes`` (old INSEE -> new INSEE) and its refresh.

The config's ``renamed_communes`` is a mapping, or the name (relative to the config) of a CSV file
with the columns ``old_insee,new_insee`` and optionally ``date`` (YYYY-MM-DD) and ``old_name``,
or of a YAML/JSON file holding the mapping. A value is the new code, or
``{new: "59606", date: 2019-01-01, name: "Ancienne commune"}``.

The official list: ``@etalab/decoupage-administratif`` (npm, pinned by ``package-lock.json``
and installed by ``make setup``) lists every commune déléguée or associée with its ``chefLieu``
(the commune it now belongs to) and every current commune's ``anciensCodes``. To make or refresh
the mapping (after ``npm update @etalab/decoupage-administratif`` for a newer code list)::

    .venv/bin/python -m trame.releases.renamed > layers/communes-fusionnees.csv

(or give the path of another ``communes.json``), then ``renamed_communes:
communes-fusionnees.csv`` in the config. Entries whose new commune is not in the territory are
ignored, so the national list can be used as is.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..config import Config
from ..errors import UserError

_INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
CSV_COLUMNS = ("old_insee", "new_insee", "date", "old_name")


@dataclass(frozen=True)
class Merger:
    old: str
    new: str
    date: str | None = None
    """ISO date of the merger, when known."""
    name: str | None = None
    """The old commune's name, when known (else read from the releases that had it)."""


def renamed_file(config: Config) -> Path | None:
    """The file ``renamed_communes`` names, if it names one (an input of the build)."""
    raw = config.renamed_communes
    return (config.config_path.parent / raw).resolve() if isinstance(raw, str) else None


def load_mergers(config: Config) -> dict[str, Merger]:
    """Old INSEE -> Merger, checked; an error names the file and the entry."""
    raw: Any = config.renamed_communes
    where = f"{config.config_path} : renamed_communes"
    if raw is None:
        return {}
    path = renamed_file(config)
    if path is not None:
        where = f"{path}"
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise UserError(
                f"{config.config_path} : renamed_communes : fichier {path} illisible ({error})"
            ) from None
        if path.suffix.lower() == ".csv":
            raw = {
                row.get("old_insee", ""): {
                    "new": row.get("new_insee", ""), "date": row.get("date") or None,
                    "name": row.get("old_name") or None,
                }
                for row in csv.DictReader(io.StringIO(text))
            }  # fmt: skip
        else:
            try:
                raw = yaml.safe_load(text)
            except yaml.YAMLError as error:
                raise UserError(f"{where} : YAML ou JSON invalide ({error})") from None
    if not isinstance(raw, dict):
        raise UserError(f"{where} : attendu une table « ancien code INSEE : nouveau code INSEE »")
    mergers = {}
    for old, value in raw.items():
        entry = value if isinstance(value, dict) else {"new": value}
        old, new = str(old).strip(), str(entry.get("new") or entry.get("into") or "").strip()
        date = entry.get("date")
        if isinstance(date, dt.date):
            date = date.isoformat()
        if not _INSEE.match(old) or not _INSEE.match(new) or old == new:
            raise UserError(
                f"{where} : entrée {old!r} -> {new!r} : attendu deux codes INSEE différents de "
                "5 caractères (par exemple 59070: 59006)"
            )
        if date is not None:
            try:
                date = dt.date.fromisoformat(str(date)).isoformat()
            except ValueError:
                raise UserError(
                    f"{where} : entrée {old} : date {date!r} invalide (AAAA-MM-JJ)"
                ) from None
        name = entry.get("name")
        mergers[old] = Merger(old, new, date, str(name) if name else None)
    return mergers


def from_decoupage(communes: list[dict[str, Any]]) -> list[Merger]:
    """Mergers from ``@etalab/decoupage-administratif``'s ``data/communes.json``."""
    found: dict[str, Merger] = {}
    for commune in communes:
        kind = commune.get("type")
        if kind in ("commune-deleguee", "commune-associee"):
            if commune.get("chefLieu") and commune["code"] != commune["chefLieu"]:
                found[commune["code"]] = Merger(
                    commune["code"], commune["chefLieu"], None, commune.get("nom")
                )
        elif kind == "commune-actuelle":
            for old in commune.get("anciensCodes", []):
                found.setdefault(old, Merger(old, commune["code"]))
    current = {c["code"] for c in communes if c.get("type") == "commune-actuelle"}
    return [m for _, m in sorted(found.items()) if m.old not in current]


def write_csv(mergers: list[Merger], out: Any) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for merger in mergers:
        writer.writerow([merger.old, merger.new, merger.date or "", merger.name or ""])


if __name__ == "__main__":  # python -m trame.releases.renamed [communes.json] > mapping.csv
    from ..paths import ADMIN_CODES_DIR

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ADMIN_CODES_DIR / "communes.json"
    if not source.is_file():
        sys.exit(
            f"{source} introuvable : lancez `make setup` (npm ci), ou donnez le chemin de communes.json"
        )
    write_csv(from_decoupage(json.loads(source.read_text(encoding="utf-8"))), sys.stdout)
