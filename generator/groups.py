"""Geometries that meet, grouped: the connected groups of the "intersects" relation (a
union-find over an STRtree's pairs), so each group can be merged on its own."""

from __future__ import annotations

import numpy as np
import shapely

from . import memo


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


def dissolved(polygons: np.ndarray) -> np.ndarray:
    """The parts of the union of valid ``polygons``: each group that meets is merged on its
    own (and kept by a warm process), a polygon that meets no other is kept as it is.
    Hauts-de-France's 3,839 reservoirs, simplified for the territory's map: 93 ms instead of
    397 ms for ``union_all`` of them all (Nord's 692: 9 ms instead of 49 ms), the same area."""
    digests = memo.digests(polygons) if memo.active() else None
    merged = [
        polygons[members[0]] if len(members) == 1
        else _union(polygons[members], None if digests is None else digests[members])
        for members in meeting_groups(polygons)
    ]  # fmt: skip
    return shapely.get_parts(np.array(merged, dtype=object))


def _union(group: np.ndarray, digests: np.ndarray | None) -> shapely.Geometry:
    return memo.value(
        "dissolved group", lambda: memo.key(digests), lambda: shapely.union_all(group)
    )
