"""Check and repair geometries, and keep a report of everything done to them.

Nothing is dropped silently: every removed, repaired or clipped feature is counted in the
:class:`ValidationReport`, which the build prints and publishes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from . import memo
from .config import GeometryKind
from .kinds import LINEARRING, Kind, kind, single_parts

if TYPE_CHECKING:
    from .unmatched import SourceMatch

KIND_NAMES = {"polygon": "une surface (polygon)", "line": "une ligne (line)", "point": "un point"}
"""A geometry kind as the messages name it."""


@dataclass
class LayerReport:
    """What happened to the features of one layer (or legend item) during the build."""

    name: str
    source: str
    read: int = 0
    kept: int = 0
    repaired: int = 0
    empty: int = 0
    wrong_type: int = 0
    outside: int = 0
    clipped: int = 0
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


@dataclass
class ValidationReport:
    layers: list[LayerReport] = field(default_factory=list)
    sources: list[SourceMatch] = field(default_factory=list)
    """Per source layer: features shown, deliberately excluded, and matching no legend item."""

    def add(self, name: str, source: str) -> LayerReport:
        report = LayerReport(name=name, source=source)
        self.layers.append(report)
        return report

    @property
    def warnings(self) -> list[str]:
        lost = [source.warning() for source in self.sources]
        return [
            f"{layer.name} ({layer.source}) : {w}" for layer in self.layers for w in layer.warnings
        ] + [warning for warning in lost if warning]

    def as_dict(self) -> dict[str, Any]:
        return {
            "layers": [asdict(layer) for layer in self.layers],
            "sources": [source.as_dict() for source in self.sources],
        }


def _gathered(geometries: np.ndarray, wanted_kind: Kind) -> np.ndarray:
    """Each multi-part geometry made again from its parts (as :func:`clean_geometries` wants
    it: a new geometry of the wanted kind, each part as it was)."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    return wanted_kind.collect(parts, indices=owner)


def clean_geometries(
    geometries: np.ndarray, geometry_kind: GeometryKind, labels: list[str], report: LayerReport
) -> tuple[np.ndarray, np.ndarray]:
    """Return (cleaned geometries, mask of the kept input features).

    Invalid geometries are repaired with ``make_valid``; only the parts of the expected kind are
    kept (a repaired polygon may gain stray lines); null and empty geometries are removed.
    ``labels`` names each feature in the messages (its identifier or its index).
    """
    wanted_kind = kind(geometry_kind)
    report.read += len(geometries)
    cleaned = np.empty(len(geometries), dtype=object)
    keep = np.zeros(len(geometries), dtype=bool)
    valid = np.zeros(len(geometries), dtype=bool)  # (a missing geometry is not valid)
    present = ~shapely.is_missing(geometries)
    # (GEOS's validity check is ~0.14 s of Nord's features: a warm process keeps it)
    valid[present] = memo.each("is valid", geometries[present], shapely.is_valid).astype(bool)
    # The common case, all at once: valid, not empty, of the kind (one part, or several).
    types = shapely.get_type_id(geometries)
    usable = valid & ~shapely.is_empty(geometries)
    single = usable & (types == wanted_kind.single)
    cleaned[single] = geometries[single]
    keep[single] = True
    multi = np.flatnonzero(usable & (types == wanted_kind.multi))
    parts, owner = shapely.get_parts(geometries[multi], return_index=True)
    if len(parts) and not shapely.is_empty(parts).any():
        alone = np.bincount(owner, minlength=len(multi)) == 1
        # (a warm process keeps each feature's parts, alone or gathered again: new objects at
        # every build would be hashed again by every step after this one)
        cleaned[multi[alone]] = memo.each("lone part", geometries[multi[alone]], shapely.get_parts)
        if not alone.all():
            cleaned[multi[~alone]] = memo.each(
                "parts gathered", geometries[multi[~alone]],
                lambda several: _gathered(several, wanted_kind),
            )  # fmt: skip
        keep[multi] = True
    for index in np.flatnonzero(~keep).tolist():  # the others, one by one, with a message
        geometry = geometries[index]
        if geometry is None or shapely.is_empty(geometry):
            report.empty += 1
            report.warn(
                f"objet {labels[index]} : sans géométrie, ignoré ; dessinez-le ou supprimez-le "
                "dans le fichier source"
            )
            continue
        if not valid[index]:
            reason = shapely.is_valid_reason(geometry)
            geometry = shapely.make_valid(geometry)
            report.repaired += 1
            report.warn(
                f"objet {labels[index]} : géométrie invalide ({reason}), réparée ; vérifiez le "
                "tracé réparé et corrigez-le dans le fichier source"
            )
        parts = single_parts(geometry)
        rings = shapely.get_type_id(parts) == LINEARRING  # a closed line: keep it as a line
        parts[rings] = [shapely.LineString(ring.coords) for ring in parts[rings]]
        wanted = parts[shapely.get_type_id(parts) == wanted_kind.single]
        wanted = wanted[~shapely.is_empty(wanted)]
        if len(wanted) == 0:
            report.wrong_type += 1
            found, name = geometry.geom_type, KIND_NAMES[wanted_kind.name]
            report.warn(
                f"objet {labels[index]} : géométrie {found}, pas {name}, ignoré ; corrigez "
                "l'objet dans le fichier source, ou le type (geometry) de l'élément de légende"
            )
            continue
        cleaned[index] = wanted[0] if len(wanted) == 1 else wanted_kind.collect(wanted)
        keep[index] = True
    report.kept += int(keep.sum())
    return cleaned[keep], keep
