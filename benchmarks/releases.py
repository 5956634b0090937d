"""Releases (issue #10): what keeping every release costs, on Valenciennes Métropole.

    .venv/bin/python benchmarks/releases.py
    .venv/bin/python benchmarks/releases.py --data-dir ../shared/data/valenciennes-metropole

Five releases are built one after the other into one site, each from a copy of the data where
one more point obstacle changed its ``NATURE`` (a small correction, as between two real
editions: its tiles, its commune's pages and API change, the rest does not). Measured:

- the site's size on disk after 1, 2 and 5 releases (files shared between releases and the
  current addresses are hard links: counted once), against the size of all its files counted
  one by one (what a copy without links would take), and the history folder's size;
- the time of each build, and the part of it spent on releases (comparing with the previous
  release, rendering the release's own files, storing it and assembling the site);
- the bytes rsync sends (``--stats``) to deploy the first release, then the second, to a folder,
  the way ``make deploy TARGET=…`` does.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
from common import PROJECT, SHARED_DATA, need, table

sys.path.insert(0, str(PROJECT))
CONFIG = PROJECT / "layers" / "valenciennes-metropole.yml"


def sizes(folder: Path) -> tuple[int, int, int]:
    """(bytes on disk with hard links counted once, bytes of every file counted, files)."""
    seen: set[int] = set()
    linked = every = files = 0
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            files += 1
            every += stat.st_size
            if stat.st_ino not in seen:
                seen.add(stat.st_ino)
                linked += stat.st_size
    return linked, every, files


def edit(data: Path, release: int) -> None:
    """Release n: the NATURE of the first n-1 point obstacles corrected."""
    gpkg = data / "srce_fictif.gpkg"
    meta, _, geometries, values = pyogrio.raw.read(gpkg, layer="obstacles_ponctuels")
    values = [np.array(v, dtype=object) for v in values]
    nature = list(meta["fields"]).index("NATURE")
    for index in range(release - 1):
        values[nature][index] = f"Ouvrage corrigé ({release})"
    pyogrio.raw.write(
        gpkg, geometries, values, fields=meta["fields"], layer="obstacles_ponctuels",
        driver="GPKG", crs=meta["crs"], geometry_type=meta["geometry_type"],
        layer_options={"OVERWRITE": "YES"},
    )  # fmt: skip


class Timer:
    """Wraps functions of the build to add up the time spent in them."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, module: Any, name: str) -> None:
        function: Callable[..., Any] = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(module, name, timed)


def rsync_bytes(site: Path, target: Path) -> int:
    """Deploy ``site`` to ``target`` like ``make deploy`` does; the bytes rsync sent."""
    from trame.deploy import rsync

    sent: list[int] = []
    original = rsync.run_tool

    def with_stats(argv: list[str], **kwargs: Any) -> Any:
        if argv[0] == "rsync":
            done = original([*argv[:1], "--stats", *argv[1:]], **kwargs)
            match = re.search(r"Total bytes sent: ([\d,.]+)", done.stdout)
            sent.append(int(re.sub(r"[,.]", "", match.group(1))) if match else -1)
            return done
        return original(argv, **kwargs)

    rsync.run_tool = with_stats
    try:
        rsync.deploy_rsync(site, str(target), keep=10, log=lambda _: None)
    finally:
        rsync.run_tool = original
    return sent[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA / "valenciennes-metropole")
    parser.add_argument("--releases", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    source = need(arguments.data_dir)

    from trame import build as build_module

    release_time = Timer()
    release_time.wrap(build_module.release_render, "prepare")
    release_time.wrap(build_module.release_render, "write_release_files")
    release_time.wrap(build_module, "record_release")

    root = Path(tempfile.mkdtemp(prefix="trame-releases-"))
    try:
        data, site, www = root / "data", root / "site", root / "www"
        shutil.copytree(source, data)
        for path in [data, *data.rglob("*")]:  # the shared data is read-only
            path.chmod(0o755 if path.is_dir() else 0o644)
        www.mkdir()
        rows, builds, sent = [], [], []
        for release in range(1, arguments.releases + 1):
            edit(data, release)
            release_time.seconds = 0.0
            started = time.perf_counter()
            build_module.build_site(
                CONFIG, data, site, quiet=True, workers=arguments.workers,
                tiles_dir=root / "tiles", version=f"r{release}",
            )  # fmt: skip
            total = time.perf_counter() - started
            builds.append([f"r{release}", f"{total:.1f} s", f"{release_time.seconds:.1f} s",
                           f"{100 * release_time.seconds / total:.0f} %"])  # fmt: skip
            if release <= 2:
                sent.append([f"r{release}", f"{rsync_bytes(site, www) / 2**20:.2f} MiB"])
            if release in (1, 2, 5):
                linked, every, files = sizes(site)
                history = sizes(root / "releases")[0]
                rows.append([release, files, f"{linked / 2**20:.1f} MiB",
                             f"{every / 2**20:.1f} MiB", f"{history / 2**20:.1f} MiB"])  # fmt: skip
        started = time.perf_counter()
        build_module.build_site(
            CONFIG, data, site, quiet=True, workers=arguments.workers,
            tiles_dir=root / "tiles", version=f"r{arguments.releases}",
        )  # fmt: skip
        unchanged = time.perf_counter() - started
        shutil.rmtree(site)
        started = time.perf_counter()
        build_module.build_site(
            CONFIG, data, site, quiet=True, workers=arguments.workers,
            tiles_dir=root / "tiles", version=f"r{arguments.releases}",
        )  # fmt: skip
        reassembled = time.perf_counter() - started
    finally:
        shutil.rmtree(root, ignore_errors=True)

    print(f"Valenciennes Métropole, {os.cpu_count()} processors\n")
    print(table(["releases", "files", "site on disk", "files counted one by one", "history"], rows))
    print()
    print(table(["build", "total", "releases' part", "share"], builds))
    print(f"\nNothing changed: {unchanged:.2f} s; site lost, assembled again from the history: "
          f"{reassembled:.2f} s\n")  # fmt: skip
    print(table(["rsync deploy", "bytes sent"], sent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
