"""Math-preserving HTML -> text: the extractor the Common Crawl stage runs on every HTML response.

Why not trafilatura (datatrove's default extractor): as OpenWebMath found, generic extractors drop MathJax scripts,
KaTeX/MathML renders and LaTeX image alt text, or turn them into glyph soup; this one keeps every formula as LaTeX,
once. Steps (one module each):

1. `htmltree`: decode (BOM > HTTP charset > `<meta>` > UTF-8, with replacement) and parse with lxml;
2. `mathmarkup`: swap each formula (MathJax scripts, KaTeX, MathJax v3, MathML, Wikipedia math, LaTeX images) for
   a placeholder holding its LaTeX, dropping rendered duplicates;
3. `boilerplate`: drop scripts/styles/forms and page furniture (nav, footer, sidebar, cookie banners, ...), then
   prefer `<main>`/`<article>` when they hold a substantial share of the text;
4. `linearize`: text in reading order with paragraph breaks, `$..$` / `$$..$$` for the placeholders, TeX typed
   into the page (`\\(..\\)`, `$..$`) kept verbatim.

Departures from OpenWebMath: no learned boilerplate model and no MathScore here (scoring is a later stage); typed
TeX is kept as is rather than re-delimited.

    >>> extract_html('<p>Sum: <script type="math/tex; mode=display">\\\\frac{a}{1-r}</script></p>').text
    'Sum:\\n$$\\\\frac{a}{1-r}$$'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deepmath.ingest.boilerplate import content_roots, remove_boilerplate
from deepmath.ingest.htmltree import decode_html, parse_document
from deepmath.ingest.linearize import to_text
from deepmath.ingest.mathmarkup import replace_math

__all__ = ["Extracted", "PageTooLarge", "extract_html"]

_TITLE_MAX_CHARS = 1000
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Extracted:
    """Result of `extract_html`: main text with math as LaTeX, the page title and how many formulas were kept."""

    text: str
    title: str | None
    n_math: int
    encoding: str | None = None  # codec the bytes were decoded with; None when str was given


class PageTooLarge(ValueError):
    """The page is larger than `max_bytes`; callers count it as a skip instead of parsing it."""

    def __init__(self, size: int, max_bytes: int, url: str | None = None) -> None:
        self.size = size
        self.max_bytes = max_bytes
        where = f"{url}: " if url else ""
        super().__init__(f"{where}page is {size} bytes, over max_bytes={max_bytes}")


def extract_html(
    html: str | bytes, *, url: str | None = None, charset: str | None = None, max_bytes: int = 5_000_000
) -> Extracted:
    """Extract the main text of an HTML page, keeping math as LaTeX.

    Args:
        html: the page, as bytes (decoded here) or already-decoded text.
        url: the page URL; only used in error messages.
        charset: charset from the HTTP `Content-Type` (a bare label or the whole header value), for bytes input.
        max_bytes: pages larger than this (in bytes; UTF-8 bytes for str input) raise `PageTooLarge`.

    Returns:
        `Extracted`; `text` is '' for pages with no content (empty, markup only, or only boilerplate).

    Raises:
        PageTooLarge: the page is over `max_bytes`.
    """
    encoding = None
    if isinstance(html, bytes | bytearray | memoryview):
        data = bytes(html)
        if len(data) > max_bytes:
            raise PageTooLarge(len(data), max_bytes, url)
        text, encoding = decode_html(data, charset)
    else:
        text = _checked_str(html, max_bytes, url)
    root = parse_document(text)
    if root is None:
        return Extracted(text="", title=None, n_math=0, encoding=encoding)
    title = _title(root)
    body = root.find("body")
    if body is None:  # a head-only or frameset page
        return Extracted(text="", title=title, n_math=0, encoding=encoding)
    replace_math(body)
    remove_boilerplate(body)
    content, n_math = to_text(content_roots(body))
    return Extracted(text=content, title=title, n_math=n_math, encoding=encoding)


def _checked_str(html: str, max_bytes: int, url: str | None) -> str:
    """Enforce the size limit on str input and replace lone surrogates (lxml silently truncates at them)."""
    if len(html) > max_bytes:  # every character is at least one byte: no need to encode
        raise PageTooLarge(len(html), max_bytes, url)
    try:
        size = len(html.encode("utf-8"))
    except UnicodeEncodeError:
        html = html.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        size = len(html.encode("utf-8"))
    if size > max_bytes:
        raise PageTooLarge(size, max_bytes, url)
    return html


def _title(root) -> str | None:
    """`<title>`, else `og:title`, else the first `<h1>`; whitespace collapsed, None when there is none."""
    candidates = []
    element = root.find("head/title")
    if element is None:
        element = root.find(".//title")
    if element is not None:
        candidates.append("".join(element.itertext()))
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:title":
            candidates.append(meta.get("content") or "")
            break
    heading = next(root.iter("h1"), None)
    if heading is not None:
        candidates.append("".join(heading.itertext()))
    for candidate in candidates:
        title = _WS.sub(" ", candidate).strip()
        if title:
            return title[:_TITLE_MAX_CHARS]
    return None
