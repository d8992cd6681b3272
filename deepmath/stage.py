"""The contract every stage follows: one output folder, resumable, self-describing.

    OUTPUT/
      data/            document shards (datatrove JSONL.gz or Parquet), one per task
      config.yaml      the resolved config that produced them
      stats.json       counts in/out and drops by reason (`deepmath.stats.StageStats`, one vocabulary)
      README.md        the dataset card
      _SUCCESS         written last; later stages refuse an input folder without it
      _logs/           datatrove task logs and completion markers (what makes a killed run resume)

`run_stage` skips a stage whose `_SUCCESS` matches the current config, refuses to mix outputs of two different
configs in one folder (unless `overwrite`), and writes stats, card and marker only after the work succeeded.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import shutil
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.cards import Card, write_card
from deepmath.config import ConfigError, config_hash, save_config
from deepmath.executors import EXECUTION_FIELDS, ExecutorConfig, merged_step_stats
from deepmath.io.atomic import atomic_write_json
from deepmath.io.inputs import SUCCESS_MARKER
from deepmath.outputs import OutputLock, check_output, claim_output, clear_output, has_progress
from deepmath.stats import StageStats, normalize_stats

__all__ = [
    "CorpusStageConfig",
    "StageResult",
    "StageRun",
    "StageStats",
    "default_tasks",
    "drops_by_reason",
    "run_stage",
]

logger = logging.getLogger(__name__)

# how many stages (or recipes) are running around this one: only the outermost says "done" on the console
_depth = contextvars.ContextVar("deepmath_stage_depth", default=0)


@contextlib.contextmanager
def nested_stage():
    """Mark the code inside as running under another stage or a recipe: its stages log their lines at DEBUG."""
    token = _depth.set(_depth.get() + 1)
    try:
        yield
    finally:
        _depth.reset(token)


def _console_level() -> int:
    return logging.INFO if _depth.get() == 0 else logging.DEBUG


@dataclass
class StageResult:
    """What a stage body returns: counts for stats.json and the card to write.

    `stats` is a `StageStats`; an unfinished run (`complete=False`) may have none yet. A plain dict is still taken
    for one release (plugins written before StageStats): converted and checked, with a DeprecationWarning; an
    unfinished run's dict without counts is kept as it is.
    """

    stats: StageStats | dict | None
    card: Card | None = None
    complete: bool = True  # False: work was only submitted (Slurm) or stopped for review; no marker yet
    message: str = ""
    pending: dict = field(default_factory=dict)  # fields of an unfinished run that has no counts yet

    def __post_init__(self):
        if isinstance(self.stats, dict):
            warnings.warn(
                "StageResult(stats=dict) is deprecated; return a deepmath.stats.StageStats "
                "(rows_in, rows_out, unit, dropped, plots, extra)",
                DeprecationWarning,
                stacklevel=3,
            )
            if not self.complete and not {"rows_in", "rows_out"} & set(normalize_stats(self.stats)):
                self.pending, self.stats = dict(self.stats), None
            else:
                self.stats = StageStats.from_dict(self.stats)
        if self.stats is None:
            if self.complete:
                raise TypeError("a finished stage must report its StageStats")
        elif not isinstance(self.stats, StageStats):
            raise TypeError(f"stats must be a StageStats, not {type(self.stats).__name__}")

    def stats_json(self, stage: str, seconds: float) -> dict:
        """The content of stats.json: the stage, the common keys, the stage's fields, the time it took."""
        body = self.stats.to_json() if self.stats is not None else {"complete": False, **self.pending}
        return {"stage": stage, **body, "seconds": round(seconds, 2)}


@dataclass
class StageRun:
    """Paths and helpers for one run of one stage."""

    stage: str
    cfg: object
    output: Path
    started: float = field(default_factory=time.time)

    @property
    def data_dir(self) -> Path:
        return self.output / "data"

    def logs(self, name: str = "main") -> Path:
        return self.output / "_logs" / name

    def step_stats(self, name: str = "main") -> list[dict]:
        return merged_step_stats(self.logs(name))

    def counters(self, *names: str) -> dict:
        """Every counter of the named pipelines' steps in one flat {name: number} mapping."""
        return {k: v for name in names for step in self.step_stats(name) for k, v in step["counters"].items()}


def drops_by_reason(steps: list[dict]) -> dict[str, int]:
    """`dropped_<reason>` and `skipped_<reason>` counters of datatrove steps, summed by reason."""
    drops: dict[str, int] = {}
    for step in steps:
        for key, value in step["counters"].items():
            for prefix in ("dropped_", "skipped_"):
                if key.startswith(prefix):
                    reason = key.removeprefix(prefix)
                    drops[reason] = drops.get(reason, 0) + int(value)
    return dict(sorted(drops.items(), key=lambda item: -item[1]))


def _marker(output: Path) -> dict | None:
    path = output / SUCCESS_MARKER
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text() or "{}")
    except json.JSONDecodeError:
        return {}


