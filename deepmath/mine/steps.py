"""The datatrove steps of mining; each runs per task on local, Ray or Slurm executors.

- `PoolIndexer`: records id, url, domain, path, title, language and token count of every pool page (the pool index).
- `TrainingTextWriter`: writes the pool pages picked as extra positives or negatives as fastText lines.
- `MathScorer`: batch fastText prediction; sets `metadata.math_score` (usable in any datatrove pipeline).
- `ScoreRecorder`: keeps the scores of a task as `<rank>.npy` for the global selection.
- `SelectionFilter`: keeps the pages of the final selection, dropping the rest as `below_selection`.

Per-task outputs are written to a temporary name and renamed when the task ends, so a killed task leaves nothing
half-written and simply runs again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.pipeline.filters.base_filter import BaseFilter

from deepmath.io.atomic import atomic_open
from deepmath.mine.pool import PoolChanged, PoolIndex, rank_name

__all__ = [
    "PICK_NEGATIVE",
    "PICK_POSITIVE",
    "MathScorer",
    "PoolIndexer",
    "ScoreRecorder",
    "SelectionFilter",
    "TrainingTextWriter",
]

PICK_POSITIVE = 1
PICK_NEGATIVE = 2


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as handle:
        np.save(handle, array)


def _rank_slice(index_folder: str, array_path: str, rank: int) -> np.ndarray:
    index = PoolIndex.load(index_folder)
    array = np.load(array_path, mmap_mode="r")
    if len(array) != index.size:
        raise PoolChanged(f"{array_path}: {len(array)} entries for a pool of {index.size} pages")
    start = index.offsets[rank]
    return np.asarray(array[start : start + index.counts[rank]])


def _check_count(seen: int, expected: int, rank: int) -> None:
    if seen != expected:
        raise PoolChanged(
            f"task {rank} read {seen} pool pages but the pool index has {expected}: the pool changed since the first "
            "run; re-run with --overwrite"
        )


class PoolIndexer(PipelineStep):
    """Writes `<rank>.jsonl.gz` (id, url, domain, path, title, language) and `<rank>.tokens.npy` into the index.

    Tokens are counted in batches in the budget's unit (`deepmath.mine.tokens`); the language is the page's
    `metadata.language` when ingest set it, else identified here (`deepmath.ingest.language`).
    """

    name = "🗂 pool index"
    type = "🔢 - STATS"

    def __init__(
        self,
        folder: str,
        domain_key: str = "host",
        token_unit: str = "tokenizer",
        tokenizer: str = "deepseek",
        batch_size: int = 512,
    ):
        super().__init__()
        self.folder = folder
        self.domain_key = domain_key
        self.token_unit = token_unit
        self.tokenizer = tokenizer
        self.batch_size = batch_size

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from deepmath.ingest.language import identify_language
        from deepmath.mine.domains import url_parts
        from deepmath.mine.tokens import token_counter

        counter = token_counter(self.token_unit, self.tokenizer)
        folder = Path(self.folder)
        tokens: list[np.ndarray] = []
        rows: list[dict] = []
        texts: list[str] = []

        def flush(out) -> None:
            counts = counter.count(texts)
            tokens.append(counts)
            for row, n in zip(rows, counts.tolist()):
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                self.stat_update("tokens", value=n)
                self.stat_update(f"language_{row['language']}")
            rows.clear()
            texts.clear()

        with atomic_open(folder / f"{rank_name(rank)}.jsonl.gz", "w") as out:
            for doc in data or []:
                with self.track_time():
                    url, domain, path = url_parts(doc.metadata, self.domain_key)
                    title = str(doc.metadata.get("title") or "")[:200]
                    language = doc.metadata.get("language") or identify_language(doc.text)[0]
                    rows.append(
                        {
                            "id": doc.id,
                            "url": url,
                            "domain": domain,
                            "path": path,
                            "title": title,
                            "language": language,
                        }
                    )
                    texts.append(doc.text)
                    self.stat_update("pages")
                    if len(texts) >= self.batch_size:
                        flush(out)
            if texts:
                flush(out)
        counts = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int64)
        _save_npy(folder / f"{rank_name(rank)}.tokens.npy", counts.astype(np.int32))
        yield from ()


class TrainingTextWriter(PipelineStep):
    """Writes the picked pool pages of this task as `__label__math|other <normalised text>` lines."""

    name = "✍ training texts"
    type = "🔢 - STATS"

    def __init__(self, index_folder: str, picks_path: str, folder: str):
        super().__init__()
        self.index_folder = index_folder
        self.picks_path = picks_path
        self.folder = folder

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from deepmath.mine.classifier import MATH_LABEL, OTHER_LABEL
        from deepmath.mine.normalize import training_line

        picks = _rank_slice(self.index_folder, self.picks_path, rank)
        labels = {PICK_POSITIVE: MATH_LABEL, PICK_NEGATIVE: OTHER_LABEL}
        seen = 0
        with atomic_open(Path(self.folder) / f"{rank_name(rank)}.txt", "w") as out:
            for doc in data or []:
                if seen < len(picks) and picks[seen] in labels:
                    out.write(training_line(labels[int(picks[seen])], doc.text) + "\n")
                    self.stat_update(f"picked_{labels[int(picks[seen])]}")
                seen += 1
        _check_count(seen, len(picks), rank)
        yield from ()


class MathScorer(PipelineStep):
    """Scores pages with a fastText math model in batches; `metadata[score_key]` = P(math)."""

    name = "🧮 math score"
    type = "🔢 - STATS"

    def __init__(self, model_path: str, batch_size: int = 512, score_key: str = "math_score"):
        super().__init__()
        self.model_path = model_path
        self.batch_size = batch_size
        self.score_key = score_key
        self._model = None

    @property
    def model(self):
        if self._model is None:
            from deepmath.mine.classifier import load_model

            self._model = load_model(self.model_path)
        return self._model

    def score_batch(self, batch: list[Document]) -> None:
        from deepmath.mine.classifier import predict_math
        from deepmath.mine.normalize import normalize_text

        scores = predict_math(self.model, [normalize_text(doc.text) for doc in batch])
        for doc, score in zip(batch, scores.tolist()):
            doc.metadata[self.score_key] = score

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        batch: list[Document] = []
        for doc in data or []:
            batch.append(doc)
            if len(batch) >= self.batch_size:
                with self.track_time(unit="batch"):
                    self.score_batch(batch)
                self.stat_update("scored", value=len(batch))
                yield from batch
                batch = []
        if batch:
            with self.track_time(unit="batch"):
                self.score_batch(batch)
            self.stat_update("scored", value=len(batch))
            yield from batch


class ScoreRecorder(PipelineStep):
    """Saves this task's `metadata[score_key]` values, in reading order, as `<folder>/<rank>.npy`."""

    name = "💾 scores"
    type = "🔢 - STATS"

    def __init__(self, folder: str, index_folder: str, score_key: str = "math_score"):
        super().__init__()
        self.folder = folder
        self.index_folder = index_folder
        self.score_key = score_key

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        scores = [float(doc.metadata[self.score_key]) for doc in data or []]
        _check_count(len(scores), PoolIndex.load(self.index_folder).counts[rank], rank)
        _save_npy(Path(self.folder) / f"{rank_name(rank)}.npy", np.asarray(scores, dtype=np.float32))
        yield from ()


