"""What changed in each commune since the previous release, compared from what both published.

The previous release's ``api/communes/<insee>.json`` and ``.geojson`` come from the history, the
new one's from the release being built: the comparison is between what readers saw. An element is
a legend item's feature, known by its ``id_field`` (its pieces in the commune joined):

- added or removed: its id is in one release only;
- modified: its public attributes changed, or its shape moved by more than ``TOLERANCE_M``
  (the Hausdorff distance, in Lambert-93, between the two shapes inside the commune: the largest
  distance from a point of either to the other). One metre is ten times the rounding of the
  published coordinates (1e-6 degree, about 10 cm) and far finer than the maps' scale
  (1:25 000 to 1:100 000, where a line is already 10 to 50 m wide): what moves less is
  rounding, what moves more was redrawn. A commune whose contour changed sees the elements that
  cross its border modified too: their part inside the commune did change.

A commune that absorbed others (``renamed_communes``) is compared with all of them together: its
"before" figures add theirs up (areas and lengths add, since communes do not overlap; counts count
each element once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from ..crs import LAMBERT_93, WGS84, reproject
from ..kinds import measure_of_figures
from .history import History

TOLERANCE_M = 1.0
KINDS = ("added", "removed", "modified")


@dataclass(frozen=True)
class Element:
    item: str
    id: str
    attributes: dict[str, Any]
    geometry: shapely.Geometry
    """WGS84, as published (the pieces inside the commune, joined)."""


@dataclass(frozen=True)
class ElementChange:
    change: str
    """``added``, ``removed`` or ``modified``."""
    item: str
    id: str
    label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    fields: list[str] = field(default_factory=list)
    """Public attributes whose value changed (modified elements)."""
    moved_m: float | None = None
    """How far the shape moved, in metres, when beyond the tolerance."""
    geometry: shapely.Geometry | None = field(default=None, compare=False, repr=False)
    """WGS84: the new shape (added, modified) or the old one (removed), for the map."""

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"item": self.item, "id": self.id, "label": self.label}
        if self.change == "added":
            data["attributes"] = self.after
        elif self.change == "removed":
            data["attributes"] = self.before
        else:
            data |= {"before": self.before, "after": self.after, "fields": self.fields}
            data["moved_m"] = self.moved_m
        return data


@dataclass(frozen=True)
class CommuneChanges:
    insee: str
    name: str
    url: str
    release: str
    previous: str | None
    """The previous release's id; None for the first release (nothing to compare)."""
    merged_from: list[str]
    elements: list[ElementChange]
    figures: list[dict[str, Any]]
    """Per legend item: ``{item, label, kind, before, after}`` (the API's item figures)."""

    def counts(self) -> dict[str, int]:
        return {kind: sum(e.change == kind for e in self.elements) for kind in KINDS}

    def record(self) -> dict[str, Any]:
        """In short, as JSON, what the whole territory's files need (:func:`summary_of`)."""
        return {
            "insee": self.insee, "nom": self.name, "url": self.url, "previous": self.previous,
            "counts": self.counts(), "elements": [[e.change, e.item, e.id] for e in self.elements],
        }  # fmt: skip

    @property
    def changed(self) -> bool:
        return bool(self.elements)

    def as_json(self) -> dict[str, Any]:
        return {
            "insee": self.insee,
            "nom": self.name,
            "url": self.url,
            "release": self.release,
            "previous_release": self.previous,
            "merged_from": self.merged_from,
            "tolerance_m": TOLERANCE_M,
            **{kind: [e.as_dict() for e in self.elements if e.change == kind] for kind in KINDS},
            "figures": {
                f["item"]: {"before": f["before"], "after": f["after"]} for f in self.figures
            },
        }

    def geojson(self) -> dict[str, Any]:
        """The changed elements for the map: new shapes of added and modified, old of removed."""
        features = [
            {
                "type": "Feature",
                "properties": {"change": e.change, "item": e.item, "id": e.id, "libelle": e.label},
                "geometry": shapely.geometry.mapping(e.geometry),
            }
            for e in self.elements
            if e.geometry is not None and not e.geometry.is_empty
        ]
        return {"type": "FeatureCollection", "features": features}


def published_elements(
    detail: dict[str, Any], geojson: dict[str, Any]
) -> dict[tuple[str, str], Element]:
    """A commune's elements as one release published them, by (item, id): the attributes from
    its JSON, the shapes (pieces joined) from its GeoJSON."""
    attributes: dict[tuple[str, str], dict[str, Any]] = {}
    for element in detail.get("elements", []):
        attributes.setdefault((element["item"], str(element["id"])), element["attributes"])
    pieces: dict[tuple[str, str], list[shapely.Geometry]] = {}
    for feature in geojson.get("features", []):
        properties = feature["properties"]
        key = (properties["item"], str(properties["id"]))
        pieces.setdefault(key, []).append(shapely.geometry.shape(feature["geometry"]))
    return {
        key: Element(key[0], key[1], attributes.get(key, {}), _join(parts))
        for key, parts in pieces.items()
    }


