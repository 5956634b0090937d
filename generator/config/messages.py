"""A config problem in French: one message naming the file, the key path and what to write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
)

from .declarations import Config, _shown
from .walk import _model_at, yaml_keys

_EXPECTED = {
    "string_type": "un texte",
    "float_type": "un nombre",
    "float_parsing": "un nombre",
    "int_type": "un nombre entier",
    "int_parsing": "un nombre entier",
    "int_from_float": "un nombre entier",
    "bool_type": "true ou false",
    "bool_parsing": "true ou false",
    "model_type": "une table de clés (clé: valeur)",
    "model_attributes_type": "une table de clés (clé: valeur)",
    "dict_type": "une table de clés (clé: valeur)",
    "tuple_type": "une liste",
    "list_type": "une liste",
    "path_type": "un chemin de fichier",
}


def _problem(file: Path, loc: tuple[str | int, ...], message: str) -> str:
    where = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    at = f" à {where.lstrip('.')}" if where else ""
    return f"{file} : erreur de configuration{at} : {message}"


def _explain(detail: Any) -> str | None:
    """One French sentence for one pydantic error: what is wrong, and what to do.

    None when the error only follows from others (a list whose every element was refused).
    """
    kind, ctx, value = detail["type"], detail.get("ctx") or {}, detail.get("input")
    if kind == "trame":
        return ctx["message"]
    if kind == "missing":
        return "cette clé est obligatoire ; ajoutez-la"
    if kind == "extra_forbidden":
        return _unknown_key(_model_at(Config, detail["loc"][:-1]))
    if kind in _EXPECTED:
        return f"il faut {_EXPECTED[kind]}, pas {_shown(value)} ; corrigez la valeur"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace(" or ", " ou ")
        return f"il faut l'une des valeurs {expected}, pas {_shown(value)} ; corrigez la valeur"
    bounds = {
        "greater_than_equal": ("supérieur ou égal à", "ge"),
        "less_than_equal": ("inférieur ou égal à", "le"),
        "greater_than": ("strictement supérieur à", "gt"),
        "less_than": ("strictement inférieur à", "lt"),
    }
    if kind in bounds:
        words, key = bounds[kind]
        return f"il faut un nombre {words} {ctx[key]:g}, pas {_shown(value)} ; corrigez la valeur"
    if kind == "too_short":
        if value:
            return None
        return f"il faut au moins {ctx.get('min_length', 1)} élément ; la liste est vide"
    if kind == "too_long":
        return (
            f"il faut au plus {ctx.get('max_length')} éléments, pas {ctx.get('actual_length')} ; "
            "raccourcissez la liste"
        )
    return f"valeur refusée ({detail['msg']}), pas {_shown(value)} ; corrigez la valeur"


def _unknown_key(model: type[BaseModel] | None) -> str:
    allowed = ", ".join(sorted(yaml_keys(model))) if model else ""
    return "clé inconnue" + (f" ; clés permises ici : {allowed}" if allowed else "")
