"""argparse in French: its own words (usage, headings, errors) as well as ours.

argparse looks up every word it prints through gettext (``argparse._`` and ``argparse.ngettext``,
called when a parser is built, formats its help or reports an error). :class:`FrenchParser`
answers those look-ups from :data:`WORDS` while it works, and puts gettext back afterwards, so
that nothing else in the process is affected. A word missing from the table stays as gettext
gives it.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from typing import Any

WORDS: dict[str, str] = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments positionnels",
    "options": "options",
    "show this help message and exit": "affiche cette aide et s'arrête",
    "show program's version number and exit": "affiche la version et s'arrête",
    "%(prog)s: error: %(message)s\n": "%(prog)s: erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "the following arguments are required: %s": "il manque les arguments obligatoires %s",
    "one of the arguments %s is required": "il faut l'un des arguments %s",
    "not allowed with argument %s": "interdit avec l'argument %s",
    "ignored explicit argument %r": "valeur %r ignorée : cette option n'en prend pas",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (choisissez parmi %(choices)s)"
    ),
    "invalid choice: %(value)r, maybe you meant %(closest)r? (choose from %(choices)s)": (
        "choix invalide : %(value)r, vouliez-vous dire %(closest)r ? (choisissez parmi %(choices)s)"
    ),
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "commande inconnue %(parser_name)r (choisissez parmi %(choices)s)"
    ),
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "expected one argument": "il faut une valeur",
    "expected at most one argument": "il faut au plus une valeur",
    "expected at least one argument": "il faut au moins une valeur",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "unexpected option string: %s": "option inattendue : %s",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir '%(filename)s' : %(error)s",
}
"""argparse's words (Python 3.11 to 3.14) and their French."""

PLURALS: dict[tuple[str, str], tuple[str, str]] = {
    ("expected %s argument", "expected %s arguments"): ("il faut %s valeur", "il faut %s valeurs"),
}

EXPECTED: dict[Any, str] = {int: "un nombre entier", float: "un nombre (par exemple 10 ou 2.5)"}
"""What a value of each ``type=`` must be, for the message that refuses one."""


@contextlib.contextmanager
def french() -> Iterator[None]:
    """argparse speaks French inside this block."""
    gettext, ngettext = argparse._, argparse.ngettext  # type: ignore[attr-defined]

    def translate(text: str) -> str:
        return WORDS.get(text) or gettext(text)

    def translate_plural(singular: str, plural: str, count: int) -> str:
        french = PLURALS.get((singular, plural))
        if french is None:
            return ngettext(singular, plural, count)
        return french[0] if count == 1 else french[1]

    argparse._ = translate  # type: ignore[attr-defined]
    argparse.ngettext = translate_plural  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = gettext, ngettext  # type: ignore[attr-defined]


class FrenchFormatter(argparse.HelpFormatter):
    """Headings written the French way, with a space before the colon (« options : »)."""

    def start_section(self, heading: str | None) -> None:
        super().start_section(f"{heading} " if heading else heading)


class FrenchParser(argparse.ArgumentParser):
    """An ArgumentParser whose help, usage and errors are in French (its subparsers too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", FrenchFormatter)
        with french():  # the headings and the -h help are worded here
            super().__init__(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        with french():
            return super().parse_args(*args, **kwargs)

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        with french():
            return super().parse_known_args(*args, **kwargs)

    def format_usage(self) -> str:
        with french():
            return super().format_usage()

    def format_help(self) -> str:
        with french():
            return super().format_help()

    def error(self, message: str) -> Any:
        with french():
            return super().error(message)

    def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError:
            expected = EXPECTED.get(action.type)
            if expected is None:
                raise
            raise argparse.ArgumentError(action, f"{arg_string!r} n'est pas {expected}") from None
