"""The territory config: one YAML file, parsed into typed, validated, frozen dataclasses.

The legend item is the single definition that tiles, map style, legend, figures and pages read:
nothing else in the code knows a layer's colour, filter or label.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from .errors import UserError
from .filters import Filter, parse_filter

GeometryKind = Literal["polygon", "line", "point"]
GEOMETRY_KINDS: tuple[GeometryKind, ...] = ("polygon", "line", "point")
_ITEM_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
BASEMAPS = ("none", "ign-plan", "ign-ortho")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@dataclass(frozen=True)
class Source:
    """A layer in a file: ``path`` is absolute once the config is loaded."""

    path: Path
    layer: str | None = None

    def describe(self) -> str:
        return f"{self.path}" + (f" (layer {self.layer!r})" if self.layer else "")


@dataclass(frozen=True)
class Style:
    """How a legend item is drawn, on the web map, in the legend and on the static map."""

    color: str
    outline: str | None = None
    opacity: float = 0.6
    width: float = 2.0
    dash: tuple[float, ...] | None = None
    radius: float = 5.0
    symbol: Literal["circle", "square", "triangle"] = "circle"


@dataclass(frozen=True)
class LegendItem:
    id: str
    label: str
    description: str
    source: Source
    geometry: GeometryKind
    style: Style
    filter: Filter | None = None
    id_field: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    """Attributes shown to the public, in order: source field name -> French label."""


@dataclass(frozen=True)
class Communes:
    source: Source
    insee_field: str
    name_field: str
    postcodes_field: str | None = None
    style: Style = Style(color="#4a4a4a", width=1.0, opacity=1.0)


@dataclass(frozen=True)
class Tiles:
    name: str
    minzoom: int = 0
    maxzoom: int = 14


@dataclass(frozen=True)
class Config:
    name: str
    slug: str
    fictitious: bool
    data_date: dt.date
    sources: tuple[str, ...]
    licence: str
    communes: Communes
    legend: tuple[LegendItem, ...]
    tiles: Tiles
    explanatory_text: Path
    config_path: Path
    legend_path: Path | None = None
    producer: str = ""
    site_url: str | None = None
    basemap: str = "none"
    """``none`` (default: no request to any other host), ``ign-plan`` or ``ign-ortho``."""
    fictitious_marker: dict[str, str] = field(default_factory=dict)
    """Attribute values that mark a feature as fictitious, e.g. {"ID_SRCE": "FICTIF"}."""
    version: str | None = None
    """Default release id (``--version`` wins; else the data date): see generator/releases."""
    renamed_communes: Any = None
    """Old INSEE -> new INSEE (a mapping, or a CSV/YAML file name relative to the config)."""
    releases: Path | None = None
    """The history folder (default ``releases/<slug>/`` beside the site folder)."""

    def with_fictitious(self) -> Config:
        """The same config, its data marked fictitious (found marked in the data itself)."""
        return replace(self, fictitious=True)

    def item(self, item_id: str) -> LegendItem:
        for item in self.legend:
            if item.id == item_id:
                return item
        raise KeyError(item_id)


class _Reader:
    """Walks the YAML mapping, remembering where it is, so every error names the exact key."""

    def __init__(self, path: Path, data: Any, where: str = ""):
        self.path = path
        self.data = data
        self.where = where

    def fail(self, message: str) -> UserError:
        at = f" at {self.where}" if self.where else ""
        return UserError(f"{self.path}: config error{at}: {message}")

    def mapping(self, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(self.data, dict):
            raise self.fail(f"expected a mapping of keys, got {type(self.data).__name__}")
        unknown = sorted(set(map(str, self.data)) - allowed)
        if unknown:
            raise self.fail(
                f"unknown key(s) {', '.join(unknown)}; allowed keys are {', '.join(sorted(allowed))}"
            )
        return self.data

    def child(self, key: str | int) -> _Reader:
        data = self.data[key] if isinstance(self.data, list) else self.data.get(key)
        where = f"{self.where}[{key}]" if isinstance(key, int) else f"{self.where}.{key}"
        return _Reader(self.path, data, where.lstrip("."))

    def text(self, key: str, default: str | None = None, required: bool = True) -> str | None:
        value = self.data.get(key, default) if isinstance(self.data, dict) else default
        if value is None:
            if required:
                raise self.child(key).fail("this key is required")
            return None
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise self.child(key).fail(f"expected text, got {value!r}")
        return str(value)

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.data.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.child(key).fail(f"expected a number between {low} and {high}, got {value!r}")
        return float(value)


def _source(reader: _Reader, base: Path) -> Source:
    data = reader.mapping({"path", "layer"})
    path = reader.text("path")
    assert path is not None
    layer = reader.text("layer", required=False)
    return Source(path=(base / path).resolve(), layer=layer if data.get("layer") else None)


def _style(reader: _Reader, geometry: str) -> Style:
    reader.mapping({"color", "outline", "opacity", "width", "dash", "radius", "symbol"})
    colours = {}
    for key in ("color", "outline"):
        value = reader.text(key, required=key == "color")
        if value is not None and not _COLOUR.match(value):
            raise reader.child(key).fail(f"expected a colour like '#2e7d32', got {value!r}")
        colours[key] = value
    dash = reader.data.get("dash")
    if dash is not None and (
        not isinstance(dash, list) or not all(isinstance(d, int | float) and d > 0 for d in dash)
    ):
        raise reader.child("dash").fail("expected a list of positive numbers, e.g. [2, 1]")
    symbol = reader.text("symbol", default="circle")
    if symbol not in ("circle", "square", "triangle"):
        raise reader.child("symbol").fail(f"expected circle, square or triangle, got {symbol!r}")
    default_opacity = 0.6 if geometry == "polygon" else 1.0
    return Style(
        color=colours["color"],
        outline=colours["outline"],
        opacity=reader.number("opacity", default_opacity, 0.0, 1.0),
        width=reader.number("width", 2.0, 0.0, 20.0),
        dash=tuple(float(d) for d in dash) if dash else None,
        radius=reader.number("radius", 5.0, 1.0, 30.0),
        symbol=symbol,  # type: ignore[arg-type]
    )


def _legend_item(reader: _Reader, data_base: Path) -> LegendItem:
    reader.mapping(
        {
            "id",
            "label",
            "description",
            "source",
            "filter",
            "geometry",
            "id_field",
            "fields",
            "style",
        }
    )
    item_id = reader.text("id")
    assert item_id is not None
    if not _ITEM_ID.match(item_id):
        raise reader.child("id").fail(
            f"{item_id!r} is not a valid id: use lower-case letters, digits and dashes"
        )
    geometry = reader.text("geometry")
    if geometry not in GEOMETRY_KINDS:
        raise reader.child("geometry").fail(
            f"expected one of {', '.join(GEOMETRY_KINDS)}, got {geometry!r}"
        )
    filter_text = reader.text("filter", required=False)
    try:
        item_filter = parse_filter(filter_text) if filter_text else None
    except ValueError as error:
        raise reader.child("filter").fail(str(error)) from None
    fields = reader.data.get("fields") or {}
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise reader.child("fields").fail("expected a mapping of field name to French label")
    return LegendItem(
        id=item_id,
        label=reader.text("label") or "",
        description=reader.text("description", default="") or "",
        source=_source(reader.child("source"), data_base),
        geometry=geometry,  # type: ignore[arg-type]
        style=_style(reader.child("style"), geometry),
        filter=item_filter,
        id_field=reader.text("id_field", required=False),
        fields={str(k): v for k, v in fields.items()},
    )


def load_config(path: Path | str, data_dir: Path | str | None = None) -> Config:
    """Read and validate a territory config.

    Data paths are relative to ``data_dir`` when given, otherwise to the config's own
    ``data_dir`` key (itself relative to the config file), otherwise to the config file's folder.
    Text and legend file paths are always relative to the config file's folder.
    """
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{path}: config file not found; pass CONFIG=path/to/territory.yml"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid YAML: {error}") from None
    config_base = path.parent.resolve()
    root = _Reader(path, raw)
    default_data_dir = root.text("data_dir", required=False) if isinstance(raw, dict) else None
    if data_dir:
        data_base = Path(data_dir).resolve()
    else:
        data_base = (config_base / default_data_dir).resolve() if default_data_dir else config_base
    root.mapping(
        {
            "name", "slug", "fictitious", "data_date", "sources", "licence", "producer",
            "communes", "legend", "tiles", "explanatory_text", "site_url", "fictitious_marker",
            "data_dir", "basemap", "version", "renamed_communes", "releases",
        }
    )  # fmt: skip
    slug = root.text("slug")
    assert slug is not None
    if not _ITEM_ID.match(slug):
        raise root.child("slug").fail("use lower-case letters, digits and dashes")
    data_date = raw.get("data_date")
    if isinstance(data_date, str):
        try:
            data_date = dt.date.fromisoformat(data_date)
        except ValueError:
            data_date = None
    if not isinstance(data_date, dt.date):
        raise root.child("data_date").fail("expected a date like 2016-09-30")
    sources = raw.get("sources") or []
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise root.child("sources").fail("expected a list of texts")
    fictitious = raw.get("fictitious", False)
    if not isinstance(fictitious, bool):
        raise root.child("fictitious").fail("expected true or false")
    marker = raw.get("fictitious_marker") or {}
    if not isinstance(marker, dict):
        raise root.child("fictitious_marker").fail("expected a mapping like {ID_SRCE: FICTIF}")

    communes_reader = root.child("communes")
    communes_reader.mapping({"source", "insee_field", "name_field", "postcodes_field", "style"})
    communes = Communes(
        source=_source(communes_reader.child("source"), data_base),
        insee_field=communes_reader.text("insee_field") or "",
        name_field=communes_reader.text("name_field") or "",
        postcodes_field=communes_reader.text("postcodes_field", required=False),
        **(
            {"style": _style(communes_reader.child("style"), "line")}
            if communes_reader.data.get("style")
            else {}
        ),
    )

    legend_reader = root.child("legend")
    legend_path = None
    if isinstance(legend_reader.data, str):
        # A legend shared by several territories lives in its own file (one definition).
        legend_path = (config_base / legend_reader.data).resolve()
        try:
            legend_data = yaml.safe_load(legend_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise legend_reader.fail(f"cannot read legend file {legend_path}: {error}") from None
        legend_reader = _Reader(legend_path, legend_data, "legend")
    if not isinstance(legend_reader.data, list) or not legend_reader.data:
        raise legend_reader.fail("expected a non-empty list of legend items")
    legend = tuple(
        _legend_item(legend_reader.child(i), data_base) for i in range(len(legend_reader.data))
    )
    seen: set[str] = set()
    for index, item in enumerate(legend):
        if item.id in seen:
            raise legend_reader.child(index).fail(f"legend item id {item.id!r} is used twice")
        seen.add(item.id)

    tiles_reader = root.child("tiles")
    if tiles_reader.data is None:
        tiles_reader.data = {}
    tiles_reader.mapping({"name", "minzoom", "maxzoom"})
    minzoom = int(tiles_reader.number("minzoom", 0, 0, 22))
    maxzoom = int(tiles_reader.number("maxzoom", 14, 0, 22))
    if minzoom > maxzoom:
        raise tiles_reader.fail(f"minzoom {minzoom} is above maxzoom {maxzoom}")

    basemap = root.text("basemap", default="none") or "none"
    if basemap not in BASEMAPS:
        raise root.child("basemap").fail(f"expected one of {', '.join(BASEMAPS)}, got {basemap!r}")

    text_path = root.text("explanatory_text")
    assert text_path is not None
    explanatory_text = (config_base / text_path).resolve()
    if not explanatory_text.is_file():
        raise root.child("explanatory_text").fail(f"file not found: {explanatory_text}")

    return Config(
        name=root.text("name") or "",
        slug=slug,
        fictitious=fictitious,
        data_date=data_date,
        sources=tuple(sources),
        licence=root.text("licence", default="") or "",
        producer=root.text("producer", default="") or "",
        communes=communes,
        legend=legend,
        tiles=Tiles(
            name=tiles_reader.text("name", default=slug) or slug, minzoom=minzoom, maxzoom=maxzoom
        ),
        explanatory_text=explanatory_text,
        config_path=path.resolve(),
        legend_path=legend_path,
        basemap=basemap,
        site_url=root.text("site_url", required=False),
        fictitious_marker={str(k): str(v) for k, v in marker.items()},
        version=root.text("version", required=False),
        renamed_communes=raw.get("renamed_communes"),
        releases=(config_base / str(raw["releases"])).resolve() if raw.get("releases") else None,
    )


def build_date(config: Config) -> dt.datetime:
    """The date stamped on the site: SOURCE_DATE_EPOCH when set, else the data date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.combine(config.data_date, dt.time(), tzinfo=dt.UTC)
