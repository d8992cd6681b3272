"""Real Common Crawl-style WARC files with warcio: warcinfo, then request + response records with HTTP headers.

Record ids and dates come from the seeded random generator (warcio would use uuid4 and the clock), so the same
seed writes byte-identical files. Besides the HTML pages each file holds the records a crawl always has and an
ingest must skip: robots.txt, an image, a 404 page and a redirect.
"""

from __future__ import annotations

import io
import random
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from deepmath.demo.html import render_page
from deepmath.demo.world import PlannedPage
from deepmath.io.atomic import atomic_write_bytes

__all__ = ["write_warcs"]

_START = datetime(2024, 2, 20, tzinfo=timezone.utc)
_PNG = b"\x89PNG\r\n\x1a\n" + bytes(120)


class _Records:
    """Deterministic ids and timestamps for one WARC file."""

    def __init__(self, writer: WARCWriter, rng: random.Random, index: int):
        self.writer, self.rng = writer, rng
        self.clock = _START + timedelta(hours=index)

    def record_id(self) -> str:
        return f"<urn:uuid:{uuid.UUID(int=self.rng.getrandbits(128), version=4)}>"

    def date(self) -> str:
        self.clock += timedelta(seconds=self.rng.randint(1, 9))
        return self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def fetch(self, url: str, status: str, content_type: str, body: bytes, extra: list | None = None) -> str:
        """A request and its response; returns the response's WARC-Record-ID."""
        date = self.date()
        host = url.split("/")[2]
        path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
        request_id, response_id = self.record_id(), self.record_id()
        request_http = StatusAndHeaders(
            f"GET {path} HTTP/1.1",
            [("Host", host), ("User-Agent", "deepmath-demo-crawler/1.0"), ("Accept", "text/html,*/*;q=0.8")],
            is_http_request=True,
        )
        request = self.writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=request_http,
            warc_headers_dict={"WARC-Record-ID": request_id, "WARC-Date": date, "WARC-Concurrent-To": response_id},
        )
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Server", "nginx"),
            ("Date", date),
            *(extra or []),
        ]
        response = self.writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1"),
            warc_headers_dict={"WARC-Record-ID": response_id, "WARC-Date": date, "WARC-IP-Address": "192.0.2.10"},
        )
        self.writer.write_record(request)
        self.writer.write_record(response)
        return response_id


def _write_one(path: Path, pages: list[PlannedPage], rng: random.Random, index: int, progress) -> list[dict]:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    records = _Records(writer, rng, index)
    info = b"software: deepmath demo-data\r\nformat: WARC File Format 1.0\r\ndescription: generated demo crawl\r\n"
    writer.write_record(
        writer.create_warc_record(
            "",
            "warcinfo",
            payload=io.BytesIO(info),
            warc_content_type="application/warc-fields",
            warc_headers_dict={
                "WARC-Record-ID": records.record_id(),
                "WARC-Date": records.date(),
                "WARC-Filename": path.name,
            },
        )
    )
    labels = []
    extras = [
        (f"https://{pages[0].site.domain}/robots.txt", "200 OK", "text/plain", b"User-agent: *\nDisallow: /admin\n"),
        (f"https://{pages[-1].site.domain}/static/logo.png", "200 OK", "image/png", _PNG),
        (
            f"https://{pages[0].site.domain}/old-page-{index}",
            "404 Not Found",
            "text/html; charset=utf-8",
            b"<html><body><h1>Not found</h1></body></html>",
        ),
    ]
    for position, page in enumerate(pages):
        if position in (1, len(pages) // 2, len(pages) - 1) and extras:
            records.fetch(*extras.pop())
        html = render_page(page.site, page.url, page.title, page.blocks, page.markup, page.variant, page.related)
        record_id = records.fetch(page.url, "200 OK", "text/html; charset=utf-8", html.encode("utf-8"))
        progress.update()
        labels.append(
            {
                "record_id": record_id,
                "url": page.url,
                "label": page.label,
                "topic": page.topic,
                "kind": page.kind,
                "domain": urlsplit(page.url).hostname,
                "markup": page.markup,
                "source": page.source,
                "file": path.name,
            }
        )
    redirect_to = pages[0].url
    records.fetch(
        redirect_to.rsplit("/", 1)[0] + "/moved",
        "301 Moved Permanently",
        "text/html",
        b"",
        extra=[("Location", redirect_to)],
    )
    atomic_write_bytes(path, buffer.getvalue())
    return labels


def write_warcs(
    pages: list[PlannedPage], folder: Path, files: int, rng: random.Random
) -> tuple[list[Path], list[dict]]:
    """Spread `pages` (in order) over `files` gzip WARC files; returns the paths and one label row per page."""
    folder.mkdir(parents=True, exist_ok=True)
    files = max(1, min(files, len(pages)))
    per_file = -(-len(pages) // files)
    from tqdm.auto import tqdm

    paths, labels = [], []
    progress = tqdm(total=len(pages), desc="demo-data: pages", unit="page", leave=False)
    for index in range(files):
        chunk = pages[index * per_file : (index + 1) * per_file]
        if not chunk:
            break
        path = folder / f"CC-DEMO-2024-08-{index:05d}.warc.gz"
        labels += _write_one(path, chunk, random.Random(rng.getrandbits(64)), index, progress)
        paths.append(path)
    progress.close()
    return paths, labels
