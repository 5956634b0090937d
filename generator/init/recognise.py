"""Recognise the layers: SRCE tables of the COVADIS schema, and a communes layer.

SRCE tables are known by their national names (``N_SRCE_RESERVOIR_S_000``…) and, when renamed,
by their identifier fields (``ID_RESV``, ``ID_CORR``, ``ID_CEAU``, ``ID_OBST``). A communes layer
is one with an INSEE code and a name (IGN Admin Express: ``INSEE_COM``, ``NOM``, and often
``SIREN_EPCI``, ``INSEE_DEP``, ``POPULATION``). Everything else is reported as not placed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .discover import FoundLayer

RESERVOIRS = "reservoirs"
CORRIDOR_LINES = "corridor-lines"
CORRIDOR_SURFACES = "corridor-surfaces"
WATER_COURSES = "water-courses"
OBSTACLES = "obstacles"
ROLE_NAMES = {
    RESERVOIRS: "réservoirs de biodiversité",
    CORRIDOR_LINES: "corridors écologiques (linéaires)",
    CORRIDOR_SURFACES: "corridors écologiques (surfaces)",
    WATER_COURSES: "cours d'eau",
    OBSTACLES: "obstacles",
}
ID_FIELDS = {
    RESERVOIRS: "ID_RESV",
    CORRIDOR_LINES: "ID_CORR",
    CORRIDOR_SURFACES: "ID_CORR",
    WATER_COURSES: "ID_CEAU",
    OBSTACLES: "ID_OBST",
}
_TABLE = re.compile(r"^N_SRCE_(RESERVOIR|CORRIDOR|COURS_EAU|OBSTACLE)_([SLP])_\w+$", re.I)

INSEE_FIELDS = ("INSEE_COM", "CODE_INSEE", "INSEE", "CODGEO", "code", "COM")
NAME_FIELDS = ("NOM", "NOM_COM", "NOM_M", "LIBGEO", "nom")
EPCI_FIELDS = ("SIREN_EPCI", "CODE_EPCI", "EPCI", "epci_siren")
DEPARTEMENT_FIELDS = ("INSEE_DEP", "CODE_DEPT", "DEP", "departement")
POPULATION_FIELDS = ("POPULATION", "population_municipale", "PMUN")
POSTCODE_FIELDS = ("CODES_POSTAUX", "CODE_POSTAL", "codes_postaux", "code_postal")


@dataclass(frozen=True)
class SrceTable:
    """A layer recognised as one SRCE table."""

    role: str
    layer: FoundLayer
    how: str
    """Why: the table's name, or its fields (said in the inventory)."""

    @property
    def id_field(self) -> str | None:
        return self.layer.field(ID_FIELDS[self.role])


@dataclass(frozen=True)
class CommunesLayer:
    """A layer recognised as communes, with its own names of the fields that matter."""

    layer: FoundLayer
    insee: str
    name: str
    epci: str | None = None
    departement: str | None = None
    population: str | None = None
    postcodes: str | None = None


@dataclass
class Recognition:
    tables: list[SrceTable] = field(default_factory=list)
    communes: CommunesLayer | None = None
    unplaced: list[tuple[FoundLayer, str]] = field(default_factory=list)
    """Layers not used, each with the reason and what to do."""


def srce_role(layer: FoundLayer) -> tuple[str, str] | None:
    """The layer's SRCE role and why, or None."""
    named = _TABLE.match(layer.name)
    if named:
        theme, letter = named.group(1).upper(), named.group(2).upper()
        role = {
            "RESERVOIR": RESERVOIRS,
            "COURS_EAU": WATER_COURSES,
            "OBSTACLE": OBSTACLES,
            "CORRIDOR": CORRIDOR_SURFACES if letter == "S" else CORRIDOR_LINES,
        }[theme]
        return role, "nom de table COVADIS"
    if layer.field("ID_RESV"):
        return RESERVOIRS, "champ ID_RESV"
    if layer.field("ID_CEAU") or (layer.field("EST_RESERV") and layer.field("EST_CORRID")):
        return WATER_COURSES, "champs des cours d'eau (ID_CEAU, EST_RESERV, EST_CORRID)"
    if layer.field("ID_OBST"):
        return OBSTACLES, "champ ID_OBST"
    if layer.field("ID_CORR"):
        if layer.kind == "polygon":
            return CORRIDOR_SURFACES, "champ ID_CORR, géométrie surfacique"
        if layer.kind == "line":
            return CORRIDOR_LINES, "champ ID_CORR, géométrie linéaire"
    return None


def communes_fields(layer: FoundLayer) -> CommunesLayer | None:
    """The layer as communes (INSEE code and name fields, surfaces), or None."""
    insee, name = layer.field(*INSEE_FIELDS), layer.field(*NAME_FIELDS)
    if not insee or not name or layer.kind not in ("polygon", None):
        return None
    return CommunesLayer(
        layer=layer, insee=insee, name=name, epci=layer.field(*EPCI_FIELDS),
        departement=layer.field(*DEPARTEMENT_FIELDS), population=layer.field(*POPULATION_FIELDS),
        postcodes=layer.field(*POSTCODE_FIELDS),
    )  # fmt: skip


def recognise(layers: Sequence[FoundLayer]) -> Recognition:
    """Give each layer its role; the first layer of a role wins, the others are reported."""
    result = Recognition()
    taken: dict[tuple[str, str | None], SrceTable] = {}
    for layer in layers:
        role = srce_role(layer)
        if role:
            key = (role[0], layer.kind)
            if key in taken:
                first = taken[key].layer.label()
                result.unplaced.append(
                    (
                        layer,
                        f"déjà une couche « {ROLE_NAMES[role[0]]} » ({first}) ; pour utiliser "
                        "celle-ci, changez source.path des éléments de légende concernés",
                    )
                )
                continue
            taken[key] = SrceTable(role=role[0], layer=layer, how=role[1])
            result.tables.append(taken[key])
            continue
        communes = communes_fields(layer)
        if communes and result.communes is None:
            result.communes = communes
        elif communes:
            result.unplaced.append(
                (
                    layer,
                    f"déjà une couche de communes ({result.communes.layer.label()}) ; "  # type: ignore[union-attr]
                    "donnez seulement celle à utiliser",
                )
            )
        else:
            result.unplaced.append((layer, _why_not(layer)))
    return result


def _why_not(layer: FoundLayer) -> str:
    return (
        "ni table SRCE reconnue (nom N_SRCE_… ou champs ID_RESV, ID_CORR, ID_CEAU, ID_OBST), "
        "ni couche de communes (champs INSEE_COM et NOM) ; pour l'afficher, ajoutez à "
        f"legende.yml un élément avec source: {{path: {layer.path}"
        + (f", layer: {layer.layer}" if layer.layer else "")
        + f"}}, geometry: {layer.kind or 'polygon, line ou point'}, un libellé et un style"
    )
