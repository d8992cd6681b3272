"""Datatrove steps of the ingest stage: extraction that keeps math, URL metadata, and exact URL dedup.

URL dedup is global and deterministic: every task records (id, URL hash) in order; one process marks each
later record of a URL already seen (in task order, then record order) as a duplicate; a second pass drops those.
That gives the same output on any executor and any number of workers.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from deepmath.io.atomic import atomic_write_bytes, atomic_write_json

__all__ = ["MathHtmlExtractor", "UrlDuplicateFilter", "UrlHashRecorder", "find_duplicate_urls"]

logger = logging.getLogger(__name__)

POSITION_KEY = "_ingest_position"  # set in pass 1, removed in pass 2; never reaches the output


class MathHtmlExtractor(PipelineStep):
    """HTML -> text with math as LaTeX; adds url/domain/path and text statistics to metadata."""

    name = "∑ math html extractor"
    type = "🛢 - EXTRAC"

    def __init__(self, max_bytes: int, min_chars: int = 1, languages: list[str] | None = None):
        super().__init__()
        self.max_bytes = max_bytes
        self.min_chars = min_chars
        self.languages = frozenset(languages or ())

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from deepmath.ingest.extract import PageTooLarge, extract_html
        from deepmath.ingest.quality import text_stats
        from deepmath.ingest.urls import normalize_url, registered_domain, url_path

        for doc in data:
            meta = doc.metadata
            self.stat_update("documents_in")
            if meta.pop("too_large", False):
                self.stat_update("dropped_page_too_large")
                continue
            if meta.pop("needs_extraction", False):
                raw = doc.text.encode("latin-1")
                try:
                    with self.track_time():
                        extracted = extract_html(
                            raw, url=meta.get("url"), charset=meta.pop("charset", None), max_bytes=self.max_bytes
                        )
                except PageTooLarge:
                    self.stat_update("dropped_page_too_large")
                    continue
                except Exception as err:
                    logger.warning("extraction failed for %s: %s", meta.get("url") or doc.id, err)
                    self.stat_update("dropped_extraction_error")
                    continue
                doc.text = extracted.text
                if extracted.title:
                    meta["title"] = extracted.title
                meta["n_math"] = extracted.n_math
            if len(doc.text.strip()) < self.min_chars:
                self.stat_update("dropped_empty_text")
                continue
            url = meta.get("url")
            if url:
                try:
                    meta["url"] = normalize_url(url)
                    meta.setdefault("domain", registered_domain(meta["url"]))
                    meta.setdefault("url_path", url_path(meta["url"]))
                except ValueError:
                    # keep the page: its text is fine, only its address is unusable for domain statistics
                    self.stat_update("unparseable_url")
                    meta["domain"], meta["url_path"] = "", ""
            meta.update(text_stats(doc.text))
            if self.languages and meta["language"] not in self.languages:
                self.stat_update("dropped_language")
                continue
            self.stat_update("documents_out")
            yield doc


def _url_hash(url: str) -> int:
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest(), "little")


class LanguageCounter(PipelineStep):
    """Counts the documents passing through by `metadata.language` (counters `language_<code>`)."""

    name = "🌐 languages"
    type = "🔢 - STATS"

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        for doc in data:
            self.stat_update(f"language_{doc.metadata.get('language') or 'und'}")
            yield doc


def language_counts(counters: dict) -> dict[str, int]:
    """{code: documents} from `language_<code>` counters, most frequent first."""
    counts = {k.removeprefix("language_"): int(v) for k, v in counters.items() if k.startswith("language_")}
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class UrlHashRecorder(PipelineStep):
    """Passes documents through and saves (position, id, URL hash) of this task, in order, when the task ends.

    Positions (`task:index`), not ids, key the duplicate table: the same WARC file given twice repeats its record
    ids, and keying by id would drop both copies.
    """

    name = "🔗 url hashes"
    type = "🔢 - DEDUP"

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        positions, ids, hashes = [], [], []
        for index, doc in enumerate(data):
            position = f"{rank}:{index}"
            doc.metadata[POSITION_KEY] = position
            positions.append(position)
            ids.append(doc.id)
            url = doc.metadata.get("url")
            hashes.append(str(_url_hash(url)) if url else "")
            yield doc
        payload = json.dumps({"positions": positions, "ids": ids, "hashes": hashes}).encode()
        atomic_write_bytes(Path(self.folder) / f"{rank:05d}.json", payload)


def _first_occurrence(keys: list) -> np.ndarray:
    """For each position, the index of the first position with the same key (vectorised with np.unique)."""
    if not keys:
        return np.zeros(0, dtype=np.int64)
    _, first_index, inverse = np.unique(np.asarray(keys), return_index=True, return_inverse=True)
    return first_index[inverse.ravel()]


def find_duplicate_urls(folder: str | Path, out_path: str | Path, by_url: bool = True) -> dict[str, list[str]]:
    """{position: [reason, first id]} for later records of an id or a URL seen before, in (task, record) order."""
    positions: list[str] = []
    ids: list[str] = []
    hashes: list[str] = []
    for path in sorted(Path(folder).glob("*.json"), key=lambda p: int(p.stem)):
        data = json.loads(path.read_text())
        positions.extend(data["positions"])
        ids.extend(data["ids"])
        hashes.extend(data["hashes"])
    duplicates: dict[str, list[str]] = {}
    first = _first_occurrence(ids)
    for index in np.nonzero(first != np.arange(len(ids)))[0]:
        duplicates[positions[index]] = ["duplicate_id", ids[first[index]]]
    if by_url:
        with_url = np.array([i for i, h in enumerate(hashes) if h], dtype=np.int64)
        first = with_url[_first_occurrence([int(hashes[i]) for i in with_url])] if len(with_url) else with_url
        for index, first_index in zip(with_url, first):
            if index != first_index and positions[index] not in duplicates:
                duplicates[positions[index]] = ["duplicate_url", ids[first_index]]
    atomic_write_json(out_path, duplicates)
    return duplicates


class UrlDuplicateFilter(PipelineStep):
    """Drops the records `find_duplicate_urls` marked, counting `dropped_duplicate_url` / `dropped_duplicate_id`."""

    name = "🔗 url dedup"
    type = "🔻 - FILTER"

    def __init__(self, duplicates_path: str):
        super().__init__()
        self.duplicates_path = duplicates_path

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        duplicates = json.loads(Path(self.duplicates_path).read_text())
        for doc in data:
            position = doc.metadata.pop(POSITION_KEY, None)
            if position in duplicates:
                self.stat_update(f"dropped_{duplicates[position][0]}")
                continue
            self.stat_update("forwarded")
            yield doc
