"""CPU seconds of the parts of a build that run once per commune or per tile task, in one process.

    .venv/bin/python benchmarks/cpu_parts.py                     # Nord, 3 runs
    .venv/bin/python benchmarks/cpu_parts.py --runs 5 --config layers/valenciennes-metropole.yml \
        --data-dir ../shared/data/valenciennes-metropole

Reads and validates the territory once, then times (process CPU time, median of the runs):

- ``static maps``: every commune's ``carte.svg`` (:func:`trame.staticmap.commune_svg`), with the
  SHA-256 of all of them, so that two versions of the code can be checked to draw the same bytes;
- ``figures``: every commune's figures (:meth:`trame.figures.FeaturesIndex.figures`: each legend item's
  elements, measures, total and the elements' geometries inside the commune), with a SHA-256;
- ``task pickles``: the tile step's tasks pickled (as the executor sends them to the workers and
  as each worker hashes its task into its key) and unpickled (the worker's side).

To compare two versions of the code, run this script from each checkout, alternately, under the
same load. No budget of its own: these are the parts of the whole-build budgets of issue #11.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import statistics
import sys
import time
from pathlib import Path

from common import PROJECT, SHARED_DATA, load_avg, need


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", type=Path, default=PROJECT / "layers" / "nord.yml")
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA / "nord")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    need(arguments.data_dir)
    sys.path.insert(0, str(PROJECT))
    from trame.config import load_config
    from trame.figures import FeaturesIndex
    from trame.staticmap import StaticMaps
    from trame.territory import load_territory
    from trame.tiles import levels as tile_levels
    from trame.tiles import pyramid
    from trame.tiles.model import prepare_layer
    from trame.tilestep import tile_layers

    territory = load_territory(load_config(arguments.config, arguments.data_dir))
    config = territory.config
    maps = StaticMaps(config, territory.communes, territory.features)
    prepared = [prepare_layer(layer) for layer in tile_layers(territory)]
    levels = tile_levels.occupied(prepared, config.tiles.maxzoom)
    split = tile_levels.split_zoom(levels, config.tiles.minzoom, config.tiles.maxzoom)
    tasks = [task for _, task, _ in pyramid._jobs(prepared, levels, config.tiles.minzoom,
                                                config.tiles.maxzoom, split, True)]  # fmt: skip
    times: dict[str, list[float]] = {
        "static maps": [], "figures": [], "task pickles": [], "task unpickles": [],
    }  # fmt: skip
    digest = figures_digest = ""
    size = 0
    for _ in range(arguments.runs):
        started = time.process_time()
        svgs = hashlib.sha256()
        for commune in territory.communes:
            svgs.update(maps.svg(commune).encode("utf-8"))
        times["static maps"].append(time.process_time() - started)
        digest = svgs.hexdigest()[:16]
        started = time.process_time()
        index = FeaturesIndex(territory.features)
        figures = hashlib.sha256()
        for commune in territory.communes:
            for item in index.figures(commune.geometry):
                figures.update(repr((item, item.covered)).encode("utf-8"))
                for element in item.elements:
                    figures.update(element.geometry.wkb)
        times["figures"].append(time.process_time() - started)
        figures_digest = figures.hexdigest()[:16]
        started = time.process_time()
        blobs = [pickle.dumps(task, protocol=5) for task in tasks]
        times["task pickles"].append(time.process_time() - started)
        size = sum(map(len, blobs))
        started = time.process_time()
        for blob in blobs:
            pickle.loads(blob)
        times["task unpickles"].append(time.process_time() - started)
    print(f"{config.slug}: {len(territory.communes)} communes, {len(tasks)} tile tasks "
          f"({size / 1e6:.1f} MB pickled); sha256 static maps {digest}, figures "
          f"{figures_digest}; {load_avg()}")  # fmt: skip
    for name, values in times.items():
        print(f"  {name:15} median {statistics.median(values):.3f} s CPU  "
              f"(runs: {', '.join(f'{v:.3f}' for v in values)})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
