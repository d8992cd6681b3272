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


class MathHtmlExtractor(PipelineStep):
    """HTML -> text with math as LaTeX; adds url/domain/path and text statistics to metadata."""

    name = "∑ math html extractor"
    type = "🛢 - EXTRAC"

    def __init__(self, max_bytes: int, min_chars: int = 1):
        super().__init__()
        self.max_bytes = max_bytes
        self.min_chars = min_chars

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
                        extracted = extract_html(raw, url=meta.get("url"), charset=meta.pop("charset", None),
                                                 max_bytes=self.max_bytes)
                except PageTooLarge:
                    self.stat_update("dropped_page_too_large")
                    continue
                except Exception as err:  # noqa: BLE001 - one bad page must not end the run; counted and logged
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
                meta["url"] = normalize_url(url)
                meta.setdefault("domain", registered_domain(meta["url"]))
                meta.setdefault("url_path", url_path(meta["url"]))
            meta.update(text_stats(doc.text))
            self.stat_update("documents_out")
            yield doc


def _url_hash(url: str) -> int:
    return int.from_bytes(hashlib.blake2b(url.encode("utf-8"), digest_size=8).digest(), "little")


class UrlHashRecorder(PipelineStep):
    """Passes documents through and saves (id, URL hash) of this task, in order, when the task ends."""

    name = "🔗 url hashes"
    type = "🔢 - DEDUP"

    def __init__(self, folder: str):
        super().__init__()
        self.folder = folder

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        ids, hashes = [], []
        for doc in data:
            url = doc.metadata.get("url")
            if url:
                ids.append(doc.id)
                hashes.append(_url_hash(url))
            yield doc
        payload = json.dumps({"ids": ids, "hashes": [str(h) for h in hashes]}).encode()
        atomic_write_bytes(Path(self.folder) / f"{rank:05d}.json", payload)


def find_duplicate_urls(folder: str | Path, out_path: str | Path) -> dict[str, str]:
    """{duplicate id: first id with the same URL}, first in (task, record) order; saved to `out_path`."""
    ids: list[str] = []
    hashes: list[int] = []
    for path in sorted(Path(folder).glob("*.json")):
        data = json.loads(path.read_text())
        ids.extend(data["ids"])
        hashes.extend(int(h) for h in data["hashes"])
    duplicates: dict[str, str] = {}
    if hashes:
        array = np.array(hashes, dtype=np.uint64)
        _, first_index, inverse = np.unique(array, return_index=True, return_inverse=True)
        first_of_each = first_index[inverse]
        for position in np.nonzero(first_of_each != np.arange(len(array)))[0]:
            duplicates[ids[position]] = ids[first_of_each[position]]
    atomic_write_json(out_path, duplicates)
    return duplicates


class UrlDuplicateFilter(PipelineStep):
    """Drops the documents `find_duplicate_urls` marked, counting `dropped_duplicate_url`."""

    name = "🔗 url dedup"
    type = "🔻 - FILTER"

    def __init__(self, duplicates_path: str):
        super().__init__()
        self.duplicates_path = duplicates_path

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        duplicates = json.loads(Path(self.duplicates_path).read_text())
        for doc in data:
            if doc.id in duplicates:
                self.stat_update("dropped_duplicate_url")
                continue
            self.stat_update("forwarded")
            yield doc
