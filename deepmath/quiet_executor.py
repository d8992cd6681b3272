"""datatrove's local executor whose tasks set up deepmath's console first, in whatever process they run.

A task runs in a forked worker, a forkserver child or this process. A forkserver child starts from a fresh
interpreter and unpickles the executor, which imports this module: the setup (`compat.prepare_datatrove`: shims,
warnings-only console unless `deepmath -v`) follows the task wherever it runs. Its own module because it imports
datatrove at the top, which `deepmath.executors` must not (the CLI's help and `validate` stay light).
"""

from __future__ import annotations

from datatrove.executor import LocalPipelineExecutor

from deepmath import compat

__all__ = ["QuietLocalExecutor"]


class QuietLocalExecutor(LocalPipelineExecutor):
    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1):
        compat.prepare_datatrove()
        return super()._run_for_rank(rank, local_rank, node_rank=node_rank)