def _join(parts: list[shapely.Geometry]) -> shapely.Geometry:
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def compare_elements(
    before: dict[tuple[str, str], Element], after: dict[tuple[str, str], Element],
    labels: dict[str, str],
) -> list[ElementChange]:  # fmt: skip
    """Added, removed and modified elements, in legend-item then id order."""
    changes = []
    both = sorted(set(before) & set(after))
    moved = _moved(
        [before[k].geometry for k in both], [after[k].geometry for k in both]
    )  # metres, or None
    for key, distance in zip(both, moved, strict=True):
        old, new = before[key], after[key]
        fields = sorted(
            name
            for name in set(old.attributes) | set(new.attributes)
            if old.attributes.get(name) != new.attributes.get(name)
        )
        if fields or distance is not None:
            changes.append(
                ElementChange(
                    "modified", key[0], key[1], labels.get(key[0], key[0]), old.attributes,
                    new.attributes, fields, distance, new.geometry,
                )
            )  # fmt: skip
    for key in sorted(set(after) - set(before)):
        element = after[key]
        label = labels.get(key[0], key[0])
        changes.append(
            ElementChange("added", *key, label, None, element.attributes, geometry=element.geometry)
        )
    for key in sorted(set(before) - set(after)):
        element = before[key]
        label = labels.get(key[0], key[0])
        changes.append(
            ElementChange(
                "removed", *key, label, element.attributes, None, geometry=element.geometry
            )
        )
    order = {item: index for index, item in enumerate(labels)}
    changes.sort(key=lambda c: (order.get(c.item, len(order)), c.id, KINDS.index(c.change)))
    return changes


def _moved(old: list[shapely.Geometry], new: list[shapely.Geometry]) -> list[float | None]:
    """The Hausdorff distance (m, Lambert-93) where shapes differ by more than the tolerance."""
    if not old:
        return []
    old_array, new_array = np.array(old, dtype=object), np.array(new, dtype=object)
    same = shapely.equals_exact(old_array, new_array, tolerance=0.0)
    result: list[float | None] = [None] * len(old)
    differing = np.nonzero(~same)[0]
    if len(differing):
        distances = shapely.hausdorff_distance(
            reproject(old_array[differing], WGS84, LAMBERT_93),
            reproject(new_array[differing], WGS84, LAMBERT_93),
        )
        for index, distance in zip(differing, distances, strict=True):
            if distance > TOLERANCE_M:
                result[index] = round(float(distance), 1)
    return result


def merge_figures(items: list[dict[str, Any]], count: int, communes_ha: float) -> dict[str, Any]:
    """Several communes' figures of one item as one (a commune that absorbed others): ``count``
    distinct elements over ``communes_ha`` hectares."""
    if len(items) == 1:
        return items[0]
    merged: dict[str, Any] = {"label": items[0]["label"], "count": count}
    measure = measure_of_figures(items[0])
    if measure.field:
        total = sum(i.get(measure.field) or 0 for i in items)
        merged[measure.field] = round(total, measure.digits)
        if measure.share:  # the total is in hectares, like the communes' area
            merged["share_pct"] = round(100 * total / communes_ha, 2) if communes_ha else 0.0
    return merged


def compare_commune(
    history: History, previous: str, current: tuple[dict[str, Any], dict[str, Any]],
    predecessors: list[str], release: str, labels: dict[str, str],
) -> CommuneChanges:  # fmt: skip
    """One commune of the new release against its predecessors in the previous one."""
    detail, geojson = current
    before: dict[tuple[str, str], Element] = {}
    old_details = []
    for insee in predecessors:
        old_detail = history.read_json(previous, f"api/communes/{insee}.json")
        old_geojson = history.read_json(previous, f"api/communes/{insee}.geojson")
        if old_detail is None or old_geojson is None:
            continue
        old_details.append(old_detail)
        for key, element in published_elements(old_detail, old_geojson).items():
            if key in before:  # an element crossing two merged communes: one element
                element = Element(
                    *key, element.attributes, before[key].geometry.union(element.geometry)
                )
            before[key] = element
    after = published_elements(detail, geojson)
    elements = compare_elements(before, after, labels)
    figures = []
    for item, label in labels.items():
        old_items = [d["items"][item] for d in old_details if item in d.get("items", {})]
        count = sum(k[0] == item for k in before)
        area = sum(d.get("area_ha") or 0 for d in old_details)
        figures.append(
            {
                "item": item,
                "label": label,
                "before": merge_figures(old_items, count, area) if old_items else None,
                "after": detail["items"].get(item),
            }
        )
    return CommuneChanges(
        insee=detail["insee"], name=detail["nom"], url=detail["url"], release=release,
        previous=previous, merged_from=[p for p in predecessors if p != detail["insee"]],
        elements=elements, figures=figures,
    )  # fmt: skip


def first_release(detail: dict[str, Any], release: str, labels: dict[str, str]) -> CommuneChanges:
    figures = [
        {"item": item, "label": label, "before": None, "after": detail["items"].get(item)}
        for item, label in labels.items()
    ]
    return CommuneChanges(
        detail["insee"], detail["nom"], detail["url"], release, None, [], [], figures
    )


def summary(changes: Iterable[CommuneChanges]) -> dict[str, Any] | None:
    """Distinct elements added, removed, modified over the territory, and communes changed."""
    return summary_of(c.record() for c in changes)


def summary_of(records: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """:func:`summary` from the communes' :meth:`CommuneChanges.record`."""
    records = list(records)
    if not records or records[0]["previous"] is None:
        return None
    distinct = {kind: set() for kind in KINDS}  # type: dict[str, set[tuple[str, str]]]
    for commune in records:
        for change, item, identifier in commune["elements"]:
            distinct[change].add((item, identifier))
    return {
        "previous_release": records[0]["previous"],
        **{kind: len(keys) for kind, keys in distinct.items()},
        "communes": sum(bool(c["elements"]) for c in records),
    }
