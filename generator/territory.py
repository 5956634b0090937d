"""The territory: its communes (INSEE code, name, slug, postcodes, Lambert-93 geometry), its
outline, and every legend item's features, read and validated: what the compute steps start from."""

from __future__ import annotations

import functools
import os
import re
import unicodedata
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely

from . import memo
from .cache import input_digest, one_reading
from .config import Communes as CommunesConfig
from .config import Config
from .errors import UserError
from .features import ItemFeatures, select_features
from .french import french_number
from .read import Layer, layer_label, read_layer, source_files
from .unmatched import count_unmatched
from .validate import LayerReport, ValidationReport, clean_geometries

_INSEE = re.compile(r"^[0-9][0-9AB][0-9]{3}$")
MAX_SLUG_LENGTH = 60


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    slug: str
    postcodes: tuple[str, ...]
    geometry: shapely.Geometry  # Lambert-93

    @property
    def path(self) -> str:
        """The page's path below the site root, stable for planning documents that cite it."""
        return f"communes/{self.insee}-{self.slug}/"

    @property
    def area_ha(self) -> float:
        return self.geometry.area / 10_000


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by dashes: safe as one path segment, whatever the input."""
    ascii_text = (
        unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "Oe"))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:MAX_SLUG_LENGTH].rstrip("-") or "commune"


def _communes(layer: Layer, config: CommunesConfig, report: LayerReport) -> list[Commune]:
    """The communes, sorted by INSEE code; duplicate or missing codes and names are fatal."""
    fields = set(layer.attributes[0]) if layer.attributes else set()
    for key in (config.insee_field, config.name_field, config.postcodes_field):
        if key and layer.attributes and key not in fields:
            raise UserError(
                f"{layer.source} : champ {key!r} introuvable (champs : "
                f"{', '.join(sorted(fields))}) ; corrigez communes.insee_field, name_field ou "
                "postcodes_field dans la configuration"
            )
    labels = [f"n° {index + 1}" for index in range(len(layer))]
    seen: dict[str, int] = {}
    for index, attributes in enumerate(layer.attributes):
        insee = str(attributes.get(config.insee_field) or "").strip()
        name = str(attributes.get(config.name_field) or "").strip()
        if not _INSEE.match(insee):
            raise UserError(
                f"{layer.source} : objet n° {index + 1} : code INSEE {insee!r} du champ "
                f"{config.insee_field!r} absent ou mal formé ; il faut 5 caractères, par exemple "
                "59606 ou 2A004 : corrigez-le dans le fichier"
            )
        if insee in seen:
            raise UserError(
                f"{layer.source} : les objets n° {seen[insee] + 1} et n° {index + 1} ont le même "
                f"code INSEE {insee} ; chaque commune doit figurer une seule fois : fusionnez-les "
                "ou corrigez le code"
            )
        if not name:
            raise UserError(
                f"{layer.source} : objet n° {index + 1} (INSEE {insee}) sans nom dans le champ "
                f"{config.name_field!r} ; ajoutez le nom de la commune dans le fichier"
            )
        seen[insee] = index
        labels[index] = f"n° {index + 1} ({insee} {name})"
    for index in sorted(layer.unclosed):
        report.repaired += 1
        report.warn(
            f"objet {labels[index]} : contour non fermé dans le fichier, fermé à la lecture ; "
            "corrigez-le dans le fichier source"
        )
    geometries, kept = clean_geometries(layer.geometries, "polygon", labels, report)
    communes = []
    for geometry, attributes in zip(geometries, np.asarray(layer.attributes)[kept], strict=True):
        raw_postcodes = (
            str(attributes.get(config.postcodes_field) or "") if config.postcodes_field else ""
        )
        name = str(attributes[config.name_field]).strip()
        communes.append(
            Commune(
                insee=str(attributes[config.insee_field]).strip(),
                name=name,
                slug=slugify(name),
                postcodes=tuple(
                    p.strip() for p in re.split(r"[;,\s]+", raw_postcodes) if p.strip()
                ),
                geometry=geometry,
            )
        )
    if not communes:
        raise UserError(
            f"{layer.source} : aucune commune n'a de géométrie utilisable ; vérifiez que la "
            "couche des communes contient des surfaces (polygones)"
        )
    communes.sort(key=lambda commune: commune.insee)
    return communes


def communes_from_layer(
    layer: Layer, config: CommunesConfig, report: LayerReport
) -> tuple[list[Commune], shapely.Geometry]:
    """Build the communes, sorted by INSEE code, and their outline (their union); duplicate or
    missing codes and names are fatal, overlapping communes are reported."""
    communes = _communes(layer, config, report)
    outline, pairs = outline_and_overlaps(communes)
    report_overlaps(communes, pairs, report)
    return communes, outline


def outline_and_overlaps(
    communes: list[Commune],
) -> tuple[shapely.Geometry, list[tuple[int, int, float]]]:
    """The communes' union and :func:`overlaps` (a warm process keeps them for the same
    geometries)."""
    geometries = np.array([commune.geometry for commune in communes], dtype=object)
    return memo.value(  # type: ignore[no-any-return]
        "outline and overlaps", lambda: memo.key(memo.digests(geometries)),
        lambda: _outline_and_overlaps(geometries),
    )  # fmt: skip


def report_overlaps(
    communes: list[Commune], pairs: list[tuple[int, int, float]], report: LayerReport
) -> None:
    for i, j, hectares in pairs:
        first, second = communes[i], communes[j]
        report.warn(
            f"les communes {first.insee} {first.name} et {second.insee} {second.name} se "
            f"chevauchent sur {french_number(hectares, 2)} ha : leurs chiffres comptent "
            "cette surface deux fois ; corrigez leurs contours dans le fichier"
        )


def _outline_and_overlaps(
    geometries: np.ndarray,
) -> tuple[shapely.Geometry, list[tuple[int, int, float]]]:
    """The communes' union, and :func:`overlaps`. The union is made in a thread while the
    overlaps are looked for: both are GEOS work that releases the GIL."""
    with ThreadPoolExecutor(1) as thread:
        outline = thread.submit(union, geometries)
        pairs = overlaps(geometries)
        return outline.result(), pairs


def union(geometries: np.ndarray) -> shapely.Geometry:
    """The union of the communes, normalised (the same vertices in the same order whichever
    way it was made). Communes that make a valid coverage (no overlap, neighbours sharing
    their borders' vertices, as in IGN's Admin Express) are merged by dropping their shared
    edges, which is much cheaper than a general union (GEOS 3.14, ``/tmp`` probes): Nord's 648
    communes in 0.03 s with the check instead of 0.084 s; France's 35,228 in 2.1 s (1.78 s
    of it the check) instead of 6.7 s."""
    if shapely.coverage_is_valid(geometries):
        merged = shapely.coverage_union_all(geometries)
    else:
        merged = shapely.union_all(geometries)
    return shapely.normalize(merged)


def overlaps(geometries: np.ndarray, min_m2: float = 1.0) -> list[tuple[int, int, float]]:
    """Pairs of communes (their rows in ``geometries``) sharing more than ``min_m2`` of area,
    with that area in hectares (a shared border has none)."""
    tree = shapely.STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    # Only pairs whose interiors meet share some area: neighbours share a border only. Asking
    # that first is cheaper than intersecting every pair (Nord's 1,766 pairs of neighbours:
    # 0.024 s instead of 0.119 s; GEOS 3.14).
    inner = shapely.relate_pattern(geometries[left], geometries[right], "2********")
    left, right = left[inner], right[inner]
    areas = shapely.area(shapely.intersection(geometries[left], geometries[right]))
    return [
        (int(i), int(j), float(area) / 10_000)
        for i, j, area in zip(left, right, areas, strict=True)
        if area > min_m2
    ]


@dataclass(frozen=True)
class Territory:
    """Everything read and validated from the inputs, before anything is computed or rendered."""

    config: Config
    communes: list[Commune]
    outline: shapely.Geometry
    """The union of the communes (Lambert-93), computed once."""
    features: list[ItemFeatures]
    report: ValidationReport


def load_territory(config: Config) -> Territory:
    """Read and validate the communes and every legend item's features (Lambert-93)."""
    with one_reading():  # (each file hashed once, here or in the build this is part of)
        return _load(config)


