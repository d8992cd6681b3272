"""The local executor's process start method, loguru's cached library lookup and the plot side process."""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass

import pytest

from deepmath import compat, executors
from deepmath.plot_worker import PlotWorker
from tests.framework.record_step import RecordPerTask


@dataclass
class _Settings:
    workers: int = 2


def _foreign_threads() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t is not threading.main_thread() and t.name not in executors._FORK_SAFE_THREADS
    ]


def test_fork_only_without_foreign_threads():
    # other tests of the session may leave threads behind: compare with what runs now
    expected = not _foreign_threads()
    assert executors.fork_is_safe() == expected
    assert executors._start_method() == ("fork" if expected else "forkserver")
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="someone-else")
    worker.start()
    try:
        assert not executors.fork_is_safe()
        assert executors._start_method() == "forkserver"
    finally:
        stop.set()
        worker.join()
    assert executors.fork_is_safe() == expected


def test_pool_pipeline_runs_every_task_in_workers(tmp_path):
    out = tmp_path / "pids"
    out.mkdir()
    assert executors.run_pipeline([RecordPerTask(str(out))], _Settings(), tmp_path / "logs", tasks=4)
    pids = {p.read_text() for p in out.glob("*.pid")}
    assert len(list(out.glob("*.pid"))) == 4
    assert str(os.getpid()) not in pids, "workers > 1 runs tasks in pool processes"
    stats = executors.merged_step_stats(tmp_path / "logs")
    assert sum(step["counters"].get("ran", 0) for step in stats) == 4


def test_single_worker_runs_in_process_without_a_manager_process(tmp_path, monkeypatch):
    import datatrove.executor.local as local
    import multiprocess

    def no_manager():
        raise AssertionError("a Manager server process was started for one worker")

    monkeypatch.setattr(multiprocess, "Manager", no_manager)
    out = tmp_path / "pids"
    out.mkdir()
    assert executors.run_pipeline([RecordPerTask(str(out))], _Settings(workers=1), tmp_path / "logs", tasks=3)
    assert {p.read_text() for p in out.glob("*.pid")} == {str(os.getpid())}
    assert len(list(out.glob("*.pid"))) == 3
    assert local.multiprocess is multiprocess, "datatrove's module is restored after the run"
    # a second run resumes: every task is complete, nothing runs again
    for p in out.glob("*.pid"):
        p.unlink()
    assert executors.run_pipeline([RecordPerTask(str(out))], _Settings(workers=1), tmp_path / "logs", tasks=3)
    assert not list(out.glob("*.pid"))


def test_loguru_lib_dirs_computed_once():
    from loguru._better_exceptions import ExceptionFormatter

    compat.cache_loguru_lib_dirs()
    first = ExceptionFormatter._get_lib_dirs()
    second = ExceptionFormatter._get_lib_dirs()
    assert first == second and first is not second, "a copy of the cached answer each call"
    assert getattr(ExceptionFormatter._get_lib_dirs, "deepmath_cached", False)
    compat.cache_loguru_lib_dirs()  # idempotent: not wrapped twice
    assert ExceptionFormatter._get_lib_dirs() == first


def test_our_lib_dirs_are_logurus():
    """The cached answer is computed with fewer path expansions than loguru's: it must be the same folders."""
    import sysconfig

    names = ["stdlib", "platstdlib", "platlib", "purelib"]  # loguru 0.7's own computation, written out
    paths = {sysconfig.get_path(name, scheme) for scheme in sysconfig.get_scheme_names() for name in names}
    expected = [os.path.abspath(path).lower() + os.sep for path in paths if path in sys.path]
    assert sorted(compat._lib_dirs()) == sorted(expected) and expected


def _pid_and_sum(values: list[int]) -> tuple[int, int]:
    return os.getpid(), sum(values)


def _fail(message: str) -> None:
    raise ValueError(message)


@pytest.fixture
def fork_allowed(monkeypatch):
    """Threads left by other tests of the session must not turn the side process off here."""
    monkeypatch.setattr("deepmath.plot_worker.fork_is_safe", lambda: True)


