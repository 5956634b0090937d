"""Tile sizes per zoom (p50, p95, max, raw and gzipped) against the budgets of issue #6:
p95 under 100 KB, no tile over 500 KB.

    .venv/bin/python benchmarks/tile_sizes.py                    # Nord, Trame's tiles
    .venv/bin/python benchmarks/tile_sizes.py --tippecanoe       # and tippecanoe's, same features
    .venv/bin/python benchmarks/tile_sizes.py --tiles site/tiles # any {z}/{x}/{y}.pbf tree
    .venv/bin/python benchmarks/tile_sizes.py --config layers/hauts-de-france.yml \
        --data-dir /tmp/trame-hdf                                # after benchmarks/make_hdf.py

Sizes are of the uncompressed .pbf files (what the z/x/y tree serves) and of the same bytes
gzipped at level 6 (what PMTiles stores, and what a server compressing on the fly sends).
Exit status 1 when Trame's tiles miss a budget.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import BIN, PROJECT, PYTHON, SHARED_DATA, need, table

KB = 1000
BUDGET_P95, BUDGET_MAX = 100 * KB, 500 * KB


def distribution(tree: Path) -> tuple[list[list], dict]:
    """Rows per zoom and totals for a {z}/{x}/{y}.pbf tree."""
    sizes: dict[int, list[tuple[int, int]]] = {}
    for path in tree.glob("*/*/*.pbf"):
        data = path.read_bytes()
        z = int(path.parent.parent.name)
        sizes.setdefault(z, []).append((len(data), len(gzip.compress(data, 6, mtime=0))))
    rows = []
    for z in sorted(sizes):
        raw, gz = np.array(sizes[z]).T
        rows.append(
            [z, len(raw), int(raw.sum()), *(int(v) for v in np.percentile(raw, [50, 95])),
             int(raw.max()), *(int(v) for v in np.percentile(gz, [50, 95])), int(gz.max())]
        )  # fmt: skip
    every = np.array([s for z in sizes for s in sizes[z]]).reshape(-1, 2)
    totals = {
        "tiles": len(every),
        "bytes": int(every[:, 0].sum()),
        "gzip_bytes": int(every[:, 1].sum()),
        "p95": int(np.percentile(every[:, 0], 95)),
        "gzip_p95": int(np.percentile(every[:, 1], 95)),
        "max": int(every[:, 0].max()),
        "gzip_max": int(every[:, 1].max()),
        "over_100KB": int((every[:, 0] > BUDGET_P95).sum()),
        "over_500KB": int((every[:, 0] > BUDGET_MAX).sum()),
    }
    return rows, totals


def report(title: str, tree: Path) -> bool:
    """Print the distribution of ``tree``; True when it is within the budgets."""
    rows, totals = distribution(tree)
    print(f"\n{title}")
    print(
        table(["zoom", "tiles", "bytes", "p50", "p95", "max", "gz p50", "gz p95", "gz max"], rows)
    )
    verdict = (
        "within budget"
        if totals["p95"] < BUDGET_P95 and totals["max"] <= BUDGET_MAX
        else "OVER BUDGET"
    )
    print(
        f"all zooms: {totals['tiles']} tiles, {totals['bytes']} bytes "
        f"({totals['gzip_bytes']} gzipped); p95 {totals['p95']} B "
        f"(gzipped {totals['gzip_p95']} B), max {totals['max']} B (gzipped {totals['gzip_max']} B);"
        f" {totals['over_100KB']} tiles over 100 KB, {totals['over_500KB']} over 500 KB: {verdict}"
    )
    return verdict == "within budget"


def trame_tiles(config: Path, data_dir: Path, out: Path) -> None:
    sys.path.insert(0, str(PROJECT))
    from trame.tilestep import build_tiles_only

    stats = build_tiles_only(config, data_dir, out, quiet=True)
    lines = stats.summary().splitlines()
    extra = [line for line in lines if not line[:4].strip().isdigit() and "zoom" not in line]
    print("\n".join(extra))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT / "layers" / "nord.yml")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA / "nord")
    parser.add_argument("--tiles", type=Path, help="measure this {z}/{x}/{y}.pbf tree instead")
    parser.add_argument("--tippecanoe", action="store_true", help="also tippecanoe -e")
    arguments = parser.parse_args()
    if arguments.tiles:
        raise SystemExit(0 if report(str(arguments.tiles), need(arguments.tiles)) else 1)
    need(arguments.data_dir)
    work = Path(tempfile.mkdtemp(prefix="trame-bench-sizes-"))
    try:
        print(f"{arguments.config.name} with {arguments.data_dir}")
        trame_tiles(arguments.config, arguments.data_dir, work / "trame")
        met = report("Trame (z/x/y.pbf)", work / "trame" / "xyz")
        if arguments.tippecanoe:
            script = Path(__file__).with_name("tiles_vs_tippecanoe.py")
            export = [PYTHON, script, "--export", arguments.config, arguments.data_dir, work]
            subprocess.run([str(a) for a in export], check=True)
            files = json.loads((work / "layers.json").read_text())
            command = [BIN / "tippecanoe", "-q", "-f", "-P", "-Z0", "-z14"]
            command += [a for name, path in files for a in ("-L", f"{name}:{path}")]
            command += ["--no-tile-compression", "-e", work / "tippecanoe"]
            subprocess.run([str(a) for a in command], check=True)
            report("tippecanoe -e, default settings (z/x/y.pbf)", work / "tippecanoe")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