def _load(config: Config) -> Territory:
    report = ValidationReport()
    source = config.communes.source
    communes_layer = _read(source.path, source.layer, source.encoding)
    folder = config.config_path.parent  # the report names the data files relative to it
    communes_report = report.add("communes", layer_label(source.path, source.layer, folder))
    for note in communes_layer.notes:
        communes_report.warn(note)
    communes = _communes(communes_layer, config.communes, communes_report)
    # The communes' outline is made in a thread while the legend's files are read, one after
    # the other in this thread (reading records GDAL's warnings, which
    # ``warnings.catch_warnings`` does process-wide); each item's features are then selected in
    # a thread as soon as its file is read and the outline made (mostly GEOS work, which
    # releases the GIL), in the legend's order. Nord (``/tmp`` probe): the outline took 0.045 s
    # and the files 0.06 s, one after the other before.
    layers: dict[tuple[Path, str | None], Layer] = {}
    with ThreadPoolExecutor(os.cpu_count() or 1) as threads:
        made = threads.submit(outline_and_overlaps, communes)

        @functools.cache
        def outline_made() -> tuple[shapely.Geometry, bytes]:
            """The outline and its WKB, once made (its overlaps reported then)."""
            outline, pairs = made.result()
            report_overlaps(communes, pairs, communes_report)
            return outline, shapely.to_wkb(outline)

        selected = []
        for item in config.legend:
            key = (item.source.path, item.source.layer)
            fresh = key not in layers
            if fresh:
                layers[key] = _read(*key, item.source.encoding)
            item_report = report.add(item.id, layer_label(*key, folder))
            for note in layers[key].notes if fresh else ():
                item_report.warn(note)
            # Each thread gets its own copy of the outline: select_features prepares it, and
            # GEOS' prepared geometries build their indexes lazily, unsafe to share between
            # threads (shared, France's reading crashed in intersects / contains).
            selected.append(threads.submit(
                select_features, item, layers[key], shapely.from_wkb(outline_made()[1]),
                item_report,
            ))  # fmt: skip
        outline = outline_made()[0]
        features = [selection.result() for selection in selected]  # the first error, in order
    report.sources = count_unmatched(layers, config.legend, folder=folder)
    if not config.fictitious and _marked_fictitious(config, layers.values()):
        config = config.with_fictitious()
    return Territory(config, communes, outline, features, report)


def _read(path: Path, layer: str | None, encoding: str | None) -> Layer:
    """:func:`read_layer`; a warm process keeps what it read from files whose bytes have not
    changed (the SHA-256 of the file, or of each of a Shapefile's files).
    Measured on Hauts-de-France (``/tmp`` probe): reading its communes takes 0.21 s, its five
    SRCE layers 0.40 s, at the start of every build: a moved feature leaves the communes'
    file as it was, a renamed commune the SRCE's."""

    def key() -> bytes:
        named = (f"{file.name}={input_digest(file)}" for file in source_files(path))
        return memo.key(str(path), repr((layer, encoding)), *named)

    read = memo.value("read layer", key, lambda: read_layer(path, layer, encoding=encoding))
    # (its features' geometries are kept too, for a next build that finds the file changed
    # in one feature: see read._geometries)
    memo.lookup("read geometry", list(read.geometry_keys))
    return read


def _marked_fictitious(config: Config, layers: Iterable[Layer]) -> bool:
    """True when any feature carries the config's fictitious marker (e.g. ID_SRCE = FICTIF)."""
    marker = config.fictitious_marker
    return bool(marker) and any(
        all(str(row.get(key)) == value for key, value in marker.items())
        for layer in layers
        for row in layer.attributes
    )
