"""Reading Common Crawl: WARC `response` records (HTML) and WET `conversion` records (text), plus JSONL/Parquet.

Broken input never stops the run: a corrupt or truncated gzip keeps the records read before the break and counts
`file_truncated`; a file that is not WARC at all counts `file_not_warc`; non-HTML responses count `non_html`.
`strict=True` turns each of these into an error instead.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

__all__ = ["INGEST_SUFFIXES", "CommonCrawlReader", "RawRecord", "TruncatedArchive", "iter_warc_records"]

logger = logging.getLogger(__name__)

INGEST_SUFFIXES = (
    ".warc",
    ".warc.gz",
    ".wet",
    ".wet.gz",
    ".arc.gz",
    ".jsonl",
    ".jsonl.gz",
    ".json",
    ".json.gz",
    ".parquet",
)
_DOC_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet", ".jsonl.zst")


@dataclass
class RawRecord:
    """One record before extraction: HTML bytes or plain text, with what the WARC said about it."""

    id: str
    url: str
    payload: bytes | None  # HTML or text bytes; None when the record was too large to read
    kind: str  # "html" | "text"
    charset: str | None
    date: str | None
    too_large: bool = False


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip("\"' ").lower()
    return None


def _open_binary(path: str):
    if "://" in path and not path.startswith("file://"):
        import fsspec

        return fsspec.open(path, "rb").open()
    return open(path.removeprefix("file://"), "rb")


class TruncatedArchive(EOFError):
    """The gzip stream of a WARC ended inside a member: everything before the cut was read."""


def _checked_iterator(stream):
    """warcio's iterator, but a gzip member cut short raises TruncatedArchive instead of ending quietly.

    warcio stops without a word when the last gzip member is incomplete, which silently loses the records in it;
    the decompressor's `eof` flag at close time tells a clean end from a cut.
    """
    from warcio.archiveiterator import ArchiveIterator

    class _Checked(ArchiveIterator):
        truncated = False

        def close(self):
            decompressor = self.reader.decompressor if self.reader else None
            if decompressor is not None and not getattr(decompressor, "eof", True):
                self.truncated = True
            super().close()

    iterator = _Checked(stream, arc2warc=True)
    yield from iterator
    if iterator.truncated:
        raise TruncatedArchive("gzip stream ends inside a record (truncated download?)")


def iter_warc_records(path: str, max_bytes: int, counter=None) -> Iterator[RawRecord]:
    """HTML responses and WET conversions of one WARC/WET file; other records are counted, not yielded."""
    count = counter or (lambda key, n=1: None)
    with _open_binary(path) as stream:
        for record in _checked_iterator(stream):
            rtype = record.rec_type
            if rtype not in ("response", "conversion"):
                continue
            headers = record.rec_headers
            record_id = (headers.get_header("WARC-Record-ID") or "").strip("<>")
            url = headers.get_header("WARC-Target-URI") or ""
            date = headers.get_header("WARC-Date")
            if rtype == "conversion":
                kind, charset = "text", "utf-8"
            else:
                http = record.http_headers
                status = http.get_statuscode() if http else None
                content_type = (http.get_header("Content-Type") if http else None) or ""
                if status and not str(status).startswith("2"):
                    count("skipped_http_status")
                    continue
                if "html" not in content_type.lower() and "xml" not in content_type.lower():
                    count("skipped_non_html")
                    continue
                kind, charset = "html", _charset(content_type)
            payload = record.content_stream().read(max_bytes + 1)
            if len(payload) > max_bytes:
                yield RawRecord(record_id, url, None, kind, charset, date, too_large=True)
                continue
            yield RawRecord(record_id, url, payload, kind, charset, date)


class CommonCrawlReader(PipelineStep):
    """Reads WARC/WET (and JSONL/Parquet documents), sharded by file over tasks; yields documents to extract.

    HTML documents carry the raw page in `text` and `metadata.needs_extraction = True`; the extractor step turns
    them into text. Too-large pages are passed on with `metadata.too_large = True` so the drop is counted once,
    in one place, with its reason.
    """

    name = "🕸 common crawl"
    type = "📖 - READER"

    def __init__(
        self, files: list[str], max_bytes: int, limit_per_task: int = -1, strict: bool = False, text_key="text"
    ):
        super().__init__()
        self.files = list(files)
        self.max_bytes = max_bytes
        self.limit_per_task = limit_per_task
        self.strict = strict
        self.text_key = text_key

    def _documents_from_file(self, path: str) -> Iterator[Document]:
        if path.endswith(_DOC_SUFFIXES):
            from deepmath.io.documents import iter_raw_rows, row_to_document

            for number, row in iter_raw_rows(path):
                doc = row_to_document(row, f"{path.rsplit('/', 1)[-1]}/{number}", text_key=self.text_key)
                if doc is None:
                    self.stat_update("skipped_no_text")
                    continue
                doc.metadata["source_format"] = "documents"
                yield doc
            return
        for record in iter_warc_records(path, self.max_bytes, self.stat_update):
            metadata = {"url": record.url, "warc_date": record.date, "source_format": record.kind}
            if record.too_large:
                metadata["too_large"] = True
                yield Document(text="", id=record.id, metadata=metadata)
                continue
            if record.kind == "html":
                metadata["needs_extraction"] = True
                metadata["charset"] = record.charset
                text = record.payload.decode("latin-1")  # lossless carrier; the extractor decodes properly
            else:
                text = record.payload.decode(record.charset or "utf-8", errors="replace")
            yield Document(text=text, id=record.id, metadata=metadata)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        from warcio.exceptions import ArchiveLoadFailed

        if data:
            yield from data
        from tqdm import tqdm

        produced = 0
        files = self.files[rank::world_size]
        for path in tqdm(files, desc=f"ingest task {rank}", unit="file", disable=None, leave=False):
            try:
                for doc in self._documents_from_file(path):
                    if 0 <= self.limit_per_task <= produced:
                        return
                    produced += 1
                    self.stat_update("records")
                    yield doc
                self.stat_update("files_read")
            except ArchiveLoadFailed as err:
                self._broken(path, "file_not_warc", err)
            except (EOFError, zlib.error, OSError) as err:
                self._broken(path, "file_truncated", err)
            except (ValueError, UnicodeDecodeError) as err:
                self._broken(path, "file_unreadable", err)

    def _broken(self, path: str, reason: str, err: Exception) -> None:
        if self.strict:
            raise RuntimeError(f"{path}: {reason.removeprefix('file_').replace('_', ' ')}: {err}") from err
        logger.warning("skipping the rest of %s (%s): %s", path, reason, err)
        self.stat_update(f"skipped_{reason}")
