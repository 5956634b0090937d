"""Read a vector layer (GeoPackage, Shapefile, GeoJSON…) into shapely geometries in Lambert-93.

All I/O with GDAL goes through :func:`read_layer`; the rest of the pipeline sees plain arrays.
pyogrio honours a Shapefile's ``.cpg`` (e.g. CP1252) when decoding attributes; without one the
encoding is detected (:mod:`trame.encoding`). A path that goes through a zip file
(``delivery.zip/folder/table.shp``) is read in place through GDAL's ``/vsizip/``.
"""

from __future__ import annotations

import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS

from . import memo
from .crs import LAMBERT_93, WGS84, reproject
from .encoding import (
    check_mojibake,
    choose_encoding,
    detected_note,
    is_shapefile,
    undecodable,
    undecoded_text,
)
from .errors import UserError

REPORTED_BY_US = ("Non closed ring detected", "couldn't be converted")
"""GDAL warnings that the report already gives, in French: not shown again in English."""


@dataclass(frozen=True)
class Layer:
    """Features of one layer: geometries (EPSG:2154) and one attribute dict per feature."""

    source: str
    geometries: np.ndarray
    attributes: list[dict[str, Any]]
    crs: str
    unclosed: frozenset[int] = frozenset()
    """Indexes of features whose rings were not closed in the file (closed on reading)."""
    notes: tuple[str, ...] = ()
    """What reading assumed and the report should say (e.g. an encoding detected, not declared)."""
    geometry_keys: tuple[bytes, ...] = field(default=(), compare=False, repr=False)
    """In a warm process, the store's keys of its geometries (see :func:`_geometries`)."""

    def __len__(self) -> int:
        return len(self.geometries)


def zip_member(path: Path) -> tuple[Path, str] | None:
    """``(archive, member)`` when ``path`` goes through a zip file on disk, else None."""
    if path.exists():
        return None
    for parent in path.parents:
        if parent.suffix.lower() == ".zip" and parent.is_file():
            return parent, path.relative_to(parent).as_posix()
    return None


def gdal_path(path: Path) -> str:
    """The path GDAL opens: ``/vsizip/archive.zip/member`` for a file inside a zip file."""
    inside = zip_member(path)
    return f"/vsizip/{inside[0]}/{inside[1]}" if inside else str(path)


def source_files(path: Path) -> list[Path]:
    """The files on disk a source reads: the zip file, or the file and its sidecar files."""
    inside = zip_member(path)
    if inside:
        return [inside[0]]
    return sorted(p for p in path.parent.glob(f"{path.stem}.*") if p.is_file())


