"""The forked worker pool datatrove's local executor uses with several workers (deepmath.fork_pool)."""

from __future__ import annotations

import functools
import os
import signal
import threading
from pathlib import Path

import pytest

from deepmath import compat, executors
from deepmath.fork_pool import ForkManager, ForkPool, WorkerDied
from tests.framework.record_step import RecordPerTask

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the fork start method needs os.fork")


class _Counter:
    """State a task mutates: every task must see it as it was before any task ran."""

    def __init__(self):
        self.calls = 0

    def run(self, item: int) -> tuple[int, int, int]:
        self.calls += 1
        return item, self.calls, os.getpid()


def test_every_item_comes_back_from_forked_workers_on_a_fresh_copy():
    counter = _Counter()
    with ForkPool(2) as pool:
        results = list(pool.imap_unordered(counter.run, range(7)))
    assert sorted(item for item, _, _ in results) == list(range(7))
    assert {calls for _, calls, _ in results} == {1}, "each task runs on its own copy of the state"
    pids = {pid for _, _, pid in results}
    assert os.getpid() not in pids and 1 <= len(pids) <= 2
    assert counter.calls == 0, "the parent's object is untouched"


def _fail(item: int) -> int:
    if item == 3:
        raise ValueError(f"bad item {item}")
    return item


def test_a_task_error_is_raised_in_the_parent_and_the_workers_stop():
    pool = ForkPool(2)
    with pytest.raises(ValueError, match="bad item 3"), pool:
        list(pool.imap_unordered(_fail, range(6)))
    assert pool._workers == []


class _Unpicklable(Exception):
    def __init__(self, handle):
        super().__init__("holds a lock")
        self.handle = handle

    def __reduce__(self):
        raise TypeError("cannot pickle")


def _fail_unpicklable(item: int) -> int:
    raise _Unpicklable(threading.Lock())


def test_an_error_that_cannot_be_pickled_comes_back_as_its_traceback():
    with (
        pytest.raises(RuntimeError, match=r"(?s)cannot be sent back.*_Unpicklable: holds a lock"),
        ForkPool(1) as pool,
    ):
        list(pool.imap_unordered(_fail_unpicklable, [0]))


def _die(item: int) -> int:
    if item == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return item


def test_a_killed_worker_fails_the_run_instead_of_hanging():
    with pytest.raises(WorkerDied, match=r"exit status -9.*task 1"), ForkPool(2) as pool:
        list(pool.imap_unordered(_die, range(4)))


def _shared_count(item: int, counter, lock, ranks) -> tuple[int, int]:
    with lock:
        counter.value += 1
    return item, ranks.get()


def test_the_manager_stand_ins_are_shared_not_copied():
    manager = ForkManager()
    counter, lock, ranks = manager.Value("i", 0), manager.Lock(), manager.Queue()
    task = functools.partial(_shared_count, counter=counter, lock=lock, ranks=ranks)
    with ForkPool(2) as pool:
        results = list(pool.imap_unordered(task, range(5)))
    assert counter.value == 5, "the counter lives in shared memory"
    assert {rank for _, rank in results} <= {0, 1}


def _run(tmp_path: Path, name: str, workers: int) -> tuple[list, set[str]]:
    out = tmp_path / name
    out.mkdir()
    settings = type("Settings", (), {"workers": workers})()
    assert executors.run_pipeline([RecordPerTask(str(out))], settings, tmp_path / f"logs-{name}", tasks=6)
    stats = executors.merged_step_stats(tmp_path / f"logs-{name}")
    return stats, {p.read_text() for p in out.glob("*.pid")}


def test_datatrove_runs_its_tasks_in_the_fork_pool(tmp_path, monkeypatch):
    import datatrove.executor.local as local
    import multiprocess

    monkeypatch.setattr(executors, "_start_method", lambda: "fork")  # whatever threads other tests left

    def no_manager():
        raise AssertionError("datatrove's Manager server was started")

    monkeypatch.setattr(multiprocess, "Manager", no_manager)
    stats, pids = _run(tmp_path, "pool", workers=2)
    assert sum(step["counters"].get("ran", 0) for step in stats) == 6, "per-task stats, merged once each"
    assert len(list((tmp_path / "logs-pool" / "completions").iterdir())) == 6
    assert str(os.getpid()) not in pids
    assert local.multiprocess is multiprocess, "datatrove's module is restored after the run"


