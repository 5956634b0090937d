"""Geometries packed whole for the workers (generator.wkb): the same geometries come back, and
the tasks that carry them (commune chunks, their features) pickle to equal objects."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from trame.config import load_config
from trame.percommune import _Chunker
from trame.territory import load_territory
from trame.wkb import pack, unpack

PROJECT = Path(__file__).resolve().parent.parent

coordinate = st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False)
point = st.tuples(coordinate, coordinate)
geometry = st.one_of(
    st.none(),
    st.just(shapely.Polygon()),
    st.builds(shapely.Point, coordinate, coordinate),
    st.builds(shapely.LineString, st.lists(point, min_size=2, max_size=6)),
    st.builds(lambda p: shapely.Point(p).buffer(3.5), point),
    st.builds(lambda a, b: shapely.MultiPoint([a, b]), point, point),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(geometry, max_size=8))
def test_pack_then_unpack_gives_the_same_geometries(geometries):
    array = np.empty(len(geometries), dtype=object)
    array[:] = geometries
    back = unpack(pack(array))
    assert back.dtype == object and len(back) == len(array)
    assert [None if g is None else g.wkb for g in back] == [
        None if g is None else g.wkb for g in array
    ]


def test_a_commune_chunk_comes_back_equal_from_a_worker():
    territory = load_territory(load_config(PROJECT / "layers" / "demo.yml"))
    chunker = _Chunker(territory, shared=SimpleNamespace(release=None), target="/somewhere")
    chunk = chunker.chunk(np.arange(min(3, len(territory.communes))))
    back = pickle.loads(pickle.dumps(chunk, protocol=5))
    assert back.own == chunk.own and back.target == chunk.target
    assert [(c.insee, c.name, c.slug, c.postcodes) for c in back.neighbours] == [
        (c.insee, c.name, c.slug, c.postcodes) for c in chunk.neighbours
    ]
    assert all(a.geometry.equals_exact(b.geometry, 0) for a, b in
               zip(back.neighbours, chunk.neighbours, strict=True))  # fmt: skip
    for before, after in zip(chunk.features, back.features, strict=True):
        assert after.item.id == before.item.id and after.ids == before.ids
        assert after.attributes == before.attributes
        assert list(shapely.to_wkb(after.geometries)) == list(shapely.to_wkb(before.geometries))


def test_a_chunk_carries_the_earlier_pages_of_its_own_communes_only():
    """Every chunk sent to a worker carries the release being built; of the earlier releases'
    page lists (35,228 communes each for France) only its communes' and the merged ones'."""
    from trame.releases.render import ReleaseInfo

    pages = {"2024": {f"{n:05d}": f"commune-{n}" for n in range(100)}, "2025": {"00001": "un"}}
    info = ReleaseInfo(None, "2026", "2026-01-01", None, [], mergers={"00050": object()},
                       _pages=pages)  # fmt: skip
    narrow = info.for_communes(["00001", "00002", "00999"])
    assert narrow._pages == {
        "2024": {"00001": "commune-1", "00002": "commune-2", "00050": "commune-50"},
        "2025": {"00001": "un"},
    }
    assert info._pages == pages and narrow.id == "2026" and narrow.mergers == info.mergers
