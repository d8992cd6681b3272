"""Rewards for TRL, graded in a bounded process pool so that slow grading never blocks training.

    bridge = RewardBridge(["math_accuracy", "boxed_format"], batch_timeout=60, workers=2)
    trainer = GRPOTrainer(..., reward_funcs=bridge.functions())   # TRL-shaped: fn(completions, **columns)
    ...
    bridge.close()

Each reward is looked up by name in `rewards` (`rewards.get`), or given as an import path `package.module:function`
for a custom TRL-shaped function. TRL calls reward functions in-process and waits for them; here each call is cut
into chunks that worker processes grade while the trainer waits at most `batch_timeout` seconds for the whole batch.
Samples whose chunk is not back by then get `timeout_value` (default None; counted as `timeouts`, logged as
`rewards/<name>/timeouts`), the stuck workers are killed with the pool and a fresh pool starts at once, so training
goes on. `None` (a timeout, or an unparseable gold answer from the reward function) is masked by TRL: a sample every
reward left at None is out of the group baseline and gets advantage 0, so a correct but slow answer is not pushed
down as a 0.0 would (the old behaviour, still available as `timeout_value=0.0`).

Inside a worker, `rewards` applies its own per-completion budget (sympy runs in its watchdog processes), so a
batch timeout is a last resort against anything that hangs, including pure-Python code that holds the GIL.

Workers are `multiprocessing` *spawn* processes (they never inherit torch's threads): like any spawn pool, a script
that calls `run_grpo` must guard its entry point with `if __name__ == "__main__":` (the `deepmath` CLI does).
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["BridgeStats", "RewardBridge", "load_reward", "resolve_reward_names"]

logger = logging.getLogger(__name__)

_DROP_KWARGS = {"trainer_state", "log_extra", "log_metric", "environments", "completion_ids"}


def load_reward(name: str) -> Callable:
    """A reward function by `rewards` registry name, or by import path `package.module:function`."""
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as err:
            raise KeyError(f"cannot import reward function {name!r}: {err}") from err
    import rewards

    return rewards.get(name)


def resolve_reward_names(names: Sequence[str]) -> list[str]:
    """Check every name resolves (KeyError with close matches otherwise) before any process starts."""
    if not names:
        raise ValueError("no reward functions given (reward_funcs: [math_accuracy, boxed_format], ...)")
    for name in names:
        load_reward(name)
    return list(names)


def _call_reward(name: str, completions: list, columns: dict) -> list:
    """Worker side: grade one chunk with reward `name`."""
    return list(load_reward(name)(completions, **columns))


def _ping() -> bool:
    import rewards  # noqa: F401  (the import is the warm-up)

    return True


@dataclass
class BridgeStats:
    """What the bridge did, per reward name: calls, samples, timed-out samples, seconds waited."""

    calls: dict[str, int] = field(default_factory=dict)
    samples: dict[str, int] = field(default_factory=dict)
    timeouts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    restarts: int = 0

    def add(self, name: str, samples: int, timeouts: int, seconds: float) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1
        self.samples[name] = self.samples.get(name, 0) + samples
        self.timeouts[name] = self.timeouts.get(name, 0) + timeouts
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def as_dict(self) -> dict:
        return {
            "calls": dict(self.calls),
            "samples": dict(self.samples),
            "timeouts": dict(self.timeouts),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "restarts": self.restarts,
        }


class RewardBridge:
    """A pool of `workers` spawn processes that grade reward batches with an overall deadline per batch."""

    def __init__(
        self,
        names: Sequence[str],
        batch_timeout: float = 60.0,
        workers: int = 2,
        chunk_size: int = 0,
        timeout_value: float | None = None,
    ) -> None:
        if batch_timeout <= 0:
            raise ValueError(f"batch_timeout must be > 0 seconds, got {batch_timeout}")
        if workers < 1:
            raise ValueError(f"reward workers must be >= 1, got {workers}")
        self.names = resolve_reward_names(names)
        self.batch_timeout = batch_timeout
        self.workers = workers
        self.chunk_size = chunk_size
        self.timeout_value = timeout_value
        self.stats = BridgeStats()
        self._pool = None
        self._lock = threading.Lock()

    # -- pool lifecycle -------------------------------------------------------------------------------------------
    def _get_pool(self):
        with self._lock:
            if self._pool is None:
                self._pool = multiprocessing.get_context("spawn").Pool(self.workers)
            return self._pool

    def warmup(self, timeout: float = 120.0) -> None:
        """Start the workers and import `rewards` in each, so start-up is not charged to the first batch."""
        pool = self._get_pool()
        pending = [pool.apply_async(_ping) for _ in range(self.workers)]
        deadline = time.monotonic() + timeout
        for result in pending:
            result.wait(max(0.0, deadline - time.monotonic()))

    def _restart(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.terminate()  # kills stuck workers; does not wait for them to finish
                self._pool = None
            self.stats.restarts += 1
        self._get_pool()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.terminate()
                self._pool.join()
                self._pool = None

    def __enter__(self) -> RewardBridge:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getstate__(self):
        raise TypeError("RewardBridge holds worker processes and cannot be pickled")

    # -- grading --------------------------------------------------------------------------------------------------
    def call(self, name: str, completions: list, **kwargs) -> tuple[list[float | None], int]:
        """Rewards of `completions` from reward `name`, and how many samples timed out (those get `timeout_value`)."""
        n = len(completions)
        columns = {key: list(value) for key, value in kwargs.items() if key not in _DROP_KWARGS and value is not None}
        for key, value in columns.items():
            if len(value) != n:
                raise ValueError(f"reward {name}: column {key!r} has {len(value)} values for {n} completions")
        if n == 0:
            return [], 0
        size = self.chunk_size or max(1, math.ceil(n / self.workers))
        pool = self._get_pool()
        start = time.monotonic()
        deadline = start + self.batch_timeout
        jobs = []
        for lo in range(0, n, size):
            chunk_columns = {key: value[lo : lo + size] for key, value in columns.items()}
            jobs.append((lo, pool.apply_async(_call_reward, (name, completions[lo : lo + size], chunk_columns))))
        results: list[float | None] = [self.timeout_value] * n
        timed_out = 0
        for lo, job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))
            hi = min(n, lo + size)
            if not job.ready():
                timed_out += hi - lo
                continue
            values = job.get()  # a reward function that raises fails training loudly, as in-process TRL would
            if len(values) != hi - lo:
                raise ValueError(f"reward {name} returned {len(values)} values for {hi - lo} completions")
            results[lo:hi] = [None if v is None else float(v) for v in values]
        seconds = time.monotonic() - start
        if timed_out:
            logger.warning(
                "reward %s: %d of %d samples not graded within %.1fs; they get %s and the workers are restarted",
                name,
                timed_out,
                n,
                self.batch_timeout,
                "None (masked)" if self.timeout_value is None else self.timeout_value,
            )
            self._restart()
        self.stats.add(name, n, timed_out, seconds)
        return results, timed_out

    def functions(self) -> list[Callable]:
        """One TRL reward function per name, each named after its reward (TRL logs `rewards/<name>/mean`)."""
        return [self._function(name) for name in self.names]

    def _function(self, name: str) -> Callable:
        display = name.rpartition(":")[2]

        def reward(completions, **kwargs) -> list[float | None]:
            values, timed_out = self.call(name, completions, **kwargs)
            log_metric = kwargs.get("log_metric")
            if callable(log_metric):
                log_metric(f"rewards/{display}/timeouts", float(timed_out))
            return values

        reward.__name__ = display
        reward.__qualname__ = display
        return reward

    def map(self, function: Callable, chunks: Sequence[tuple], timeout: float | None = None) -> list:
        """Run a module-level `function(*chunk)` for every chunk in the workers; None for chunks not back in time."""
        pool = self._get_pool()
        deadline = time.monotonic() + (timeout or self.batch_timeout)
        jobs = [pool.apply_async(function, chunk) for chunk in chunks]
        out = []
        stuck = False
        for job in jobs:
            job.wait(max(0.0, deadline - time.monotonic()))
            if job.ready():
                out.append(job.get())
            else:
                out.append(None)
                stuck = True
        if stuck:
            self._restart()
        return out
