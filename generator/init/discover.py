"""Find the vector layers in what the officer gives: folders, zip files, GeoPackage, GeoJSON…

Folders are walked; zip files are listed and their layers, at any depth, read in place through
GDAL's ``/vsizip/`` (a layer inside a zip is named ``archive.zip/folder/table.shp``, the form the
config and :func:`trame.read.read_layer` accept).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

from ..errors import UserError
from ..read import gdal_path

LAYER_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".fgb")
"""Files read as layers; a ``.json`` that is not GeoJSON is passed over quietly."""
KINDS = {"polygon": "Polygon", "line": "LineString", "point": "Point"}


@dataclass(frozen=True)
class FoundLayer:
    """One layer: where it is, its geometry type, CRS, number of features and fields."""

    path: Path
    """The file, or ``archive.zip/member`` for a file inside a zip."""
    layer: str | None
    """The layer's name in a multi-layer file (GeoPackage), else None."""
    name: str
    geometry_type: str
    crs: str | None
    count: int
    fields: tuple[str, ...]

    @property
    def kind(self) -> str | None:
        """polygon, line or point, from the declared geometry type (None: mixed or unknown)."""
        for kind, word in KINDS.items():
            if word in self.geometry_type:
                return kind
        return None

    def field(self, *candidates: str) -> str | None:
        """The layer's own spelling of the first candidate field it has (any letter case)."""
        upper = {name.upper(): name for name in self.fields}
        return next((upper[c.upper()] for c in candidates if c.upper() in upper), None)

    def label(self) -> str:
        return str(self.path) + (f" (couche {self.layer})" if self.layer else "")

    def describe(self) -> str:
        """One line of the inventory, in French."""
        crs = self.crs or "SCR non déclaré"
        geometry = (
            "géométrie mixte ou non déclarée"
            if self.geometry_type == "Unknown"
            else self.geometry_type
        )
        return (
            f"{self.label()} : {geometry}, {crs}, {self.count} objet(s), "
            f"champs {', '.join(self.fields) or '(aucun)'}"
        )


def discover(paths: Sequence[Path]) -> tuple[list[FoundLayer], list[str]]:
    """Every layer found under ``paths`` (in a stable order), and what could not be read."""
    layers: list[FoundLayer] = []
    problems: list[str] = []
    for given in paths:
        if not given.exists():
            raise UserError(f"{given} : fichier ou dossier introuvable ; vérifiez le chemin")
        for path, explicit in _candidates(given.resolve()):
            found, problem = _layers_of(path, explicit)
            layers += found
            if problem:
                problems.append(problem)
    return layers, problems


def _candidates(path: Path) -> Iterable[tuple[Path, bool]]:
    """Layer files under ``path`` (files in zips too); True when the user named the file."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
            if child.is_file() and not hidden:
                yield from _in_file(child, explicit=False)
    else:
        yield from _in_file(path, explicit=True)


def _in_file(path: Path, explicit: bool) -> Iterable[tuple[Path, bool]]:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                members = sorted(archive.namelist())
        except (OSError, zipfile.BadZipFile):
            yield path, True  # reported as unreadable
            return
        for member in members:
            if member.lower().endswith(LAYER_SUFFIXES) and not member.startswith("__MACOSX"):
                yield path / member, explicit or member.lower().endswith(".shp")
    elif path.suffix.lower() in LAYER_SUFFIXES:
        yield path, explicit or path.suffix.lower() != ".json"
    elif explicit:
        yield path, True


def _layers_of(path: Path, explicit: bool) -> tuple[list[FoundLayer], str | None]:
    source = gdal_path(path)
    try:
        names = [str(name) for name, _ in pyogrio.list_layers(source)]
    except (DataSourceError, DataLayerError, OSError) as error:
        return (
            [],
            f"{path} : ignoré, ce n'est pas une couche lisible ({error})" if explicit else None,
        )
    multi = path.suffix.lower() == ".gpkg" or len(names) > 1
    found = []
    for name in names:
        try:
            info = pyogrio.read_info(source, layer=name, force_feature_count=True)
        except (DataSourceError, DataLayerError, OSError) as error:
            return found, f"{path} (couche {name}) : illisible ({error})"
        found.append(
            FoundLayer(
                path=path, layer=name if multi else None, name=name if multi else path.stem,
                geometry_type=str(info.get("geometry_type") or "aucune"),
                crs=_crs_label(info.get("crs")), count=int(info.get("features", -1)),
                fields=tuple(str(f) for f in info.get("fields", ())),
            )
        )  # fmt: skip
    return found, None


def _crs_label(crs: str | None) -> str | None:
    if not crs:
        return None
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        return crs
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg} ({parsed.name})" if epsg else parsed.name
