import pytest

from trame.errors import UserError
from trame.filters import parse_filter


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("OBJ_ASSI == '02'", {"OBJ_ASSI": "02"}, True),
        ("OBJ_ASSI == '02'", {"OBJ_ASSI": "01"}, False),
        ("OBJ_ASSI == '02'", {"OBJ_ASSI": 2}, False),  # '2' is not '02'
        ("OBJ_ASSI == 2", {"OBJ_ASSI": "2"}, True),  # codes compared as text
        ("OBJ_ASSI != '02'", {"OBJ_ASSI": "01"}, True),
        ("NATURE in ['Seuil', 'Écluse']", {"NATURE": "Écluse"}, True),
        ("NATURE not in ('Seuil',)", {"NATURE": "Seuil"}, False),
        ("A == '1' and (B == 'x' or B == 'y')", {"A": "1", "B": "y"}, True),
        ("A == '1' and (B == 'x' or B == 'y')", {"A": "1", "B": "z"}, False),
        ("not A == '1'", {"A": "1"}, False),
        ("A == '1'", {}, False),  # a missing value matches nothing
    ],
)
def test_filter_matches(text, row, expected):
    assert parse_filter(text).matches(row) is expected


def test_filter_fields():
    assert parse_filter("A == '1' and B in ['x']").fields == {"A", "B"}


@pytest.mark.parametrize(
    ("text", "advice"),
    [
        # would test the characters of the value: '0' and '2' in '20' (or a TypeError if null)
        ("'02' in OBJ_ASSI", "OBJ_ASSI in ['02']"),
        ("['01', '02'] not in OBJ_ASSI", "OBJ_ASSI not in ['01', '02']"),
        ("OBJ_ASSI in '02'", "OBJ_ASSI in ['02']"),  # characters again
        ("OBJ_ASSI in 5", "OBJ_ASSI in [5]"),  # would crash on every feature
        ("OBJ_ASSI in NATURE", "OBJ_ASSI in ['"),
    ],
)
def test_in_needs_a_field_on_the_left_and_a_list_on_the_right(text, advice):
    with pytest.raises(UserError) as refused:
        parse_filter(text)
    message = str(refused.value)
    assert f"« {text} »" in message and advice in message
    assert "à gauche un champ" in message and "à droite une liste" in message


def test_in_with_a_field_on_the_left_was_fine_and_still_is():
    assert parse_filter("OBJ_ASSI in ['02']").matches({"OBJ_ASSI": "02"})
    assert parse_filter("OBJ_ASSI in ('01', 2)").matches({"OBJ_ASSI": 2})


@pytest.mark.parametrize("value", [None, "missing"])
def test_a_null_attribute_is_in_no_list(value):
    """Null means "no value": it is in no list, not even one holding None."""
    row = {} if value == "missing" else {"OBJ_ASSI": value}
    assert parse_filter("OBJ_ASSI in ['01', None]").matches(row) is False
    assert parse_filter("OBJ_ASSI not in ['01', None]").matches(row) is True
    assert parse_filter("not OBJ_ASSI in ['01']").matches(row) is True


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os').system('true')", "comparaison"),
        ("A == B.c", "valeur"),
        ("A < 3", "==, !=, in ou not in"),
        ("A == '1' ==", "syntaxe"),
        ("A == '1' == B", "une comparaison à la fois"),
        ("len(A) == 2", "champ"),
        ("'1' == '2'", "champ"),
        ("A", "comparaison"),
    ],
)
def test_refusals_are_user_errors_in_french_with_what_to_write(text, words):
    with pytest.raises(UserError) as refused:
        parse_filter(text)
    message = str(refused.value)
    assert f"« {text} »" in message and words in message
    assert "; écrivez " in message and "OBJ_ASSI" in message  # what to write instead
