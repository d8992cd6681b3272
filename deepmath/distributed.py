"""Rank safety: under `accelerate launch` / `torchrun` one process (rank 0) owns the stage's output folder.

    accelerate launch --num_processes 8 -m deepmath train grpo RECIPE.yaml --output runs/grpo

Every process runs the stage body (TRL needs all ranks for training), but only the main process checks, claims,
locks and clears the folder and writes `config.yaml`, `stats.json`, the card and `_SUCCESS`. The others wait for
its decision (run / already finished / a user error, broadcast as one small object), run the body, and meet it at a
barrier before the marker is written, so `_SUCCESS` means every rank finished. Resume is unchanged: the main process
reads the marker and every rank follows.

The launch is read from the environment (`WORLD_SIZE`, `RANK`), so the same code is a no-op in one process. The
collectives go through torch.distributed; when the launcher set up the environment but nothing initialised the
process group yet, accelerate's `PartialState` does (gloo on CPU, NCCL on GPUs), the same state TRL's Accelerator
reuses later.

Where a rank fails inside the body the others wait at the next barrier until torch.distributed's timeout: the same
as any failed collective in a distributed training job.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

__all__ = ["barrier", "is_main_process", "main_first", "rank", "run_stage_on_ranks", "share", "world_size"]

logger = logging.getLogger(__name__)


def world_size() -> int:
    """Processes in this launch (1 outside `accelerate launch`/`torchrun`)."""
    try:
        return max(1, int(os.environ.get("WORLD_SIZE", "1")))
    except ValueError:
        return 1


def rank() -> int:
    """This process's global rank (0 outside a multi-process launch)."""
    if world_size() <= 1:
        return 0
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def is_main_process() -> bool:
    return rank() == 0


def _group() -> bool:
    """True when collectives can run (initialising the process group through accelerate when needed)."""
    if world_size() <= 1:
        return False
    import torch.distributed as dist

    if not dist.is_available():
        return False
    if not dist.is_initialized():
        from accelerate import PartialState

        PartialState()
    return dist.is_initialized()


def barrier() -> None:
    """Wait until every process gets here (no-op in one process)."""
    if _group():
        import torch.distributed as dist

        dist.barrier()


def share(value=None):
    """The main process's `value`, on every process (no-op in one process)."""
    if not _group():
        return value
    import torch.distributed as dist

    box = [value if is_main_process() else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


@contextmanager
def main_first():
    """The main process runs the block first (it writes shared files); the others run it after, finding them."""
    if world_size() > 1 and not is_main_process():
        barrier()
    try:
        yield
    finally:
        if world_size() > 1 and is_main_process():
            barrier()


def run_stage_on_ranks(stage: str, cfg, body: Callable, output, run_single: Callable, make_run: Callable) -> dict:
    """`run_stage` in a multi-process launch: the main process runs the one-process contract (`run_single`) with a
    body that first tells the others to start and ends at a barrier; the others run the bare body on
    `make_run(stage=, cfg=, output=)` (deepmath.stage.StageRun, passed in: stage imports this module)."""
    from deepmath.config import ConfigError
    from deepmath.outputs import check_output

    if is_main_process():
        told = False

        def body_on_all_ranks(run):
            nonlocal told
            share(("run", str(run.output)))
            told = True
            result = body(run)
            barrier()  # every rank finished its part before the marker says so
            return result

        try:
            stats = run_single(stage, cfg, body_on_all_ranks, output)
        except BaseException as err:
            if not told:
                share(("error", " ".join(str(err).split()) or type(err).__name__))
            raise
        if not told:
            share(("finished", ""))
        return share(stats)

    decision, detail = share()
    if decision == "error":
        raise ConfigError(f"{stage}: the main process stopped: {detail}")
    if decision == "run":
        path = check_output(stage, output if output is not None else getattr(cfg, "output", None))
        logger.debug("%s: rank %d runs the body into %s", stage, rank(), path)
        body(make_run(stage=stage, cfg=cfg, output=Path(detail)))
        barrier()
    return share()
