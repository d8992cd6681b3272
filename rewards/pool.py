"""A persistent pool of watchdog worker processes: the only place sympy runs, and the timeout mechanism.

Each worker serves one request at a time. A reply later than the budget gets its worker killed (SIGKILL, sent
with `os.kill`/`Popen.kill`; no `signal` handlers anywhere) and a replacement starts in the background. Because
the caller only waits on a queue with a timeout, this works the same from the main thread, worker threads,
asyncio and inside other processes (daemonic ones included), and it interrupts sympy's C-level bigint loops,
which `signal.alarm` cannot. How workers are started is in `rewards.processes` (a zygote that forks warm workers
in milliseconds; plain subprocesses on Windows).

Workers start in the background at the first grade (`prestart`), or at `warmup()`. Start-up is never charged to a
grading budget; it is counted apart, as `worker_startup_ms` in `rewards.stats()` (call `warmup()` before timing
anything). A forked child forgets the parent's workers and starts its own.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from rewards.processes import ForkedWorker, SubprocessWorker, WorkerDied, Zygote, zygote_supported

__all__ = [
    "PoolClosed",
    "WatchdogPool",
    "counters",
    "default_start_method",
    "default_workers",
    "get_pool",
    "prestart",
    "shutdown",
    "warmup",
]

logger = logging.getLogger(__name__)


class PoolClosed(RuntimeError):
    """The pool was shut down (at interpreter exit, or by `shutdown()`) while a caller waited for a worker."""


def default_workers() -> int:
    """`DEEPMATH_REWARDS_WORKERS`, else the number of CPUs between 2 and 8."""
    configured = os.environ.get("DEEPMATH_REWARDS_WORKERS")
    if configured:
        return max(1, int(configured))
    return min(8, max(2, os.cpu_count() or 2))


def default_start_method() -> str:
    """`zygote` where fd passing exists, else `subprocess`; `DEEPMATH_REWARDS_START` overrides."""
    return os.environ.get("DEEPMATH_REWARDS_START") or ("zygote" if zygote_supported() else "subprocess")


class WatchdogPool:
    """Workers for sympy comparisons, each request bounded by a wall-clock timeout."""

    def __init__(self, max_workers: int | None = None, start_method: str | None = None) -> None:
        self.max_workers = max_workers or default_workers()
        self.start_method = start_method or default_start_method()
        if self.start_method not in ("zygote", "subprocess"):
            raise ValueError(f"unknown start method {self.start_method!r} (zygote or subprocess)")
        self._zygote: Zygote | None = None
        self._zygote_lock = threading.Lock()
        self._idle: list = []
        self._all: set = set()
        self._live = 0  # started or starting
        self._cond = threading.Condition()
        self._closed = False
        self.timeouts = 0
        self.restarts = 0
        self.startup_seconds = 0.0  # spent starting workers (the zygote included); never charged to a budget

    def _new_worker(self) -> ForkedWorker | SubprocessWorker:
        if self.start_method == "subprocess":
            return SubprocessWorker()
        for attempt in range(2):
            with self._zygote_lock:
                if self._zygote is None or not self._zygote.alive():
                    self._zygote = Zygote()
                zygote = self._zygote
            try:
                return ForkedWorker(zygote)
            except WorkerDied:
                if attempt:
                    raise
                zygote.close()  # a broken zygote: start a new one once
        raise AssertionError("unreachable")

    def _reserve(self) -> ForkedWorker | SubprocessWorker | None:
        """An idle worker, or None when the caller may start one (waits while all workers are busy)."""
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed("the rewards worker pool was shut down")
                if self._idle:
                    return self._idle.pop()
                if self._live < self.max_workers:
                    self._live += 1
                    return None
                self._cond.wait()

    def _start(self) -> ForkedWorker | SubprocessWorker:
        started = time.monotonic()
        try:
            worker = self._new_worker()
            worker.wait_ready()
        except BaseException:
            with self._cond:
                self._live -= 1
                self._cond.notify()
            raise
        with self._cond:
            self._all.add(worker)
            self.startup_seconds += time.monotonic() - started
        return worker

    def _acquire(self) -> ForkedWorker | SubprocessWorker:
        worker = self._reserve()
        return self._start() if worker is None else worker

    def _release(self, worker: ForkedWorker | SubprocessWorker) -> None:
        with self._cond:
            if self._closed:
                worker.close()
                return
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self, worker: ForkedWorker | SubprocessWorker) -> None:
        """Drop a late or broken worker; kill it and start its replacement in the background (the caller returns
        at once: it never gets this worker again)."""
        with self._cond:
            self._all.discard(worker)
            self._live -= 1
            self.restarts += 1
            self._cond.notify()

        def reap_and_replace() -> None:
            worker.reap()
            self._prestart()

        threading.Thread(target=reap_and_replace, name="rewards-worker-restart", daemon=True).start()

    def _prestart(self) -> None:
        with self._cond:
            if self._closed or self._live >= self.max_workers:
                return
            self._live += 1
        try:
            self._release(self._start())
        except (RuntimeError, WorkerDied, OSError):
            with self._cond:
                closed = self._closed
            if closed:  # shut down meanwhile (interpreter exit): the zygote went first, nothing is wrong
                return
            logger.warning("could not start a rewards worker", exc_info=True)

    def compare(self, gold: str, pred: str, timeout: float, policy: dict | None = None) -> tuple[str, bool | None]:
        """`("ok", equal)`, `("timeout", None)`, `("error", None)` or `("closed", None)` for two cleaned answers.

        "closed": the pool was shut down while this call waited (at interpreter exit, threads still grading get
        this instead of an exception, so a storm of slow pairs ends without tracebacks).
        """
        try:
            worker = self._acquire()
        except PoolClosed:
            return "closed", None
        except (RuntimeError, OSError):
            if self._closed:  # shut down while this worker started (interpreter exit): not a broken installation
                return "closed", None
            raise
        try:
            reply = worker.ask(gold, pred, max(timeout, 0.0), policy)
        except TimeoutError:
            with self._cond:
                self.timeouts += 1
            self._discard(worker)
            return "timeout", None
        except WorkerDied as exc:
            self._discard(worker)
            if self._closed:
                return "closed", None  # shutdown closed its pipes: not a crash
            logger.warning("rewards worker died: %s", exc)
            return "error", None
        self._release(worker)
        if "error" in reply:
            logger.debug("rewards worker error: %s", reply["error"])
            return "error", None
        return "ok", bool(reply["equal"])

    def warmup(self, workers: int | None = None) -> None:
        """Start workers now (in parallel) so later calls do not wait for start-up."""
        wanted = min(workers or self.max_workers, self.max_workers)
        threads = [threading.Thread(target=self._prestart) for _ in range(max(0, wanted - self._live))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def shutdown(self) -> None:
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._idle.clear()
            self._all.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.close()
        with self._zygote_lock:
            zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.close()


_POOL: WatchdogPool | None = None
_POOL_LOCK = threading.Lock()


_EXITING = False


def get_pool() -> WatchdogPool:
    """The process-wide pool, created on first use; PoolClosed once the interpreter is exiting."""
    global _POOL
    if _EXITING:
        raise PoolClosed("the interpreter is exiting")
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = WatchdogPool()
    return _POOL


def counters() -> dict[str, int]:
    """Worker timeouts, restarts and start-up milliseconds (counted apart from any grading budget) of the current
    pool; empty before the pool exists."""
    pool = _POOL
    if pool is None:
        return {}
    return {
        "worker_timeouts": pool.timeouts,
        "worker_restarts": pool.restarts,
        "worker_startup_ms": round(1000 * pool.startup_seconds),
    }


def warmup(workers: int | None = None) -> None:
    """Start the worker processes now, so that no later call waits for start-up (useful before timing)."""
    get_pool().warmup(workers)


_PRESTARTED = False


def prestart() -> None:
    """Start one worker in the background (once per process), so the first sympy comparison rarely waits for it.

    Called by the first `grade`/`grade_batch` and by `rewards.get(...)`: most first grades take the fast path, and
    by the time a pair needs sympy the worker is warm. Start-up is never charged to a grading budget either way.
    """
    global _PRESTARTED
    if _PRESTARTED or _EXITING:
        return
    _PRESTARTED = True

    def start() -> None:
        try:
            get_pool()._prestart()
        except (RuntimeError, OSError):  # a broken installation surfaces on the first real comparison
            logger.debug("rewards prestart failed", exc_info=True)

    threading.Thread(target=start, name="rewards-prestart", daemon=True).start()


def shutdown() -> None:
    """Stop all workers (they restart on the next sympy comparison)."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown()


def _forget_after_fork() -> None:
    # the child must not talk to (or kill) the parent's workers; it starts its own when needed
    global _POOL, _POOL_LOCK, _PRESTARTED
    _POOL, _POOL_LOCK, _PRESTARTED = None, threading.Lock(), False


def _shutdown_at_exit() -> None:
    # threads still grading at exit (daemon threads, a thread pool left running) must neither start a new pool
    # nor print tracebacks: they get "closed" verdicts
    global _EXITING
    _EXITING = True
    shutdown()


atexit.register(_shutdown_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
