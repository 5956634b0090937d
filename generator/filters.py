"""Attribute filters of legend items, e.g. ``OBJ_ASSI == '02'``.

A filter is a tiny expression language parsed with :mod:`ast` and never evaluated by Python:
comparisons (``==``, ``!=``, ``in``, ``not in``) of a field name with literals, combined with
``and`` / ``or`` / ``not`` and parentheses. ``in`` takes a field on its left and a list on its
right (``'02' in OBJ_ASSI`` would test the characters of the value). Codes are compared as text;
a null attribute has no value: it equals only None and is in no list. Anything else is refused
when the config is read, with a French message saying what to write instead.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import UserError

_COMPARATORS = {ast.Eq: "==", ast.NotEq: "!=", ast.In: "in", ast.NotIn: "not in"}


@dataclass(frozen=True)
class Filter:
    """A parsed filter: its source text and the syntax tree that :meth:`matches` walks."""

    text: str
    tree: ast.expr

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(node.id for node in ast.walk(self.tree) if isinstance(node, ast.Name))

    def matches(self, attributes: Mapping[str, Any]) -> bool:
        return bool(_evaluate(self.tree, attributes))


class FilterError(UserError, ValueError):
    """A filter that cannot be parsed. A user error whose French message names the filter and
    says what to write instead; also a ValueError, so the config's validation reports it at the
    filter's key."""


_EXAMPLE = "par exemple OBJ_ASSI == '02' ou NATURE in ['Seuil', 'Écluse']"


def parse_filter(text: str) -> Filter:
    """Parse ``text``; raise :class:`FilterError` when it is not a valid filter."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        where = f" vers le caractère {error.offset}" if error.offset else ""
        raise FilterError(
            f"filtre « {text} » : erreur de syntaxe{where} ; écrivez des comparaisons jointes "
            f"par and, or, not, {_EXAMPLE}"
        ) from None
    _check(tree, text)
    return Filter(text=text, tree=tree)


def _check(node: ast.expr, text: str) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text)
    elif isinstance(node, ast.Compare):
        _check_comparison(node, text)
    else:
        raise FilterError(
            f"filtre « {text} » : seules des comparaisons jointes par and, or, not sont "
            f"permises ; écrivez {_EXAMPLE}"
        )


def _check_comparison(node: ast.Compare, text: str) -> None:
    if len(node.ops) != 1:
        raise FilterError(
            f"filtre « {text} » : une comparaison à la fois, jointes par and ou or ; écrivez "
            "par exemple OBJ_ASSI == '01' or OBJ_ASSI == '02'"
        )
    operator = _COMPARATORS.get(type(node.ops[0]))
    if operator is None:
        raise FilterError(
            f"filtre « {text} » : comparez avec ==, !=, in ou not in ; écrivez {_EXAMPLE}"
        )
    left, right = node.left, node.comparators[0]
    if operator in ("in", "not in"):
        if not isinstance(left, ast.Name) or not _is_list(right):
            raise FilterError(
                f"filtre « {text} » : avec {operator}, il faut à gauche un champ et à droite une "
                f"liste de valeurs entre crochets ; écrivez {_in_advice(left, right, operator)}"
            )
        return
    sides = [left, right]
    if not any(isinstance(side, ast.Name) for side in sides):
        raise FilterError(
            f"filtre « {text} » : chaque comparaison porte sur un champ ; écrivez {_EXAMPLE}"
        )
    if not all(isinstance(side, ast.Name | ast.Constant) for side in sides):
        raise FilterError(
            f"filtre « {text} » : comparez un champ à une valeur (un texte entre guillemets ou "
            f"un nombre) ; écrivez {_EXAMPLE}"
        )


def _in_advice(left: ast.expr, right: ast.expr, operator: str) -> str:
    """What to write instead of a malformed ``in``: the field on the left, a list on the right."""
    field, values = (left, right) if isinstance(left, ast.Name) else (right, left)
    name = field.id if isinstance(field, ast.Name) else "OBJ_ASSI"
    if _is_list(values):
        elements = values.elts  # type: ignore[attr-defined]
    elif isinstance(values, ast.Constant):
        elements = [values]
    else:
        elements = [ast.Constant("valeur 1"), ast.Constant("valeur 2")]
    return f"{name} {operator} [{', '.join(ast.unparse(e) for e in elements)}]"


def _is_list(node: ast.expr) -> bool:
    return isinstance(node, ast.List | ast.Tuple | ast.Set) and all(
        isinstance(element, ast.Constant) for element in node.elts
    )


def _value(node: ast.expr, attributes: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return attributes.get(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    return [element.value for element in node.elts]  # type: ignore[attr-defined]


def _same(left: Any, right: Any) -> bool:
    # Codes such as OBJ_ASSI are text in one file and numbers in another: compare as text.
    if left is None or right is None:
        return left is right
    return str(left) == str(right)


def _evaluate(node: ast.expr, attributes: Mapping[str, Any]) -> bool:
    if isinstance(node, ast.BoolOp):
        results = (_evaluate(value, attributes) for value in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.UnaryOp):
        return not _evaluate(node.operand, attributes)
    assert isinstance(node, ast.Compare)
    left = _value(node.left, attributes)
    right = _value(node.comparators[0], attributes)
    operator = _COMPARATORS[type(node.ops[0])]
    if operator in ("==", "!="):
        equal = _same(left, right)
        return equal if operator == "==" else not equal
    # A null attribute has no value: it is in no list (even one holding None).
    contained = left is not None and any(_same(left, candidate) for candidate in right)
    return contained if operator == "in" else not contained
