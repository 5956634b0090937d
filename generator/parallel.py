"""The build's workers: one standard ``concurrent.futures`` executor for every parallel stage.

The tiles and every per-commune stage (figures, pages, static maps, API files) run their tasks
on the same :class:`Pool`: local worker processes (``ProcessPoolExecutor``), this process alone
(one worker), or any executor given to the build, such as a Dask cluster's
(``distributed.Client.get_executor()``). Tasks are plain picklable functions and data.

Results never depend on which worker ran a task or in which order tasks finished:
:func:`map_ordered` hands results back in the order of the tasks (an ordered merge), and
:func:`map_unordered` is for callers whose output does not depend on order (each result is
written to its own place). Both keep a bounded number of tasks in flight, so tasks can be made
lazily and memory stays flat whatever the number of tasks.
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import contextlib
import gc
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

IN_FLIGHT_PER_WORKER = 4


@dataclass(frozen=True)
class Pool:
    """Where tasks run. ``executor`` None: in this process, one task after the other."""

    executor: cf.Executor | None
    workers: int
    local: bool
    """True when the workers share this machine's disk (they may write the site's files
    themselves); False for an executor given from outside, such as a Dask cluster, whose tasks
    send their files back instead."""

    @property
    def in_flight(self) -> int:
        return IN_FLIGHT_PER_WORKER * self.workers


@contextlib.contextmanager
def pool(workers: int | None = None, executor: cf.Executor | None = None) -> Iterator[Pool]:
    """The build's pool: ``executor`` if given (``workers`` then says how many tasks it runs at
    once: pass a cluster's worker count), else ``workers`` local processes (default: every
    core), or this process alone for ``workers=1``."""
    if executor is not None:
        yield Pool(executor, max(workers or 1, 1), local=False)
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield Pool(None, 1, local=True)
        return
    with cf.ProcessPoolExecutor(max_workers=workers) as processes:
        # The first task starts every worker (forked from this process): now, while this
        # process has one thread. Forked later from a thread of the build (the tiles run in
        # one), a worker could inherit a lock another thread held, and wait for it forever.
        # gc.freeze: the workers' garbage collector leaves the driver's objects alone, so their
        # memory pages stay shared with the driver instead of being copied into each worker.
        # (What the driver had frozen itself stays so: see :func:`settled`.)
        frozen = gc.get_freeze_count()
        gc.freeze()
        try:
            processes.submit(int).result()
        finally:
            if not frozen:
                gc.unfreeze()
        try:
            yield Pool(processes, workers, local=True)
        except BaseException:
            processes.shutdown(cancel_futures=True)
            raise


SWITCH_INTERVAL = 0.002
"""How long a thread of a build holds the interpreter before another may take it (Python's
default is 0.005 s). A build's threads (the tile thread, the main thread's communes and
release) each wait for the other's hold: in a warm process, whose builds are short and
mostly Python, 0.002 s made them faster (Nord, one process, builds alternating moved
reservoir and renamed commune, five of each per setting: medians 0.636 / 0.513 s at 0.005,
0.598 / 0.444 s at 0.002, 0.606 / 0.454 s at 0.001); a cold build and the tile step alone
the same (three and four alternating runs: 5.86–6.43 s against 5.86–6.15 s, 2.84–3.11 s
against 2.81–3.16 s)."""


@contextlib.contextmanager
def interleaved() -> Iterator[None]:
    """Within the block, threads hand the interpreter over every :data:`SWITCH_INTERVAL`."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(min(before, SWITCH_INTERVAL))
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def settled() -> None:
    """What this process holds now (modules, configuration, data read) is left out of the
    cycle collector's later passes (``gc.freeze``: reference counting still frees it, not a
    cycle that was already garbage then: a process that builds again and again, as
    ``trame serve --watch`` does, gives everything back to the collector after each build,
    see :func:`generator.memo.one_build`). A build makes and keeps objects by the hundred
    thousand; each full pass walked them all.
    Nord's tile step alone (``/tmp`` probe timing ``gc.callbacks``, three runs each): the
    driver's full passes took 0.024–0.030 s after the imports were frozen, 0.035–0.084 s
    before."""
    gc.freeze()


@contextlib.contextmanager
def alongside(function: Callable[..., R], /, *args: Any) -> Iterator[cf.Future[R]]:
    """Run ``function(*args)`` in a thread of this process while the caller goes on (both may
    feed the same pool); its result, or its exception, is the future's. Leaving the block waits
    for it."""
    with cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="trame") as thread:
        yield thread.submit(function, *args)


def chunked(items: Sequence[T], size: int) -> list[Sequence[T]]:
    """``items`` cut in consecutive chunks of ``size`` (the last one shorter)."""
    size = max(int(size), 1)
    return [items[start : start + size] for start in range(0, len(items), size)]


def chunk_size(count: int, workers: int, smallest: int = 8, largest: int = 128) -> int:
    """Items per task: about eight tasks per worker (so the last tasks do not leave workers
    idle), within ``smallest..largest`` (a task's fixed cost against its memory); but a few
    items (an incremental build's communes) are shared out between the workers, not left in
    one task (Nord, a reservoir moved: 8 communes, one task of ~0.14 s on one worker)."""
    workers = max(workers, 1)
    return max(min(smallest, -(-count // workers)), min(largest, -(-count // (8 * workers))), 1)


def map_unordered(
    function: Callable[[T], R] | None, tasks: Iterable[Any], pool: Pool,
    idle: Callable[[], bool] | None = None,
) -> Iterator[R]:  # fmt: skip
    """Results in completion order. ``tasks`` are arguments of ``function``, or, when
    ``function`` is None, ``(function, argument)`` pairs. Tasks are taken from the iterable
    only as slots free up (at most ``pool.in_flight`` submitted and not yet returned).
    ``idle``: work of the caller's own to do while the workers are busy, a step per call
    (it returns whether some is left): called before each wait, until a result is ready."""
    calls = ((function, task) if function else task for task in tasks)
    if pool.executor is None:
        yield from (call(argument) for call, argument in calls)
        return
    pending: set[cf.Future] = set()

    def wait() -> set[cf.Future]:
        nonlocal pending
        while idle is not None and idle() and not any(f.done() for f in pending):
            pass
        done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
        return done

    try:
        for call, argument in calls:
            pending.add(pool.executor.submit(call, argument))
            if len(pending) >= pool.in_flight:
                yield from (future.result() for future in wait())
        while pending:
            yield from (future.result() for future in wait())
    finally:
        for future in pending:  # after a failure: leave no work queued on a shared executor
            future.cancel()


def map_ordered(function: Callable[[T], R], tasks: Iterable[T], pool: Pool) -> Iterator[R]:
    """``function(task)`` for each task, returned in the order of ``tasks`` whatever the order
    in which the workers finish: the ordered merge every stage relies on for stable bytes.
    At most ``pool.in_flight`` tasks are submitted ahead of the one being waited for."""
    if pool.executor is None:
        yield from (function(task) for task in tasks)
        return
    queue: collections.deque[cf.Future] = collections.deque()
    try:
        for task in tasks:
            queue.append(pool.executor.submit(function, task))
            if len(queue) >= pool.in_flight:
                yield queue.popleft().result()
        while queue:
            yield queue.popleft().result()
    finally:
        for future in queue:
            future.cancel()
