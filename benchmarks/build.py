"""The whole build (tiles, pages, API, MkDocs), cold and then again with nothing changed.

    .venv/bin/python benchmarks/build.py                          # Valenciennes and Nord
    .venv/bin/python benchmarks/build.py --territories nord --runs 3
    .venv/bin/python benchmarks/build.py --territories hdf        # runs make_hdf.py if needed
    .venv/bin/python benchmarks/build.py --territories france --workers 2,1 --cold-only

``--workers 2,1``: each run once per worker count (default: one run with every core). The
child prints the build's stage times; the site's size (files and bytes) is counted after the
run, outside its timing.

Each run is ``build_site`` (what ``make build`` runs) in a fresh process, into a temporary site
folder and tiles folder: ``cold`` starts from empty folders, ``unchanged`` builds again into
the same folders with the same inputs (the build cache should make it skip everything). Wall
time, the tile step's own time, and peak memory (see common.py) of each run. Every run keeps
its folders until the script ends (deleting them between runs would make the next run's new
files dearer on this machine, see common.py): France needs ~10 GB of disk per run.

Budgets (issue #6, Nord): cold under 60 s, unchanged under 10 % of cold, peak memory under
1.5 GB; exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import PROJECT, PYTHON, SHARED_DATA, load_avg, measure, median, need, table

HDF_DATA = Path("/tmp/trame-hdf")
FRANCE_DATA = Path("/tmp/trame-france")
TERRITORIES = {
    "valenciennes": (
        PROJECT / "layers" / "valenciennes-metropole.yml",
        SHARED_DATA / "valenciennes-metropole",
    ),
    "nord": (PROJECT / "layers" / "nord.yml", SHARED_DATA / "nord"),
    "hdf": (PROJECT / "layers" / "hauts-de-france.yml", HDF_DATA),
    "france": (PROJECT / "layers" / "france.yml", FRANCE_DATA),
}
GENERATED = {"hdf": (HDF_DATA, "hauts-de-france"), "france": (FRANCE_DATA, "france")}


def site_size(site: Path) -> tuple[int, int]:
    """Files and bytes of a built site, counted file by file (hard links counted each time)."""
    files = [p for p in site.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def child(config: str, data_dir: str, output: str, tiles: str, workers: str) -> None:
    """One build (in a fresh process); its log on stderr when TRAME_BENCH_LOG is set."""
    sys.path.insert(0, str(PROJECT))
    from trame.build import build_site

    result = build_site(
        Path(config), Path(data_dir), Path(output), tiles_dir=Path(tiles),
        quiet=not os.environ.get("TRAME_BENCH_LOG"), workers=int(workers) or None,
    )  # fmt: skip
    own = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        json.dumps(
            {
                "seconds": result.seconds,
                "communes": result.communes,
                "cached": result.cached,
                "tiles": result.tiles.tiles if result.tiles else None,
                "tile_seconds": result.tiles.seconds if result.tiles else None,
                "stages": result.stages,
                "driver_cpu": own.ru_utime + own.ru_stime,
                "workers_cpu": workers.ru_utime + workers.ru_stime,
            }
        )
    )


def measure_all(
    arguments: argparse.Namespace, names: list[str], kinds: tuple[str, ...], root: Path
) -> tuple[list[list], list[list]]:
    """Every run of each territory, each in a folder of its own under ``root``: the table's
    rows, and each territory's medians."""
    rows: list[list] = []
    summary: list[list] = []
    for name in names:
        config, data = TERRITORIES[name]
        need(data)
        runs: dict[str, list] = {kind: [] for kind in kinds}
        for i in range(arguments.runs):
            for workers in arguments.workers.split(","):
                work = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))
                command = [PYTHON, Path(__file__).resolve(), "--child", config, data]
                command += [work / "site", work / "tiles", workers]
                for kind in kinds:
                    if arguments.log:
                        with arguments.log.open("a", encoding="utf-8") as file:
                            file.write(f"--- {name} {kind} workers={workers}\n")
                    run = measure(
                        f"{name} {kind}", command,
                        env={"TRAME_BENCH_LOG": "1"} if arguments.log else None,
                        log=arguments.log,
                    )  # fmt: skip
                    result = json.loads(run.stdout.strip().splitlines()[-1])
                    files, size = site_size(work / "site")  # after the run, untimed
                    runs[kind].append(run)
                    tile_s = result["tile_seconds"]
                    rows.append(
                        [name, kind, i + 1, workers, result["communes"], run.wall,
                         "" if tile_s is None else f"{tile_s:.2f}", run.max_rss_mb,
                         run.peak_pss_mb, result["tiles"] or "-",
                         "yes" if result["cached"] else "no", files, f"{size / 1e6:.0f}"]
                    )  # fmt: skip
                    stages = ", ".join(f"{k} {v:.1f} s" for k, v in result["stages"].items())
                    print(f"{name} {kind} workers={workers}: {run.wall:.1f} s wall, "
                          f"CPU {run.user + run.system:.1f} s (driver "
                          f"{result.get('driver_cpu', 0):.1f} s, workers "
                          f"{result.get('workers_cpu', 0):.1f} s), "
                          f"peak PSS {run.peak_pss_mb:.0f} MB"
                          f" ({stages})", flush=True)  # fmt: skip
        cold = median([r.wall for r in runs["cold"]])
        warm = median([r.wall for r in runs["unchanged"]]) if "unchanged" in runs else float("nan")
        peak = max(r.peak_pss_mb for r in runs["cold"])
        summary.append([name, cold, warm, f"{100 * warm / cold:.1f} %", peak])
    return rows, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--territories", default="valenciennes,nord")
    parser.add_argument("--runs", type=int, default=1, help="cold + unchanged pairs each")
    parser.add_argument("--workers", default="0", help="worker counts, e.g. 2,1 (0: all cores)")
    parser.add_argument("--cold-only", action="store_true", help="no 'unchanged' run")
    parser.add_argument("--work", type=Path, default=None, help="folder for sites (default /tmp)")
    parser.add_argument("--log", type=Path, default=None, help="each build's own log, appended")
    parser.add_argument("--keep", action="store_true",
                        help="leave the sites in place (their folders are printed)")  # fmt: skip
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    names = arguments.territories.split(",")
    for name in names:
        if name in GENERATED and not (GENERATED[name][0] / "srce_fictif.gpkg").exists():
            territory = "hdf" if name == "hdf" else name
            subprocess.run([PYTHON, str(Path(__file__).with_name("make_hdf.py")),
                            "--territory", territory], check=True)  # fmt: skip
    print(load_avg(), flush=True)
    kinds = ("cold",) if arguments.cold_only else ("cold", "unchanged")
    root = Path(tempfile.mkdtemp(prefix="trame-bench-build-", dir=arguments.work))
    try:  # (the runs' folders deleted at the end only: see common.py)
        rows, summary = measure_all(arguments, names, kinds, root)
    finally:
        if arguments.keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(
        table(
            [
                "territory",
                "run",
                "#",
                "workers",
                "communes",
                "wall s",
                "tiles s",
                "max RSS MB",
                "peak PSS MB",
                "tiles",
                "cached",
                "files",
                "MB",
            ],
            rows,
        )  # fmt: skip
    )
    print()
    print(table(["median", "cold s", "unchanged s", "unchanged/cold", "peak PSS MB"], summary))
    print(load_avg())
    met = True
    for name, cold, warm, _, peak in summary:
        if name == "nord" and not arguments.cold_only:
            met = cold < 60 and warm < 0.1 * cold and peak < 1500
            print(
                f"budget (Nord: cold < 60 s, unchanged < 10 %, < 1.5 GB): {'met' if met else 'MISSED'}"
            )
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
