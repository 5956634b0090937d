"""The tile tree joins the release's tree as hard links, but for the tiles a site updated in
place already has (generator/assemble.py: link_tiles)."""

from __future__ import annotations

import os

from trame.assemble import link_tiles


def test_the_tiles_kept_are_not_linked_nor_their_folders_made(tmp_path):
    xyz, target = tmp_path / "xyz", tmp_path / "release" / "tiles"
    for z, x, y in [(0, 0, 0), (1, 0, 1), (1, 1, 1), (2, 3, 2)]:
        (xyz / str(z) / str(x)).mkdir(parents=True, exist_ok=True)
        (xyz / str(z) / str(x) / f"{y}.pbf").write_bytes(f"{z}/{x}/{y}".encode())
    link_tiles(xyz, target, {"tiles/1/0/1.pbf", "tiles/2/3/2.pbf"})
    made = sorted(
        os.path.relpath(os.path.join(folder, name), target)
        for folder, _, files in os.walk(target)
        for name in files
    )
    assert made == ["0/0/0.pbf", "1/1/1.pbf"]
    assert not (target / "2").exists() and not (target / "1" / "0").exists()
    assert (target / "1" / "1" / "1.pbf").samefile(xyz / "1" / "1" / "1.pbf")
    link_tiles(xyz, tmp_path / "all")
    assert (tmp_path / "all" / "2" / "3" / "2.pbf").read_bytes() == b"2/3/2"
