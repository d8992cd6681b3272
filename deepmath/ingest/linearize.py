"""Cleaned lxml tree -> plain text in reading order, with math placeholders written as `$..$` / `$$..$$`.

Layout rules: paragraph-level blocks (p, headings, lists, tables, pre, blockquote, ...) are separated by a blank
line, line-level ones (div, li, tr, dt/dd, ...) and `<br>` by a newline; list items get `- ` or `1. `; table cells
are joined with ` | `; whitespace inside text collapses to one space as a browser would, except in `<pre>`, which
is copied verbatim. The walk is iterative (`etree.iterwalk`), so depth is bounded only by the parser.

TeX typed into the page text (`\\(..\\)`, `$..$`, ...) passes through untouched and is counted with
`quality.count_formulas` on the plain text runs, so `n_math` covers both placeholders and typed TeX.
"""

from __future__ import annotations

import re

from lxml import etree

from deepmath.ingest.mathmarkup import PLACEHOLDER_TAG
from deepmath.ingest.quality import count_formulas

__all__ = ["to_text"]

_PARAGRAPH = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "pre", "blockquote", "figure", "hr"}
    | {"section", "article", "main", "header", "footer", "address", "details", "fieldset", "center", "nav", "aside"}
)
_LINE = frozenset({"div", "li", "tr", "dt", "dd", "figcaption", "caption", "summary", "legend", "tbody", "thead"})
_CELLS = frozenset({"td", "th"})
_WS = re.compile(r"\s+")
_INVISIBLE = re.compile("[\ufeff\u200b\u00ad]")  # BOMs mid-page, zero-width spaces, soft hyphens


def to_text(roots: list) -> tuple[str, int]:
    """Text of the given subtrees, in order, and the number of formulas in it."""
    writer = _Writer()
    for root in roots:
        writer.block(2)
        _walk(root, writer)
        writer.block(2)
    return writer.result()


def _walk(root, writer: _Writer) -> None:
    ordinals: dict = {}
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag
        if not isinstance(tag, str):  # comments and PIs were stripped; entities keep only their tail
            if event == "end" and element is not root:
                writer.text(element.tail)
            continue
        if event == "start":
            if tag == PLACEHOLDER_TAG:
                writer.math(element.text or "", element.get("mode", "inline"))
                walker.skip_subtree()
            elif tag == "pre":
                writer.raw("".join(element.itertext()))
                walker.skip_subtree()
            else:
                _open(element, tag, writer, ordinals)
                writer.text(element.text)
        else:
            if tag == "br":
                writer.line_break()
            elif tag in _PARAGRAPH:
                writer.block(2)
            elif tag in _LINE:
                writer.block(1)
                if tag == "li":
                    writer.bullet = ""  # an empty item leaves no marker behind
            if element is not root:
                writer.text(element.tail)


def _open(element, tag: str, writer: _Writer, ordinals: dict) -> None:
    if tag in _PARAGRAPH:
        writer.block(2)
    elif tag in _LINE:
        writer.block(1)
        if tag == "li":
            parent = element.getparent()
            if parent is not None and parent.tag == "ol":
                try:
                    start = int(parent.get("start", "1")) - 1
                except ValueError:
                    start = 0
                ordinals[parent] = ordinals.get(parent, start) + 1
                writer.list_item(f"{ordinals[parent]}. ")
            else:
                writer.list_item("- ")
    elif tag in _CELLS and element.getprevious() is not None:
        writer.separator(" | ")


class _Writer:
    """Accumulates output with lazy whitespace: breaks and spaces are owed, and paid only before real content."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.plain: list[str] = []  # text outside math and <pre>, for counting typed TeX formulas
        self.newlines = 0
        self.space = False
        self.owed_separator = ""  # table-cell separator, dropped if the row ends first
        self.bullet = ""  # list-item marker, written only if the item has content
        self.n_placeholders = 0

    def _pay(self) -> None:
        if self.parts:
            if self.newlines:
                self.parts.append("\n" * self.newlines)
                self.plain.append("\n")
            elif self.owed_separator:
                self.parts.append(self.owed_separator)
                self.plain.append(self.owed_separator)
            elif self.space:
                self.parts.append(" ")
                self.plain.append(" ")
        if self.bullet:
            self.parts.append(self.bullet)
        self.newlines = 0
        self.space = False
        self.owed_separator = ""
        self.bullet = ""

    def text(self, text: str | None) -> None:
        if not text:
            return
        text = _WS.sub(" ", text)
        if text[0] == " ":
            self.space = True
            text = text[1:]
        if not text:
            return
        trailing = text[-1] == " "
        if trailing:
            text = text[:-1]
        self._pay()
        self.parts.append(text)
        self.plain.append(text)
        self.space = trailing

    def separator(self, text: str) -> None:
        self.owed_separator = text

    def list_item(self, marker: str) -> None:
        self.block(1)
        self.bullet = marker

    def math(self, latex: str, mode: str) -> None:
        if mode == "display":
            self.block(1)
            self._pay()
            self.parts.append(f"$${latex}$$")
            self.block(1)
        else:
            self._pay()
            self.parts.append(f"`{latex}`" if mode == "ascii" else f"${latex}$")
        self.plain.append("\n")
        self.n_placeholders += 1

    def raw(self, text: str) -> None:
        text = text.strip("\n")
        self.block(2)
        if text.strip():
            self._pay()
            self.parts.append(text.rstrip())
            self.plain.append("\n")
        self.block(2)

    def block(self, newlines: int) -> None:
        self.newlines = max(self.newlines, newlines)
        self.owed_separator = ""

    def line_break(self) -> None:
        self.newlines = min(self.newlines + 1, 2)

    def result(self) -> tuple[str, int]:
        text = _INVISIBLE.sub("", "".join(self.parts)).strip()
        return text, self.n_placeholders + count_formulas("".join(self.plain))
