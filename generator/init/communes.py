"""Select the territory's communes and write them to the territory folder.

The config reads one communes layer; rather than teaching it a filter, ``trame init`` copies the
selected communes (contours as they are, sorted by INSEE code) into ``communes.geojson`` beside
the config, with their postcodes and EPCI from the official code lists when the layer lacks them.
A build then reads 35 communes, not the 35,228 of a national file, and the territory folder says
on its own which communes the site covers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError, FieldError

from ..errors import UserError
from ..read import gdal_path, python_value
from .codes import AdminCodes, departement_of, load_codes
from .recognise import CommunesLayer

INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
SIREN = re.compile(r"^[0-9]{9}$")
DEPARTEMENT = re.compile(r"^(?:[0-9]{2}|2[AB]|97[0-9])$")
MAX_WITHOUT_SELECTION = 10_000
"""A communes layer larger than this needs --epci, --departement, --insee or --communes."""

INSEE_FIELD, NAME_FIELD, POSTCODES_FIELD = "INSEE_COM", "NOM", "CODES_POSTAUX"
OUTPUT_FIELDS = (
    INSEE_FIELD, NAME_FIELD, "INSEE_DEP", "SIREN_EPCI", "NOM_EPCI", "POPULATION", POSTCODES_FIELD,
)  # fmt: skip


@dataclass(frozen=True)
class Selection:
    """Which communes: those of an EPCI, of a département, or listed INSEE codes (or all)."""

    kind: str
    codes: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind == "all":
            return "toutes les communes de la couche"
        option = {"epci": "--epci", "departement": "--departement", "insee": "--insee"}
        return f"{option[self.kind]} {','.join(self.codes)}"


def make_selection(
    epci: str | None = None, departement: str | None = None, insee: str | None = None,
    communes_file: Path | None = None,
) -> Selection:  # fmt: skip
    """The selection from the command's options, checked (codes are used in a query)."""
    if epci is not None:
        if not SIREN.match(epci.strip()):
            raise UserError(
                f"--epci {epci} : un EPCI se désigne par son numéro SIREN à 9 chiffres, "
                "par exemple --epci 245901160 (Valenciennes Métropole)"
            )
        return Selection("epci", (epci.strip(),))
    if departement is not None:
        code = departement.strip().upper()
        code = code.zfill(2) if code.isdigit() and len(code) == 1 else code
        if not DEPARTEMENT.match(code):
            raise UserError(
                f"--departement {departement} : donnez le code du département, par exemple "
                "59, 2A ou 974"
            )
        return Selection("departement", (code,))
    if insee is not None:
        return Selection("insee", _insee_codes(re.split(r"[\s,;]+", insee), f"--insee {insee}"))
    if communes_file is not None:
        try:
            text = communes_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"{communes_file} : liste de communes illisible ({error})") from None
        words = [
            word
            for line in text.splitlines()
            if not line.lstrip().startswith("#")
            for word in re.split(r"[\s,;]+", line)
        ]
        return Selection("insee", _insee_codes(words, str(communes_file), lenient=True))
    return Selection("all")


def _insee_codes(words: Sequence[str], where: str, lenient: bool = False) -> tuple[str, ...]:
    """INSEE codes among ``words``; a file may also hold names and other columns."""
    codes, wrong = [], []
    for word in (w.strip().strip("\"'").upper() for w in words):
        if INSEE.match(word):
            codes.append(word)
        elif word and not lenient:
            wrong.append(word)
    if wrong:
        raise UserError(
            f"{where} : {', '.join(wrong)} n'est pas un code INSEE de commune (5 caractères, "
            "par exemple 59606 ou 2A004)"
        )
    if not codes:
        raise UserError(
            f"{where} : aucun code INSEE de commune trouvé (5 caractères, par exemple 59606)"
        )
    return tuple(dict.fromkeys(codes))


@dataclass
class SelectedCommunes:
    """The communes chosen, as they will be written, and what was said about them."""

    layer: CommunesLayer
    crs: str
    geometries: np.ndarray
    rows: list[dict[str, Any]]
    territory_name: str | None
    notes: list[str] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    code_lists: str | None = None
    """The code lists used (``@etalab/decoupage-administratif 6.0.0``), if any."""


