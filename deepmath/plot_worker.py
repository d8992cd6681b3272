"""Draw a stage's plots in a side process that imports the plotting library while the stage works.

Importing matplotlib and drawing a first figure cost ~0.5 s of one core; for a fast stage (dedup of 20k pages takes
a few seconds) that is a tenth of its wall time, spent after the real work is done. `PlotWorker` forks when a stage
starts and warms matplotlib up in the child while the parent runs its pipelines; a plot is submitted as soon as its
numbers exist and drawn there while the parent goes on. Where forking is not safe (threads running, not Linux) or
the child is gone, the same function runs in this process: the files are the same either way.

    with PlotWorker() as plots:
        ...                                             # the stage's first pipelines
        histogram = plots.submit(draw_function, folder, numbers)   # module-level function, picklable arguments
        ...                                             # the rest of the stage
        path = histogram.result()                       # waits; raises what the drawing raised
"""

from __future__ import annotations

import collections
import contextlib
import logging
import multiprocessing
import pickle
from collections.abc import Callable
from typing import Any

from deepmath.executors import fork_is_safe

__all__ = ["PlotJob", "PlotWorker"]

logger = logging.getLogger(__name__)


def _warm_up() -> None:
    """Import the Agg canvas and draw one figure with text (font lookup and text layout load on first use)."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1), dpi=50)
    ax = fig.add_subplot()
    ax.bar([0, 1], [1, 2])
    ax.set_title("warm-up")
    FigureCanvasAgg(fig).print_png(io.BytesIO())


def _serve(conn, warm_up: Callable[[], Any] | None) -> None:
    from deepmath.processes import die_with_parent

    die_with_parent()  # a `kill -9` of the stage must not leave this process behind
    with contextlib.suppress(Exception):  # a failed warm-up only means the real draw pays the import
        (warm_up or _warm_up)()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        function, args = message
        try:
            reply = (True, function(*args))
        except Exception as err:  # sent back and raised in the parent
            reply = (False, err)
        try:
            conn.send(reply)
        except OSError:  # the parent closed its end (the stage stopped early)
            return


class PlotJob:
    """One submitted drawing; `result()` waits for it and returns (or raises) what the function did."""

    def __init__(self, worker: PlotWorker, function: Callable[..., Any], args: tuple):
        self._worker, self.function, self.args = worker, function, args
        self.done, self._ok, self._value = False, True, None

    def _set(self, ok: bool, value: Any) -> None:
        self.done, self._ok, self._value = True, ok, value

    def _run_here(self) -> None:
        try:
            self._set(True, self.function(*self.args))
        except Exception as err:
            self._set(False, err)

    def result(self) -> Any:
        if not self.done:
            self._worker._receive_until(self)
        if not self._ok:
            raise self._value
        return self._value


class PlotWorker:
    """A forked side process for drawing: `submit(f, *args)` queues `f(*args)` there (or runs it here)."""

    def __init__(self, enabled: bool = True, warm_up: Callable[[], Any] | None = None):
        """`warm_up` runs first in the side process (default: matplotlib's import and a first figure)."""
        self._conn = None
        self._process = None
        self._queue: collections.deque[PlotJob] = collections.deque()
        if enabled and fork_is_safe():
            context = multiprocessing.get_context("fork")
            parent, child = context.Pipe()
            self._process = context.Process(target=_serve, args=(child, warm_up), name="deepmath-plots", daemon=True)
            self._process.start()
            child.close()
            self._conn = parent

    @property
    def in_side_process(self) -> bool:
        return self._conn is not None

    def submit(self, function: Callable[..., Any], *args: Any) -> PlotJob:
        job = PlotJob(self, function, args)
        if self._conn is not None:
            try:
                self._conn.send((function, args))
            except (pickle.PicklingError, AttributeError, TypeError) as err:  # nothing was sent: drawn here
                logger.debug("plot job cannot be sent (%s); drawing in this process", err)
            except (OSError, ValueError) as err:
                logger.debug("plot process gone (%s); drawing in this process", err)
                self._fall_back()
            else:
                self._queue.append(job)
                return job
        job._run_here()
        return job

    def draw(self, function: Callable[..., Any], *args: Any) -> Any:
        """`submit(...).result()`."""
        return self.submit(function, *args).result()

    def _receive_until(self, job: PlotJob) -> None:
        # replies come back in submission order
        while not job.done:
            if self._conn is None:  # closed before this job was collected: draw what is left here
                self._fall_back()
                return
            head = self._queue[0]
            try:
                ok, value = self._conn.recv()
            except (EOFError, OSError) as err:
                logger.debug("plot process gone (%s); drawing in this process", err)
                self._fall_back()
                return
            self._queue.popleft()
            head._set(ok, value)

    def _fall_back(self) -> None:
        """The side process is gone: close it and run what it had not answered here, in order."""
        pending = list(self._queue)
        self._queue.clear()
        self.close()
        for job in pending:
            job._run_here()

    def close(self, wait: bool = True) -> None:
        """Stop the side process; without `wait` it is only told to (it ends on its own, and is reaped when another
        process starts or at exit: a stage need not wait the few milliseconds a process takes to go)."""
        if self._conn is not None:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(None)
            self._conn.close()
            self._conn = None
        if self._process is not None and not wait:
            self._process = None
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
            self._process = None

    def __enter__(self) -> PlotWorker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
