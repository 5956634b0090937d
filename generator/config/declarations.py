"""Each config key declared once: its type, its default and a one-line doc (``description``),
in typed, frozen pydantic models that refuse unknown keys. The legend item is the single
definition that tiles, map style, legend, figures and pages read.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from annotated_types import Len
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PositiveInt,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..filters import Filter, parse_filter

GeometryKind = Literal["polygon", "line", "point"]
GEOMETRY_KINDS: tuple[GeometryKind, ...] = get_args(GeometryKind)
Basemap = Literal["none", "ign-plan", "ign-ortho"]
BASEMAPS: tuple[Basemap, ...] = get_args(Basemap)
Theme = Literal["default", "dsfr"]
THEMES: tuple[Theme, ...] = get_args(Theme)
_ITEM_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


class _Shown:
    """How a value type is named in the README's config reference (Annotated metadata)."""

    def __init__(self, name: str):
        self.name = name


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "une table de clés"
    if isinstance(value, list | tuple):
        return "une liste"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _refuse(message: str) -> PydanticCustomError:
    """A validation failure whose (French) message reaches the user as is."""
    return PydanticCustomError("trame", "{message}", {"message": message})


def _identifier(value: str) -> str:
    if not _ITEM_ID.match(value):
        raise _refuse(
            f"{value!r} n'est pas un identifiant valide ; utilisez des lettres minuscules sans "
            "accent, des chiffres et des tirets, par exemple 'reservoirs-a-preserver'"
        )
    return value


def _colour(value: str) -> str:
    if not _COLOUR.match(value):
        raise _refuse(f"il faut une couleur comme '#2e7d32', pas {value!r} ; corrigez la valeur")
    return value


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise _refuse(f"il faut une date AAAA-MM-JJ, par exemple 2016-09-30, pas {_shown(value)}")


def _filter(value: Any) -> Filter | None:
    if value is None or isinstance(value, Filter):
        return value
    if not isinstance(value, str):
        raise _refuse(
            f"il faut un filtre en texte, par exemple \"OBJ_ASSI == '02'\", pas {value!r}"
        )
    if not value.strip():
        return None
    try:
        return parse_filter(value)
    except ValueError as error:
        raise _refuse(f"{error} ; corrigez le filtre") from None


def _blank_is_none(value: Any) -> Any:
    return value or None


Identifier = Annotated[str, AfterValidator(_identifier), _Shown("identifier (`a-z`, `0-9`, `-`)")]
Colour = Annotated[str, AfterValidator(_colour), _Shown("colour (`#rrggbb` or `#rgb`)")]
# Strict: "2" is not a number, `1` is not `true`, `true` is not a number (YAML says which is which).
Number = Annotated[float, Strict()]
Integer = Annotated[int, Strict()]
Flag = Annotated[bool, Strict()]
Date = Annotated[dt.date, BeforeValidator(_date), _Shown("date (`YYYY-MM-DD`)")]
FilterText = Annotated[Filter | None, PlainValidator(_filter), _Shown("filter (text)")]
POLYGON_OPACITY = 0.6
OPAQUE = 1.0
"""The opacity of lines, points and commune outlines whose style gives none."""


class _Model(BaseModel):
    """A mapping of the config: unknown keys refused, immutable once loaded."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, coerce_numbers_to_str=True, arbitrary_types_allowed=True
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        """A key left empty in YAML (``fields:``) takes its default, as if it were absent."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


def _context(info: ValidationInfo) -> dict[str, Any]:
    return info.context or {}


class Source(_Model):
    """A layer in a file (GeoPackage, Shapefile or GeoJSON)."""

    model_config = ConfigDict(title="source")

    path: Path = Field(
        description="the file, relative to `DATA_DIR` (or `data_dir`, or the config's folder)"
    )
    layer: Annotated[str | None, AfterValidator(_blank_is_none)] = Field(
        None, description="the layer in the file, when it holds several (GeoPackage)"
    )
    encoding: str | None = Field(
        None,
        description="a Shapefile's text encoding (e.g. `CP1252`) when its `.cpg` is missing or "
        "wrong; by default the `.cpg`, else UTF-8 if the text is valid UTF-8, else CP1252",
    )

    @field_validator("path")
    @classmethod
    def _in_data_dir(cls, path: Path, info: ValidationInfo) -> Path:
        base = _context(info).get("data_dir")
        return (base / path).resolve() if base else path


