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

`shared_workers()`: within it, the pipelines of one stage that ask for the same number of workers run on the same
processes, forked at the first of them. A forked worker's first task pays for its fork (the pages it writes are
copied: ~15 ms a worker at 20k dedup pages, plus the fork itself); later pipelines reach the running workers as
one pickled message (the executor and its task list; the Manager stand-ins the workers inherited are named in the
pickle, not copied). Anything that cannot be pickled, or another worker count, gets workers of its own as before.
"""

from __future__ import annotations

import contextlib
import copy
import io
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import wait

__all__ = ["ForkContext", "ForkManager", "ForkPool", "WorkerDied", "shared_workers"]

_worker_index = 0  # in a worker: its number, the local rank datatrove asks for
_NEW_PIPELINE = "pipeline"  # a message to a shared worker: (_NEW_PIPELINE, pickled func and items)


class _Scope:
    """One `shared_workers()` block: its pool, and the counter and lock its workers inherited."""

    def __init__(self):
        self.pool: ForkPool | None = None
        self.value = None
        self.lock = None


_scope: _Scope | None = None


@contextlib.contextmanager
def shared_workers():
    """Pipelines run in this block share their forked workers (see the module docstring). When it ends they are
    told to stop and end on their own, not waited for (reaped when another process starts, or at exit); after an
    error they are stopped and reaped here. Nested blocks are the outer one."""
    global _scope
    if _scope is not None:
        yield
        return
    _scope = _Scope()
    failed = True
    try:
        yield
        failed = False
    finally:
        scope, _scope = _scope, None
        if scope.pool is not None:
            scope.pool._stop(graceful=True, wait=failed)


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
        if _scope is None:
            return self._context.Value(typecode, value)
        if _scope.value is None or _scope.value[0] != typecode:  # one per block: its workers inherit it
            _scope.value = (typecode, self._context.Value(typecode, value))
        _scope.value[1].value = value
        return _scope.value[1]

    def Lock(self):
        if _scope is None:
            return self._context.Lock()
        if _scope.lock is None:
            _scope.lock = self._context.Lock()
        return _scope.lock

    def shutdown(self) -> None:
        pass


class ForkContext:
    """`multiprocess.get_context("fork")` as the executor uses it: only `Pool`."""

    def Pool(self, processes: int) -> ForkPool:
        if _scope is None:
            return ForkPool(processes)
        pool = _scope.pool
        if pool is None or pool.processes != max(1, int(processes)) or not pool.alive():
            if pool is not None:
                pool._stop(graceful=True)
            pool = _scope.pool = ForkPool(processes, shared=True)
        return pool


class ForkPool:
    """`processes` forked workers running `func(item)` for the items of `imap_unordered`, one task at a time each.
    With `shared`, the workers outlive the call: the next call sends them its func and items (see module docstring)."""

    def __init__(self, processes: int, shared: bool = False):
        self.processes = max(1, int(processes))
        self.shared = shared
        self._workers: list = []  # (process, task connection, result connection)
        self._inherited: dict = {}  # the keyword objects of the func the workers were forked with

    def __enter__(self) -> ForkPool:
        return self

    def __exit__(self, *exc) -> None:
        if not self.shared or exc[0] is not None:
            self._stop()

    def alive(self) -> bool:
        return bool(self._workers) and all(process.is_alive() for process, _, _ in self._workers)

    def imap_unordered(self, func: Callable, iterable: Iterable) -> Iterator:
        items = list(iterable)
        if not items:
            return
        shared = _shared_state(func)
        if self._workers:
            message = _pipeline_message(func, items, self._inherited)
            if message is None:  # cannot reach the running workers: a pool of its own for this call
                with ForkPool(self.processes) as own:
                    yield from own.imap_unordered(func, items)
                return
            try:
                for _, task_send, _ in self._workers:
                    task_send.send(message)
            except OSError:  # a worker is gone (killed while idle): fresh ones
                self._stop()
        if self._workers:
            workers = self._workers[: len(items)]
        else:
            workers = self._start(func, items, shared, min(self.processes, len(items)))
        todo = list(range(len(items)))
        running: dict = {}  # worker's result connection -> [process, task connection, task number or None]
        for process, task_send, result_recv in workers:
            running[result_recv] = [process, task_send, todo.pop(0)]
            task_send.send(running[result_recv][2])
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
                if running[conn][2] is not None or not self.shared:
                    task_send.send(running[conn][2])  # None: a worker of this call alone returns
                yield payload
        if not self.shared:
            self._stop(graceful=True)

    def _start(self, func: Callable, items: list, shared: dict, count: int) -> list:
        context = multiprocessing.get_context("fork")
        self._inherited = dict(getattr(func, "keywords", None) or {})
        for index in range(count):
            task_recv, task_send = context.Pipe(duplex=False)
            result_recv, result_send = context.Pipe(duplex=False)
            process = context.Process(
                target=_work, args=(index, func, items, shared, task_recv, result_send), daemon=True
            )
            process.start()
            task_recv.close()
            result_send.close()
            self._workers.append((process, task_send, result_recv))
        return list(self._workers)

    def _stop(self, graceful: bool = False, wait: bool = True) -> None:
        """Close the pipes and reap the workers. After a graceful end every worker is sent None and returns; a worker
        still running (after an error elsewhere, or 10 s after a graceful end) is terminated: a closed pipe alone
        would not end its wait, since workers forked later hold copies of the earlier workers' task pipes. A
        graceful stop without `wait` leaves the returning workers to multiprocessing's reaping."""
        for _, task_send, result_recv in self._workers:
            if graceful:
                with contextlib.suppress(OSError, ValueError):
                    task_send.send(None)
            task_send.close()
            result_recv.close()
        for process, _, _ in self._workers if wait or not graceful else ():
            process.join(10 if graceful else 0)
            if process.is_alive():
                process.terminate()
                process.join()
        self._workers, self._inherited = [], {}


def _pipeline_message(func: Callable, items: list, inherited: dict):
    """(_NEW_PIPELINE, bytes) for running workers: func and items pickled, where an object the workers inherited
    (`inherited`: the keywords of the func they were forked with, e.g. the block's counter and lock) is named by
    its keyword instead; None when something cannot be pickled."""
    named = {id(value): name for name, value in inherited.items()}
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = lambda obj: named.get(id(obj))
    try:
        pickler.dump((func, items))
    except (pickle.PicklingError, TypeError, AttributeError, RuntimeError):
        return None
    return _NEW_PIPELINE, buffer.getvalue()


def _load_pipeline(blob: bytes, inherited: dict) -> tuple[Callable, list]:
    unpickler = pickle.Unpickler(io.BytesIO(blob))
    unpickler.persistent_load = inherited.__getitem__
    return unpickler.load()


def _shared_state(func: Callable) -> dict:
    """The objects a task's deep copy must share with the other tasks, not copy: the manager's rank queue, counter
    and lock (arguments of datatrove's partial)."""
    keywords = getattr(func, "keywords", None) or {}
    return {id(value): value for value in keywords.values() if value is not None}


def _work(index: int, func: Callable, items: list, shared: dict, tasks, results) -> None:
    global _worker_index
    _worker_index = index
    inherited = dict(getattr(func, "keywords", None) or {})  # what later pipelines name instead of pickling
    while True:
        try:
            task = tasks.recv()
        except EOFError:
            return
        if task is None:
            return
        if isinstance(task, tuple) and task[0] == _NEW_PIPELINE:
            func, items = _load_pipeline(task[1], inherited)
            shared = _shared_state(func)
            continue
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
