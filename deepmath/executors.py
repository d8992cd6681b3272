"""Run datatrove pipelines on the executor a user picked: local (default), Ray or Slurm.

Every corpus stage hands its list of `PipelineStep`s to `run_pipeline`; the executor decides where the tasks run.
Task completion markers (datatrove's `completions/`) make re-runs skip finished tasks, whichever executor ran them.
Slurm with `slurm_dry_run: true` only writes the sbatch script, so a cluster user can read it before submitting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from deepmath import compat

__all__ = ["ExecutorConfig", "fork_is_safe", "merged_step_stats", "run_pipeline"]

logger = logging.getLogger(__name__)


@dataclass
class ExecutorConfig:
    """Where and how wide the tasks of a stage run; none of it changes the documents a stage writes."""

    executor: Literal["local", "ray", "slurm"] = field(
        default="local", metadata={"help": "where tasks run: local processes, a Ray cluster or a Slurm array"}
    )
    workers: int = field(default=1, metadata={"help": "tasks running at once (local: processes on this machine)"})
    tasks: int = field(default=0, metadata={"help": "number of tasks (0: one per input file, at most 64)"})
    slurm_partition: str = field(default="cpu", metadata={"help": "Slurm partition"})
    slurm_time: str = field(default="12:00:00", metadata={"help": "Slurm time limit per task"})
    slurm_cpus_per_task: int = field(default=1, metadata={"help": "Slurm CPUs per task"})
    slurm_mem_per_cpu_gb: int = field(default=2, metadata={"help": "Slurm memory per CPU in GB"})
    slurm_dry_run: bool = field(default=False, metadata={"help": "only write the sbatch script (nothing submitted)"})
    ray_address: str = field(default="", metadata={"help": "Ray cluster to join (empty: a local Ray instance)"})

    def __post_init__(self):
        if self.executor not in ("local", "ray", "slurm"):
            raise ValueError(f"executor must be local, ray or slurm, not {self.executor!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be at least 1, got {self.workers}")


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


@contextlib.contextmanager
def _frozen_heap():
    """`gc.freeze()` for one pipeline: what was alive before it (modules, the config, the stage's state) moves out of
    the collector's reach until the pipeline ends, so the full collections that the tasks' many small objects set
    off do not walk it every time (~3% of a dedup run), and forked workers do not copy the pages a collection would
    write to (the use Python's documentation gives for it). Unfrozen after, so nothing stays out of reach."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def run_pipeline(pipeline: list, cfg, logging_dir: str | Path, tasks: int, job_name: str = "deepmath") -> bool:
    """Run `pipeline` as `tasks` tasks on the configured executor; False when only a Slurm script was written."""
    settings = _executor_settings(cfg)
    logging_dir = str(logging_dir)
    tasks = max(1, tasks)
    compat.prepare_datatrove()
    if settings.executor == "local":
        workers = max(1, min(settings.workers, tasks))
        from deepmath.quiet_executor import QuietLocalExecutor

        start_method = _start_method()
        executor = QuietLocalExecutor(
            pipeline, tasks=tasks, workers=workers, logging_dir=logging_dir, start_method=start_method
        )
        from deepmath.processes import children_die_with_parent

        if workers == 1:
            pool = compat.without_manager_process()
        elif start_method == "fork":
            pool = compat.fork_worker_pool()
        else:
            pool = contextlib.nullcontext()
        with children_die_with_parent(), pool, _frozen_heap():
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
