"""A pipeline step for executor tests: each task writes `folder/<rank>.<suffix>` with what `value()` returns in the
process that ran it (its pid by default), and counts itself as `ran`."""

from __future__ import annotations

import os
from pathlib import Path

from datatrove.pipeline.base import PipelineStep


class RecordPerTask(PipelineStep):
    name = "record"

    def __init__(self, folder: str, value=os.getpid, suffix: str = "pid"):
        super().__init__()
        self.folder, self.value, self.suffix = folder, value, suffix

    def run(self, data=None, rank: int = 0, world_size: int = 1):
        Path(self.folder, f"{rank}.{self.suffix}").write_text(str(self.value()))
        self.stat_update("ran")
        return
        yield
