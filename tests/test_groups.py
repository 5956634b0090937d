"""Geometries that meet, grouped (generator/groups.py): a partition where no two groups meet and
each group holds together; dissolving group by group gives the union of them all."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from trame import memo
from trame.groups import dissolved, meeting_groups

discs = st.lists(
    st.tuples(st.integers(0, 60), st.integers(0, 60), st.integers(1, 8)), min_size=1, max_size=40
)


def shapes(spec: list[tuple[int, int, int]]) -> np.ndarray:
    """Squares (even radius) and discs (odd): some overlap, some only touch, some are apart."""
    return np.array(
        [shapely.box(x - r, y - r, x + r, y + r) if r % 2 == 0 else shapely.Point(x, y).buffer(r)
         for x, y, r in spec],
        dtype=object,
    )  # fmt: skip


@given(discs)
def test_the_groups_are_a_partition_of_geometries_that_meet(spec):
    geometries = shapes(spec)
    groups = meeting_groups(geometries)
    assert sorted(np.concatenate(groups).tolist()) == list(range(len(geometries)))
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)
    unions = [shapely.union_all(geometries[g]) for g in groups]
    for i, a in enumerate(unions):  # no two groups meet
        assert not any(a.intersects(b) for b in unions[i + 1 :])
    for g in groups:  # each group holds together: every member is reached from the first
        reached, todo = {g[0]}, [g[0]]
        while todo:
            i = todo.pop()
            for j in g.tolist():
                if j not in reached and geometries[i].intersects(geometries[j]):
                    reached.add(j)
                    todo.append(j)
        assert reached == set(g.tolist())


@settings(deadline=None)
@given(discs)
def test_dissolving_group_by_group_gives_the_union(spec):
    geometries = shapes(spec)
    parts = dissolved(geometries)
    whole = shapely.union_all(geometries)
    one = shapely.multipolygons(parts)
    assert shapely.is_valid(one)
    assert len(parts) == shapely.get_num_geometries(whole)
    assert abs(one.area - whole.area) <= 1e-9 * whole.area
    assert shapely.symmetric_difference(one, whole).area <= 1e-9 * whole.area


def test_nothing_to_group():
    assert meeting_groups(np.array([], dtype=object)) == []


def test_a_warm_process_dissolves_again_only_the_group_that_changed():
    spec = [(0, 0, 4), (6, 0, 4), (40, 40, 4), (46, 40, 3), (80, 0, 2)]  # two pairs, one alone
    moved = [*spec[:3], (47, 40, 3), spec[4]]
    with memo.kept():
        with memo.one_build():
            dissolved(shapes(spec))
            assert memo.made() == {"dissolved group": 2}
        with memo.one_build():
            warm = dissolved(shapes(moved))
            assert memo.made() == {"dissolved group": 1}
    cold = dissolved(shapes(moved))
    assert shapely.to_wkb(warm).tolist() == shapely.to_wkb(cold).tolist()
