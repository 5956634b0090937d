"""The PDF sheets' settings: paper, scales and the cartouche's words (the config's ``sheets:`` key,
declared in :mod:`trame.config` with every other key).

Every field has a type, a default and a one-line description; the defaults suit any territory,
a State service puts its own words here (see the README for the DDTM 59 example).
"""

from __future__ import annotations

from ..config import PAPER_MM, Config, SheetsConfig

__all__ = ["PAPER_MM", "SheetsConfig", "settings_for"]


def settings_for(config: Config) -> SheetsConfig:
    """The config's ``sheets:`` settings (declared in config.py, with every other key)."""
    return config.sheets
