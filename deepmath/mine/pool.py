"""The pool index: one compact record per pool page, in the order every later pass reads the pool.

    DIR/pool_index/plan.json              tasks (fixed at the first run, so positions never shift on a resume)
    DIR/pool_index/<rank>.jsonl.gz        {"id", "url", "domain", "path", "title", "language"} per page
    DIR/pool_index/<rank>.tokens.npy      token count per page (the budget's unit: model tokens or words)
    DIR/pool_index/index.json             written last: documents and tokens per rank

Every pass over the pool (index, training texts, scoring, final write) uses the same reader and the same number of
tasks, so page k of rank r is the same page in each; per-iteration arrays (scores, selection masks) are indexed by
the global position `offset[r] + k`. Each task checks its page count against the index, so a pool that changed
under a resumed run fails loudly instead of shifting scores onto the wrong pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepmath.mine.domains import PageRecord

__all__ = ["PoolChanged", "PoolIndex", "rank_name"]


class PoolChanged(RuntimeError):
    """The pool no longer has the pages the index recorded."""


def rank_name(rank: int) -> str:
    return f"{rank:05d}"


@dataclass
class PoolIndex:
    folder: Path
    tasks: int
    counts: list[int]

    @classmethod
    def load(cls, folder: str | Path) -> PoolIndex:
        folder = Path(folder)
        info = json.loads((folder / "index.json").read_text())
        return cls(folder=folder, tasks=int(info["tasks"]), counts=[int(c) for c in info["counts"]])

    @staticmethod
    def finish(folder: str | Path, tasks: int) -> PoolIndex:
        """Write index.json from the per-rank files of a finished index pipeline."""
        from deepmath.io.atomic import atomic_write_json

        folder = Path(folder)
        counts, tokens = [], 0
        for rank in range(tasks):
            array = np.load(folder / f"{rank_name(rank)}.tokens.npy")
            counts.append(len(array))
            tokens += int(array.sum())
        atomic_write_json(
            folder / "index.json", {"tasks": tasks, "counts": counts, "documents": sum(counts), "tokens": tokens}
        )
        return PoolIndex(folder, tasks, counts)

    @property
    def size(self) -> int:
        return sum(self.counts)

    @property
    def offsets(self) -> list[int]:
        return [int(x) for x in np.concatenate([[0], np.cumsum(self.counts)[:-1]])] if self.counts else []

    def tokens(self) -> np.ndarray:
        parts = [np.load(self.folder / f"{rank_name(r)}.tokens.npy") for r in range(self.tasks)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def languages(self) -> np.ndarray:
        """The language code of every page (object array, global position order)."""
        return np.array([row.get("language") or "und" for row in self.iter_rows()], dtype=object)

    def iter_rows(self) -> Iterator[dict]:
        """The index records of every page, in global position order."""
        from deepmath.io.rows import read_rows

        for rank in range(self.tasks):
            yield from read_rows(self.folder / f"{rank_name(rank)}.jsonl.gz")

    def iter_pages(self, collected: np.ndarray) -> Iterator[PageRecord]:
        """Index records joined with a per-page collected mask (for domain discovery)."""
        if len(collected) != self.size:
            raise PoolChanged(f"mask of {len(collected)} pages for a pool of {self.size}")
        for position, row in enumerate(self.iter_rows()):
            collected_page = bool(collected[position])
            yield PageRecord(
                row["domain"], row["path"], row["url"], row["title"], collected_page, row.get("language", "")
            )