class Style(_Model):
    """How a legend item is drawn, on the web map, in the legend and on the static map."""

    model_config = ConfigDict(title="style")

    color: Colour = Field(description="fill colour of polygons and points, colour of lines")
    outline: Colour | None = Field(None, description="outline colour of polygons and points")
    opacity: Number = Field(
        POLYGON_OPACITY, ge=0, le=1, description="opacity; lines and points default to 1"
    )
    width: Number = Field(2.0, ge=0, le=20, description="line width, in pixels")
    dash: Annotated[
        tuple[Annotated[float, Strict(), Field(gt=0)], ...] | None,
        AfterValidator(_blank_is_none),
    ] = Field(None, description="dashes of a line, in line widths, e.g. `[2, 1]`")
    radius: Number = Field(5.0, ge=1, le=30, description="radius of a point, in pixels")


def _opaque_unless_set(style: Style) -> Style:
    if "opacity" in style.model_fields_set:
        return style
    return style.model_copy(update={"opacity": OPAQUE})


class LegendItem(_Model):
    """The one definition of a layer that feeds the tiles, the map style, the legend and the
    figures."""

    model_config = ConfigDict(title="legend item")

    id: Identifier = Field(
        description="stable id (`reservoirs-a-preserver`): the tile layer, the API key, the style "
        "layer"
    )
    label: str = Field(description="the name on the map's legend (French)")
    description: str = Field("", description="what the item is, under its label (French)")
    source: Source = Field(description="where the features are")
    geometry: GeometryKind = Field(description="the kind of features")
    style: Style = Field(description="how the features are drawn")
    filter: FilterText = Field(
        None,
        description="features to keep: comparisons `==`, `!=`, `in`, `not in` joined by `and`, "
        "`or`, `not`, e.g. `OBJ_ASSI == '02'`; codes are compared as text",
    )
    excluded: FilterText = Field(
        None,
        description="features of the same source deliberately left out of every item (e.g. "
        "`EST_RESERV == 'F' and EST_CORRID == 'F'`): counted as excluded, not as unclassified",
    )
    id_field: str | None = Field(None, description="the attribute that identifies an element")
    fields: dict[str, str] = Field(
        {}, description="attributes shown to the public, in order: `FIELD: Libellé`"
    )

    @field_validator("style")
    @classmethod
    def _lines_and_points_opaque(cls, style: Style, info: ValidationInfo) -> Style:
        return style if info.data.get("geometry") == "polygon" else _opaque_unless_set(style)


Paper = Literal["A4", "A3", "A2", "A1", "A0"]

PAPER_MM: dict[str, tuple[float, float]] = {
    "A4": (210, 297), "A3": (297, 420), "A2": (420, 594), "A1": (594, 841), "A0": (841, 1189),
}  # fmt: skip
"""Portrait width and height of each ISO 216 paper, in millimetres."""


