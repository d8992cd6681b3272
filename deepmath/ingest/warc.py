"""Reading Common Crawl: WARC `response` records (HTML) and WET `conversion` records (text), plus JSONL/Parquet.

Broken input never stops the run: a corrupt or truncated gzip keeps the records read before the break and counts
`file_truncated`; a file that is not WARC at all counts `file_not_warc`; non-HTML responses count `non_html`.
`strict=True` turns each of these into an error instead.

Memory stays bounded on hostile input: header lines are capped (`header_too_long`: e.g. a gzip bomb of zeros), a
page is read up to `max_bytes` (`page_too_large`), a record of a compressed file is inflated up to
`max_record_bytes` and the rest of that file is skipped beyond it (`record_too_large`: a gzip bomb), and in an
uncompressed file a record whose Content-Length lies (runs past its end) is skipped without swallowing the next
record (`record_bad_length`). Named pipes and devices are never opened (`not_regular_file`).
"""

from __future__ import annotations

import logging
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed

from deepmath.io.limits import NotRegularFile, check_regular_file, shorten

__all__ = [
    "INGEST_SUFFIXES",
    "MAX_RECORD_BYTES",
    "CommonCrawlReader",
    "HeaderTooLong",
    "RawRecord",
    "RecordTooLarge",
    "TruncatedArchive",
    "iter_warc_records",
]

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


class RecordTooLarge(ValueError):
    """A record of a compressed WARC inflates past `max_record_bytes` (a gzip bomb): the rest of the file is skipped."""


MAX_HEADER_LINE = 64 * 1024  # WARC and HTTP header lines; servers refuse lines over 8-16 KB
MAX_RECORD_BYTES = 2**30
_DRAIN_CHUNK = 1 << 20
_RESYNC_CHUNK = 1 << 20
_NEXT_RECORD = b"\nWARC/1."


class HeaderTooLong(ArchiveLoadFailed):
    """A WARC or HTTP header line longer than MAX_HEADER_LINE: the file is not WARC (or a gzip bomb of zeros)."""


class _CappedReader(DecompressingBufferedReader):
    """warcio's reader, but a header line longer than MAX_HEADER_LINE raises instead of growing without bound.

    warcio reads WARC and HTTP header lines with an unbounded `readline()`: a gzip bomb of zeros (no newline) is
    one "line" of gigabytes, and warcio copies it into its "Unknown archive format, first line: ..." error.
    """

    def readline(self, length=None):
        if length is not None and length <= MAX_HEADER_LINE:
            return super().readline(length)
        line = super().readline(MAX_HEADER_LINE + 1)
        if len(line) > MAX_HEADER_LINE:
            raise HeaderTooLong(f"a header line longer than {MAX_HEADER_LINE:,} bytes: {shorten(line, 80)}")
        return line


class _CheckedIterator(ArchiveIterator):
    """warcio's iterator with capped header lines; a gzip member cut short is remembered (`truncated`).

    warcio stops without a word when the last gzip member is incomplete, which silently loses the records in it;
    the decompressor's `eof` flag at close time tells a clean end from a cut.
    """

    truncated = False

    def __init__(self, stream, **kwargs):
        super().__init__(stream, **kwargs)
        self.reader = _CappedReader(self.fh, block_size=self.reader.block_size)

    def close(self):
        decompressor = self.reader.decompressor if self.reader else None
        if decompressor is not None and not getattr(decompressor, "eof", True):
            self.truncated = True
        super().close()


def _file_size(stream) -> tuple[int, int] | None:
    """(fd, size) of a local file stream, None for streams without a file descriptor (fsspec URLs)."""
    try:
        fd = stream.fileno()
        return fd, os.fstat(fd).st_size
    except (AttributeError, OSError, ValueError):
        return None


def _framed(fd: int, end: int, size: int) -> bool:
    """Does an uncompressed record that claims to end at `end` really end there (blank lines, then EOF or WARC/)?"""
    if end > size:
        return False
    tail = os.pread(fd, 16, end)
    rest = tail.lstrip(b"\r\n")
    return len(tail) - len(rest) <= 4 and (rest == b"" or rest.startswith(b"WARC/"))


def _next_record_start(fd: int, start: int, size: int) -> int | None:
    """File offset of the next `WARC/1.x` line after `start` (a bounded scan in chunks), None when there is none."""
    position = start
    while position < size:
        chunk = os.pread(fd, _RESYNC_CHUNK + len(_NEXT_RECORD), position)
        found = chunk.find(_NEXT_RECORD)
        if found >= 0:
            return position + found + 1
        position += _RESYNC_CHUNK
    return None


