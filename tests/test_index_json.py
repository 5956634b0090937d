"""JSON is written by orjson: its bytes must be those the standard library wrote
(:func:`standard_json_bytes`). The large indexes (the manifest, the tile record, the history's
listings) hold no float and are written unchecked; any other document (the API's) is checked for
the floats orjson writes otherwise (under 1e-4) and for what orjson refuses."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from trame.files import index_json_bytes, json_bytes, parse_json, standard_json_bytes
from trame.releases.history import listing_bytes

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
scalars = st.one_of(names, st.integers(-(2**63), 2**63 - 1), st.booleans(), st.none())
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(names, inner, max_size=4)),
    max_leaves=20,
)


@given(documents)
def test_an_index_without_floats_has_the_standard_bytes(data):
    assert index_json_bytes(data) == standard_json_bytes(data)


floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(-1e-4, 1e-4),  # (orjson writes 1e-05 as 0.00001)
    st.floats(-180, 180).map(lambda v: round(v, 6)),  # (the API's coordinates)
)
keys = st.one_of(names, st.sampled_from(["Sainte-Marie", "1e-5", "x0.00001"]))
anything = st.one_of(scalars, floats, st.integers(2**63, 2**70), keys)
api_documents = st.recursive(
    anything,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(keys, inner, max_size=4),
        st.dictionaries(st.integers(0, 9), inner, max_size=2),  # (orjson refuses these keys)
    ),
    max_leaves=30,
)


@given(api_documents)
@example({"a": [5e-05, 0.0001, 1e16, 12.00005], "b": "Sainte-Marie"})
@example([-1e-07])
@example(["x0.00001", 3.5])
@example({"b": {"Sainte-Marie": 2**64}, "c": {1: 0.5}})
def test_a_document_has_the_standard_bytes(data):
    assert json_bytes(data) == standard_json_bytes(data)


read_documents = st.recursive(
    st.one_of(scalars, floats, keys),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=30,
)


@given(read_documents)
def test_a_document_is_read_back_as_the_standard_library_reads_it(data):
    written = standard_json_bytes(data)
    assert parse_json(written) == json.loads(written)


def test_what_orjson_refuses_is_read_by_the_standard_library():
    assert parse_json("[NaN, 1]")[1] == 1
    with pytest.raises(ValueError):
        parse_json(b'{"files":')


def test_an_integer_over_64_bits_comes_back_a_float():
    """(parse_json's one difference from the standard library, as its docstring says)"""
    assert parse_json(b"[18446744073709551615, 18446744073709551617]") == [2**64 - 1, 2.0**64]


def test_nan_and_infinities_are_written_null():
    """(the standard library writes NaN, which no JSON reader accepts)"""
    assert json_bytes([float("nan"), float("inf"), 1.5]) == b"[null,null,1.5]\n"


@given(st.dictionaries(names, st.text(max_size=64)))
def test_a_listing_has_the_bytes_it_always_had(listing):
    before = (json.dumps({"files": listing}, sort_keys=True, separators=(",", ":")) + "\n").encode()
    assert listing_bytes(listing) == before


def test_the_indexes_of_a_build_hold_no_float(demo_site):
    """(a float in them would be written otherwise than json_bytes does: 0.00001 for 1e-05)"""
    indexes = [demo_site / "manifest.json", demo_site.parent / "tiles" / "taches-tuiles.json"]
    listings = list((demo_site.parent / "releases").glob("**/listings/*.json"))
    for path in [*indexes, *listings]:
        written = path.read_bytes()
        data = json.loads(written)
        standard = standard_json_bytes(data)
        assert written == (listing_bytes(data["files"]) if path in listings else standard)
        assert written == index_json_bytes(data), path
    assert listings
