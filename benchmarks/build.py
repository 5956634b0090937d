"""The whole build (tiles, pages, API, MkDocs), cold and then again with nothing changed.

    .venv/bin/python benchmarks/build.py                          # Valenciennes and Nord
    .venv/bin/python benchmarks/build.py --territories nord --runs 3
    .venv/bin/python benchmarks/build.py --territories hdf        # runs make_hdf.py if needed

Each run is ``build_site`` (what ``make build`` runs) in a fresh process, into a temporary site
folder and tiles folder: ``cold`` starts from empty folders, ``unchanged`` builds again into
the same folders with the same inputs (the build cache should make it skip everything). Wall
time, the tile step's own time, and peak memory (see common.py) of each run.

Budgets (issue #6, Nord): cold under 60 s, unchanged under 10 % of cold, peak memory under
1.5 GB; exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PROJECT, PYTHON, SHARED_DATA, load_avg, measure, median, need, table

HDF_DATA = Path("/tmp/trame-hdf")
TERRITORIES = {
    "valenciennes": (
        PROJECT / "layers" / "valenciennes-metropole.yml",
        SHARED_DATA / "valenciennes-metropole",
    ),
    "nord": (PROJECT / "layers" / "nord.yml", SHARED_DATA / "nord"),
    "hdf": (PROJECT / "layers" / "hauts-de-france.yml", HDF_DATA),
}


def child(config: str, data_dir: str, output: str, tiles: str) -> None:
    """One build (in a fresh process)."""
    sys.path.insert(0, str(PROJECT))
    from trame.build import build_site

    result = build_site(
        Path(config), Path(data_dir), Path(output), tiles_dir=Path(tiles), quiet=True
    )
    print(
        json.dumps(
            {
                "seconds": result.seconds,
                "communes": result.communes,
                "cached": result.cached,
                "tiles": result.tiles.tiles if result.tiles else None,
                "tile_seconds": result.tiles.seconds if result.tiles else None,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--territories", default="valenciennes,nord")
    parser.add_argument("--runs", type=int, default=1, help="cold + unchanged pairs each")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    names = arguments.territories.split(",")
    if "hdf" in names and not (HDF_DATA / "srce_fictif.gpkg").exists():
        need(SHARED_DATA / "hauts-de-france")
        subprocess.run([PYTHON, str(Path(__file__).with_name("make_hdf.py"))], check=True)
    print(load_avg())
    rows, summary = [], []
    for name in names:
        config, data = TERRITORIES[name]
        need(data)
        runs: dict[str, list] = {"cold": [], "unchanged": []}
        for i in range(arguments.runs):
            work = Path(tempfile.mkdtemp(prefix=f"trame-bench-build-{name}-"))
            try:
                command = [PYTHON, Path(__file__).resolve(), "--child", config, data]
                command += [work / "site", work / "tiles"]
                for kind in ("cold", "unchanged"):
                    run = measure(f"{name} {kind}", command)
                    result = json.loads(run.stdout.strip().splitlines()[-1])
                    runs[kind].append(run)
                    tile_s = result["tile_seconds"]
                    rows.append(
                        [name, kind, i + 1, result["communes"], run.wall,
                         "" if tile_s is None else f"{tile_s:.2f}", run.max_rss_mb,
                         run.peak_pss_mb, result["tiles"] or "-",
                         "yes" if result["cached"] else "no"]
                    )  # fmt: skip
            finally:
                shutil.rmtree(work, ignore_errors=True)
        cold = median([r.wall for r in runs["cold"]])
        warm = median([r.wall for r in runs["unchanged"]])
        peak = max(r.peak_pss_mb for r in runs["cold"])
        summary.append([name, cold, warm, f"{100 * warm / cold:.1f} %", peak])
    print(
        table(
            [
                "territory",
                "run",
                "#",
                "communes",
                "wall s",
                "tiles s",
                "max RSS MB",
                "peak PSS MB",
                "tiles",
                "cached",
            ],
            rows,
        )  # fmt: skip
    )
    print()
    print(table(["median", "cold s", "unchanged s", "unchanged/cold", "peak PSS MB"], summary))
    print(load_avg())
    met = True
    for name, cold, warm, _, peak in summary:
        if name == "nord":
            met = cold < 60 and warm < 0.1 * cold and peak < 1500
            print(
                f"budget (Nord: cold < 60 s, unchanged < 10 %, < 1.5 GB): {'met' if met else 'MISSED'}"
            )
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