def test_plot_worker_draws_in_a_side_process(fork_allowed):
    with PlotWorker() as worker:
        assert worker.in_side_process
        first = worker.submit(_pid_and_sum, [1, 2, 3])
        second = worker.submit(_pid_and_sum, [10])
        pid, total = second.result()  # answers come back in order: the first is read on the way
        assert first.done
        assert first.result() == (pid, 6)
    assert pid != os.getpid()
    assert total == 10


_WARMED: list[int] = []


def _warm_up_here() -> None:
    _WARMED.append(os.getpid())


def _warmed() -> list[int]:
    return list(_WARMED)


def test_plot_worker_runs_the_given_warm_up_in_the_side_process(fork_allowed):
    """A stage that draws with another library (dedup: Pillow) warms that one up, not matplotlib."""
    with PlotWorker(warm_up=_warm_up_here) as worker:
        warmed = worker.draw(_warmed)
    assert len(warmed) == 1 and warmed[0] != os.getpid()
    assert _WARMED == []  # this process ran no warm-up


def test_plot_worker_draws_what_cannot_be_sent_here(fork_allowed):
    """A function that cannot be pickled (a closure) is drawn in this process, and the side process goes on."""
    offset = 5

    def local(values: list[int]) -> tuple[int, int]:
        return os.getpid(), sum(values) + offset

    with PlotWorker() as worker:
        before = worker.submit(_pid_and_sum, [1])
        here = worker.submit(local, [1, 2])
        after = worker.submit(_pid_and_sum, [3])
        assert here.result() == (os.getpid(), 8)
        assert before.result()[0] == after.result()[0] != os.getpid()
        assert after.result()[1] == 3


def test_plot_worker_raises_the_drawing_error_here(fork_allowed):
    with PlotWorker() as worker:
        job = worker.submit(_fail, "bad axis")
        after = worker.submit(_pid_and_sum, [2])
        with pytest.raises(ValueError, match="bad axis"):
            job.result()
        assert after.result()[1] == 2, "one failed drawing does not stop the next"


def test_plot_worker_falls_back_in_process():
    with PlotWorker(enabled=False) as worker:
        assert not worker.in_side_process
        assert worker.draw(_pid_and_sum, [4]) == (os.getpid(), 4)


def test_plot_worker_survives_a_dead_side_process(fork_allowed):
    worker = PlotWorker()
    worker._process.kill()
    worker._process.join()
    queued = worker.submit(_pid_and_sum, [5])  # the pipe may still take it: the answer never comes
    assert queued.result() == (os.getpid(), 5), "drawn here once the side process is gone"
    assert not worker.in_side_process
    assert worker.draw(_pid_and_sum, [6]) == (os.getpid(), 6)
    worker.close()


def test_plot_worker_closed_early_leaves_no_process(fork_allowed):
    worker = PlotWorker()
    process = worker._process
    worker.submit(_pid_and_sum, [1])  # never collected: the stage stopped early
    worker.close()
    assert not process.is_alive()


def test_plot_worker_closed_without_waiting_ends_on_its_own(fork_allowed):
    worker = PlotWorker()
    process = worker._process
    assert worker.draw(_pid_and_sum, [1])[1] == 1
    worker.close(wait=False)
    assert worker._process is None and not worker.in_side_process
    process.join(5)
    assert process.exitcode == 0, "told to stop, it returned by itself"


def test_plot_worker_job_collected_after_close_is_drawn_here(fork_allowed):
    worker = PlotWorker()
    job = worker.submit(_pid_and_sum, [7])
    worker.close()
    pid, total = job.result()
    assert total == 7
    assert pid == os.getpid()


@pytest.mark.parametrize("workers", [1, 2])
def test_the_heap_is_frozen_for_a_pipeline_and_only_then(tmp_path, workers, monkeypatch):
    import gc

    monkeypatch.setattr(executors, "_start_method", lambda: "fork")  # whatever threads other tests left

    out = tmp_path / "frozen"
    out.mkdir()
    assert gc.get_freeze_count() == 0
    assert executors.run_pipeline(
        [RecordPerTask(str(out), gc.get_freeze_count, "frozen")],
        _Settings(workers=workers),
        tmp_path / "logs",
        tasks=2,
    )
    assert all(int(p.read_text()) > 0 for p in out.glob("*.frozen")) and len(list(out.glob("*.frozen"))) == 2
    assert gc.get_freeze_count() == 0, "unfrozen after the pipeline"
