"""The datatrove step of the decontam stage: scan documents against a saved index, drop or cut the contaminated.

Each task loads the index file once (`ContaminationMatcher.load`), filters its shard and, when the shard is done,
writes its hits to `HITS/<rank>.jsonl` atomically; the stage merges those files into the report. A resumed run
skips finished tasks, whose hit files are already there.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from deepmath.io.atomic import atomic_write_text

__all__ = ["ContaminationFilter"]

logger = logging.getLogger(__name__)

MAX_MATCHED_CHARS = 1000  # matched text kept per hit in the report


class ContaminationFilter(BaseFilter):
    """Drops contaminated documents (`mode="drop"`) or removes their contaminated paragraphs (`mode="segment"`).

    Drop reasons are `contaminated:<benchmark>` (the first benchmark, in the order given, that the document hits).
    In segment mode a document left without text is dropped with the same reason; changed documents are counted as
    `documents_changed` and keep `metadata["decontam"]` (paragraphs removed, benchmarks).
    """

    name = "🧪 benchmark decontamination"

    def __init__(self, index_path: str, mode: str, hits_folder: str, exclusion_writer: DiskWriter | None = None):
        super().__init__(exclusion_writer)
        if mode not in ("drop", "segment"):
            raise ValueError(f"mode must be drop or segment, not {mode!r}")
        self.index_path = str(index_path)
        self.mode = mode
        self.hits_folder = str(hits_folder)
        self._matcher = None
        self._hits: list[dict] = []

    @property
    def matcher(self):
        if self._matcher is None:
            from deepmath.decontam.matcher import ContaminationMatcher

            self._matcher = ContaminationMatcher.load(self.index_path)
            self._order = {name: i for i, name in enumerate(self._matcher.benchmark_names)}
        return self._matcher

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._hits = []
        yield from super().run(data, rank, world_size)
        lines = "".join(json.dumps(hit, ensure_ascii=False) + "\n" for hit in self._hits)
        atomic_write_text(Path(self.hits_folder) / f"{rank:05d}.jsonl", lines)

    def _record(self, doc: Document, matches, action: str) -> str:
        url = doc.metadata.get("url")
        for m in matches:
            self._hits.append(
                {
                    "benchmark": m.benchmark,
                    "item_id": m.item_id,
                    "doc_id": doc.id,
                    "url": url,
                    "kind": m.kind,
                    "tokens": m.tokens,
                    "span": list(m.span) if m.span else None,
                    "matched_text": m.matched_text[:MAX_MATCHED_CHARS],
                    "action": action,
                }
            )
        benchmarks = sorted({m.benchmark for m in matches}, key=lambda name: self._order.get(name, 0))
        for name in benchmarks:
            self.stat_update(f"hit_{name}")
        return benchmarks[0]

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        matcher = self.matcher
        if self.mode == "drop":
            with self.track_time():
                matches = matcher.matches(doc.text)
            if not matches:
                return True
            first = self._record(doc, matches, "dropped")
            doc.metadata["contamination"] = sorted({f"{m.benchmark}/{m.item_id}" for m in matches})
            return False, f"contaminated:{first}"
        with self.track_time():
            result = matcher.clean(doc.text)
        if not result.matches:
            return True
        action = "dropped" if not result.text else "segment_removed"
        first = self._record(doc, result.matches, action)
        if not result.text:
            doc.metadata["contamination"] = sorted({f"{m.benchmark}/{m.item_id}" for m in result.matches})
            return False, f"contaminated:{first}"
        doc.text = result.text
        doc.metadata["decontam"] = {
            "removed_paragraphs": result.removed_paragraphs,
            "benchmarks": sorted({m.benchmark for m in result.matches}),
        }
        self.stat_update("documents_changed")
        self.stat_update("paragraphs_removed", value=result.removed_paragraphs)
        return True
