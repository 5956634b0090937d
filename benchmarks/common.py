"""Helpers shared by the benchmark scripts: where the data is, and how a child process is timed.

Each measured run is a fresh child process. Wall time is taken around it; memory two ways:
``max RSS`` is what the kernel reports for the child (``wait4``: the largest single process of
its tree, workers included once reaped), ``peak PSS`` is the sum over the whole process tree,
sampled every 20 ms or less often (PSS shares copy-on-write pages between forked workers, so
it is the machine memory the run really needed; sampling can miss a short spike; see
:data:`SAMPLING_SHARE`).

Deleted files make new ones dearer on these machines: their root file system is ext4 without
a journal, which for a few minutes after a deletion may walk the recently deleted inodes to
allocate a new one (``recently_deleted`` in ``fs/ext4/ialloc.c``; 30 % of a cold Nord build's
samples after another build's output was deleted). So the benchmarks delete their outputs at
the end of the script, never between two measured runs, and are best started a few minutes
after a large deletion (a test run, another benchmark). Measurements: ``docs/scale.md``, "How
the benchmarks disturbed what they measured".
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

PROJECT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(
    os.environ.get("TRAME_SHARED_DATA")
    or next(
        (p / "shared" / "data" for p in PROJECT.parents if (p / "shared" / "data").is_dir()),
        PROJECT.parent / "shared" / "data",
    )
)
"""``$TRAME_SHARED_DATA``, else ``../shared/data`` or the nearest ``shared/data`` further up (a
git worktree lives deeper)."""
PYTHON = sys.executable
BIN = Path(sys.executable).parent


def need(path: Path) -> Path:
    """``path`` if it exists; else say what is missing and stop (exit 0: a skip, not a failure)."""
    if not path.exists():
        print(f"skipped: {path} not found; this benchmark reads ../shared/data (see its README)")
        raise SystemExit(0)
    return path


@dataclass(frozen=True)
class Run:
    name: str
    wall: float
    max_rss_mb: float
    peak_pss_mb: float
    user: float
    system: float
    stdout: str


SAMPLING_SHARE = 0.05
"""At most this share of one core goes to sampling the child's memory. Reading a process's
PSS makes the kernel walk its page tables: 15–29 ms per sample for a tree of three processes
holding ~700 MB (a driver and two workers; ``smaps_rollup`` costs the same as psutil's full
``smaps``), so sampling every 20 ms took 40–60 % of one of this machine's two cores from the
run it measured, more from Trame's builds (several large processes) than from tippecanoe (one).
Until the seventeenth session runs were sampled every 20 ms (France's every 0.5 s)."""


def _tree_pss(process: psutil.Process) -> float:
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            total += member.memory_full_info().pss
    return total / 2**20


def measure(
    name: str, command: Sequence[str | os.PathLike], env: dict | None = None,
    interval: float = 0.02, log: Path | None = None,
) -> Run:  # fmt: skip
    """Run ``command`` in a fresh process from the project root; raise if it fails. Memory is
    sampled every ``interval`` seconds at most, and less often when a sample costs more than
    :data:`SAMPLING_SHARE` of the time between two. ``log``: the child's stderr goes to that
    file as it comes."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(c) for c in command],
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        process = psutil.Process(child.pid)
        while not stop.is_set():
            begun = time.perf_counter()
            peak = max(peak, _tree_pss(process))
            stop.wait(max(interval, (time.perf_counter() - begun) / SAMPLING_SHARE))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(child.stdout.read()), daemon=True)
    errors: list[str] = []

    def read_errors() -> None:
        if log is None:
            errors.append(child.stderr.read())
            return
        with log.open("a", encoding="utf-8") as file:  # as it comes, line by line
            for line in child.stderr:
                file.write(line)
                file.flush()
                errors.append(line)

    err_reader = threading.Thread(target=read_errors, daemon=True)
    reader.start()
    err_reader.start()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    stop.set()
    sampler.join()
    reader.join()
    err_reader.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{name}: exit code {child.returncode}\n{''.join(errors)[-3000:]}")
    return Run(
        name,
        wall,
        usage.ru_maxrss / 1024,
        peak,
        usage.ru_utime,
        usage.ru_stime,
        "".join(output),
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table, right-aligned columns, first column left-aligned."""
    cells = [[str(h) for h in header]] + [
        [f"{v:.2f}" if isinstance(v, float) else str(v) for v in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        lines.append(
            "  ".join(
                cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i])
                for i, cell in enumerate(row)
            )
        )
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def load_avg() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


@contextlib.contextmanager
def served_site(
    site: Path | None, config: Path, data: Path, temporary: Path, theme: str | None = None,
    compress: bool = True,
):  # fmt: skip
    """Serve ``site`` (or a fresh build of ``config`` on ``data``, in ``theme`` if given) with
    trame's own server on 127.0.0.1 (``compress``: text gzipped, as hosts do); yields its base
    URL, or None when the data is absent (the caller skips)."""
    if site is None:
        if not data.is_dir():
            print(f"skipped: {data} not found (this benchmark needs ../shared/data)")
            yield None
            return
        sys.path.insert(0, str(PROJECT))
        from trame.build import build_site

        site = temporary / "site"
        build_site(config, data, site, quiet=True, tiles_dir=temporary / "tiles", theme=theme)
    from trame.serve import make_server

    httpd = make_server(site, "127.0.0.1", 0, quiet=True, compress=compress)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