class SelectionFilter(BaseFilter):
    """Keeps the pages whose position is in the selection mask and stores their score in metadata.

    Dropped pages count as `below_selection`, or as `language` when `excluded_path` marks them (not in --languages).
    """

    name = "🎯 selection"

    def __init__(
        self,
        index_folder: str,
        mask_path: str,
        scores_path: str,
        score_key: str = "math_score",
        excluded_path: str | None = None,
    ):
        super().__init__()
        self.index_folder = index_folder
        self.mask_path = mask_path
        self.scores_path = scores_path
        self.score_key = score_key
        self.excluded_path = excluded_path  # pages outside --languages: dropped as "language"
        self._mask = self._scores = self._excluded = None
        self._position = 0

    def filter(self, doc: Document) -> bool | tuple[bool, str]:
        position = self._position
        self._position += 1
        if position >= len(self._mask):
            raise PoolChanged(f"the pool has more pages than its index ({len(self._mask)} in this task)")
        if not self._mask[position]:
            if self._excluded is not None and self._excluded[position]:
                return False, "language"
            return False, "below_selection"
        doc.metadata[self.score_key] = round(float(self._scores[position]), 6)
        return True

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        self._mask = _rank_slice(self.index_folder, self.mask_path, rank)
        self._scores = _rank_slice(self.index_folder, self.scores_path, rank)
        if self.excluded_path:
            self._excluded = _rank_slice(self.index_folder, self.excluded_path, rank)
        self._position = 0
        yield from super().run(data, rank, world_size)
        _check_count(self._position, len(self._mask), rank)