def _checked_iterator(stream, max_record_bytes: int = MAX_RECORD_BYTES, count=None):
    """warcio records with bounded memory and honest lengths.

    - Header lines are capped (MAX_HEADER_LINE); a longer line ends the file as not WARC.
    - Compressed files: a record is read past (after the caller is done with it) only up to `max_record_bytes` of
      inflated content; beyond that, RecordTooLarge (a gzip bomb costs bounded time and memory).
    - Uncompressed local files: a record whose Content-Length runs past its end (past EOF, or not followed by blank
      lines and the next `WARC/` line) is a counted skip (`record_bad_length`) and reading resumes at the next
      `WARC/1.x` line after its headers, so it never swallows its neighbour.
    """
    count = count or (lambda key, n=1: None)
    local = _file_size(stream)
    while True:
        iterator = _CheckedIterator(stream, arc2warc=True)
        resync = None
        for record in iterator:
            plain = iterator.reader.decompressor is None
            if plain and local is not None and record.length is not None:
                fd, size = local
                content = stream.tell() - iterator.reader.rem_length()
                end = content + getattr(record.raw_stream, "limit", 0)
                if not _framed(fd, end, size):
                    count("skipped_record_bad_length")
                    logger.warning(
                        "a record's Content-Length runs past its end at byte %d; skipped, resyncing", content
                    )
                    resync = _next_record_start(fd, content, size)
                    break
            yield record
            if not plain:
                raw = record.raw_stream
                while raw.read(_DRAIN_CHUNK):
                    if raw.tell() > max_record_bytes:
                        raise RecordTooLarge(
                            f"a record inflates past max_record_bytes={max_record_bytes:,} (gzip bomb?)"
                        )
        if resync is None:
            if iterator.truncated:
                raise TruncatedArchive("gzip stream ends inside a record (truncated download?)")
            return
        iterator.close()
        stream.seek(resync)


def iter_warc_records(
    path: str, max_bytes: int, counter=None, max_record_bytes: int = MAX_RECORD_BYTES
) -> Iterator[RawRecord]:
    """HTML responses and WET conversions of one WARC/WET file; other records are counted, not yielded."""
    count = counter or (lambda key, n=1: None)
    check_regular_file(path)
    with _open_binary(path) as stream:
        for record in _checked_iterator(stream, max_record_bytes, count):
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
        self,
        files: list[str],
        max_bytes: int,
        limit_per_task: int = -1,
        strict: bool = False,
        text_key="text",
        max_record_bytes: int = MAX_RECORD_BYTES,
        input_skips: dict[str, int] | None = None,
    ):
        super().__init__()
        self.input_skips = dict(input_skips or {})  # what input resolution left out, counted by task 0
        self.files = list(files)
        self.max_bytes = max_bytes
        self.max_record_bytes = max(max_record_bytes, max_bytes)
        self.limit_per_task = limit_per_task
        self.strict = strict
        self.text_key = text_key

    def _documents_from_file(self, path: str) -> Iterator[Document]:
        if path.endswith(_DOC_SUFFIXES):
            from deepmath.io.documents import iter_raw_rows, row_to_document

            for number, row in iter_raw_rows(path, self._row_skipped, self.strict):
                doc = row_to_document(row, f"{path.rsplit('/', 1)[-1]}/{number}", text_key=self.text_key)
                if doc is None:
                    self.stat_update("skipped_no_text")
                    continue
                doc.metadata["source_format"] = "documents"
                yield doc
            return
        for record in iter_warc_records(path, self.max_bytes, self.stat_update, self.max_record_bytes):
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

    def _row_skipped(self, reason: str) -> None:
        self.stat_update(f"skipped_{reason}")

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data:
            yield from data
        from tqdm import tqdm

        produced = 0
        if rank == 0:
            for reason, n in self.input_skips.items():
                self.stat_update(f"skipped_{reason}", value=n)
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
            except NotRegularFile as err:
                self._broken(path, "not_regular_file", err)
            except HeaderTooLong as err:
                self._broken(path, "header_too_long", err)
            except RecordTooLarge as err:
                self._broken(path, "record_too_large", err)
            except ArchiveLoadFailed as err:
                self._broken(path, "file_not_warc", err)
            except (EOFError, zlib.error, OSError) as err:
                self._broken(path, "file_truncated", err)
            except (ValueError, UnicodeDecodeError) as err:
                self._broken(path, "file_unreadable", err)

    def _broken(self, path: str, reason: str, err: Exception) -> None:
        if self.strict:
            raise RuntimeError(
                f"{shorten(path)}: {reason.removeprefix('file_').replace('_', ' ')}: {shorten(str(err))}"
            ) from err
        logger.warning("skipping the rest of %s (%s): %s", shorten(path), reason, shorten(str(err)))
        self.stat_update(f"skipped_{reason}")
