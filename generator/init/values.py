"""What the code fields hold: ``OBJ_ASSI`` objectives, ``EST_RESERV`` / ``EST_CORRID`` flags.

Real deliveries spell codes in several ways (``01``, ``1``, ``préservation``; ``T``, ``O``,
``Oui``, ``1``); each spelling found in the data is mapped to its meaning here, and the legend's
filters name the data's own spellings. Anything else is reported, never guessed.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np
import pyogrio
import shapely

from ..read import gdal_path, python_value
from .discover import FoundLayer

PRESERVATION = "01"
RESTORATION = "02"
OBJECTIVE_NAMES = {PRESERVATION: "préservation", RESTORATION: "remise en bon état"}


def value_counts(layer: FoundLayer, fields: Iterable[str | None]) -> dict[str, Counter[Any]]:
    """How often each value occurs in each of ``fields`` (those the layer has)."""
    wanted = [name for name in dict.fromkeys(fields) if name]
    if not wanted:
        return {}
    meta, _, _, columns = pyogrio.raw.read(
        gdal_path(layer.path), layer=layer.layer, read_geometry=False, columns=wanted
    )
    return {
        str(name): Counter(python_value(value) for value in column)
        for name, column in zip(meta["fields"], columns, strict=True)
    }


def geometry_kinds(layer: FoundLayer) -> Counter[str]:
    """polygon / line / point counts of a layer whose geometry type is mixed or undeclared."""
    _, _, wkb, _ = pyogrio.raw.read(gdal_path(layer.path), layer=layer.layer, columns=[])
    if wkb is None:
        return Counter()
    types = shapely.get_type_id(shapely.from_wkb(wkb[np.array([w is not None for w in wkb])]))
    names = {0: "point", 4: "point", 1: "line", 5: "line", 3: "polygon", 6: "polygon"}
    return Counter(names[t] for t in types.tolist() if t in names)


def objective(value: Any) -> str | None:
    """``01`` (préservation), ``02`` (remise en bon état), or None for anything else."""
    text = _simple(value)
    if text in ("01", "1", "1.0") or text.startswith(("preserv", "a preserv")):
        return PRESERVATION
    if text in ("02", "2", "2.0") or text.startswith(("remise", "restaur", "a restaur", "a remet")):
        return RESTORATION
    return None


def flag(value: Any) -> bool | None:
    """True for T / O / Oui / 1, False for F / N / Non / 0, None for anything else."""
    text = _simple(value)
    if text in ("t", "true", "vrai", "o", "oui", "y", "yes", "1"):
        return True
    if text in ("f", "false", "faux", "n", "non", "no", "0"):
        return False
    return None


def filter_text(field: str, values: Iterable[Any]) -> str:
    """A legend filter picking ``values`` of ``field``: ``F == 'a'`` or ``F in ['a', 'b']``."""
    spelled = sorted({str(value) for value in values})
    if len(spelled) == 1:
        return f"{field} == {spelled[0]!r}"
    return f"{field} in [{', '.join(repr(v) for v in spelled)}]"


def _simple(value: Any) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKD", str(value).strip().lower())
    return text.encode("ascii", "ignore").decode("ascii")