def select_communes(communes: CommunesLayer, selection: Selection) -> SelectedCommunes:
    """Read the selected communes (a query, so a national file is read only where needed)."""
    layer = communes.layer
    codes: AdminCodes | None = None

    def code_lists() -> AdminCodes:
        nonlocal codes
        codes = codes or load_codes()
        return codes

    if selection.kind == "all" and layer.count > MAX_WITHOUT_SELECTION:
        raise UserError(
            f"{layer.label()} : {layer.count} communes ; choisissez celles du territoire avec "
            "--epci SIREN, --departement CODE, --insee CODES ou --communes FICHIER"
        )
    where = _where(communes, selection, code_lists)
    wanted = [
        name
        for name in (communes.insee, communes.name, communes.departement, communes.epci,
                     communes.population, communes.postcodes,
                     layer.field("INSEE_2026"), layer.field("NOM_EPCI", "epci_nom"))
        if name
    ]  # fmt: skip
    try:
        meta, _, wkb, columns = pyogrio.raw.read(
            gdal_path(layer.path), layer=layer.layer, columns=list(dict.fromkeys(wanted)),
            where=where,
        )  # fmt: skip
    except (DataSourceError, DataLayerError, FieldError, OSError) as error:
        raise UserError(f"{layer.label()} : lecture des communes impossible ({error})") from None
    if wkb is None or not len(wkb):
        raise UserError(
            f"{layer.label()} : aucune commune ne correspond à {selection.describe()} ; "
            "vérifiez le code (et le champ "
            f"{_field_used(communes, selection)} de la couche)"
        )
    table = {str(name): column for name, column in zip(meta["fields"], columns, strict=True)}
    rows = [
        {name: python_value(column[i]) for name, column in table.items()} for i in range(len(wkb))
    ]
    selected = SelectedCommunes(
        layer=communes, crs=str(meta["crs"]), geometries=wkb, rows=[], territory_name=None
    )
    if not communes.postcodes:
        code_lists()
    if selection.kind == "epci":
        code_lists()
    selected.rows = [_output_row(communes, row, codes) for row in rows]
    order = np.argsort([row[INSEE_FIELD] for row in selected.rows], kind="stable")
    selected.rows = [selected.rows[i] for i in order]
    selected.geometries = wkb[order]
    if codes:
        selected.code_lists = codes.source
    _check(selected, selection, codes)
    return selected


def _where(
    communes: CommunesLayer, selection: Selection, code_lists: Any
) -> str | None:  # fmt: skip
    """The query picking the selection (codes were checked against strict patterns)."""
    if selection.kind == "all":
        return None
    code = selection.codes[0]
    if selection.kind == "epci" and communes.epci:
        return f"\"{communes.epci}\" = '{code}'"
    if selection.kind == "epci":
        members = code_lists().epci_members.get(code)
        if not members:
            raise UserError(
                f"--epci {code} : cet EPCI n'est pas dans la liste officielle "
                f"({code_lists().source}) et la couche {communes.layer.label()} n'a pas de champ "
                "SIREN_EPCI ; vérifiez le numéro SIREN ou utilisez --insee"
            )
        return _within(communes.insee, members)
    if selection.kind == "departement" and communes.departement:
        return f"\"{communes.departement}\" = '{code}'"
    if selection.kind == "departement":
        return f"\"{communes.insee}\" LIKE '{code}%'"
    return _within(communes.insee, selection.codes)


def _within(field_name: str, codes: Sequence[str]) -> str:
    return f'"{field_name}" IN ({", ".join(repr(str(c)) for c in codes)})'


def _field_used(communes: CommunesLayer, selection: Selection) -> str:
    if selection.kind == "epci" and communes.epci:
        return communes.epci
    if selection.kind == "departement" and communes.departement:
        return communes.departement
    return communes.insee


