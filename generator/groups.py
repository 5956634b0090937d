"""Geometries that meet, grouped: the connected groups of the "intersects" relation (a
union-find over an STRtree's pairs), so each group can be merged on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
import shapely

from . import memo

T = TypeVar("T")


def meeting_groups(geometries: np.ndarray) -> list[np.ndarray]:
    """The indices of each group of geometries that meet, directly or through others of the
    group (a geometry that meets no other is a group of one), in increasing order, the groups
    ordered by their first index."""
    if not len(geometries):
        return []
    left, right = shapely.STRtree(geometries).query(geometries, predicate="intersects")
    pairs = left < right
    group = np.arange(len(geometries))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, j in zip(left[pairs].tolist(), right[pairs].tolist(), strict=True):
        a, b = root(i), root(j)
        if a != b:
            group[max(a, b)] = min(a, b)
    roots = np.array([root(i) for i in range(len(geometries))])
    order = np.argsort(roots, kind="stable")
    cuts = np.flatnonzero(np.diff(roots[order])) + 1
    return np.split(order, cuts)


def merged_groups(
    geometries: np.ndarray, name: str, merge: Callable[[np.ndarray], T],
    alone: Callable[[shapely.Geometry], T],
) -> list[T]:  # fmt: skip
    """``merge`` of each group of :func:`meeting_groups` (``alone`` of a geometry that meets no
    other), in their order. A warm process keeps each group's result under ``name`` and the
    digests of its geometries, so a changed geometry merges its own group again."""
    digests = memo.digests(geometries) if memo.active() else None
    out: list[T] = []
    for members in meeting_groups(geometries):
        if len(members) == 1:
            out.append(alone(geometries[members[0]]))
            continue
        group = geometries[members]
        key = None if digests is None else memo.key(digests[members])
        out.append(memo.value(name, lambda key=key: key, lambda group=group: merge(group)))
    return out


def dissolved(polygons: np.ndarray) -> np.ndarray:
    """The parts of the union of valid ``polygons``: each group that meets is merged on its
    own, a polygon that meets no other is kept as it is. Hauts-de-France's 3,839 reservoirs,
    simplified for the territory's map: 93 ms instead of 397 ms for ``union_all`` of them all
    (Nord's 692: 9 ms instead of 49 ms), the same area."""
    merged = merged_groups(polygons, "dissolved group", shapely.union_all, lambda p: p)
    return shapely.get_parts(np.array(merged, dtype=object))
