"""The official code lists (``@etalab/decoupage-administratif``, npm): postcodes, EPCI names.

The package ships JSON files (communes, EPCI, départements); they are read from
``node_modules`` when ``trame init`` needs something the communes layer lacks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import UserError
from ..paths import ADMIN_CODES_DIR

PACKAGE = "@etalab/decoupage-administratif"
DATA_DIR = ADMIN_CODES_DIR


@dataclass(frozen=True)
class AdminCodes:
    """What the code lists say about communes, EPCI and départements."""

    version: str
    postcodes: dict[str, tuple[str, ...]]
    """INSEE code -> postcodes; a former (delegated, associated) commune gets its chef-lieu's."""
    epci_names: dict[str, str]
    epci_members: dict[str, tuple[str, ...]]
    epci_of: dict[str, str]
    """INSEE code of a current commune -> SIREN of its EPCI."""
    departements: dict[str, str]

    @property
    def source(self) -> str:
        return f"{PACKAGE} {self.version}"


@cache
def load_codes(data_dir: Path = DATA_DIR) -> AdminCodes:
    """Read the package's JSON files once."""
    try:
        communes = _read(data_dir / "communes.json")
        epci = _read(data_dir / "epci.json")
        departements = _read(data_dir / "departements.json")
        version = json.loads((data_dir.parent / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UserError(
            f"{data_dir} : les listes officielles de codes ({PACKAGE}) sont introuvables ou "
            f"illisibles ({error}) ; installez les dépendances JavaScript avec `npm ci` "
            "(ou `make setup`), ou donnez une couche de communes qui a déjà les codes postaux"
        ) from None
    current = {c["code"]: c for c in communes if c.get("type") == "commune-actuelle"}
    postcodes = {code: tuple(c.get("codesPostaux") or ()) for code, c in current.items()}
    for former in communes:
        chef_lieu = current.get(former.get("chefLieu", ""))
        if former["code"] not in postcodes and chef_lieu:
            postcodes[former["code"]] = tuple(chef_lieu.get("codesPostaux") or ())
    return AdminCodes(
        version=str(version.get("version", "")),
        postcodes=postcodes,
        epci_names={e["code"]: e["nom"] for e in epci},
        epci_members={e["code"]: tuple(m["code"] for m in e.get("membres", ())) for e in epci},
        epci_of={m["code"]: e["code"] for e in epci for m in e.get("membres", ())},
        departements=_names(departements),
    )


@cache
def departement_names(data_dir: Path = DATA_DIR) -> dict[str, str]:
    """Code -> name of every département (``departements.json`` alone: the commune list pages
    of a large territory need nothing more); empty when the file cannot be read (the pages then
    say "Département 59")."""
    try:
        return _names(_read(data_dir / "departements.json"))
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def departement_of(insee: str) -> str:
    """The département's code in a commune's INSEE code: ``59``, ``2A``, ``971``."""
    return insee[:3] if insee.startswith("97") else insee[:2]


def _names(rows: list[dict[str, Any]]) -> dict[str, str]:
    return {row["code"]: row["nom"] for row in rows}


def _read(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))
