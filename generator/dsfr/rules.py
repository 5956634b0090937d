"""The DSFR's stylesheet as rules: parsed with tinycss2, trimmed to the classes, attributes and
custom properties the theme uses, serialized back (rules kept or dropped whole, never
rewritten), split into the first paint's rules and the late ones, and the fonts' faces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import tinycss2

from .selectors import _can_match, _is_late, _join, _may_meet, _selectors, _subject, specificity

_UP = re.compile(r"^(?:\.\./)+")
_BANNER = re.compile(r"/\*!.*?\*/", re.DOTALL)
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")


def _variables(tokens: Iterable[Any], found: set[str]) -> set[str]:
    """The custom properties read with var() in ``tokens``, added to ``found``."""
    for token in tokens:
        if token.type == "function":
            if token.lower_name == "var":
                names = [a.value for a in token.arguments if a.type == "ident"]
                if names and names[0].startswith("--"):
                    found.add(names[0])
            _variables(token.arguments, found)
        elif token.type in ("() block", "[] block", "{} block"):
            _variables(token.content, found)
    return found


@dataclass
class _Rule:
    """A rule of the stylesheet; @media and @supports hold their rules in ``children``."""

    node: Any
    prelude: list[Any]
    children: list[_Rule] | None = None
    late: bool = field(default=False)


def _parse(css: str) -> list[_Rule]:
    rules = []
    for node in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True):
        if node.type == "at-rule" and node.lower_at_keyword in ("media", "supports"):
            children = _parse(tinycss2.serialize(node.content or []))
            rules.append(_Rule(node, node.prelude, children))
        elif node.type in ("qualified-rule", "at-rule"):
            rules.append(_Rule(node, node.prelude))
    return rules


def _flat(rules: Iterable[_Rule]) -> Iterator[_Rule]:
    for rule in rules:
        if rule.children is not None:
            yield from _flat(rule.children)
        else:
            yield rule


def _declarations(rule: _Rule) -> list[Any]:
    if rule.node.type != "qualified-rule":
        return []
    return [
        d
        for d in tinycss2.parse_blocks_contents(rule.node.content, skip_whitespace=True)
        if d.type == "declaration"
    ]


def _serialize(rules: Iterable[_Rule], keep: set[str] | None, late: bool | None = None) -> str:
    """The rules (only the late ones, or only the others, when ``late`` says which) with the
    custom properties of ``keep`` (all without it)."""
    out = []
    for rule in rules:
        prelude = tinycss2.serialize(rule.prelude).strip()
        if rule.children is not None:
            inner = _serialize(rule.children, keep, late)
            if inner:
                out.append(f"@{rule.node.at_keyword} {prelude}{{{inner}}}")
        elif late is not None and rule.late != late:
            continue
        elif rule.node.type == "qualified-rule":
            declarations = [
                tinycss2.serialize([d]).strip().rstrip(";")
                for d in _declarations(rule)
                if keep is None or not d.name.startswith("--") or d.name in keep
            ]
            if declarations:
                out.append(f"{prelude}{{{';'.join(declarations)}}}")
        else:
            out.append(tinycss2.serialize([rule.node]).strip())
    return "".join(out)


def _trim(css: str, classes: set[str], types: set[str] | None) -> list[_Rule]:
    def trim(rules: list[_Rule]) -> list[_Rule]:
        kept = []
        for rule in rules:
            if rule.children is not None:
                rule.children = trim(rule.children)
                if rule.children:
                    kept.append(rule)
            elif rule.node.type == "qualified-rule":
                selectors = [s for s in _selectors(rule.prelude) if _can_match(s, classes, types)]
                if selectors:
                    rule.prelude = _join(selectors)
                    kept.append(rule)
            else:
                kept.append(rule)
        return kept

    return trim(_parse(css))


def _read_variables(rules: list[_Rule], also_reads: str) -> set[str]:
    """The custom properties read outside custom properties, then what those read, and so on."""
    defined: dict[str, list[Any]] = {}
    read: set[str] = set()
    for rule in [*_flat(rules), *_flat(_parse(also_reads))]:
        for declaration in _declarations(rule):
            if declaration.name.startswith("--"):
                defined.setdefault(declaration.name, []).append(declaration.value)
            else:
                _variables(declaration.value, read)
    pending = list(read)
    while pending:
        for value in defined.get(pending.pop(), []):
            for name in _variables(value, set()) - read:
                read.add(name)
                pending.append(name)
    return read


def _banner(css: str) -> str:
    banner = _BANNER.search(css)
    return banner.group(0) + "\n" if banner else ""


def trim_stylesheet(
    css: str, classes: set[str], also_reads: str = "", types: set[str] | None = None
) -> str:
    """``css`` without the rules that cannot match a page using ``classes`` (and field
    ``types``) only, nor the custom properties that no remaining rule (nor ``also_reads``, the
    theme's own CSS) reads."""
    rules = _trim(css, classes, types)
    return _banner(css) + _serialize(rules, _read_variables(rules, also_reads)) + "\n"


def _property_names(rule: _Rule) -> set[str]:
    return {d.lower_name for d in _declarations(rule)}


def split_late(css: str) -> tuple[str, str]:
    """``css`` cut in two: the first paint's rules, and the late ones (see the module's
    docstring), each with the licence banner.

    A rule is late when each of its selectors is (:func:`_is_late`) and no later rule of the
    first paint has a selector of the same specificity setting one of its properties: the late
    rules come after all the others in the cascade, and must not win where they used to lose."""
    rules = _parse(css)
    flat = [r for r in _flat(rules) if r.node.type == "qualified-rule"]
    for rule in flat:
        rule.late = all(_is_late(s) for s in _selectors(rule.prelude))
    # From the last rule backwards: what the first paint's later rules set, by specificity.
    later: list[tuple[tuple[int, int, int], tuple[str | None, str | None], set[str]]] = []
    for rule in reversed(flat):
        names = _property_names(rule)
        keys = {(specificity(s), _subject(s)) for s in _selectors(rule.prelude)}
        if rule.late:
            rule.late = not any(
                rank == other_rank and _may_meet(subject, other_subject) and names & other_names
                for rank, subject in keys
                for other_rank, other_subject, other_names in later
            )
        if not rule.late:
            later.extend((rank, subject, names) for rank, subject in keys)
    banner = _banner(css)
    first = banner + _serialize(rules, None, late=False) + "\n"
    late = banner + _serialize(rules, None, late=True) + "\n"
    return first, late


def split_fonts(css: str) -> tuple[str, str]:
    """``css`` without its @font-face rules, and those rules (with the licence banner)."""
    faces = _FONT_FACE.findall(css)
    rest = _FONT_FACE.sub("", css)
    return rest, _banner(css) + "".join(faces) + "\n"


def font_faces(fonts_css: str, used_css: str) -> list[dict[str, str]]:
    """The Marianne faces of ``fonts_css`` (@font-face rules) that ``used_css`` needs: each
    weight it sets (and 400 and 700: text, headings and ``strong``), upright, and the italic of
    the regular weight (``em``). Each face: its woff2 ``url`` (as in ``fonts_css``), ``weight``
    and ``style``, for the FontFace API."""
    weights = {"400", "700"}
    for rule in _flat(_parse(used_css)):
        for declaration in _declarations(rule):
            if declaration.lower_name == "font-weight":
                value = tinycss2.serialize(declaration.value).strip()
                weights.add({"normal": "400", "bold": "700"}.get(value, value))
    faces = []
    for face in _parse(fonts_css):
        descriptors = {
            d.lower_name: d.value
            for d in tinycss2.parse_blocks_contents(face.node.content or [], skip_whitespace=True)
            if d.type == "declaration"
        }
        family = tinycss2.serialize(descriptors.get("font-family", [])).strip().strip("\"'")
        weight = tinycss2.serialize(descriptors.get("font-weight", [])).strip()
        style = tinycss2.serialize(descriptors.get("font-style", [])).strip() or "normal"
        urls = [_UP.sub("", t.value) for t in descriptors.get("src", []) if t.type == "url"]
        woff2 = [u for u in urls if u.endswith(".woff2")]
        if family != "Marianne" or not woff2 or weight not in weights:
            continue
        if style == "normal" or (style == "italic" and weight == "400"):
            faces.append({"url": woff2[0], "weight": weight, "style": style})
    return faces
