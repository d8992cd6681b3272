"""The datatrove step of the decontam stage: scan documents against a saved index, drop or cut the contaminated.

Each task loads the index file once (`ContaminationMatcher.load`), filters its shard and, when the shard is done,
writes its hits to `HITS/<rank>.jsonl` atomically; the stage merges those files into the report. A resumed run
skips finished tasks, whose hit files are already there.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter
from datatrove.pipeline.writers.disk_base import DiskWriter

from deepmath.io.atomic import atomic_write_bytes, atomic_write_text

__all__ = ["ContaminationFilter", "ContaminationSurvey", "corpus_common_counts"]

logger = logging.getLogger(__name__)

MAX_MATCHED_CHARS = 1000  # matched text kept per hit in the report


class ContaminationSurvey(PipelineStep):
    """First pass: per index key, in how many documents of this shard it alone is evidence (`SURVEY/<rank>.npz`).

    The stage sums the shards; keys that flag `common_docs` documents or more are phrases of the corpus, not copies
    of a benchmark, and count only inside longer overlaps in the second pass (`ContaminationMatcher.mark_common`).
    """

    name = "🧪 contamination survey"
    type = "🔢 - STATS"

    def __init__(self, index_path: str, survey_folder: str):
        super().__init__()
        self.index_path = str(index_path)
        self.survey_folder = str(survey_folder)

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from deepmath.decontam.matcher import ContaminationMatcher

        matcher = ContaminationMatcher.load(self.index_path)
        docs = np.zeros(len(matcher.index.keys), dtype=np.int64)
        shapes = np.zeros(len(matcher.shape_values), dtype=np.int64)
        for doc in data or []:
            with self.track_time():
                keys, shape_ids = matcher.survey_text(doc.text)
                docs[keys] += 1
                shapes[shape_ids] += 1
            self.stat_update("documents")
        buffer = io.BytesIO()
        keys, shape_ids = np.flatnonzero(docs), np.flatnonzero(shapes)
        np.savez(buffer, keys=keys, counts=docs[keys], shape_ids=shape_ids, shape_counts=shapes[shape_ids])
        atomic_write_bytes(Path(self.survey_folder) / f"{rank:05d}.npz", buffer.getvalue())
        return
        yield


def corpus_common_counts(survey_folder: str | Path, n_keys: int, n_shapes: int) -> tuple[np.ndarray, np.ndarray]:
    """(documents per index key, documents per index shape) over every shard of a survey."""
    docs = np.zeros(n_keys, dtype=np.int64)
    shapes = np.zeros(n_shapes, dtype=np.int64)
    for path in sorted(Path(survey_folder).glob("*.npz")):
        with np.load(path) as data:
            np.add.at(docs, data["keys"], data["counts"])
            np.add.at(shapes, data["shape_ids"], data["shape_counts"])
    return docs, shapes


class ContaminationFilter(BaseFilter):
    """Drops contaminated documents (`mode="drop"`) or removes their contaminated paragraphs (`mode="segment"`).

    Drop reasons are `contaminated:<benchmark>` (the first benchmark, in the order given, that the document hits).
    In segment mode a document left without text is dropped with the same reason; changed documents are counted as
    `documents_changed` and keep `metadata["decontam"]` (paragraphs removed, benchmarks).
    """

    name = "🧪 benchmark decontamination"

    def __init__(
        self,
        index_path: str,
        mode: str,
        hits_folder: str,
        exclusion_writer: DiskWriter | None = None,
        common_path: str | None = None,
        common_docs: int = 0,
    ):
        super().__init__(exclusion_writer)
        self.common_path = str(common_path) if common_path else None
        self.common_docs = common_docs
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
            if self.common_path:
                with np.load(self.common_path) as counts:
                    self._matcher.mark_common(counts["docs"], counts["shapes"], self.common_docs)
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
