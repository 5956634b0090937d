import pytest

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
    "text",
    ["__import__('os').system('true')", "A == B.c", "A < 3", "A == '1' ==", "len(A) == 2", "A"],
)
def test_filter_refuses_anything_but_comparisons(text):
    with pytest.raises(ValueError):
        parse_filter(text)
