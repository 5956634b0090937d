"""Incremental builds: one SRCE feature changed, then one commune renamed, against cold builds.

    .venv/bin/python benchmarks/incremental.py                   # Nord
    .venv/bin/python benchmarks/incremental.py --config layers/hauts-de-france.yml --data-dir /tmp/trame-hdf
    .venv/bin/python benchmarks/incremental.py --warm                   # as trame serve --watch
    .venv/bin/python benchmarks/incremental.py --warm --repeat 5        # medians of 5 each

Copies the territory's data into a temporary folder (never the repository), then, each build
in a fresh process with every core (see common.py):

1. ``cold``: the whole site from empty folders;
2. ``feature``: the first reservoir moved 150 m east, built again into the same folders (the
   build finds what depends on it: the tiles whose features changed, the communes
   whose map window meets it, the indexes);
3. ``rename``: one commune renamed (its page moves), built again;
4. ``cold (same inputs)``: the inputs of 3 from empty folders; its bytes must be those of 3.

``--warm``: the builds 1-3 in one process that keeps its imports and its pool of workers between
them and the results of its pure computations (generator/memo.py), as ``trame serve --watch``
does; each build is timed inside it, and compared with the
cold build of step 4, made in a fresh process as ``make build`` would. With ``--repeat N``,
N rounds of (moved reservoir, renamed commune, fresh cold build of the same inputs): the cold
builds interleaved with the warm ones, so that the host's speed, which drifts by ±15 % over
minutes on these shared machines, weighs on both sides of each ratio (until the twenty-third
session all the warm builds came first, then all the cold ones). The site is compared with
each cold build, byte for byte.

Budget (issue #11): each incremental build under 10 % of the cold one, and the same bytes as a
cold build of the same inputs; exit status 1 when missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import PROJECT, PYTHON, SHARED_DATA, load_avg, measure, median, need, table

BUDGET = 0.10
HERE = Path(__file__).resolve()


def child(config: str, data_dir: str, output: str, tiles: str) -> None:
    """One build (in a fresh process)."""
    sys.path.insert(0, str(PROJECT))
    from trame.build import build_site

    result = build_site(Path(config), Path(data_dir), Path(output), tiles_dir=Path(tiles),
                        quiet=True)  # fmt: skip
    stats = result.tiles
    print(json.dumps({
        "seconds": result.seconds, "communes": result.communes, "rendered": result.rendered,
        "tiles": stats.tiles if stats else 0, "made": stats.made if stats else 0,
        "stages": result.stages,
    }))  # fmt: skip


def warm_child(config: str, data_dir: str, output: str, tiles: str, *fields: str) -> None:
    """Builds in this one process, with one pool of workers (``--warm``), one per line read on
    stdin: ``cold`` (the first), ``feature`` (the reservoir moved 150 m further each time) or
    ``rename`` (the commune's name lengthened); each build's figures are one JSON line on
    stdout. Between two builds the process waits, idle, while the parent times a fresh cold
    build of the same inputs."""
    sys.path.insert(0, str(PROJECT))
    from trame import memo, parallel
    from trame.build import build_site

    with parallel.pool() as pool, memo.kept():
        for line in sys.stdin:
            change = line.strip()
            note = edit(Path(data_dir), change, *fields) if change != "cold" else ""
            started = time.perf_counter()
            result = build_site(Path(config), Path(data_dir), Path(output), tiles_dir=Path(tiles),
                                quiet=True, pool=pool)  # fmt: skip
            print(json.dumps({"change": None if change == "cold" else change, "note": note,
                              "wall": time.perf_counter() - started, "rendered": result.rendered,
                              "communes": result.communes, "stages": result.stages}),
                  flush=True)  # fmt: skip


def edit(data: Path, what: str, insee_field: str, name_field: str) -> str:
    """Change the data in place; returns what was changed, in words."""
    if what == "feature":
        # The test's own edit (tests/test_incremental.py), on the territory's first reservoir.
        from tests.test_incremental import move_one_point

        move_one_point(data / "srce_fictif.gpkg", "reservoirs_biodiversite", 150.0)
        return "reservoirs_biodiversite #1 moved 150 m"
    communes = data / "communes.geojson"
    collection = json.loads(communes.read_text(encoding="utf-8"))
    properties = collection["features"][len(collection["features"]) // 2]["properties"]
    old = properties[name_field]
    properties[name_field] = f"{old}-Renommée"
    communes.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return f"commune {properties[insee_field]} {old} renamed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT / "layers" / "nord.yml")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA / "nord")
    parser.add_argument("--warm", action="store_true", help="builds 1-3 in one process")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=1,
                        help="with --warm: builds 2 and 3 (and the fresh cold one) N times each, "
                        "medians compared")  # fmt: skip
    parser.add_argument("--warm-child", nargs=6, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    if arguments.warm_child:
        warm_child(*arguments.warm_child)
        return
    need(arguments.data_dir)
    sys.path.insert(0, str(PROJECT))
    from tests.test_incremental import read_tree
    from trame.config import load_config

    config = load_config(arguments.config, arguments.data_dir)
    fields = (config.communes.insee_field, config.communes.name_field)
    work = Path(tempfile.mkdtemp(prefix="trame-bench-incremental-"))
    try:
        data = work / "data"
        data.mkdir()
        for source in {config.communes.source.path, *(i.source.path for i in config.legend)}:
            shutil.copyfile(source.resolve(), data / source.name)
        print(f"{arguments.config.name}: {load_avg()}", flush=True)
        if arguments.warm:
            return_code = warm(arguments, data, work, fields)
            raise SystemExit(return_code)
        rows, results = [], {}
        steps = [("cold", None, "site"), ("feature", "feature", "site"),
                 ("rename", "rename", "site"), ("cold (same inputs)", None, "cold/site")]  # fmt: skip
        for name, change, folder in steps:
            note = edit(data, change, *fields) if change else ""
            command = [PYTHON, HERE, "--child", arguments.config, data, work / folder,
                       work / f"{folder}-tiles"]  # fmt: skip
            run = measure(name, command)
            result = json.loads(run.stdout.strip().splitlines()[-1])
            results[name] = (run.wall, result)
            stages = ", ".join(f"{k} {v:.2f} s" for k, v in result["stages"].items())
            print(f"{name}: {run.wall:.2f} s ({stages})", flush=True)
            rows.append([name, note, run.wall, run.user + run.system, result["rendered"],
                         result["communes"], f"{result['made']}/{result['tiles']}"
                         if result["tiles"] else "kept"])  # fmt: skip
        print(table(["build", "change", "wall s", "CPU s", "communes made", "of", "tiles made"],
                    rows))  # fmt: skip
        same = read_tree(work / "site") == read_tree(work / "cold" / "site")
        cold = results["cold"][0]
        ratios = {name: results[name][0] / cold for name in ("feature", "rename")}
        for name, ratio in ratios.items():
            print(f"{name}: {100 * ratio:.1f} % of the cold build")
        print(f"incremental site byte for byte the cold build of the same inputs: {same}")
        print(load_avg())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    met = same and max(ratios.values()) < BUDGET
    print(f"budget (each < {BUDGET:.0%} of cold, same bytes): {'met' if met else 'MISSED'}")
    raise SystemExit(0 if met else 1)


def warm(arguments: argparse.Namespace, data: Path, work: Path, fields: tuple[str, str]) -> int:
    """``--warm``: builds 1-3 in one process that stays; after each pair of incremental builds,
    while it waits, a fresh cold build of the same inputs (interleaved, so that the host's
    drift over the minutes of the run weighs on both sides of the ratio alike)."""
    from tests.test_incremental import read_tree

    repeat = max(arguments.repeat, 1)
    command = [PYTHON, HERE, "--warm-child", arguments.config, data, work / "site",
               work / "site-tiles", *fields]  # fmt: skip
    process = subprocess.Popen([str(c) for c in command], cwd=PROJECT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)  # fmt: skip

    def build(change: str) -> dict:
        process.stdin.write(change + "\n")
        process.stdin.flush()
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"warm process: ended during the {change} build")
        return json.loads(line)

    runs, colds, same = [build("cold")], [], True
    try:
        for k in range(repeat):
            runs += [build("feature"), build("rename")]
            colds.append(measure("cold (same inputs)", [
                PYTHON, HERE, "--child", arguments.config, data, work / f"cold{k}/site",
                work / f"cold{k}/site-tiles"]))  # fmt: skip
            same = same and read_tree(work / "site") == read_tree(work / f"cold{k}" / "site")
    finally:
        process.stdin.close()
        process.wait()
    rows = []
    for entry in runs:
        stages = ", ".join(f"{k} {v:.2f} s" for k, v in entry["stages"].items())
        name = entry["change"] or "cold, in the warm process"
        print(f"{name}: {entry['wall']:.2f} s ({stages})", flush=True)
        rows.append([name, entry["note"], entry["wall"], entry["rendered"], entry["communes"]])
    for cold in colds:  # kernel time: see common.py on deletions
        rows.append(["cold (same inputs), fresh process", f"user {cold.user:.2f} s, "
                     f"sys {cold.system:.2f} s", cold.wall, "", ""])  # fmt: skip
    print(table(["build", "change", "wall s", "communes made", "of"], rows))
    cold_wall = median([cold.wall for cold in colds])
    walls = {change: median([e["wall"] for e in runs[1:] if e["change"] == change])
             for change in ("feature", "rename")}  # fmt: skip
    ratios = {name: wall / cold_wall for name, wall in walls.items()}
    if repeat > 1:
        print(
            f"medians of {repeat}: fresh cold {cold_wall:.2f} s, "
            + ", ".join(f"{name} {wall:.2f} s" for name, wall in walls.items())
        )
        pairs = {change: median([e["wall"] / cold.wall for e, cold in zip(
            [e for e in runs[1:] if e["change"] == change], colds, strict=True)])
            for change in ("feature", "rename")}  # fmt: skip
        print("median of the ratios round by round (each incremental build over the fresh cold "
              "build made just after it): "
              + ", ".join(f"{name} {100 * r:.1f} %" for name, r in pairs.items()))  # fmt: skip
    for name, ratio in ratios.items():
        print(f"{name}: {100 * ratio:.1f} % of the fresh cold build, "
              f"{100 * ratio * cold_wall / runs[0]['wall']:.1f} % of the warm one")  # fmt: skip
    print(f"site byte for byte the cold build of the same inputs, each round: {same}")
    print(load_avg())
    met = same and max(ratios.values()) < BUDGET
    print(f"budget (each < {BUDGET:.0%} of cold, same bytes): {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    main()
