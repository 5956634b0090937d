"""The text encoding of a Shapefile's DBF: declared, detected, or refused.

A Shapefile declares its encoding in a ``.cpg`` file (or the DBF's language driver byte). When it
declares none, GDAL reads the text as ISO-8859-1 and any UTF-8 accent turns into mojibake
("Ã©"). Here the text is then tried as strict UTF-8, then as CP1252 (Windows, what most French
Shapefiles use), and the choice is reported; text that decodes in neither, or that is UTF-8 read
through a wrong declaration, is refused rather than published garbled.
"""

from __future__ import annotations

import codecs
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import pyogrio

from .errors import UserError

GDAL_FALLBACK = "ISO-8859-1"
"""What pyogrio reports for a Shapefile whose encoding GDAL could not find (no usable .cpg)."""
CANDIDATES = ("utf-8", "cp1252")


@dataclass(frozen=True)
class EncodingChoice:
    """How to decode a DBF: ``encoding`` for pyogrio (None: GDAL's own, declared, recoding)."""

    encoding: str | None
    candidates: tuple[str, ...] = ()
    """Encodings to try in turn when none is declared (the first that decodes strictly wins)."""


def is_shapefile(gdal_path: str) -> bool:
    return gdal_path.lower().endswith((".shp", ".dbf"))


def python_codec(name: str, where: str) -> str:
    """A Python codec name for ``encoding`` given in the config, or a clear refusal."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise UserError(
            f"{where} : encodage {name!r} inconnu ; indiquez par exemple encoding: UTF-8 "
            "ou encoding: CP1252 dans la config"
        ) from None


def choose_encoding(gdal_path: str, where: str, configured: str | None) -> EncodingChoice:
    """The encoding set in the config wins; otherwise GDAL's when the file declares one;
    otherwise the candidates to try."""
    if configured:
        return EncodingChoice(python_codec(configured, where))
    if not is_shapefile(gdal_path):
        return EncodingChoice(None)
    try:
        declared = pyogrio.read_info(gdal_path).get("encoding")
    except Exception:  # the real read reports the problem with its own message
        return EncodingChoice(None)
    if declared and declared.upper() != GDAL_FALLBACK:
        return EncodingChoice(None)
    return EncodingChoice(None, candidates=CANDIDATES)


_C1 = re.compile("[\x80-\x9f]")
"""C1 control characters (see :func:`undecoded_text`)."""


def undecoded_text(caught: Iterable[warnings.WarningMessage], columns: Iterable[object]):
    """A sample of text that did not decode, or None: GDAL warns when it cannot convert a
    character, and C1 control characters (U+0080 to U+009F) are bytes with no meaning in the
    encoding (a Latin-1 decoding never fails, but never gives them in real text)."""
    for warning in caught:
        if "couldn't be converted" in str(warning.message):
            break
    else:
        for text in _non_ascii(columns):
            if _C1.search(text):
                return text
        return None
    return next((text for text in _non_ascii(columns)), "")


def undecodable(where: str, choice: EncodingChoice, sample: str | bytes) -> UserError:
    """The refusal of a DBF whose text does not decode in the declared (or any tried) encoding."""
    if choice.encoding:
        tried = f"en {choice.encoding.upper()}, l'encodage indiqué dans la config"
    elif choice.candidates:
        tried = " ni ".join(f"en {name.upper()}" for name in choice.candidates)
    else:
        tried = "dans l'encodage que déclare son fichier .cpg"
    return UserError(
        f"{where} : le texte de la table attributaire (.dbf) ne se lit pas {tried} (par exemple "
        f"{sample!r}) ; trouvez l'encodage réel du fichier (demandez-le au producteur des "
        "données) et écrivez-le dans un fichier .cpg à côté du .shp (par exemple « CP1252 ») "
        "ou dans la config de la source (encoding: …)"
    )


def detected_note(encoding: str, columns: Iterable[object]) -> str | None:
    """The report note for an encoding chosen without a declaration (None if all is ASCII)."""
    if not any(_non_ascii(columns)):
        return None
    if encoding == "utf-8":
        return (
            "pas d'encodage déclaré (fichier .cpg absent) : le texte, valide en UTF-8, a été lu "
            "en UTF-8 ; ajoutez un fichier .cpg « UTF-8 » pour le confirmer"
        )
    return (
        f"pas d'encodage déclaré (fichier .cpg absent) : le texte n'est pas de l'UTF-8 et a été "
        f"lu en {encoding.upper()} (Windows), l'encodage habituel des Shapefiles ; vérifiez les "
        "accents sur le site, et ajoutez un fichier .cpg (ou encoding: dans la config) pour "
        "confirmer l'encodage"
    )


def check_mojibake(where: str, columns: Iterable[object]) -> None:
    """Refuse text that is UTF-8 read as a single-byte encoding ("Ã©" for "é")."""
    texts = list(_non_ascii(columns))
    if not texts or not all(_reads_as_utf8(text) for text in texts):
        return
    example = texts[0]
    fixed = _reads_as_utf8(example)
    raise UserError(
        f"{where} : le texte est de l'UTF-8 lu avec un autre encodage (par exemple "
        f"{example!r} au lieu de {fixed!r}) : le fichier .cpg (ou la config) déclare un "
        "encodage faux ; écrivez « UTF-8 » dans le fichier .cpg ou encoding: UTF-8 dans la "
        "config de la source"
    )


def _non_ascii(columns: Iterable[object]) -> Iterable[str]:
    for column in columns:
        for value in column:  # type: ignore[attr-defined]
            if isinstance(value, str) and not value.isascii():
                yield value


def _reads_as_utf8(text: str) -> str | None:
    """``text`` decoded again as UTF-8 when it is UTF-8 bytes shown as CP1252/Latin-1, else None."""
    for single_byte in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(single_byte).decode("utf-8")
        except UnicodeError:
            continue
        if fixed != text:
            return fixed
    return None
