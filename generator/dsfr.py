"""The files of the State's design system (DSFR) for the ``dsfr`` theme, from the npm lock's copy
of ``@gouvfr/dsfr``: nothing is fetched from another host when a page is read.

The whole DSFR stylesheet weighs 730 KB; a page needs a small part of it. The stylesheet served is
the DSFR's own CSS of the components the theme uses, trimmed to the rules whose ``fr-`` classes
appear in the theme's files (plus the state classes that the DSFR's scripts add), to the
attributes the pages can have, and to the custom properties those rules read. Rules are kept or
dropped whole, never rewritten (only the URLs of the files they point at); the DSFR's licence
banner stays at the top. Fonts and icons are copied when a kept rule points at them.

The trimmed stylesheet is then cut in two (:func:`split_late`), so that the pages paint at once,
as the default theme's do:

- the **first paint's** rules (``assets/dsfr/dsfr.css``), the one stylesheet main.html links
  before the first frame, their icons as ``data:`` URLs: no other request holds it back;
- the **late** rules (``assets/dsfr/dsfr-suite.css``), linked by main.html once the first frame
  is on screen: those that can only match after a script ran or the reader acted (the DSFR's
  states — an open modal, an expanded collapse —, the legend's check boxes that carte.mjs makes,
  hover and press), and only when moving them after the first paint's rules cannot change which
  rule wins (:func:`split_late` checks the cascade's order).

The Marianne fonts are not in either: main.html loads the faces the stylesheets use
(``assets/dsfr/polices.mjs``) after the first paint, all at once (one relayout);
``assets/dsfr/dsfr-polices.css`` declares them all for pages read without JavaScript. The
theme's own rules and the shared layout are inlined in every page, minified
(:func:`inline_styles`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tinycss2

from .errors import UserError
from .paths import DSFR_DIST

COMPONENTS = (
    "link", "button", "skiplink", "logo", "header", "navigation", "modal", "search", "form",
    "input", "checkbox", "breadcrumb", "notice", "table", "footer",
)  # fmt: skip
"""The DSFR components the theme's pages use (their CSS follows the core's, in this order)."""
SCRIPTS = ("core", "navigation", "modal", "header", "breadcrumb")
"""ES modules run in this order: the core first (the others register with it). Not the table's:
it moves each caption once the page is shown (a layout shift); the tables read well without it."""
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
TARGET = Path("assets") / "dsfr"
_CLASS = re.compile(r"\bfr-[A-Za-z0-9_-]*[A-Za-z0-9_]")
_TYPE = re.compile(r"""\btype\s*[=:]\s*["']?([a-z]+)""")
_BANNER = re.compile(r"/\*!.*?\*/", re.DOTALL)
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
FIRST_CSS = "dsfr.css"
LATE_CSS = "dsfr-suite.css"
FONTS_CSS = "dsfr-polices.css"
FONTS_MODULE = "polices.mjs"
_URL = re.compile(r"url\(\s*[\"']?(?P<path>\.\./[^\"')]+)[\"']?\s*\)")
_TEXT_SUFFIXES = {".html", ".css", ".mjs", ".js", ".j2", ".md"}
_UP = re.compile(r"^(?:\.\./)+")
_LEGACY_PSEUDO_ELEMENTS = frozenset({"before", "after", "first-line", "first-letter"})


def _part(name: str) -> Path:
    return DSFR_DIST / ("core/core" if name == "core" else f"component/{name}/{name}")


def require_dsfr() -> Path:
    """The package's ``dist`` folder, or a user error saying how to install it."""
    if not (DSFR_DIST / "core" / "core.main.min.css").is_file():
        raise UserError(
            f"{DSFR_DIST} introuvable : le thème DSFR a besoin du paquet npm @gouvfr/dsfr, qui "
            "ne s'installe qu'une fois ses conditions d'utilisation acceptées (elles le "
            "réservent aux services de l'État). Lisez-les (doc/legal/cgu.md dans le paquet), "
            "puis lancez `DSFR_ACCEPT_LICENSE=1 npm ci` (voir le README, « Thème de l'État "
            "(DSFR) »)"
        )
    return DSFR_DIST


def _theme_texts(folders: Iterable[Path]) -> Iterator[str]:
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in _TEXT_SUFFIXES:
                yield path.read_text(encoding="utf-8")


def used_classes(folders: Iterable[Path]) -> set[str]:
    """Every ``fr-…`` class named in the theme's templates, styles and scripts."""
    classes = set(STATE_CLASSES)
    for text in _theme_texts(folders):
        classes.update(_CLASS.findall(text))
    return classes


