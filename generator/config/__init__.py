"""The territory config: one YAML file, parsed into typed, validated, frozen pydantic models.

Each key is declared once (:mod:`.declarations`): its type, its default and a one-line doc (``description``).
The models validate the YAML (unknown keys refused), :func:`load_config` turns every problem into
one French message naming the file and the key path, and the README's config reference is written
from the same declarations (:func:`config_reference`; a test compares them).

The declarations are :mod:`.declarations`'; the French messages, :mod:`.messages`'; the walk
through the declarations (keys, README reference), :mod:`.walk`'s; reading the YAML, here.

The legend item is the single definition that tiles, map style, legend, figures and pages read:
nothing else in the code knows a layer's colour, filter or label.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..errors import UserError
from .declarations import (
    BASEMAPS,
    GEOMETRY_KINDS,
    OPAQUE,
    PAPER_MM,
    POLYGON_OPACITY,
    THEMES,
    Basemap,
    Colour,
    Communes,
    Config,
    Date,
    Dsfr,
    FilterText,
    Flag,
    GeometryKind,
    Identifier,
    Integer,
    LegendItem,
    Number,
    Paper,
    SheetsConfig,
    Source,
    Style,
    Theme,
    Tiles,
)
from .messages import _explain, _problem, _shown, _unknown_key
from .walk import _set_by_loader, config_models, config_reference, yaml_keys

__all__ = [
    "Basemap",
    "BASEMAPS",
    "build_date",
    "Colour",
    "Communes",
    "Config",
    "config_models",
    "config_reference",
    "Date",
    "Dsfr",
    "FilterText",
    "Flag",
    "GEOMETRY_KINDS",
    "GeometryKind",
    "Identifier",
    "Integer",
    "LegendItem",
    "load_config",
    "Number",
    "OPAQUE",
    "Paper",
    "PAPER_MM",
    "POLYGON_OPACITY",
    "SheetsConfig",
    "Source",
    "source_date_epoch",
    "Style",
    "Theme",
    "THEMES",
    "Tiles",
    "yaml_keys",
]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: Nord's config and legend took ~0.01 s per build
to parse in pure Python (py-spy ``--gil``, warm builds), ~0.001 s with libyaml."""


def _yaml(text: str) -> Any:
    """``yaml.safe_load``, with libyaml when available."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)


def load_config(path: Path | str, data_dir: Path | str | None = None) -> Config:
    """Read and validate a territory config.

    Data paths are relative to ``data_dir`` when given, otherwise to the config's own
    ``data_dir`` key (itself relative to the config file), otherwise to the config file's folder.
    Text and legend file paths are always relative to the config file's folder.
    """
    path = Path(path)
    try:
        raw = _yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(
            f"{path} : fichier de configuration introuvable ; "
            "indiquez-le avec CONFIG=chemin/vers/territoire.yml"
        ) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise UserError(f"{path} : YAML invalide ({error}) ; corrigez la syntaxe") from None
    if not isinstance(raw, dict):
        raise UserError(_problem(path, (), f"il faut une table de clés, pas {_shown(raw)}"))
    for key in raw:
        if key in _set_by_loader(Config):
            raise UserError(_problem(path, (key,), _unknown_key(Config)))
    config_dir = path.parent.resolve()
    legend, legend_path = raw.get("legend"), None
    if isinstance(legend, str):
        # A legend shared by several territories lives in its own file (one definition).
        legend_path = (config_dir / legend).resolve()
        try:
            legend = _yaml(legend_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(
                _problem(
                    path,
                    ("legend",),
                    f"fichier de légende introuvable : {legend_path} ; "
                    "vérifiez son chemin, relatif au dossier de la configuration",
                )
            ) from None
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as error:
            raise UserError(
                _problem(
                    path,
                    ("legend",),
                    f"impossible de lire le fichier de légende {legend_path} ({error}) ; "
                    "corrigez-le ou indiquez-en un autre",
                )
            ) from None
    if data_dir:
        data_base = Path(data_dir).resolve()
    elif isinstance(raw.get("data_dir"), str):
        data_base = (config_dir / raw["data_dir"]).resolve()
    else:
        data_base = config_dir
    data = {**raw, "legend": legend, "config_path": path.resolve(), "legend_path": legend_path}
    try:
        return Config.model_validate(
            data, context={"config_dir": config_dir, "data_dir": data_base}
        )
    except ValidationError as error:
        problems = []
        for detail in error.errors(include_url=False):
            where, explained = detail["loc"], _explain(detail)
            file = legend_path if legend_path and where[:1] == ("legend",) else path
            if explained:
                problems.append(_problem(file, where, explained))
        raise UserError("\n".join(problems)) from None


def build_date(config: Config) -> dt.datetime:
    """The date stamped on the site: SOURCE_DATE_EPOCH when set, else the data date."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return dt.datetime.combine(config.data_date, dt.time(), tzinfo=dt.UTC)


@contextlib.contextmanager
def source_date_epoch(epoch: int) -> Iterator[None]:
    """SOURCE_DATE_EPOCH set to ``epoch`` while a tool that dates its output with it runs
    (MkDocs' pages and sitemap, fontTools' fonts in the PDF sheets), then put back."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous
