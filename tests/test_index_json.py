"""The large JSON indexes (the manifest, the tile record, the history's listings) are written by
orjson: their bytes must be those the standard library wrote (:func:`json_bytes`), which holds
while they have no float."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from trame.files import index_json_bytes, json_bytes
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
    assert index_json_bytes(data) == json_bytes(data)


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
        assert written == (listing_bytes(data["files"]) if path in listings else json_bytes(data))
        assert written == index_json_bytes(data), path
    assert listings
