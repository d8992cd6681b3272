"""Bytes -> text -> lxml tree, robust to the web: wrong or missing charsets, broken markup, hostile nesting.

Decoding order: byte-order mark, then the caller's charset (the HTTP `Content-Type`), then a `<meta>` charset in
the first 8 KB, else UTF-8; the first of these that decodes the bytes without error wins, and when none does, the
first declared one is used with `errors="replace"`, so undecodable bytes become U+FFFD and are counted by
`quality.text_stats` instead of failing the page. Charset labels are mapped the way browsers map them (WHATWG):
`gb2312`/`gbk` -> gb18030, `iso-8859-1`/`ascii` -> cp1252, `shift_jis` -> cp932, a `<meta>` claiming UTF-16 on an
ASCII-compatible page -> UTF-8.

Parsing uses libxml2's HTML parser, which stops at depth 256 and drops the rest of the page. When that happens we
parse again with `huge_tree` (depth 2048; quadratic in depth inside libxml2, about 0.7 s for a page at the cap), so
pages with hundreds of unclosed `<font>` tags keep their text and 10k nested `<div>`s still cannot crash us.
"""

from __future__ import annotations

import codecs
import logging
import re

from lxml import etree

__all__ = ["decode_html", "normalize_charset", "parse_document", "remove_element"]

_META_CHARSET = re.compile(rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_ALIASES = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "chinese": "gb18030", "csgb2312": "gb18030",
    "gb_2312-80": "gb18030", "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252",
    "latin-1": "cp1252", "l1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252", "windows-1252": "cp1252",
    "x-user-defined": "cp1252", "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932",
    "windows-31j": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "big5": "big5hkscs", "utf8": "utf-8",
    "unicode": "utf-8", "utf-16": "utf-8", "utf-16le": "utf-8", "utf-16be": "utf-8", "iso-8859-9": "cp1254",
    "tis-620": "cp874", "iso-8859-11": "cp874", "utf-32": "utf-8",
}  # fmt: skip
_DEPTH_ERROR = "Excessive depth"

logger = logging.getLogger(__name__)


def normalize_charset(label: str | None) -> str | None:
    """A Python codec name for a charset label (or a whole `Content-Type` value); None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if "charset=" in label:
        label = label.split("charset=", 1)[1].split(";", 1)[0].strip().strip("\"'")
    label = _ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_html(data: bytes, charset: str | None = None) -> tuple[str, str]:
    """Decode page bytes; returns (text, codec used). Never raises on bad bytes (they become U+FFFD).

    The declared charsets are tried strictly first (HTTP, then `<meta>`, then UTF-8), so a page whose server header
    lies but whose `<meta>` is right still decodes cleanly; if none fits, the first declared one (or UTF-8) is used
    with replacement characters.
    """
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace"), codec
    declared = [normalize_charset(charset)]
    match = _META_CHARSET.search(data, 0, 8192)
    if match:
        declared.append(normalize_charset(match.group(1).decode("ascii", "replace")))
    candidates = list(dict.fromkeys(codec for codec in [*declared, "utf-8"] if codec))
    for codec in candidates:
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode(candidates[0], errors="replace"), candidates[0]


def parse_document(text: str):
    """The lxml root (`<html>`) of a page, or None when the page holds no markup or text at all."""
    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses str input that declares an encoding
    if not text.strip():
        return None
    # plain etree elements, not lxml.html's: its per-element class lookup costs ~20% of the extraction time
    parser = etree.HTMLParser(remove_comments=True, remove_pis=True)
    root = etree.fromstring(text, parser)
    if any(_DEPTH_ERROR in entry.message for entry in parser.error_log):
        logger.debug("page nested deeper than 256 elements: parsing again with huge_tree")
        root = etree.fromstring(text, etree.HTMLParser(remove_comments=True, remove_pis=True, huge_tree=True))
    return root  # None when libxml2 found no element at all


def remove_element(element) -> None:
    """Remove an element but keep its tail (lxml stores the text after a tag on the tag itself)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)