def run_stage(stage: str, cfg, body: Callable[[StageRun], StageResult], output: str | Path | None = None) -> dict:
    """Run `body` into `cfg.output` unless that folder already holds this stage's finished output.

    The folder is checked (`deepmath.outputs.check_output`) and locked before anything is written; a run that
    fails before leaving any work behind removes the folder it created.
    """
    # multi-process launch (accelerate/torchrun): only the main process claims, locks and writes the stage files
    from deepmath.distributed import run_stage_on_ranks, world_size

    if world_size() > 1:
        return run_stage_on_ranks(stage, cfg, body, output, _run_stage_here, StageRun)
    return _run_stage_here(stage, cfg, body, output)


def _run_stage_here(stage: str, cfg, body: Callable[[StageRun], StageResult], output) -> dict:
    """The one-process contract of `run_stage`."""
    output = check_output(stage, output if output is not None else getattr(cfg, "output", None))
    overwrite = bool(getattr(cfg, "overwrite", False))
    digest = config_hash(cfg, ignore=EXECUTION_FIELDS)
    if not overwrite and (_marker(output) or {}).get("config_hash") == digest:
        return _finished(stage, output)  # read-only: a finished stage is not even locked
    created = claim_output(output)
    lock = OutputLock(stage, output)
    try:
        lock.__enter__()
    except ConfigError:
        if created:
            shutil.rmtree(output, ignore_errors=True)
        raise
    try:
        return _run_locked(stage, cfg, body, output, digest, overwrite, created)
    finally:
        lock.release()


def _run_locked(stage, cfg, body, output: Path, digest: str, overwrite: bool, created: bool) -> dict:
    marker = _marker(output)
    if marker is not None and not overwrite:
        if marker.get("config_hash") == digest:
            return _finished(stage, output)
        raise ConfigError(f"{stage}: {output} holds output of a different config; use --overwrite or another --output")
    if overwrite:
        clear_output(stage, cfg, output)
    elif marker is None and (output / "config.yaml").exists():
        _check_same_config(stage, cfg, output, digest)
    save_config(cfg, output / "config.yaml")
    atomic_write_json(output / "_config_hash.json", {"config_hash": digest})
    run = StageRun(stage=stage, cfg=cfg, output=output)
    try:
        with nested_stage():
            result = body(run)
    except BaseException:
        if created and not has_progress(output):
            shutil.rmtree(output, ignore_errors=True)  # nothing to resume: the corrected re-run starts clean
        raise
    if not isinstance(result, StageResult):
        raise TypeError(f"{stage}: a stage body must return a StageResult, not {type(result).__name__}")
    stats = result.stats_json(stage, time.time() - run.started)
    atomic_write_json(output / "stats.json", stats)
    if result.card is not None:
        write_card(output, result.card)
    if result.complete:
        atomic_write_json(output / SUCCESS_MARKER, {"config_hash": digest, "finished": time.time()})
        logger.log(_console_level(), "%s: done -> %s", stage, output)
    elif result.message:
        logger.warning("%s: %s", stage, result.message)
    return stats


def _finished(stage: str, output: Path) -> dict:
    logger.info("%s: %s is already complete; nothing to do (use --overwrite to redo)", stage, output)
    stats_path = output / "stats.json"
    return normalize_stats(json.loads(stats_path.read_text())) if stats_path.exists() else {}


def _check_same_config(stage: str, cfg, output: Path, digest: str) -> None:
    """A half-finished folder may only be resumed with the config that started it, unless it holds no work yet."""
    path = output / "_config_hash.json"
    if path.exists():
        try:
            previous = json.loads(path.read_text()).get("config_hash")
        except (OSError, ValueError, AttributeError):
            previous = None
        if previous and previous != digest:
            if not has_progress(output):
                logger.info("%s: %s holds a run of another config that did no work; starting over", stage, output)
                return
            raise ConfigError(
                f"{stage}: {output} holds an unfinished run of a different config; use --overwrite or another --output"
            )


@dataclass
class CorpusStageConfig(ExecutorConfig):
    """Fields every corpus stage shares: where the output goes (here) and how its datatrove tasks run
    (`ExecutorConfig`: executor, workers, tasks, slurm_*, ray_address)."""

    output: str = field(default="", metadata={"help": "output folder (required; created, must be new or deepmath's)"})
    output_format: str = field(default="jsonl", metadata={"help": "shard format: jsonl (gzipped) or parquet"})
    overwrite: bool = field(
        default=False, metadata={"help": "clear a previous run in the output folder first (only a deepmath folder)"}
    )

    def __post_init__(self):
        super().__post_init__()
        if self.output_format not in ("jsonl", "parquet"):
            raise ValueError(f"output_format must be jsonl or parquet, not {self.output_format!r}")


def default_tasks(cfg: CorpusStageConfig, n_files: int) -> int:
    """One task per input file (at most 64), unless the config says how many."""
    return cfg.tasks if cfg.tasks > 0 else max(1, min(64, n_files))
