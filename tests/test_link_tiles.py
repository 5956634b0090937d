"""The tile tree joins the release's tree as hard links, but for the tiles a site updated in
place already has (generator/assemble.py: link_tiles)."""

from __future__ import annotations

import os

import pytest

from trame.assemble import link_tiles

TILES = [(0, 0, 0), (1, 0, 1), (1, 1, 1), (2, 3, 2)]


@pytest.mark.parametrize("named", [False, True], ids=["walked", "named"])
def test_the_tiles_kept_are_not_linked_nor_their_folders_made(tmp_path, named):
    """``named``: the tree's tiles given by the tile step's record, not found by walking it."""
    xyz, target = tmp_path / "xyz", tmp_path / "release" / "tiles"
    for z, x, y in TILES:
        (xyz / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
        (xyz / str(z) / str(x) / f"{y}.pbf").write_bytes(f"{z}/{x}/{y}".encode())
    names = [f"tiles/{z}/{x}/{y}.pbf" for z, x, y in TILES] if named else None
    link_tiles(xyz, target, {"tiles/1/0/1.pbf", "tiles/2/3/2.pbf"}, names)
    made = sorted(
        os.path.relpath(os.path.join(folder, name), target)
        for folder, _, files in os.walk(target)
        for name in files
    )
    assert made == ["0/0/0.pbf", "1/1/1.pbf"]
    assert not (target / "2").exists() and not (target / "1" / "0").exists()
    assert (target / "1" / "1" / "1.pbf").samefile(xyz / "1" / "1" / "1.pbf")
    link_tiles(xyz, tmp_path / "all", (), names)
    assert (tmp_path / "all" / "2" / "3" / "2.pbf").read_bytes() == b"2/3/2"
