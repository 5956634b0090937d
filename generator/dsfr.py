"""The files of the State's design system (DSFR) for the ``dsfr`` theme, from the npm lock's copy
of ``@gouvfr/dsfr``: nothing is fetched from another host when a page is read.

The whole DSFR stylesheet weighs 730 KB; a page needs a small part of it. The stylesheet served is
the DSFR's own CSS of the components the theme uses, trimmed to the rules whose ``fr-`` classes
appear in the theme's files (plus the state classes that the DSFR's scripts add), and to the
custom properties those rules read. Rules are kept or dropped whole, never rewritten; the DSFR's
licence banner stays at the top. Fonts and icons are copied when a kept rule points at them.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
STATE_CLASSES = frozenset(
    {
        "fr-collapse--expanded", "fr-collapsing", "fr-modal--opened", "fr-table--no-scroll",
        "fr-table__shadow", "fr-table__shadow--left", "fr-table__shadow--right",
    }
)  # fmt: skip
"""Classes that the DSFR's scripts put on elements (never written in a template)."""
TARGET = Path("assets") / "dsfr"
_CLASS = re.compile(r"\bfr-[A-Za-z0-9_-]*[A-Za-z0-9_]")
_BANNER = re.compile(r"/\*!.*?\*/", re.DOTALL)
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")
FONTS_CSS = "dsfr-polices.css"
_URL = re.compile(r"url\(\s*[\"']?(?P<path>\.\./[^\"')]+)[\"']?\s*\)")
_TEXT_SUFFIXES = {".html", ".css", ".mjs", ".js", ".j2", ".md"}


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


def used_classes(folders: Iterable[Path]) -> set[str]:
    """Every ``fr-…`` class named in the theme's templates, styles and scripts."""
    classes = set(STATE_CLASSES)
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in _TEXT_SUFFIXES:
                classes.update(_CLASS.findall(path.read_text(encoding="utf-8")))
    return classes


def _selectors(prelude: list[Any]) -> Iterator[list[Any]]:
    current: list[Any] = []
    for token in prelude:
        if token.type == "literal" and token.value == ",":
            yield current
            current = []
        else:
            current.append(token)
    yield current


_CLASS_PREFIX = re.compile(r"^class(?:\^=|\*=)[\"']?\s?(fr-[\w-]*)[\"']?$")


def _can_match(selector: list[Any], classes: set[str]) -> bool:
    """False when the selector requires an ``fr-`` class that no page has, or a class starting
    with an ``fr-`` prefix that none has (``[class^=fr-icon-]``), at its top level: a class
    inside :not() or :is() does not decide."""
    for dot, name in zip(selector, selector[1:], strict=False):
        if (
            dot.type == "literal" and dot.value == "." and name.type == "ident"
            and name.value.startswith("fr-") and name.value not in classes
        ):  # fmt: skip
            return False
    for token in selector:
        if token.type == "[] block":
            prefix = _CLASS_PREFIX.match(tinycss2.serialize(token.content))
            if prefix and not any(c.startswith(prefix.group(1)) for c in classes):
                return False
    return True


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


def _serialize(rules: Iterable[_Rule], keep: set[str]) -> str:
    out = []
    for rule in rules:
        prelude = tinycss2.serialize(rule.prelude).strip()
        if rule.children is not None:
            inner = _serialize(rule.children, keep)
            if inner:
                out.append(f"@{rule.node.at_keyword} {prelude}{{{inner}}}")
        elif rule.node.type == "qualified-rule":
            declarations = [
                tinycss2.serialize([d]).strip().rstrip(";")
                for d in _declarations(rule)
                if not d.name.startswith("--") or d.name in keep
            ]
            if declarations:
                out.append(f"{prelude}{{{';'.join(declarations)}}}")
        else:
            out.append(tinycss2.serialize([rule.node]).strip())
    return "".join(out)


def trim_stylesheet(css: str, classes: set[str], also_reads: str = "") -> str:
    """``css`` without the rules that cannot match a page using ``classes`` only, nor the custom
    properties that no remaining rule (nor ``also_reads``, the theme's own CSS) reads."""

    def trim(rules: list[_Rule]) -> list[_Rule]:
        kept = []
        for rule in rules:
            if rule.children is not None:
                rule.children = trim(rule.children)
                if rule.children:
                    kept.append(rule)
            elif rule.node.type == "qualified-rule":
                selectors = [s for s in _selectors(rule.prelude) if _can_match(s, classes)]
                if selectors:
                    comma = [tinycss2.ast.LiteralToken(0, 0, ",")]
                    rule.prelude = [
                        t for i, s in enumerate(selectors) for t in (comma if i else []) + s
                    ]
                    kept.append(rule)
            else:
                kept.append(rule)
        return kept

    rules = trim(_parse(css))
    # Custom properties: those read outside custom properties, then what those read, and so on.
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
    banner = _BANNER.search(css)
    return (banner.group(0) + "\n" if banner else "") + _serialize(rules, read) + "\n"


def split_fonts(css: str) -> tuple[str, str]:
    """``css`` without its @font-face rules, and those rules (with the licence banner).

    main.html links the fonts' stylesheet after the first paint: the Marianne files (60 KB
    each) then never hold back the page's first text, which shows in the fallback font first
    (the DSFR's own font-display: swap)."""
    faces = _FONT_FACE.findall(css)
    banner = _BANNER.search(css)
    rest = _FONT_FACE.sub("", css)
    return rest, (banner.group(0) + "\n" if banner else "") + "".join(faces) + "\n"


def _stylesheet(kind: str) -> str:
    """The core's then the components' CSS of one kind: ``main.min`` (screen) or ``print.min``."""
    return "\n".join(
        _part(name).with_suffix(f".{kind}.css").read_text(encoding="utf-8")
        for name in ("core", *COMPONENTS)
    )


def _copy_referenced(css: str, source: Path, target: Path) -> str:
    """Copy the files that ``css`` (from ``source``/core-or-component depth) points at into
    ``target`` and rewrite the URLs to them, relative to ``target``."""

    def copy(match: re.Match[str]) -> str:
        relative = match["path"]
        while relative.startswith("../"):
            relative = relative[3:]
        origin = source / relative
        if not origin.is_file():
            return match.group(0)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(origin, destination)
        return f"url({relative})"

    return _URL.sub(copy, css)


def write_dsfr_assets(site_dir: Path, theme_dirs: Iterable[Path]) -> None:
    """``assets/dsfr/``: the trimmed screen and print stylesheets, the scripts, and the fonts and
    icons the stylesheets point at, all from the npm lock's copy of the DSFR."""
    dist = require_dsfr()
    folders = list(theme_dirs)
    classes = used_classes(folders)
    own_css = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in folders
        for path in sorted(folder.rglob("*.css"))
    )
    target = site_dir / TARGET
    target.mkdir(parents=True, exist_ok=True)
    for kind, name in (("main.min", "dsfr.css"), ("print.min", "dsfr.print.css")):
        css = _copy_referenced(trim_stylesheet(_stylesheet(kind), classes, own_css), dist, target)
        if kind == "main.min":
            css, fonts = split_fonts(css)
            (target / FONTS_CSS).write_text(fonts, encoding="utf-8")
        (target / name).write_text(css, encoding="utf-8")
    for name in SCRIPTS:
        shutil.copyfile(_part(name).with_suffix(".module.min.js"), target / f"{name}.module.min.js")
    shutil.copyfile(dist / "favicon" / "favicon.svg", target / "favicon.svg")
    shutil.copyfile(dist.parent / "LICENSE.md", target / "LICENCE.md")
