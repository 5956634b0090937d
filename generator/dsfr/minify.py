"""The theme's own stylesheets, minified and inlined in every page (tinycss2 tokens written
back without what CSS does not need).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tinycss2

INLINE_STYLES = ("assets/trame/disposition.css", "assets/trame-dsfr/trame-dsfr.css")
"""The theme's own stylesheets that main.html inlines in every page, in this order: the layout
shared with the default theme, then the DSFR theme's rules."""
_DECLARATIONS_AT_RULES = frozenset({"font-face", "page", "property", "counter-style"})
_COMBINATORS = frozenset(">+~,")


def _compact(tokens: Iterable[Any], tight: frozenset[str] = frozenset()) -> str:
    """``tokens`` serialized with each run of white space (comments included) as one space, and
    none around the ``tight`` punctuation (a selector's combinators and commas)."""
    out: list[str] = []
    for token in tokens:
        if token.type in ("whitespace", "comment"):
            if out and out[-1] != " " and out[-1] not in tight:
                out.append(" ")
        elif token.type == "literal" and token.value in tight:
            if out and out[-1] == " ":
                out.pop()
            out.append(token.value)
        elif token.type == "function":
            name = tinycss2.serializer.serialize_identifier(token.name)
            out.append(f"{name}({_compact(token.arguments, tight).strip()})")
        elif token.type in ("() block", "[] block"):
            opening = token.type[0]
            closing = {"(": ")", "[": "]"}[opening]
            out.append(opening + _compact(token.content, tight).strip() + closing)
        else:
            out.append(tinycss2.serialize([token]))
    return "".join(out)


def _minify_rules(nodes: Iterable[Any]) -> str:
    out = []
    for node in nodes:
        if node.type == "qualified-rule":
            selector = _compact(node.prelude, _COMBINATORS).strip()
            out.append(f"{selector}{{{_minify_declarations(node.content)}}}")
        elif node.type == "at-rule":
            head = f"@{node.at_keyword}"
            prelude = _compact(node.prelude).strip()
            head += f" {prelude}" if prelude else ""
            if node.content is None:
                out.append(head + ";")
            elif node.lower_at_keyword in _DECLARATIONS_AT_RULES:
                out.append(f"{head}{{{_minify_declarations(node.content)}}}")
            else:
                inner = tinycss2.parse_rule_list(node.content, skip_comments=True)
                out.append(f"{head}{{{_minify_rules(inner)}}}")
    return "".join(out)


def _minify_declarations(content: list[Any]) -> str:
    declarations = tinycss2.parse_declaration_list(
        content, skip_comments=True, skip_whitespace=True
    )
    return ";".join(
        f"{d.name}:{_compact(d.value).strip()}{'!important' if d.important else ''}"
        for d in declarations
        if d.type == "declaration"
    )


def minify(css: str) -> str:
    """``css`` without its comments and needless white space: the same rules, declarations and
    values, in the same order (whitespace between tokens kept as one space where it may matter:
    descendant combinators, ``calc()``, lists of values)."""
    return _minify_rules(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def inline_styles(folders: Iterable[Path]) -> str:
    """The theme's own rules that main.html inlines in every page (:data:`INLINE_STYLES`, each
    from the first of ``folders`` that has it, as Jinja would include it), minified: every page
    carries them, and the commune pages must stay in the two round trips of a new connection
    (about 14 KB, then 28 KB: a slow line's first 43 KB)."""
    folders = list(folders)
    texts = []
    for name in INLINE_STYLES:
        path = next((folder / name for folder in folders if (folder / name).is_file()), None)
        if path is None:
            raise FileNotFoundError(name)
        texts.append(path.read_text(encoding="utf-8"))
    return minify("\n".join(texts))
