"""How numbers, dates and attribute values are written for a French reader, in one place."""

from __future__ import annotations

from typing import Any

from .config import Config

NARROW_NBSP = "\u202f"


def french_number(value: float, digits: int = 1) -> str:
    """1234.5 -> '1 234,5' (narrow no-break space for thousands, comma for decimals)."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", NARROW_NBSP).replace(".", ",")


def public_value(value: Any) -> str:
    """An attribute as a reader sees it: booleans in French, the rest as written."""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)


def french_date(config: Config) -> str:
    return config.data_date.strftime("%d/%m/%Y")
