"""CSS selectors as the trimming reads them: which ``fr-`` classes, attributes and states a
selector needs, whether it can only match after a script ran or the reader acted (late), its
specificity, and its subject (to tell whether two rules can meet the same element).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import tinycss2

STATE_CLASSES = frozenset({"fr-collapse--expanded", "fr-collapsing", "fr-modal--opened"})
"""Classes that the DSFR's scripts put on elements (never written in a template)."""
LATE_CLASSES = STATE_CLASSES | {"fr-checkbox-group", "fr-checkbox-group--sm"}
"""Classes that only scripts put on elements, after the first paint: the DSFR's states and the
legend's check boxes (carte.mjs)."""
LATE_ATTRIBUTES = re.compile(r"^(?:data-fr-js|data-fr-scrolling|aria-expanded=[\"']?true)")
"""Attributes that only the DSFR's scripts set (``data-fr-js-…`` on each element they run)."""
LATE_PSEUDO_CLASSES = frozenset({"hover", "active", "focus", "focus-visible", "focus-within"})
"""States that the reader gives (pointer, keyboard): never at the first paint. Until the late rules
arrive, a focused control shows the browser's own focus ring."""
NEVER_ATTRIBUTES = re.compile(r"^(?:data-fr-theme|data-fr-mourning|data-fr-js-table)")
"""Attributes no page ever gets: the dark scheme (the DSFR sets ``data-fr-theme`` only when the
page opts in with ``data-fr-scheme``), the mourning mark, and the table script (not loaded)."""
_LEGACY_PSEUDO_ELEMENTS = frozenset({"before", "after", "first-line", "first-letter"})


def _selectors(prelude: list[Any]) -> Iterator[list[Any]]:
    current: list[Any] = []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            yield current
            current = []
        else:
            current.append(token)
    yield current


def _join(selectors: list[list[Any]]) -> list[Any]:
    comma = [tinycss2.ast.LiteralToken(0, 0, ",")]
    return [t for i, s in enumerate(selectors) for t in (comma if i else []) + s]


_CLASS_PREFIX = re.compile(r"^class(?:\^=|\*=)[\"']?\s?(fr-[\w-]*)[\"']?$")
_TYPE_ATTRIBUTE = re.compile(r"^type=[\"']?([a-z]+)[\"']?$")


def _attribute(token: Any) -> str:
    return tinycss2.serialize(token.content).strip()


def _can_match(selector: list[Any], classes: set[str], types: set[str] | None = None) -> bool:
    """False when the selector requires, at its top level (a class inside :not() or :is() does
    not decide), an ``fr-`` class that no page has, a class starting with an ``fr-`` prefix that
    none has (``[class^=fr-icon-]``), an attribute no page gets (:data:`NEVER_ATTRIBUTES`), or a
    field ``type`` that none has (when ``types`` is given)."""
    for dot, name in zip(selector, selector[1:], strict=False):
        if (
            dot.type == "literal" and dot.value == "." and name.type == "ident"
            and name.value.startswith("fr-") and name.value not in classes
        ):  # fmt: skip
            return False
    for token in selector:
        if token.type == "[] block":
            attribute = _attribute(token)
            prefix = _CLASS_PREFIX.match(attribute)
            if prefix and not any(c.startswith(prefix.group(1)) for c in classes):
                return False
            if NEVER_ATTRIBUTES.match(attribute):
                return False
            field_type = _TYPE_ATTRIBUTE.match(attribute)
            if types is not None and field_type and field_type.group(1) not in types:
                return False
    return True


def _is_late(selector: list[Any]) -> bool:
    """True when the selector can only match once a script ran or the reader acted: it requires,
    at its top level, a class of :data:`LATE_CLASSES`, an attribute of :data:`LATE_ATTRIBUTES`
    or a pseudo-class of :data:`LATE_PSEUDO_CLASSES`."""
    for first, second in zip(selector, selector[1:], strict=False):
        if first.type == "literal" and second.type == "ident":
            if first.value == "." and second.value in LATE_CLASSES:
                return True
            if first.value == ":" and second.lower_value in LATE_PSEUDO_CLASSES:
                return True
    return any(t.type == "[] block" and LATE_ATTRIBUTES.match(_attribute(t)) for t in selector)


def specificity(selector: list[Any]) -> tuple[int, int, int]:
    """The selector's specificity (ids, classes/attributes/pseudo-classes, types/pseudo-elements),
    per Selectors level 4: :is(), :not() and :has() count their most specific argument, :where()
    nothing."""
    ids = classes = types = 0
    previous: list[Any] = [None, None]
    for token in selector:
        before, last = previous
        colon = last is not None and last.type == "literal" and last.value == ":"
        double = colon and before is not None and before.type == "literal" and before.value == ":"
        if token.type == "hash":
            ids += 1
        elif token.type == "[] block":
            classes += 1
        elif token.type == "ident" and last is not None and last.type == "literal":
            if last.value == ".":
                classes += 1
            elif double or (colon and token.lower_value in _LEGACY_PSEUDO_ELEMENTS):
                types += 1
            elif colon:
                classes += 1
            else:
                types += 1
        elif token.type == "ident":
            types += 1
        elif token.type == "function" and colon and not double:
            name = token.lower_name
            if name in ("is", "not", "has", "matches", "-webkit-any"):
                arguments = [s for s in _selectors(token.arguments) if s]
                best = max((specificity(s) for s in arguments), default=(0, 0, 0))
                ids, classes, types = ids + best[0], classes + best[1], types + best[2]
            elif name != "where":
                classes += 1
        elif token.type == "function" and double:
            types += 1
        previous = [last, token] if token.type != "whitespace" else [None, None]
    return ids, classes, types


def _subject(selector: list[Any]) -> tuple[str | None, str | None]:
    """The element type (or None: any) and the pseudo-element (or None) that the selector's
    last compound selects: two selectors whose subjects differ never style the same box."""
    compound: list[Any] = []
    for token in selector:
        if token.type == "whitespace" or (token.type == "literal" and token.value in ">+~"):
            compound = []
        else:
            compound.append(token)
    tag = compound[0].lower_value if compound and compound[0].type == "ident" else None
    pseudo = None
    for first, second, third in zip(compound, compound[1:], compound[2:], strict=False):
        if first.type == "literal" and first.value == ":" and second.type == "literal":
            pseudo = third.lower_value if third.type == "ident" else tinycss2.serialize([third])
    for first, second in zip(compound, compound[1:], strict=False):
        legacy = second.type == "ident" and second.lower_value in _LEGACY_PSEUDO_ELEMENTS
        if first.type == "literal" and first.value == ":" and legacy:
            pseudo = second.lower_value
    return tag, pseudo


def _may_meet(one: tuple[str | None, str | None], other: tuple[str | None, str | None]) -> bool:
    tags = one[0] is None or other[0] is None or one[0] == other[0]
    return tags and one[1] == other[1]