def _exists(path: Path) -> bool:
    inside = zip_member(path)
    if not inside:
        return path.exists()
    try:
        with zipfile.ZipFile(inside[0]) as archive:
            names = set(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False
    return inside[1] in names or f"{inside[1].rstrip('/')}/" in names


def layer_label(path: Path, layer: str | None, folder: Path | None = None) -> str:
    """How messages and reports name a layer: ``fichier, couche 'nom'``. With ``folder`` (the
    config's), the file is named relative to it, or by its name when it lies elsewhere: what
    the site publishes must not depend on the build machine's folders."""
    if folder is not None:
        path = Path(
            path.relative_to(folder).as_posix() if path.is_relative_to(folder) else path.name
        )
    return f"{path}" + (f", couche {layer!r}" if layer else "")


def read_layer(path: Path, layer: str | None = None, encoding: str | None = None) -> Layer:
    """Read every feature of ``layer`` in ``path`` and reproject it to Lambert-93.

    ``encoding`` (a Shapefile's text encoding, e.g. ``CP1252``) overrides the file's own
    declaration; without either it is detected.
    """
    where = layer_label(path, layer)
    if not _exists(path):
        raise UserError(
            f"{where} : fichier introuvable ; vérifiez son chemin dans la configuration et DATA_DIR"
        )
    source = gdal_path(path)
    try:
        meta, wkb, columns, notes = _read_decoded(source, layer, where, encoding)
    except UserError:
        if layer is not None:  # (a missing layer, or a file that does not open, said first)
            _check_layer(source, layer, where)
        raise
    if not meta.get("crs"):
        raise UserError(
            f"{where} : aucun système de coordonnées déclaré (un Shapefile a besoin de son "
            "fichier .prj) ; ajoutez-le, par exemple avec ogr2ogr -a_srs EPSG:2154"
        )
    crs = CRS.from_user_input(meta["crs"])
    geometries, unclosed, keys = _geometries(wkb, crs, where)
    names = list(meta["fields"])
    values = [_plain_column(column) for column in columns]
    attributes = [dict(zip(names, row, strict=True)) for row in zip(*values, strict=True)]
    if not names:
        attributes = [{} for _ in range(len(geometries))]
    return Layer(
        source=where, geometries=geometries, attributes=attributes, crs=crs.to_string(),
        unclosed=unclosed, notes=tuple(notes), geometry_keys=keys,
    )  # fmt: skip


def _check_layer(source: str, layer: str, where: str) -> None:
    """Refuse a file that does not open, or that has no such layer: checked only once a read
    failed (listing the layers first cost ~6 ms per layer read, 5 per build for a GeoPackage)."""
    try:
        names = [name for name, _ in pyogrio.list_layers(source)]
    except (DataSourceError, DataLayerError) as error:
        raise UserError(
            f"{where} : ouverture du fichier impossible ({error}) ; vérifiez qu'il est "
            "complet et dans un format vectoriel (GeoPackage, Shapefile, GeoJSON…)"
        ) from None
    if layer not in names:
        raise UserError(
            f"{where} : couche introuvable ; le fichier contient {', '.join(map(repr, names))} : "
            "corrigez le nom de la couche (layer) dans la configuration"
        ) from None


def _read_decoded(
    source: str, layer: str | None, where: str, encoding: str | None
) -> tuple[dict[str, Any], np.ndarray | None, list[np.ndarray], list[str]]:
    """Read with the right text encoding: configured, declared, or the first that decodes."""
    choice = choose_encoding(source, where, encoding)
    attempts = choice.candidates or (choice.encoding,)
    for number, attempt in enumerate(attempts, start=1):
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                meta, _, wkb, columns = pyogrio.raw.read(source, layer=layer, encoding=attempt)
            undecoded = undecoded_text(caught, columns)
            for other in caught:  # GDAL's other warnings are still shown
                if not any(text in str(other.message) for text in REPORTED_BY_US):
                    warnings.warn(other.message, other.category, stacklevel=2)
        except (DataSourceError, DataLayerError, OSError) as error:
            raise UserError(
                f"{where} : lecture du fichier impossible ({error}) ; vérifiez qu'il est complet"
            ) from None
        except UnicodeDecodeError as error:
            undecoded = error.object[max(error.start - 10, 0) : error.end + 10]
        if undecoded is not None:
            if number < len(attempts):
                continue
            raise undecodable(where, choice, undecoded)
        note = detected_note(attempt, columns) if choice.candidates and attempt else None
        if is_shapefile(source):
            check_mojibake(where, columns)
        return meta, wkb, columns, [note] if note else []
    raise AssertionError("unreachable")


def _geometries(
    wkb: np.ndarray | None, crs: CRS, where: str
) -> tuple[np.ndarray, frozenset[int], tuple[bytes, ...]]:
    """The features' geometries in Lambert-93, the indexes of those whose rings were left
    open, and their keys in the store (see below; none without it). A warm process (:mod:`.memo`) keeps each one under its WKB and the file's CRS: a file
    changed in one feature gives back the very objects of the others, whose digests the store
    knows, so that nothing downstream hashes them again. Nord, a reservoir moved, warm process:
    the store hashed 7,282 geometries per build before, 3,437 after keeping the digests from
    one build to the next, and ~1 now (``/tmp`` probe counting the rows hashed)."""
    if wkb is None or not memo.active():
        geometries, unclosed = _parse(wkb)
        check_coordinates(where, geometries, crs)
        return reproject(geometries, crs, LAMBERT_93), unclosed, ()
    prefix = memo.key(crs.to_wkt())
    keys = [prefix + (w if w is not None else b"") for w in wkb]
    found = memo.lookup("read geometry", keys)
    missing = [i for i, value in enumerate(found) if value is None]
    if missing:
        parsed, broken = _parse(wkb[missing])
        check_coordinates(where, parsed, crs)
        parsed = reproject(parsed, crs, LAMBERT_93)
        made = [(geometry, i in broken) for i, geometry in enumerate(parsed)]
        memo.keep("read geometry", [keys[i] for i in missing], made)
        for i, value in zip(missing, made, strict=True):
            found[i] = value
    geometries = np.empty(len(found), dtype=object)
    geometries[:] = [value[0] for value in found]
    unclosed = frozenset(i for i, value in enumerate(found) if value[1])
    return geometries, unclosed, tuple(keys)


def _parse(wkb: np.ndarray | None) -> tuple[np.ndarray, frozenset[int]]:
    """WKB to shapely; a ring left open in the file is closed, and its feature remembered."""
    if wkb is None:
        return np.array([], dtype=object), frozenset()
    geometries = shapely.from_wkb(wkb, on_invalid="ignore")
    present = np.array([w is not None for w in wkb], dtype=bool)
    broken = np.flatnonzero(shapely.is_missing(geometries) & present)
    if len(broken):
        geometries[broken] = shapely.from_wkb(wkb[broken], on_invalid="fix")
    return geometries, frozenset(int(i) for i in broken)


def check_coordinates(where: str, geometries: np.ndarray, crs: CRS) -> None:
    """Refuse coordinates that cannot be in the declared CRS (the usual missing-CRS symptom)."""
    present = geometries[~shapely.is_missing(geometries) & ~shapely.is_empty(geometries)]
    if not len(present):
        return
    minx, miny, maxx, maxy = shapely.total_bounds(present)
    if crs.is_geographic and (max(abs(minx), abs(maxx)) > 360 or max(abs(miny), abs(maxy)) > 90):
        raise UserError(
            f"{where} : des coordonnées comme ({minx:.0f}, {miny:.0f}) sont des mètres, pas des "
            f"degrés, mais le fichier déclare {crs.to_string()} (un GeoJSON sans « crs » est lu "
            "en WGS84) ; déclarez le vrai système de coordonnées, par exemple "
            "ogr2ogr -a_srs EPSG:2154 sortie.gpkg entree.geojson"
        )
    area = crs.area_of_use
    if area is None:
        return
    west, south, east, north = reproject(
        np.array([shapely.box(minx, miny, maxx, maxy)], dtype=object), crs, WGS84
    )[0].bounds
    margin = 1.0  # degrees: an area of use is drawn loosely, real data may overhang a little
    outside = (
        east < area.west - margin or west > area.east + margin
        or north < area.south - margin or south > area.north + margin
        or not all(np.isfinite([west, south, east, north]))
    )  # fmt: skip
    if outside:
        raise UserError(
            f"{where} : les objets sont hors de la zone où s'emploie {crs.to_string()} "
            f"({area.name}) ; le système de coordonnées déclaré est sans doute faux : vérifiez "
            "le fichier .prj ou le système de coordonnées du fichier"
        )


def _plain_column(column: np.ndarray) -> list[Any]:
    """:func:`_plain` of every value of a column, a whole column at once where its type allows
    (a national territory has millions of values)."""
    if column.dtype.kind in "iub":
        return column.tolist()
    if column.dtype.kind == "f":
        return [None if value != value else value for value in column.tolist()]  # NaN: None
    if column.dtype == object:
        return [
            value if value is None or type(value) is str else _plain(value)
            for value in column.tolist()
        ]
    return [_plain(value) for value in column]


def python_value(value: Any) -> Any:
    """A numpy scalar as the Python one (NaN as None); anything else as it is."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def _plain(value: Any) -> Any:
    """Turn numpy scalars into Python ones, so JSON and templates see str/int/float/None."""
    value = python_value(value)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if not isinstance(value, str | int | float | bool):
        return str(value)
    return value
