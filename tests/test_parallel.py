"""The build's pool: the same bytes whatever the number or kind of workers and the chunk size;
results merged in task order; commune pages rendered outside MkDocs exactly as MkDocs would."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from trame import parallel
from trame.build import build_site

PROJECT = Path(__file__).resolve().parent.parent
DEMO = PROJECT / "layers" / "demo.yml"


def read_tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def assert_same_tree(expected: dict[str, bytes], folder: Path) -> None:
    actual = read_tree(folder)
    assert sorted(actual) == sorted(expected)
    assert [name for name in expected if actual[name] != expected[name]] == []


@pytest.fixture(scope="module")
def demo_bytes(tmp_path_factory) -> dict[str, bytes]:
    root = tmp_path_factory.mktemp("one-worker")
    build_site(DEMO, None, root / "site", quiet=True, workers=1, tiles_dir=root / "tiles")
    tree = read_tree(root / "site")
    assert sum(name.startswith("communes/") and name.endswith("/index.html") for name in tree) > 20
    return tree


def test_two_local_workers_give_the_bytes_of_one(demo_bytes, tmp_path):
    build_site(DEMO, None, tmp_path / "site", quiet=True, workers=2, tiles_dir=tmp_path / "t")
    assert_same_tree(demo_bytes, tmp_path / "site")


@pytest.mark.parametrize("size", [1, 5])
def test_the_chunk_size_changes_nothing(demo_bytes, tmp_path, monkeypatch, size):
    chunks = []
    chunked = parallel.chunked

    def spy(items, _size):
        result = chunked(items, size)
        chunks.append(len(result))
        return result

    monkeypatch.setattr(parallel, "chunked", spy)
    build_site(DEMO, None, tmp_path / "site", quiet=True, workers=1, tiles_dir=tmp_path / "t")
    assert chunks and chunks[0] == -(-13 // size)  # the demo's 13 communes
    assert_same_tree(demo_bytes, tmp_path / "site")


def test_a_dask_cluster_gives_the_same_site(demo_bytes, tmp_path):
    """A Dask executor: its tasks send their files back (no shared disk assumed) and the
    driver writes them; the tiles run on it too."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        build_site(DEMO, None, tmp_path / "site", quiet=True, executor=client.get_executor(),
                   workers=2, tiles_dir=tmp_path / "t")  # fmt: skip
        tasks = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
    assert "render_chunk" in tasks and "tile_task" in tasks, tasks  # communes and tiles
    assert_same_tree(demo_bytes, tmp_path / "site")


def test_results_come_back_in_task_order_whatever_finishes_first():
    def slow_first(n: int) -> int:
        time.sleep(0.2 if n == 0 else 0.01)
        return n * n

    with ThreadPoolExecutor(4) as executor:
        pool = parallel.Pool(executor, 4, local=True)
        assert list(parallel.map_ordered(slow_first, range(20), pool)) == [n * n for n in range(20)]
        assert sorted(parallel.map_unordered(slow_first, range(20), pool)) == sorted(
            n * n for n in range(20)
        )


def test_the_callers_own_work_is_done_while_the_workers_are_busy():
    """``idle``: a step of the caller's work per call, before each wait for a result, while
    tasks are still running (not once they are all done)."""
    started, finished = threading.Event(), []
    work = list(range(50))
    running = []  # per step of the caller's work: how many tasks had not finished

    def slow(n: int) -> int:
        started.set()
        time.sleep(0.1)
        finished.append(n)
        return n

    def idle() -> bool:
        started.wait()
        if work:  # (called again once it said nothing was left)
            work.pop()
            running.append(6 - len(finished))
        return bool(work)

    with ThreadPoolExecutor(2) as executor:
        pool = parallel.Pool(executor, 1, local=True)  # (4 tasks in flight: 2 waits at least)
        results = sorted(parallel.map_unordered(slow, range(6), pool, idle=idle))
    assert results == list(range(6)) and work == [] and min(running) > 0, running


def test_tasks_are_taken_lazily_and_a_failure_stops_the_rest():
    taken = []

    def tasks():
        for n in range(1000):
            taken.append(n)
            yield n

    def work(n: int) -> int:
        if n == 3:
            raise ValueError("task 3")
        time.sleep(0.01)
        return n

    with ThreadPoolExecutor(2) as executor:
        pool = parallel.Pool(executor, 2, local=True)
        with pytest.raises(ValueError, match="task 3"):
            list(parallel.map_ordered(work, tasks(), pool))
    assert len(taken) <= 3 + pool.in_flight + 1


def test_chunks_cover_every_item_once():
    items = list(range(103))
    for size in (1, 7, 103, 500):
        chunks = parallel.chunked(items, size)
        assert [x for chunk in chunks for x in chunk] == items
        assert max(len(c) for c in chunks) == min(size, 103)
    assert parallel.chunk_size(35_228, 2) == 128 and parallel.chunk_size(100, 2) == 8
    assert parallel.chunk_size(648, 2) == 41
    # (a few items, shared out between the workers rather than left in one task)
    assert parallel.chunk_size(13, 2) == 7 and parallel.chunk_size(8, 2) == 4
    assert parallel.chunk_size(1, 2) == 1 and parallel.chunk_size(0, 2) == 1


def test_a_pool_keeps_what_the_process_froze_frozen():
    """A pool freezes the driver's objects while it forks its workers, then gives them back to
    the cycle collector, but for those the process had frozen itself (:func:`settled`)."""
    import gc

    gc.unfreeze()
    with parallel.pool(2):
        pass
    assert gc.get_freeze_count() == 0
    parallel.settled()
    frozen = gc.get_freeze_count()
    try:
        assert frozen > 0
        with parallel.pool(2):
            pass
        assert gc.get_freeze_count() > 0  # (not given back; a frozen object may have died)
    finally:
        gc.unfreeze()


def test_a_build_hands_the_interpreter_over_more_often(tmp_path, monkeypatch):
    """A build's threads (tiles, communes) hand the interpreter over every 2 ms, not Python's
    5 ms; the interval is set back afterwards."""
    import sys

    import trame.build
    from trame.paths import DEMO_CONFIG

    seen = []
    load = trame.build.load_territory
    monkeypatch.setattr(
        trame.build, "load_territory", lambda c: seen.append(sys.getswitchinterval()) or load(c)
    )
    before = sys.getswitchinterval()
    build_site(DEMO_CONFIG, None, tmp_path / "site", tiles_dir=tmp_path / "tiles", workers=1,
               quiet=True)  # fmt: skip
    assert seen == [parallel.SWITCH_INTERVAL] and before > parallel.SWITCH_INTERVAL
    assert sys.getswitchinterval() == before
