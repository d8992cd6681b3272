"""A pool of forked workers for datatrove's local executor: the tasks' code and data are inherited, not pickled.

datatrove's `LocalPipelineExecutor` with several workers starts a `multiprocess` Manager server and a Pool, then
sends every task the executor, its pipeline and three Manager proxies, pickled with dill; each task also makes two
round trips to the Manager for its local rank. On a 20k-page dedup that is ~75 ms of a pipeline's wall time spent
on tasks that do nothing, twice per command. With the `fork` start method (only used when no other thread runs,
see `executors.fork_is_safe`), every worker already holds all of that after the fork; `ForkPool` forks the workers
once, hands them task numbers over a pipe each and gets back pickled results (datatrove's `PipelineStats`).

What stays as datatrove does it: every task runs on a fresh deep copy of the executor (the Pool's unpickled copy),
results come back in completion order (`imap_unordered`), an exception in a task is raised in the parent after the
other workers are stopped, and each worker has its own local rank. What is added: a worker that dies (a kill, the
OOM killer) fails the pipeline with its exit status instead of hanging the parent, as `multiprocessing.Pool` does.
`compat.fork_worker_pool` puts this in datatrove's hands; `DEEPMATH_NO_SHIMS=1` gives datatrove's own pool.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait

__all__ = ["ForkContext", "ForkManager", "ForkPool", "WorkerDied"]

_worker_index = 0  # in a worker: its number, the local rank datatrove asks for


class WorkerDied(RuntimeError):
    """A worker process ended without reporting its task (killed, or it exited)."""


class _LocalRanks:
    """What the executor's Manager queue of local ranks is for: each worker has one of its own."""

    def get(self) -> int:
        return _worker_index

    def put(self, rank: int) -> None:
        pass


class ForkManager:
    """Stands in for `multiprocess.Manager()` in `LocalPipelineExecutor.run`: a local-rank queue, and the shared
    task counter and its lock (shared memory, inherited by the forked workers)."""

    def __init__(self):
        self._context = multiprocessing.get_context("fork")

    def Queue(self) -> _LocalRanks:
        return _LocalRanks()

    def Value(self, typecode: str, value):
        return self._context.Value(typecode, value)

    def Lock(self):
        return self._context.Lock()

    def shutdown(self) -> None:
        pass


class ForkContext:
    """`multiprocess.get_context("fork")` as the executor uses it: only `Pool`."""

    def Pool(self, processes: int) -> ForkPool:
        return ForkPool(processes)


class ForkPool:
    """`processes` forked workers running `func(item)` for the items of `imap_unordered`, one task at a time each."""

    def __init__(self, processes: int):
        self.processes = max(1, int(processes))
        self._workers: list = []

    def __enter__(self) -> ForkPool:
        return self

    def __exit__(self, *exc) -> None:
        self._stop()

    def imap_unordered(self, func: Callable, iterable: Iterable) -> Iterator:
        items = list(iterable)
        if not items:
            return
        context = multiprocessing.get_context("fork")
        shared = _shared_state(func)
        todo = list(range(len(items)))
        running: dict = {}  # worker's result connection -> (process, task connection, task number or None)
        for index in range(min(self.processes, len(items))):
            task_recv, task_send = context.Pipe(duplex=False)
            result_recv, result_send = context.Pipe(duplex=False)
            process = context.Process(
                target=_work, args=(index, func, items, shared, task_recv, result_send), daemon=True
            )
            process.start()
            task_recv.close()
            result_send.close()
            self._workers.append((process, task_send, result_recv))
            running[result_recv] = [process, task_send, None]
        for state in running.values():
            state[2] = todo.pop(0)
            state[1].send(state[2])
        pending = len(items)
        while pending:
            sentinels = {state[0].sentinel: conn for conn, state in running.items()}
            for ready in wait(list(running) + list(sentinels)):
                conn = sentinels.get(ready, ready)
                if conn not in running:
                    continue
                process, task_send, task = running[conn]
                try:
                    ok, payload = conn.recv()
                except (EOFError, OSError):
                    process.join(1)
                    del running[conn]
                    if task is not None:
                        self._stop()
                        raise WorkerDied(
                            f"a worker process died (exit status {process.exitcode}) while running task {task}; "
                            "killed, or out of memory?"
                        ) from None
                    continue
                pending -= 1
                if not ok:
                    self._stop()
                    raise payload
                running[conn][2] = todo.pop(0) if todo else None
                task_send.send(running[conn][2])
                yield payload
        self._stop(graceful=True)

    def _stop(self, graceful: bool = False) -> None:
        """Close the pipes and reap the workers. After a graceful end every worker was sent None and returns; a worker
        still running (after an error elsewhere, or 10 s after a graceful end) is terminated: a closed pipe alone
        would not end its wait, since workers forked later hold copies of the earlier workers' task pipes."""
        for _, task_send, result_recv in self._workers:
            task_send.close()
            result_recv.close()
        for process, _, _ in self._workers:
            process.join(10 if graceful else 0)
            if process.is_alive():
                process.terminate()
                process.join()
        self._workers = []


def _shared_state(func: Callable) -> dict:
    """The objects a task's deep copy must share with the other tasks, not copy: the manager's rank queue, counter
    and lock (arguments of datatrove's partial)."""
    keywords = getattr(func, "keywords", None) or {}
    return {id(value): value for value in keywords.values() if value is not None}


def _work(index: int, func: Callable, items: list, shared: dict, tasks, results) -> None:
    global _worker_index
    _worker_index = index
    while True:
        try:
            task = tasks.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            # a fresh copy per task, as the Pool's unpickled one: steps keep their stats on themselves
            outcome = (True, copy.deepcopy(func, dict(shared))(items[task]))
        except BaseException as err:
            outcome = (False, _portable(err))
        try:
            results.send(outcome)
        except (pickle.PicklingError, TypeError, AttributeError) as err:
            results.send((False, RuntimeError(f"task {task}: its result could not be sent back: {err}")))
        if not outcome[0] and isinstance(outcome[1], (KeyboardInterrupt, SystemExit)):
            os._exit(1)


def _portable(err: BaseException) -> BaseException:
    """`err` if it survives pickling, else a RuntimeError with its traceback text."""
    try:
        pickle.loads(pickle.dumps(err))
        return err
    except Exception:
        text = "".join(traceback.format_exception(type(err), err, err.__traceback__))
        return RuntimeError(f"a task failed with an exception that cannot be sent back:\n{text}")