def used_input_types(folders: Iterable[Path]) -> set[str]:
    """The ``type`` of every form field and button in the theme's templates and scripts (the
    pages' content, written by trame, has none), and ``text``, the default."""
    types = {"text"}
    for text in _theme_texts(folders):
        types.update(_TYPE.findall(text))
    return types


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


def _stylesheet(kind: str) -> str:
    """The core's then the components' CSS of one kind: ``main.min`` (screen) or ``print.min``."""
    return "\n".join(
        _part(name).with_suffix(f".{kind}.css").read_text(encoding="utf-8")
        for name in ("core", *COMPONENTS)
    )


def _copy_referenced(css: str, source: Path, target: Path | None) -> str:
    """Copy the files that ``css`` (from ``source``/core-or-component depth) points at into
    ``target`` and rewrite the URLs to them, relative to ``target``; without ``target``, put
    them in the CSS as ``data:`` URLs (SVG icons, for the rules inlined in the pages)."""

    def copy(match: re.Match[str]) -> str:
        relative = _UP.sub("", match["path"])
        origin = source / relative
        if not origin.is_file():
            return match.group(0)
        if target is None:
            if origin.suffix != ".svg":
                return match.group(0)
            svg = origin.read_text(encoding="utf-8").strip()
            return f'url("data:image/svg+xml,{quote(svg, safe=" =:/;,.-_~()!*")}")'
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, destination)
        return f"url({relative})"

    return _URL.sub(copy, css)


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


@dataclass(frozen=True)
class Stylesheets:
    """The DSFR's CSS for the theme's pages (see the module's docstring)."""

    first: str
    """The first paint's rules, icons as ``data:`` URLs (no request before the first frame)."""
    late: str
    """The late rules (URLs as in the DSFR's files)."""
    fonts: str
    """Every @font-face of the DSFR (URLs as in the DSFR's files)."""
    printed: str
    """The DSFR's print rules for the same components."""
    faces: tuple[dict[str, str], ...]
    """The Marianne faces the pages use (:func:`font_faces`)."""


def stylesheets(folders: Iterable[Path]) -> Stylesheets:
    """The DSFR's stylesheets for a theme whose files are in ``folders``."""
    dist = require_dsfr()
    folders = list(folders)
    classes, types = used_classes(folders), used_input_types(folders)
    own_css = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in folders
        for path in sorted(folder.rglob("*.css"))
    )
    screen, fonts = split_fonts(trim_stylesheet(_stylesheet("main.min"), classes, own_css, types))
    first, late = split_late(screen)
    printed = trim_stylesheet(_stylesheet("print.min"), classes, own_css, types)
    faces = font_faces(fonts, screen + own_css)
    return Stylesheets(
        first=_copy_referenced(first, dist, None),
        late=late,
        fonts=fonts,
        printed=printed,
        faces=tuple(faces),
    )


def write_dsfr_assets(site_dir: Path, theme_dirs: Iterable[Path]) -> None:
    """``assets/dsfr/``: the first paint's, late, fonts' and print stylesheets, the list of the
    Marianne faces to load (``polices.mjs``), the DSFR's scripts, and the fonts and icons the
    late stylesheets point at, all from the npm lock's copy of the DSFR."""
    dist = require_dsfr()
    sheets = stylesheets(theme_dirs)
    target = site_dir / TARGET
    target.mkdir(parents=True, exist_ok=True)
    (target / FIRST_CSS).write_text(sheets.first, encoding="utf-8")
    for name, css in (
        (LATE_CSS, sheets.late),
        (FONTS_CSS, sheets.fonts),
        ("dsfr.print.css", sheets.printed),
    ):
        (target / name).write_text(_copy_referenced(css, dist, target), encoding="utf-8")
    faces = ",\n".join(
        "  {"
        + ", ".join(f"{key}: {json.dumps(face[key])}" for key in ("url", "weight", "style"))
        + "}"
        for face in sheets.faces
    )
    (target / FONTS_MODULE).write_text(
        "// The Marianne faces that the DSFR theme's pages use (generated by trame from the\n"
        f"// DSFR's {FONTS_CSS}): main.html loads them after the first paint, all at once.\n"
        f"export default [\n{faces},\n];\n",
        encoding="utf-8",
    )
    for name in SCRIPTS:
        shutil.copyfile(_part(name).with_suffix(".module.min.js"), target / f"{name}.module.min.js")
    shutil.copyfile(dist / "favicon" / "favicon.svg", target / "favicon.svg")
    shutil.copyfile(dist.parent / "LICENSE.md", target / "LICENCE.md")
