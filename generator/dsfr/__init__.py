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

Here: the DSFR's files and the theme's classes, and the assets written. The stylesheet's rules
(parse, trim, split, fonts) are :mod:`.rules`'; what a selector needs and when it can match,
:mod:`.selectors`'; the minifier, :mod:`.minify`'s.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import UserError
from ..paths import DSFR_DIST
from .minify import INLINE_STYLES, inline_styles, minify
from .rules import _UP, font_faces, split_fonts, split_late, trim_stylesheet
from .selectors import STATE_CLASSES, specificity

__all__ = [
    "FIRST_CSS", "FONTS_CSS", "FONTS_MODULE", "INLINE_STYLES", "LATE_CSS", "SCRIPTS", "STATE_CLASSES",
    "font_faces", "inline_styles", "minify", "require_dsfr", "specificity", "split_late",
    "stylesheets", "trim_stylesheet", "used_classes", "used_input_types", "write_dsfr_assets",
]  # fmt: skip


COMPONENTS = (
    "link", "button", "skiplink", "logo", "header", "navigation", "modal", "search", "form",
    "input", "checkbox", "breadcrumb", "notice", "table", "footer",
)  # fmt: skip
"""The DSFR components the theme's pages use (their CSS follows the core's, in this order)."""
SCRIPTS = ("core", "navigation", "modal", "header", "breadcrumb")
"""ES modules run in this order: the core first (the others register with it). Not the table's:
it moves each caption once the page is shown (a layout shift); the tables read well without it."""
TARGET = Path("assets") / "dsfr"
_CLASS = re.compile(r"\bfr-[A-Za-z0-9_-]*[A-Za-z0-9_]")
_TYPE = re.compile(r"""\btype\s*[=:]\s*["']?([a-z]+)""")
FIRST_CSS = "dsfr.css"
LATE_CSS = "dsfr-suite.css"
FONTS_CSS = "dsfr-polices.css"
FONTS_MODULE = "polices.mjs"
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
