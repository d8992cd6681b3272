"""Hostile WARCs written by the tests: gzip bombs streamed to disk (never held in memory), lying Content-Lengths."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.ingest.warc_fixtures import MATHJAX_PAGE, PLAIN_PAGE

_CHUNK = 1 << 22


def _gzip_zeros(handle, n_bytes: int, prefix: bytes = b"") -> None:
    """One gzip member holding `prefix` and `n_bytes` zero bytes, compressed chunk by chunk."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, 31)
    handle.write(compressor.compress(prefix))
    zeros = bytes(_CHUNK)
    left = n_bytes
    while left > 0:
        handle.write(compressor.compress(zeros if left >= _CHUNK else zeros[:left]))
        left -= _CHUNK
    handle.write(compressor.flush())


def write_zero_bomb(path: Path, n_bytes: int) -> Path:
    """A `.warc.gz` that inflates to `n_bytes` zeros: no WARC header, no newline, one giant "first line"."""
    with open(path, "wb") as handle:
        _gzip_zeros(handle, n_bytes)
    return path


def _record(url: str, body: bytes) -> bytes:
    """One uncompressed WARC response record."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))
    return buffer.getvalue()


def write_bomb_record_warc(path: Path, n_bytes: int) -> Path:
    """A `.warc.gz`: a normal page, then a response record whose HTML body is `n_bytes` zeros (honest length)."""
    with open(path, "wb") as handle:
        handle.write(zlib.compress(_record("https://before-bomb.example/", MATHJAX_PAGE.encode()), wbits=31))
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
        headers = (
            "WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://bomb.example/\r\n"
            "WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000b0b0>\r\n"
            "WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http) + n_bytes}\r\n\r\n"
        ).encode()
        _gzip_zeros(handle, n_bytes, prefix=headers + http)
    return path


def write_lying_length_warc(path: Path, claimed: int = 4 * 2**30) -> Path:
    """An uncompressed WARC of three pages; the middle record claims `claimed` bytes of content."""
    first = _record("https://first.example/", MATHJAX_PAGE.replace("Geometric series", "First page").encode())
    liar = _record("https://liar.example/", PLAIN_PAGE.encode())
    head, _, rest = liar.partition(b"\r\n\r\n")
    lines = [
        f"Content-Length: {claimed}".encode() if line.startswith(b"Content-Length:") else line
        for line in head.split(b"\r\n")
    ]
    liar = b"\r\n".join(lines) + b"\r\n\r\n" + rest
    last = _record("https://last.example/", MATHJAX_PAGE.replace("Geometric series", "Last page").encode())
    path.write_bytes(first + liar + last)
    return path