def test_without_shims_datatrove_uses_its_own_pool(tmp_path, monkeypatch):
    monkeypatch.setenv(compat.SHIMS_ENV, "1")
    stats, pids = _run(tmp_path, "own", workers=2)
    assert sum(step["counters"].get("ran", 0) for step in stats) == 6
    assert str(os.getpid()) not in pids


def _pid_of(item: int) -> tuple[int, int]:
    return item, os.getpid()


def _pid_plus(item: int, offset: int) -> tuple[int, int]:
    return item + offset, os.getpid()


def test_shared_workers_run_every_pipeline_of_the_block_on_the_same_processes():
    """Forked once: the second and third pipelines (new funcs, sent pickled) run on the first one's workers."""
    from deepmath.fork_pool import ForkContext, shared_workers

    with shared_workers():
        with ForkContext().Pool(2) as pool:
            first = list(pool.imap_unordered(_pid_of, range(6)))
        with ForkContext().Pool(2) as pool:
            second = list(pool.imap_unordered(functools.partial(_pid_plus, offset=100), range(5)))
        with ForkContext().Pool(2) as pool:
            third = list(pool.imap_unordered(_pid_of, range(1)))  # fewer items than workers
        workers = [process for process, _, _ in pool._workers]
        assert all(process.is_alive() for process in workers)
    assert sorted(item for item, _ in second) == list(range(100, 105))
    assert {pid for _, pid in second} | {pid for _, pid in third} <= {pid for _, pid in first}
    assert os.getpid() not in {pid for _, pid in first}
    for process in workers:  # told to stop at the block's end, not waited for there
        process.join(5)
        assert process.exitcode == 0, "each returned on its own"


def test_shared_workers_share_the_manager_stand_ins_they_inherited():
    """datatrove's task counter and lock reach later pipelines by name (inherited shared memory, not copies)."""
    from deepmath.fork_pool import ForkContext, shared_workers

    manager = ForkManager()
    with shared_workers():
        totals = []
        for size in (5, 3):
            counter, lock, ranks = manager.Value("i", 0), manager.Lock(), manager.Queue()
            task = functools.partial(_shared_count, counter=counter, lock=lock, ranks=ranks)
            with ForkContext().Pool(2) as pool:
                assert {rank for _, rank in pool.imap_unordered(task, range(size))} <= {0, 1}
            totals.append(counter.value)
    assert totals == [5, 3], "one counter for the block, reset for each pipeline, counted by the workers"


def test_shared_workers_give_an_unpicklable_pipeline_workers_of_its_own():
    from deepmath.fork_pool import ForkContext, shared_workers

    held = threading.Lock()  # a lock cannot be pickled: this func cannot reach running workers
    with shared_workers():
        with ForkContext().Pool(2) as pool:
            first = {pid for _, pid in pool.imap_unordered(_pid_of, range(4))}
        with ForkContext().Pool(2) as pool:
            own = list(pool.imap_unordered(functools.partial(_holding, held=held), range(4)))
    assert sorted(item for item, _ in own) == list(range(4))
    assert not {pid for _, pid in own} & first


def _holding(item: int, held) -> tuple[int, int]:
    return item, os.getpid()


def test_shared_workers_killed_between_pipelines_are_forked_again():
    from deepmath.fork_pool import ForkContext, shared_workers

    with shared_workers():
        with ForkContext().Pool(2) as pool:
            first = {pid for _, pid in pool.imap_unordered(_pid_of, range(4))}
        for pid in first:
            os.kill(pid, signal.SIGKILL)
        for process, _, _ in pool._workers:
            process.join(5)
        with ForkContext().Pool(2) as pool:
            again = list(pool.imap_unordered(_pid_of, range(4)))
    assert sorted(item for item, _ in again) == list(range(4))
    assert not {pid for _, pid in again} & first
