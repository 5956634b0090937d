"""What creating small files costs on this machine's disk: the part of a build that a
one-file writer (tippecanoe -o) does not pay.

    .venv/bin/python benchmarks/file_costs.py                   # in /tmp, 3 runs
    .venv/bin/python benchmarks/file_costs.py --work /dev/shm   # the same in memory

Each run writes, into a fresh folder of ``--work``, what Nord's tile step writes: 3,706 files of
2,340 bytes (its mean raw tile) in 232 folders of a z/x/y tree; then the same bytes as one file;
then hard-links the 3,706 files into a second tree (what a release does with them). The runs'
folders are deleted only after the last run; then one more run, ``after deleting``, measures
the same writes right after that deletion: on a file system that walks the recently deleted
inodes to allocate a new one (ext4 without a journal, as on these machines: see common.py),
it costs much more. Prints per run and as medians: microseconds of wall and of kernel time
per folder, per file and per link, and the seconds the tree costs beyond the one file.
Whole-build ratios against tippecanoe -o (``tiles_vs_tippecanoe.py --build``) move with this
figure: a Nord build makes ~10,000 new files and ~4,500 folders.

No budget: a measurement of the machine, printed beside the build benchmarks' figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import load_avg

FILES, FOLDERS, SIZE = 3_706, 232, 2_340
"""Nord's tile tree (z0-z14): tiles, x folders, mean raw tile bytes."""


def timed(step) -> tuple[float, float]:
    """Wall and kernel seconds of ``step()``."""
    before, start = os.times(), time.perf_counter()
    step()
    return time.perf_counter() - start, os.times().system - before.system


def one_run(root: Path) -> dict[str, float]:
    data = os.urandom(SIZE)
    folders = [f"{root}/tree/{i}" for i in range(FOLDERS)]
    files = [f"{folders[i % FOLDERS]}/{i}.pbf" for i in range(FILES)]

    def make_folders() -> None:
        for folder in folders:
            os.makedirs(folder)

    def write_files() -> None:
        for path in files:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data)
            os.close(fd)

    def write_one() -> None:
        with open(f"{root}/one.bin", "wb") as file:
            for _ in files:
                file.write(data)

    def link_files() -> None:
        for i, path in enumerate(files):
            os.link(path, f"{root}/links/{i}")

    folder_wall, folder_sys = timed(make_folders)
    file_wall, file_sys = timed(write_files)
    one_wall, _ = timed(write_one)
    os.mkdir(f"{root}/links")
    link_wall, link_sys = timed(link_files)
    return {
        "folder µs": folder_wall / FOLDERS * 1e6,
        "folder sys µs": folder_sys / FOLDERS * 1e6,
        "file µs": file_wall / FILES * 1e6,
        "file sys µs": file_sys / FILES * 1e6,
        "link µs": link_wall / FILES * 1e6,
        "link sys µs": link_sys / FILES * 1e6,
        "one file s": one_wall,
        "tree - one file s": folder_wall + file_wall - one_wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{args.work}: {FILES} files of {SIZE} B in {FOLDERS} folders, {args.runs} runs; "
          f"{load_avg()}")  # fmt: skip
    runs = []
    roots = [Path(tempfile.mkdtemp(prefix="file-costs-", dir=args.work)) for _ in range(args.runs)]
    try:
        for n, root in enumerate(roots, 1):
            runs.append(one_run(root))
            print(f"run {n}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()),
                  flush=True)  # fmt: skip
        print("median: " + ", ".join(
            f"{k} {statistics.median(r[k] for r in runs):.1f}" for k in runs[0]
        ))  # fmt: skip
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
        roots.append(Path(tempfile.mkdtemp(prefix="file-costs-", dir=args.work)))
        after = one_run(roots[-1])
        print("after deleting: " + ", ".join(f"{k} {v:.1f}" for k, v in after.items()))
    finally:
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