def _output_row(
    communes: CommunesLayer, row: dict[str, Any], codes: AdminCodes | None
) -> dict[str, Any]:
    insee = str(row[communes.insee] or "").strip()
    epci = str(row[communes.epci]).strip() if communes.epci and row[communes.epci] else None
    if not communes.epci and codes:
        epci = codes.epci_of.get(insee)
    if communes.postcodes:
        postcodes = [p for p in re.split(r"[;,\s]+", str(row[communes.postcodes] or "")) if p]
    else:
        later = row.get(communes.layer.field("INSEE_2026") or "")
        found = codes.postcodes.get(insee) if codes else None
        if found is None and codes and later:
            found = codes.postcodes.get(str(later))
        postcodes = list(found or ())
    epci_name = row.get(communes.layer.field("NOM_EPCI", "epci_nom") or "")
    if not epci_name and codes and epci:
        epci_name = codes.epci_names.get(epci)
    departement = row.get(communes.departement) if communes.departement else None
    if not departement:
        departement = departement_of(insee)
    population = row.get(communes.population) if communes.population else None
    return {
        INSEE_FIELD: insee,
        NAME_FIELD: str(row[communes.name] or "").strip(),
        "INSEE_DEP": departement,
        "SIREN_EPCI": epci,
        "NOM_EPCI": epci_name or None,
        "POPULATION": int(population) if isinstance(population, int | float) else None,
        POSTCODES_FIELD: ";".join(postcodes) or None,
    }


def _check(selected: SelectedCommunes, selection: Selection, codes: AdminCodes | None) -> None:
    """Notes on what was found, and what is left to do by hand."""
    rows = selected.rows
    found = {row[INSEE_FIELD] for row in rows}
    if selection.kind == "insee":
        missing = [code for code in selection.codes if code not in found]
        if missing:
            selected.todo.append(
                f"{len(missing)} code(s) INSEE demandé(s) absent(s) de "
                f"{selected.layer.layer.label()} : {', '.join(missing)} (commune fusionnée "
                "depuis ? vérifiez le millésime de la couche des communes)"
            )
    no_postcodes = [
        f"{row[INSEE_FIELD]} {row[NAME_FIELD]}" for row in rows if not row[POSTCODES_FIELD]
    ]
    if no_postcodes:
        selected.todo.append(
            f"codes postaux inconnus pour {len(no_postcodes)} commune(s) : "
            f"{', '.join(no_postcodes)} ; ajoutez-les dans le champ {POSTCODES_FIELD} de "
            "communes.geojson (séparés par « ; »)"
        )
    if selection.kind == "epci":
        siren = selection.codes[0]
        name = codes.epci_names.get(siren) if codes else None
        name = name or next((row["NOM_EPCI"] for row in rows if row["NOM_EPCI"]), None)
        selected.territory_name = name
        if codes and codes.epci_members.get(siren):
            expected = set(codes.epci_members[siren])
            later = selected.layer.layer.field("INSEE_2026")
            if not later and expected != found:
                selected.notes.append(
                    f"la liste officielle ({codes.source}) compte {len(expected)} communes dans "
                    f"cet EPCI, la couche en donne {len(found)} : vérifiez le millésime"
                )
    elif selection.kind == "departement":
        code = selection.codes[0]
        name = load_codes().departements.get(code)
        selected.territory_name = f"{name} (département {code})" if name else None
    elif len(rows) == 1:
        selected.territory_name = rows[0][NAME_FIELD]


def write_communes(path: Path, selected: SelectedCommunes) -> None:
    """The selected communes as GeoJSON (their contours untouched), fields in a fixed order."""
    columns = []
    for name in OUTPUT_FIELDS:
        values = [row[name] for row in selected.rows]
        if name == "POPULATION" and all(isinstance(v, int) for v in values):
            columns.append(np.array(values, dtype=np.int64))
        else:
            columns.append(np.array([None if v is None else str(v) for v in values], dtype=object))
    path.unlink(missing_ok=True)
    pyogrio.raw.write(
        path, geometry=selected.geometries, field_data=columns, fields=list(OUTPUT_FIELDS),
        geometry_type="Unknown", crs=selected.crs, driver="GeoJSON",
    )  # fmt: skip
