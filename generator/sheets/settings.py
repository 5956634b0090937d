"""The PDF sheets' settings: paper, scales and the cartouche's words (the config's ``sheets:`` key).

Every field has a type, a default and a one-line description; the defaults suit any territory,
a State service puts its own words here (see the README for the DDTM 59 example).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

Paper = Literal["A4", "A3", "A2", "A1", "A0"]

PAPER_MM: dict[str, tuple[float, float]] = {
    "A4": (210, 297), "A3": (297, 420), "A2": (420, 594), "A1": (594, 841), "A0": (841, 1189),
}  # fmt: skip
"""Portrait width and height of each ISO 216 paper, in millimetres."""


class SheetsConfig(BaseModel):
    """What the PDF map sheets (commune sheets and territory atlas) look like and say."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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
            raise ValueError("donnez au moins une échelle, par exemple [10000, 25000]")
        return tuple(sorted(set(value)))

    def paper_mm(self) -> tuple[float, float]:
        """Width and height of the paper as printed, in millimetres."""
        width, height = PAPER_MM[self.paper]
        return (height, width) if self.orientation == "landscape" else (width, height)


def settings_for(config: Any) -> SheetsConfig:
    """The config's ``sheets:`` settings once the config declares them, else the defaults."""
    return getattr(config, "sheets", None) or SheetsConfig()
