"""WARC files written by the tests themselves with warcio: every math markup, and every kind of broken input."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

MATHJAX_PAGE = """<html><head><title>Geometric series</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<main><h1>Geometric series</h1>
<p>For |r| &lt; 1 the sum of the series is</p>
<script type="math/tex; mode=display">\\sum_{n=0}^\\infty a r^n = \\frac{a}{1-r}</script>
<p>and the ratio is <script type="math/tex">r</script> here, where \\(a\\) is the first term.</p></main>
<footer>Copyright 2024 Example footer text</footer></body></html>"""

KATEX_PAGE = """<html><head><title>Quadratics</title></head><body><article><p>A quadratic equation is
<span class="katex"><span class="katex-mathml"><math><semantics><mrow><mi>a</mi><msup><mi>x</mi><mn>2</mn></msup>
<mo>+</mo><mi>b</mi><mi>x</mi><mo>+</mo><mi>c</mi><mo>=</mo><mn>0</mn></mrow>
<annotation encoding="application/x-tex">ax^2+bx+c=0</annotation></semantics></math></span>
<span class="katex-html" aria-hidden="true"><span class="mord mathnormal">a</span><span class="mord">x</span>
<span class="mord">2</span><span class="mbin">+</span><span class="mord">bx</span><span class="mrel">=</span>
<span class="mord">0</span></span></span> and we solve it below.</p></article></body></html>"""

MATHML_PAGE = """<html><head><title>Formula</title></head><body><div id="content"><p>The roots are</p>
<math display="block"><mi>x</mi><mo>=</mo><mfrac><mrow><mo>-</mo><mi>b</mi><mo>&#xB1;</mo>
<msqrt><msup><mi>b</mi><mn>2</mn></msup><mo>-</mo><mn>4</mn><mi>a</mi><mi>c</mi></msqrt></mrow>
<mrow><mn>2</mn><mi>a</mi></mrow></mfrac></math><p>for any real coefficients.</p></div></body></html>"""

ALT_PAGE = """<html><head><title>Discriminant</title></head><body><p>The discriminant is
<img src="https://latex.codecogs.com/gif.latex?b^2-4ac" alt="b^2-4ac" class="latex"/> which decides the
number of real roots.</p></body></html>"""

PLAIN_PAGE = """<html><head><title>Gardening</title></head><body><p>Tomatoes need sun and water every
day in summer.</p></body></html>"""


def _response(
    writer: WARCWriter,
    url: str,
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    record_id: str | None = None,
):
    http = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
    warc_headers = {"WARC-Record-ID": record_id} if record_id else None
    record = writer.create_warc_record(
        url, "response", payload=io.BytesIO(body), http_headers=http, warc_headers_dict=warc_headers
    )
    writer.write_record(record)


def write_math_warc(path: Path) -> Path:
    """One WARC with every math markup, a duplicate URL, a non-HTML record, a 404 and a non-UTF-8 page."""
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        _response(writer, "https://mathpages.example/series/geometric", MATHJAX_PAGE.encode())
        _response(writer, "https://Mathpages.example/series/geometric?utm_source=x#top", MATHJAX_PAGE.encode())
        _response(writer, "https://katex.example/algebra/quadratic", KATEX_PAGE.encode())
        _response(writer, "https://mathml.example/formula", MATHML_PAGE.encode())
        _response(writer, "https://blog.example/math/discriminant", ALT_PAGE.encode())
        _response(writer, "https://blog.example/garden/tomatoes", PLAIN_PAGE.encode())
        _response(writer, "http://bad-port.example:99999x/page", PLAIN_PAGE.replace("sun", "moon").encode())
        _response(writer, "https://img.example/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png")
        _response(writer, "https://gone.example/x", b"<html>missing</html>", status="404 Not Found")
        latin = (
            "<html><head><title>Caf\xe9</title></head><body><p>Caf\xe9 cr\xe8me and a proof that "
            "\\(x^2 \\geq 0\\).</p></body></html>"
        )
        _response(writer, "https://latin.example/cafe", latin.encode("latin-1"), "text/html; charset=iso-8859-1")
    return path


def write_giant_warc(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        body = ("<html><body><p>" + "big page " * (size // 9) + "</p></body></html>").encode()
        _response(writer, "https://giant.example/page", body)
        _response(writer, "https://small.example/page", PLAIN_PAGE.encode())
    return path


def write_truncated_warc(source: Path, path: Path) -> Path:
    """A gzip WARC cut in the middle of its last member: the records before the cut must survive."""
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.8)])
    return path


def write_not_warc(path: Path) -> Path:
    path.write_bytes(gzip.compress(b"this is just a text file, not a WARC at all\n" * 10))
    return path


def write_many_warcs(folder: Path, n_files: int, pages_per_file: int) -> list[Path]:
    """Many small WARCs (for kill/resume and executor tests); URLs repeat across files to exercise URL dedup."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(n_files):
        path = folder / f"part-{f:03d}.warc.gz"
        with open(path, "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for p in range(pages_per_file):
                url = f"https://site.example/page/{(f * pages_per_file + p) % (n_files * pages_per_file - 3)}"
                body = MATHJAX_PAGE.replace("Geometric series", f"Series {f}-{p}") if p % 2 else PLAIN_PAGE
                _response(writer, url, body.replace("Tomatoes", f"Tomatoes {f} {p}").encode())
        paths.append(path)
    return paths
