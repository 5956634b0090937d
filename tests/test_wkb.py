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
from trame.percommune.chunks import Chunker
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
    chunker = Chunker(territory, shared=SimpleNamespace(release=None), target="/somewhere")
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
    from trame.percommune.chunks import Shared
    from trame.releases.info import ReleaseInfo

    territory = load_territory(load_config(PROJECT / "layers" / "demo.yml"))
    insees = [c.insee for c in territory.communes]
    pages = {"2024": {i: f"page-{i}" for i in insees}, "2025": {insees[0]: "un"}}
    info = ReleaseInfo(None, "2026", "2026-01-01", None, [], mergers={"99999": object()},
                       _pages={**pages, "2024": {**pages["2024"], "99999": "fusion"}})  # fmt: skip
    chunker = Chunker(territory, Shared(None, None, False, info), target=None)
    chunk = chunker.chunk(np.array([1, 2]))
    own = {chunk.neighbours[i].insee for i in chunk.own}
    assert own == set(insees[1:3])
    assert chunk.shared.release._pages == {
        "2024": {**{i: f"page-{i}" for i in sorted(own)}, "99999": "fusion"},
        "2025": {},
    }
    assert info._pages["2024"] == {**pages["2024"], "99999": "fusion"}  # the driver's, whole
    assert chunk.shared.release.id == "2026" and chunk.shared.release.mergers == info.mergers
