"""Run datatrove pipelines on the executor a user picked: local (default), Ray or Slurm.

Every corpus stage hands its list of `PipelineStep`s to `run_pipeline`; the executor decides where the tasks run.
Task completion markers (datatrove's `completions/`) make re-runs skip finished tasks, whichever executor ran them.
Slurm with `slurm_dry_run: true` only writes the sbatch script, so a cluster user can read it before submitting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sys
import threading
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["ExecutorConfig", "fork_is_safe", "merged_step_stats", "run_pipeline"]

logger = logging.getLogger(__name__)


@dataclass
class ExecutorConfig:
    """Where and how wide the tasks of a stage run; none of it changes the documents a stage writes."""

    executor: Literal["local", "ray", "slurm"] = "local"
    workers: int = 1
    tasks: int = 0  # 0: one task per input file, at most 64
    slurm_partition: str = "cpu"
    slurm_time: str = "12:00:00"
    slurm_cpus_per_task: int = 1
    slurm_mem_per_cpu_gb: int = 2
    slurm_dry_run: bool = False
    ray_address: str = ""  # empty: start or join a local Ray instance


EXECUTION_FIELDS = (
    "executor",
    "workers",
    "tasks",
    "slurm_partition",
    "slurm_time",
    "slurm_cpus_per_task",
    "slurm_mem_per_cpu_gb",
    "slurm_dry_run",
    "ray_address",
    "overwrite",
    "output",
    "output_dir",
)


def _executor_settings(cfg) -> ExecutorConfig:
    return ExecutorConfig(
        **{name: getattr(cfg, name) for name in ExecutorConfig.__dataclass_fields__ if hasattr(cfg, name)}
    )


def _cache_loguru_lib_dirs() -> None:
    """datatrove adds three loguru sinks per task; each builds an exception formatter that expands every sysconfig
    scheme (~3 ms, a few hundred ms per stage of many short tasks). The answer only depends on sys.path: compute it
    once per process."""
    try:
        from loguru._better_exceptions import ExceptionFormatter
    except ImportError:  # pragma: no cover - loguru comes with datatrove; a private name may move
        return
    lookup = getattr(ExceptionFormatter, "_get_lib_dirs", None)
    if lookup is None or getattr(lookup, "deepmath_cached", False):
        return
    cache: dict[tuple, list] = {}

    def cached() -> list:
        key = tuple(sys.path)
        if key not in cache:
            cache[key] = lookup()
        return list(cache[key])

    cached.deepmath_cached = True
    ExceptionFormatter._get_lib_dirs = staticmethod(cached)


# threads known to survive a fork: fsspec's event-loop thread (started by datatrove's first file access; fsspec
# resets its loop and lock in a forked child through os.register_at_fork)
_FORK_SAFE_THREADS = ("fsspecIO",)


def fork_is_safe() -> bool:
    """True on Linux when no thread but the main one (and fork-safe ones) runs: none can hold a lock at fork time."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    return sys.platform == "linux" and all(t.name in _FORK_SAFE_THREADS for t in others)


def _start_method() -> str:
    """`fork` when it is safe: workers inherit the imported modules instead of re-importing datatrove, numpy and the
    stage in every pool process (forkserver, datatrove's default, costs ~0.3 s more per pipeline). With other
    threads running (a model, a progress monitor...), keep forkserver."""
    return "fork" if fork_is_safe() else "forkserver"


class _SameProcessManager:
    """What LocalPipelineExecutor.run asks of its multiprocess Manager when workers == 1 and the tasks run one after
    another in this process: a queue of local ranks. A real Manager is a server process (~30-50 ms to start and stop
    per pipeline, a fifth of a second over dedup's six pipelines)."""

    Queue = staticmethod(queue.SimpleQueue)

    def shutdown(self) -> None:
        pass


@contextlib.contextmanager
def _without_manager_process():
    """Let datatrove's local executor use `_SameProcessManager` for the duration of one single-worker run."""
    import datatrove.executor.local as local

    real = getattr(local, "multiprocess", None)
    if real is None or not hasattr(real, "get_context"):  # pragma: no cover - datatrove changed: keep its own way
        yield
        return
    local.multiprocess = types.SimpleNamespace(Manager=_SameProcessManager, get_context=real.get_context)
    try:
        yield
    finally:
        local.multiprocess = real


def run_pipeline(pipeline: list, cfg, logging_dir: str | Path, tasks: int, job_name: str = "deepmath") -> bool:
    """Run `pipeline` as `tasks` tasks on the configured executor; False when only a Slurm script was written."""
    settings = _executor_settings(cfg)
    logging_dir = str(logging_dir)
    tasks = max(1, tasks)
    _cache_loguru_lib_dirs()
    if settings.executor == "local":
        from datatrove.executor import LocalPipelineExecutor

        workers = max(1, min(settings.workers, tasks))
        executor = LocalPipelineExecutor(
            pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir, start_method=_start_method()
        )
        with _without_manager_process() if workers == 1 else contextlib.nullcontext():
            executor.run()
        return True
    if settings.executor == "ray":
        import ray
        from datatrove.executor import RayPipelineExecutor

        if not ray.is_initialized():
            if settings.ray_address:
                ray.init(address=settings.ray_address, log_to_driver=False)
            else:
                ray.init(num_cpus=max(1, settings.workers), include_dashboard=False, log_to_driver=False)
        executor = RayPipelineExecutor(
            pipeline,
            tasks=tasks,
            workers=max(1, settings.workers),
            logging_dir=logging_dir,
            cpus_per_task=1,
            mem_per_cpu_gb=1,
        )
        executor.run()
        return True
    return _run_slurm(pipeline, settings, logging_dir, tasks, job_name)


def _run_slurm(pipeline: list, settings: ExecutorConfig, logging_dir: str, tasks: int, job_name: str) -> bool:
    from datatrove.executor import SlurmPipelineExecutor

    executor = SlurmPipelineExecutor(
        pipeline,
        tasks=tasks,
        time=settings.slurm_time,
        partition=settings.slurm_partition,
        cpus_per_task=settings.slurm_cpus_per_task,
        mem_per_cpu_gb=settings.slurm_mem_per_cpu_gb,
        workers=settings.workers if settings.workers > 1 else -1,
        job_name=job_name,
        logging_dir=logging_dir,
    )
    if not settings.slurm_dry_run:
        executor.launch_job()
        logger.info("submitted Slurm job %s; re-run this command after it finishes to write the card", executor.job_id)
        return False
    script = executor.get_launch_file_contents(
        executor.get_sbatch_args(min(tasks, executor.max_array_size)),
        f"srun -l -n 1 launch_pickled_pipeline {Path(logging_dir) / 'executor.pik'}",
    )
    path = Path(logging_dir) / "launch_script.slurm"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script)
    logger.info("Slurm dry run: wrote %s (nothing submitted)", path)
    return False


def merged_step_stats(logging_dir: str | Path) -> list[dict]:
    """Per-step counters summed over every finished task's stats file (also the ones skipped on a resume)."""
    from datatrove.utils.stats import PipelineStats

    total = PipelineStats()
    for path in sorted((Path(logging_dir) / "stats").glob("*.json")):
        with open(path) as handle:
            total += PipelineStats.from_json(json.load(handle))
    steps = []
    for step in total.stats:
        counters = {}
        for key, value in step.stats.items():
            # a counter comes back as a number, a MetricStats, or {"total": ..., "mean": ...} (datatrove's to_dict)
            if isinstance(value, dict):
                value = value.get("total", 0)
            counters[key] = getattr(value, "total", value)
        steps.append({"name": step.name, "counters": counters})
    return steps
