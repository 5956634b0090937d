"""The legend written from the SRCE tables found: the DDTM map's six items, plus water courses.

Labels, descriptions, styles and public fields of the DDTM 59 items come from the preset
``layers/legendes/srce-ddtm59.yml`` (one definition); only the source, the filter and the fields
the data really has change. Items the DDTM map does not have (corridors to restore as lines,
water courses that are reservoirs or corridors) are defined here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..paths import LEGENDS_DIR
from .recognise import (
    CORRIDOR_LINES,
    CORRIDOR_SURFACES,
    OBSTACLES,
    RESERVOIRS,
    WATER_COURSES,
    SrceTable,
)
from .values import (
    OBJECTIVE_NAMES,
    PRESERVATION,
    RESTORATION,
    filter_text,
    flag,
    geometry_kinds,
    objective,
    value_counts,
)

PRESET = LEGENDS_DIR / "srce-ddtm59.yml"
ROLE_ORDER = (RESERVOIRS, CORRIDOR_LINES, CORRIDOR_SURFACES, WATER_COURSES, OBSTACLES)

EXTRA_ITEMS: dict[str, dict[str, Any]] = {
    "corridors-a-remettre-en-bon-etat": {
        "label": "Corridors écologiques à remettre en bon état",
        "description": "Corridors écologiques dont l'objectif assigné est la remise en bon état.",
        "fields": {"ID_CORR": "Identifiant", "NOM_CORR": "Nom", "MILMAJ_NAT": "Milieu",
                   "MILMAJ_REG": "Sous-trame"},
        "style": {"color": "#1565c0", "width": 2.5, "dash": [3, 2]},
    },
    "corridors-surfaciques-a-preserver": {
        "label": "Corridors écologiques à préserver (surfaces)",
        "description": "Corridors écologiques dessinés comme des surfaces, dont l'objectif "
        "assigné est la préservation.",
        "fields": {"ID_CORR": "Identifiant", "MILMAJ_NAT": "Milieu", "MILMAJ_REG": "Sous-trame"},
        "style": {"color": "#64b5f6", "outline": "#1565c0", "opacity": 0.45},
    },
    "cours-eau-reservoirs": {
        "label": "Cours d'eau, réservoirs de biodiversité",
        "description": "Tronçons de cours d'eau que le schéma régional classe comme réservoirs "
        "de biodiversité ; un même tronçon peut être aussi un corridor.",
        "fields": {"ID_CEAU": "Identifiant"},
        "style": {"color": "#00838f", "outline": "#006064", "width": 4, "opacity": 0.7},
    },
    "cours-eau-corridors": {
        "label": "Cours d'eau, corridors écologiques",
        "description": "Tronçons de cours d'eau que le schéma régional classe comme corridors "
        "écologiques ; un même tronçon peut être aussi un réservoir.",
        "fields": {"ID_CEAU": "Identifiant"},
        "style": {"color": "#4dd0e1", "outline": "#00838f", "width": 2, "opacity": 0.6},
    },
    "obstacles-surfaciques": {
        "label": "Obstacles à la fonctionnalité des continuités écologiques (surfaces)",
        "description": "Emprises qui empêchent ou limitent le déplacement des espèces.",
        "fields": {"ID_OBST": "Identifiant", "NATURE": "Nature", "ID_CORR": "Corridor concerné"},
        "style": {"color": "#c62828", "outline": "#8e0000", "opacity": 0.5},
    },
}  # fmt: skip


@dataclass
class DraftItem:
    """One legend item to write: its YAML mapping, in key order, and the comment above it."""

    data: dict[str, Any]
    comment: list[str]
    excluded_hint: str | None = None
    """A filter of features left out on purpose, written as a comment until the config has
    an ``excluded`` key."""


@dataclass
class DraftLegend:
    items: list[DraftItem] = field(default_factory=list)
    todo: list[str] = field(default_factory=list)
    """What could not be placed, each with what to write by hand."""
    fictitious_values: Counter[Any] = field(default_factory=Counter)
    """The ``ID_SRCE`` values found (FICTIF marks fictitious data)."""


def load_preset(path: Path = PRESET) -> dict[str, dict[str, Any]]:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {item["id"]: item for item in items}


def draft_legend(tables: Sequence[SrceTable], path_text: Callable[[Path], str]) -> DraftLegend:
    """The legend items for the recognised tables, in the DDTM map's order."""
    preset = load_preset()
    draft = DraftLegend()
    for role in ROLE_ORDER:
        kind_order = {"point": 0, "line": 1, "polygon": 2}
        chosen = sorted(
            (t for t in tables if t.role == role),
            key=lambda t: kind_order.get(t.layer.kind or "", 3),
        )
        for table in chosen:
            layer = table.layer
            codes = value_counts(
                layer,
                [
                    layer.field("OBJ_ASSI"), layer.field("EST_RESERV"), layer.field("EST_CORRID"),
                    layer.field("ID_SRCE"),
                ],
            )  # fmt: skip
            if layer.field("ID_SRCE"):
                draft.fictitious_values += codes.get(layer.field("ID_SRCE") or "", Counter())
            maker = _ItemMaker(table, preset, path_text, draft)
            if role == WATER_COURSES:
                maker.water_courses(codes)
            elif role == OBSTACLES:
                maker.obstacles()
            else:
                maker.by_objective(codes)
    return draft


class _ItemMaker:
    def __init__(
        self, table: SrceTable, preset: dict[str, dict[str, Any]],
        path_text: Callable[[Path], str], draft: DraftLegend,
    ):  # fmt: skip
        self.table = table
        self.layer = table.layer
        self.preset = preset
        self.path_text = path_text
        self.draft = draft

    def add(
        self, item_id: str, comment: str, kind: str | None = None, filter: str | None = None,
        label: str | None = None, excluded_hint: str | None = None,
    ) -> None:  # fmt: skip
        base = self.preset.get(item_id) or EXTRA_ITEMS[item_id]
        source = {"path": self.path_text(self.layer.path)}
        if self.layer.layer:
            source["layer"] = self.layer.layer
        data: dict[str, Any] = {
            "id": item_id,
            "label": label or base["label"],
            "description": " ".join(str(base["description"]).split()),
            "source": source,
        }
        if filter:
            data["filter"] = filter
        data["geometry"] = kind or self.layer.kind or base.get("geometry", "polygon")
        if self.table.id_field:
            data["id_field"] = self.table.id_field
        fields = {
            self.layer.field(name): text
            for name, text in base.get("fields", {}).items()
            if self.layer.field(name)
        }
        if fields:
            data["fields"] = fields
        data["style"] = dict(base["style"])
        self.draft.items.append(
            DraftItem(
                data=data, comment=[f"{self.layer.name} ({self.table.how}) : {comment}"],
                excluded_hint=excluded_hint,
            )
        )  # fmt: skip

    def todo(self, text: str) -> None:
        self.draft.todo.append(f"{self.layer.label()} : {text}")

    def by_objective(self, codes: dict[str, Counter[Any]]) -> None:
        """Reservoirs and corridors: one item per objective (01 préservation, 02 remise en bon
        état) found in OBJ_ASSI."""
        role = self.table.role
        ids = {
            RESERVOIRS: {PRESERVATION: "reservoirs-a-preserver",
                         RESTORATION: "reservoirs-a-renaturer"},
            CORRIDOR_LINES: {PRESERVATION: "corridors-ecologiques",
                             RESTORATION: "corridors-a-remettre-en-bon-etat"},
            CORRIDOR_SURFACES: {PRESERVATION: "corridors-surfaciques-a-preserver",
                                RESTORATION: "corridors-a-renaturer"},
        }[role]  # fmt: skip
        main = {RESERVOIRS: PRESERVATION, CORRIDOR_LINES: PRESERVATION}.get(role, RESTORATION)
        field_name = self.layer.field("OBJ_ASSI")
        if not field_name:
            self.add(ids[main], f"tous les objets ({self.layer.count}), sans champ OBJ_ASSI")
            self.todo(
                "pas de champ OBJ_ASSI (objectif assigné) : tous les objets sont dans un seul "
                f"élément de légende ({ids[main]}) ; s'il existe un autre champ d'objectif, "
                "découpez-le en deux éléments avec filter:"
            )
            return
        spellings: dict[str | None, list[Any]] = {}
        for value in codes[field_name]:
            spellings.setdefault(objective(value), []).append(value)
        split = PRESERVATION in spellings and RESTORATION in spellings
        for code in (PRESERVATION, RESTORATION):
            if code not in spellings:
                continue
            values = spellings[code]
            label = None
            if role == CORRIDOR_LINES and code == PRESERVATION and split:
                label = "Corridors écologiques à préserver"
            count = sum(codes[field_name][v] for v in values)
            self.add(
                ids[code],
                f"{field_name} {', '.join(map(repr, sorted(map(str, values))))} "
                f"({OBJECTIVE_NAMES[code]}) : {count} objet(s)",
                filter=filter_text(field_name, values),
                label=label,
            )
        for value in spellings.get(None, []):
            count = codes[field_name][value]
            shown = "vide" if value in (None, "") else repr(value)
            self.todo(
                f"{count} objet(s) ont {field_name} = {shown}, ni 01 (préservation) ni 02 "
                "(remise en bon état) : ils ne seront pas affichés, et la construction les "
                "listera ; corrigez les données, ou ajoutez un élément de légende avec "
                f'filter: "{field_name} == {str(value)!r}"'
                if value is not None
                else f"{count} objet(s) ont {field_name} vide : ils ne seront pas affichés, et "
                "la construction les listera ; corrigez les données (01 ou 02)"
            )

    def water_courses(self, codes: dict[str, Counter[Any]]) -> None:
        """Water courses: reservoirs where EST_RESERV is true, corridors where EST_CORRID is."""
        reservoir, corridor = self.layer.field("EST_RESERV"), self.layer.field("EST_CORRID")
        if not reservoir or not corridor:
            self.todo(
                "cours d'eau sans les champs EST_RESERV et EST_CORRID : aucun élément de légende "
                "écrit ; ajoutez-en un à legende.yml, avec filter: si un champ dit ce qu'est "
                "chaque tronçon"
            )
            return
        falses = {}
        for name in (reservoir, corridor):
            falses[name] = [v for v in codes[name] if flag(v) is False] or ["F"]
            for value, count in codes[name].items():
                if flag(value) is None:
                    shown = "vide" if value in (None, "") else repr(value)
                    self.todo(
                        f"{count} objet(s) ont {name} = {shown}, ni T ni F : ceux que l'autre "
                        "champ ne retient pas ne seront pas affichés, et la construction les "
                        "listera ; corrigez les données (T ou F)"
                    )
        hint = " and ".join(filter_text(name, values) for name, values in falses.items())
        for name, item_id in (
            (reservoir, "cours-eau-reservoirs"),
            (corridor, "cours-eau-corridors"),
        ):
            true_values = [v for v in codes[name] if flag(v) is True]
            if true_values:
                count = sum(codes[name][v] for v in true_values)
                self.add(
                    item_id, f"{name} vrai : {count} objet(s)",
                    filter=filter_text(name, true_values), excluded_hint=hint,
                )  # fmt: skip

    def obstacles(self) -> None:
        """Obstacles: one item per geometry (points, lines, surfaces)."""
        if self.layer.kind:
            kinds = Counter({self.layer.kind: self.layer.count})
        else:
            kinds = geometry_kinds(self.layer)
        ids = {"point": "obstacles-ponctuels", "line": "obstacles-lineaires",
               "polygon": "obstacles-surfaciques"}  # fmt: skip
        words = {"point": "ponctuelle", "line": "linéaire", "polygon": "surfacique"}
        for kind in ("point", "line", "polygon"):
            if kinds[kind]:
                self.add(ids[kind], f"géométrie {words[kind]} : {kinds[kind]} objet(s)", kind=kind)
        if not kinds:
            self.todo("obstacles sans géométrie lisible : aucun élément de légende écrit")