class SheetsConfig(_Model):
    """What the PDF map sheets (commune sheets and territory atlas) look like and say."""

    model_config = ConfigDict(title="sheets")

    paper: Paper = Field("A3", description="Paper size of every sheet (ISO 216).")
    orientation: Literal["landscape", "portrait"] = Field(
        "landscape", description="Paper orientation; the cartouche stays on the right."
    )
    atlas_scale: PositiveInt = Field(
        50_000, description="Scale denominator of the atlas sheets (PLAN k/N), e.g. 50000."
    )
    commune_scales: tuple[PositiveInt, ...] = Field(
        (2_000, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000),
        description="Round scale denominators a commune sheet may use: the largest that fits.",
    )
    territory_label: str = Field(
        "", description="First line of the cartouche (default: the territory's name)."
    )
    title: str = Field("Carte de la trame verte et bleue", description="Title of the map.")
    title_lines: tuple[str, ...] = Field(
        ("Schéma régional de cohérence écologique", "trame verte et bleue"),
        description="Lines under the title, naming the scheme the map shows.",
    )
    service_lines: tuple[str, ...] = Field(
        (), description="The service that issues the map, one line each (none: omitted)."
    )
    purpose_lines: tuple[str, ...] = Field(
        ("Document d'information",),
        description="What the map is for, e.g. a porter à connaissance for planning.",
    )
    notice: str = Field("Pour information", description="Boxed words saying the map's status.")
    author: str = Field(
        "", description="PDF author (default: the service's first line, else the producer)."
    )
    version: str = Field("", description="Version printed in the cartouche (default: none).")
    contact: str = Field("", description="Contact line printed in the cartouche (default: none).")

    @field_validator("commune_scales")
    @classmethod
    def _sorted_scales(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise _refuse("donnez au moins une échelle, par exemple [10000, 25000]")
        return tuple(sorted(set(value)))

    def paper_mm(self) -> tuple[float, float]:
        """Width and height of the paper as printed, in millimetres."""
        width, height = PAPER_MM[self.paper]
        return (height, width) if self.orientation == "landscape" else (width, height)


class Dsfr(_Model):
    """The words of the DSFR theme's header and footer."""

    model_config = ConfigDict(title="dsfr")

    marianne: Annotated[tuple[str, ...], Len(1, 4)] = Field(
        ("République", "française"),
        description="the lines of the Marianne block (1 to 4), e.g. `[Préfet, du Nord]`",
    )
    service: str = Field("", description="the service's name in the header (default: `name`)")
    tagline: str = Field(
        "La trame verte et bleue, commune par commune", description="the line under the service"
    )


class Communes(_Model):
    """The communes: one polygon each, with its INSEE code and its name."""

    model_config = ConfigDict(title="communes")

    source: Source = Field(description="where the communes are")
    insee_field: str = Field(description="the attribute holding the INSEE code")
    name_field: str = Field(description="the attribute holding the commune's name")
    postcodes_field: str | None = Field(
        None, description="the attribute holding the postcodes, `;`-separated"
    )
    style: Style = Field(
        Style(color="#4a4a4a", width=1.0, opacity=OPAQUE),
        description="how the communes' outlines are drawn",
    )

    @field_validator("style")
    @classmethod
    def _outline_opaque(cls, style: Style) -> Style:
        return _opaque_unless_set(style)


class Tiles(_Model):
    """The vector tiles."""

    model_config = ConfigDict(title="tiles")

    name: str | None = Field(None, description="names the `.pmtiles` file; default: the slug")
    minzoom: Integer = Field(0, ge=0, le=22, description="lowest zoom level of the tiles")
    maxzoom: Integer = Field(14, ge=0, le=22, description="highest zoom level of the tiles")
    communes_minzoom: Integer = Field(
        0,
        ge=0,
        le=22,
        description="lowest zoom level whose tiles hold the communes: raise it for a large "
        "territory (France: 8), whose communes would not fit in a tile of the national view; "
        "below it the map shows the legend items without the commune borders",
    )

    @model_validator(mode="after")
    def _zooms_in_order(self) -> Tiles:
        if self.minzoom > self.maxzoom:
            raise _refuse(
                f"minzoom {self.minzoom} est au-dessus de maxzoom {self.maxzoom} ; "
                "inversez-les ou corrigez l'un des deux"
            )
        if self.communes_minzoom > self.maxzoom:
            raise _refuse(
                f"communes_minzoom {self.communes_minzoom} est au-dessus de maxzoom "
                f"{self.maxzoom} : aucune tuile ne contiendrait les communes ; baissez-le"
            )
        return self


class Config(_Model):
    """One YAML file per territory, e.g. `layers/demo.yml`."""

    model_config = ConfigDict(title="territory config")

    name: str = Field(description="the territory's name, shown on every page")
    slug: Identifier = Field(description="names the territory's files, e.g. `tiles/<slug>/`")
    fictitious: Flag = Field(
        False,
        description="`true` when the data is made up: every page says so (also set when a "
        "feature carries `fictitious_marker`)",
    )
    fictitious_marker: dict[str, str] = Field(
        {}, description="attribute values that mark fictitious data, e.g. `{ID_SRCE: FICTIF}`"
    )
    data_date: Date = Field(description="date of the data")
    sources: tuple[str, ...] = Field(
        (), description="source lines, shown on pages and as the map attribution"
    )
    licence: str = Field("", description="licence of the data, shown in the footer and sources")
    producer: str = Field("", description="who made the data, shown in the footer and sources")
    explanatory_text: Path = Field(
        description="Markdown file (relative to the config) shown on every page; use `###` headings"
    )
    data_dir: Path | None = Field(
        None,
        description="default folder of data paths (relative to the config); `DATA_DIR` "
        "overrides it",
    )
    site_url: str | None = Field(None, description="the site's public URL")
    version: str | None = Field(
        None,
        description="id of the release a build makes (`VERSION=` wins; default: the data date "
        "`YYYY-MM-DD`)",
    )
    renamed_communes: dict[str, Any] | str | None = Field(
        None,
        description="communes merged into others: `{old INSEE: new INSEE}`, or a CSV or YAML "
        "file holding that table (relative to the config)",
    )
    releases: Path | None = Field(
        None,
        description="the history folder of the releases (relative to the config; default "
        "`releases/<slug>/` beside the site folder)",
    )
    basemap: Basemap = Field(
        "none",
        description="background map: `none` makes no request to any other host; the others "
        "are IGN Géoplateforme maps",
    )
    theme: Theme = Field(
        "default",
        description="the site's look: `default` (Trame's own, neutral) or `dsfr` (the State's "
        "design system, reserved to State services)",
    )
    dsfr: Dsfr = Field(Dsfr(), description="the DSFR theme's header and footer words")
    tiles: Tiles = Field(Tiles(), validate_default=True, description="the vector tiles")
    sheets: SheetsConfig = Field(
        SheetsConfig(), description="the PDF map sheets: paper, scales, the cartouche's words"
    )
    communes: Communes = Field(description="the communes layer")
    legend: tuple[LegendItem, ...] = Field(
        min_length=1,
        description="the legend items, or the path of a YAML file holding that list (relative "
        "to the config)",
    )
    # Not keys of the YAML file: load_config sets them (exclude=True marks them).
    config_path: Path = Field(exclude=True, description="the config file")
    legend_path: Path | None = Field(
        None, exclude=True, description="the legend file, when `legend` names one"
    )

    @field_validator("explanatory_text")
    @classmethod
    def _text_exists(cls, path: Path, info: ValidationInfo) -> Path:
        base = _context(info).get("config_dir")
        path = (base / path).resolve() if base else path
        if not path.is_file():
            raise _refuse(
                f"fichier introuvable : {path} ; indiquez un fichier Markdown, relatif au "
                "dossier de la configuration"
            )
        return path

    @field_validator("data_dir", "releases")
    @classmethod
    def _relative_to_config(cls, path: Path | None, info: ValidationInfo) -> Path | None:
        base = _context(info).get("config_dir")
        return (base / path).resolve() if base and path else path

    @field_validator("tiles")
    @classmethod
    def _tiles_named_after_slug(cls, tiles: Tiles, info: ValidationInfo) -> Tiles:
        slug = info.data.get("slug")
        return tiles if tiles.name or not slug else tiles.model_copy(update={"name": slug})

    @field_validator("legend")
    @classmethod
    def _ids_unique(cls, legend: tuple[LegendItem, ...]) -> tuple[LegendItem, ...]:
        first: dict[str, int] = {}
        for index, item in enumerate(legend):
            if item.id in first:
                raise _refuse(
                    f"l'id {item.id!r} sert deux fois (legend[{first[item.id]}] et "
                    f"legend[{index}]) ; donnez à chaque élément un id différent"
                )
            first[item.id] = index
        return legend

    def item(self, item_id: str) -> LegendItem:
        for item in self.legend:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def with_fictitious(self) -> Config:
        """This config, marked fictitious (a feature carries ``fictitious_marker``)."""
        return self.model_copy(update={"fictitious": True})
