"""The declarations, walked: the keys of each model, the model at a key path (for the error
messages), and the README's config reference (a test compares it with the README).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
)

from .declarations import Config, _Shown


def yaml_keys(model: type[BaseModel]) -> dict[str, Any]:
    """The keys a YAML mapping of ``model`` may hold, in declaration order, with their fields."""
    return {name: field for name, field in model.model_fields.items() if not field.exclude}


def _set_by_loader(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields) - set(yaml_keys(model))


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in get_args(annotation):
        yield from _models_in(argument)


def _model_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model of the mapping at ``loc`` (e.g. ``("legend", 2, "style")``), if it is one."""
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            continue  # an element of a list: the same model as the list's
        field = yaml_keys(current).get(part) if current else None
        current = next(_models_in(field.annotation), None) if field else None
    return current


def config_models() -> list[type[BaseModel]]:
    """Every model of the config, from the top, each once, in the order its keys use them."""
    found: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        found.append(model)
        for field in yaml_keys(model).values():
            for inner in _models_in(field.annotation):
                if inner not in found:
                    visit(inner)

    visit(Config)
    return found


def _type_name(annotation: Any, metadata: list[Any]) -> str:
    shown = [m.name for m in metadata if isinstance(m, _Shown)]
    if shown:
        return shown[0]
    origin, arguments = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_name(arguments[0], [*arguments[1:], *metadata])
    if origin in (Union, UnionType):
        return " or ".join(_type_name(a, metadata) for a in arguments if a is not NoneType)
    if origin is Literal:
        names = [f"`{a}`" for a in arguments]
        return ", ".join(names[:-1]) + " or " + names[-1]
    if origin is tuple:
        inner = _type_name(arguments[0], [])
        return f"list of {inner[:-1]}s*" if inner.endswith("*") else f"list of {inner}s"
    if origin is dict:
        return "mapping `key: text`"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"*{annotation.model_config.get('title')}*"
    low = [m.ge for m in metadata if hasattr(m, "ge")]  # bounds from Field(ge=..., le=...)
    high = [m.le for m in metadata if hasattr(m, "le")]
    names = {str: "text", float: "number", int: "integer", bool: "`true` or `false`"}
    name = names.get(annotation, "path" if annotation is Path else str(annotation))
    return f"{name} {low[0]:g} to {high[0]:g}" if low and high else name


def _yaml_text(value: Any) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_unset=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_yaml_text, value)) + "]"
    text = str(value)
    return text if re.fullmatch(r"[\w.-]+", text) else json.dumps(text)


def config_reference() -> str:
    """The README's table of config keys, written from the declarations above."""
    lines = []
    for model in config_models():
        title = model.model_config.get("title")
        doc = " ".join((model.__doc__ or "").split())
        lines += [f"**{title}**: {doc}", "", "| key | type | default | what |", "|---|---|---|---|"]
        for name, field in yaml_keys(model).items():
            kind = _type_name(field.annotation, field.metadata)
            if field.is_required():
                default = "required"
            elif field.default is None:
                default = "optional"
            else:
                default = f"`{_yaml_text(field.get_default(call_default_factory=True))}`"
            lines.append(f"| `{name}` | {kind} | {default} | {field.description} |")
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
