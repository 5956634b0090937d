"""Features of a source layer that no legend item shows: counted, named, never lost in silence.

A legend item picks features of its source layer with a filter (``OBJ_ASSI == '01'``). A feature
that no item of its layer picks (a null or unknown ``OBJ_ASSI``, a flag neither ``T`` nor ``F``)
would vanish from the site; here it is counted per source layer and listed by id. A legend item
may also declare which features of its layer are left out on purpose (``excluded``, a filter such
as ``EST_RESERV == 'F' and EST_CORRID == 'F'``): those are counted as excluded, not as lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import LegendItem
from .filters import Filter
from .read import Layer, layer_label

SourceKey = tuple[Path, str | None]
LISTED_IN_LOG = 20
"""How many ids one log line names before saying how many more there are."""


@dataclass(frozen=True)
class Unmatched:
    """One feature that no legend item shows: its id and the values the filters looked at."""

    id: str
    values: dict[str, Any]

    def describe(self) -> str:
        shown = ", ".join(f"{k} = {_show(v)}" for k, v in sorted(self.values.items()))
        return f"{self.id} ({shown})" if shown else self.id


@dataclass(frozen=True)
class SourceMatch:
    """How the features of one source layer were shared out among the legend items."""

    source: str
    """The layer (file path and layer name), for the log and the JSON report."""
    name: str
    """The file's name and layer, without the folders: what the public page shows."""
    items: tuple[str, ...]
    read: int
    shown: int
    excluded: tuple[str, ...] = ()
    unmatched: tuple[Unmatched, ...] = field(default_factory=tuple)

    def warning(self) -> str | None:
        """The build log's line about this layer (None when every feature has a legend item)."""
        if not self.unmatched:
            return None
        names = ", ".join(u.describe() for u in self.unmatched[:LISTED_IN_LOG])
        more = len(self.unmatched) - LISTED_IN_LOG
        if more > 0:
            names += f" et {more} autres (liste complète dans api/validation.json)"
        return (
            f"{self.source} : {len(self.unmatched)} objet(s) sur {self.read} ne correspondent à "
            f"aucun élément de légende ({', '.join(self.items)}) et ne sont pas affichés : "
            f"{names} ; ajoutez un élément de légende pour ces valeurs, corrigez les données, "
            "ou déclarez-les écartés volontairement (excluded)"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "items": list(self.items),
            "read": self.read,
            "shown": self.shown,
            "excluded": len(self.excluded),
            "excluded_ids": list(self.excluded),
            "unmatched": len(self.unmatched),
            "unmatched_features": [{"id": u.id, "values": u.values} for u in self.unmatched],
        }


def count_unmatched(
    layers: Mapping[SourceKey, Layer],
    legend: Sequence[LegendItem],
    excluded: Mapping[str, Filter] | None = None,
    folder: Path | None = None,
) -> list[SourceMatch]:
    """For every source layer of the legend, in legend order: the features no item picks.

    ``excluded`` maps a legend item id to its filter of deliberately excluded features (the
    config's ``excluded`` key once it has one; an item's own ``excluded`` attribute is used too).
    A feature picked by an item is shown even when an exclusion filter also matches it.
    ``folder`` (the config's): name the layers relative to it (:func:`read.layer_label`).
    """
    excluded = dict(excluded or {})
    groups: dict[SourceKey, list[LegendItem]] = {}
    for item in legend:
        groups.setdefault((item.source.path, item.source.layer), []).append(item)
        own = getattr(item, "excluded", None)
        if own is not None and item.id not in excluded:
            excluded[item.id] = own
    results = []
    for key, items in groups.items():
        layer = layers[key]
        exclusions = [excluded[item.id] for item in items if item.id in excluded]
        looked_at = sorted(
            {name for item in items if item.filter for name in item.filter.fields}
            | {name for rule in exclusions for name in rule.fields}
        )
        id_field = next((item.id_field for item in items if item.id_field), None)
        shown = 0
        left_out: list[str] = []
        lost: list[Unmatched] = []
        for index, row in enumerate(layer.attributes):
            if any(item.filter is None or item.filter.matches(row) for item in items):
                shown += 1
                continue
            identifier = _identifier(row, id_field, index)
            if any(rule.matches(row) for rule in exclusions):
                left_out.append(identifier)
            else:
                lost.append(Unmatched(identifier, {name: row.get(name) for name in looked_at}))
        results.append(
            SourceMatch(
                source=layer_label(*key, folder) if folder else layer.source, name=_name(key), items=tuple(item.id for item in items),
                read=len(layer.attributes), shown=shown, excluded=tuple(left_out),
                unmatched=tuple(lost),
            )
        )  # fmt: skip
    return results


def _name(key: SourceKey) -> str:
    path, layer = key
    return path.name + (f" (couche {layer})" if layer else "")


def _identifier(row: Mapping[str, Any], id_field: str | None, index: int) -> str:
    value = row.get(id_field) if id_field else None
    return str(value) if value not in (None, "") else f"objet n° {index + 1}"


def _show(value: Any) -> str:
    return "vide" if value is None or value == "" else repr(value)
