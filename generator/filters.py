"""Attribute filters of legend items, e.g. ``OBJ_ASSI == '02'``.

A filter is a tiny expression language parsed with :mod:`ast` and never evaluated by Python:
comparisons (``==``, ``!=``, ``in``, ``not in``) of a field name with literals, combined with
``and`` / ``or`` / ``not`` and parentheses. Anything else is refused with a clear message.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def parse_filter(text: str) -> Filter:
    """Parse ``text``; raise ValueError with a readable reason when it is not a valid filter."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"cannot parse filter {text!r}: {error.msg}") from None
    _check(tree, text)
    return Filter(text=text, tree=tree)


def _check(node: ast.expr, text: str) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, text)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        _check(node.operand, text)
    elif isinstance(node, ast.Compare):
        if len(node.ops) != 1 or type(node.ops[0]) not in _COMPARATORS:
            raise ValueError(
                f"filter {text!r}: use one of ==, !=, in, not in between a field and a value"
            )
        sides = [node.left, node.comparators[0]]
        if not any(isinstance(side, ast.Name) for side in sides):
            raise ValueError(f"filter {text!r}: each comparison needs a field name")
        for side in sides:
            if not isinstance(side, ast.Name) and not _is_literal(side):
                raise ValueError(f"filter {text!r}: compare a field with a quoted value or a list")
    else:
        raise ValueError(
            f"filter {text!r}: only comparisons joined by and/or/not are allowed, "
            "e.g. OBJ_ASSI == '02'"
        )


def _is_literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(isinstance(element, ast.Constant) for element in node.elts)
    return False


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
    contained = any(_same(left, candidate) for candidate in right)
    return contained if operator == "in" else not contained
