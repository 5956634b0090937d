"""``trame serve --watch``: the site built again, in this process, whenever one of its inputs
changes (the config, the texts, the data: :func:`generator.cache.inputs`), as ``mkdocs serve``
does; the server goes on serving the last site built.

The process keeps its imports and its pool of workers from one build to the next: on Nord
(``benchmarks/incremental.py --warm``, 2 workers, tenth session), a moved reservoir rebuilt in
5.46 s and a renamed commune in 5.01 s, against 8.34 / 8.24 s in fresh processes, for a fresh
cold build of 20.07 s. Each build is an ordinary one (:func:`generator.build.build_site`): only
what depends on the change is made again, and the bytes are those of a cold build.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path

from . import memo, parallel
from .build import BuildResult, build_site
from .cache import inputs
from .config import load_config
from .errors import UserError

Snapshot = dict[str, tuple[int, int]]


def snapshot(config_path: Path, data_dir: Path | None) -> Snapshot:
    """(modification time, size) of each input file; a missing one is (0, -1). The config is
    read again each time: it may name other files."""
    try:
        paths = inputs(load_config(config_path, data_dir))
    except UserError:
        paths = [config_path]  # the config itself is being edited: watch it alone
    state = {}
    for path in paths:
        try:
            stat = path.stat()
            state[str(path)] = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            state[str(path)] = (0, -1)
    return state


def watch(
    config_path: Path, data_dir: Path | None, output: Path, *, workers: int | None = None,
    executor: Executor | None = None, every: float = 1.0, stop: threading.Event | None = None,
    built: Callable[[BuildResult], None] | None = None, **options,
) -> None:  # fmt: skip
    """Build the site into ``output``, then again each time an input changes (checked every
    ``every`` seconds) until ``stop`` is set; ``built`` is told of each build. A build that
    fails on the user's data says why, keeps the site as it was, and waits for the next change.
    ``options`` go to :func:`build_site`."""
    stop = stop or threading.Event()
    with parallel.pool(workers, executor) as pool, memo.kept():
        seen: Snapshot | None = None
        while not stop.is_set():
            now = snapshot(config_path, data_dir)
            if now != seen:
                seen = now
                try:
                    result = build_site(config_path, data_dir, output, pool=pool, **options)
                except UserError as error:
                    print(f"trame: erreur : {error} ; le site reste tel quel, corrigez puis "
                          "enregistrez", file=sys.stderr, flush=True)  # fmt: skip
                else:
                    if built:
                        built(result)
                continue  # look again at once: an input may have changed during the build
            stop.wait(every)
