"""One document, two renderings: the report's HTML (images as base64 data URIs, no scripts) and its markdown.

`ReportDoc` collects headings, paragraphs, tables, lists, notes and images once and writes both forms, so the
two never disagree. The markdown links images by their path relative to its own folder (the report stage's folder),
which keeps it readable in editors and on GitHub; the HTML is a single self-contained file.
"""

from __future__ import annotations

import base64
import os
import re
from html import escape
from pathlib import Path

__all__ = ["ReportDoc"]

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
main{max-width:1080px;margin:0 auto;padding:24px 32px 64px;background:#fff;min-height:100vh}
h1{margin:0 0 4px;font-size:28px}h2{margin-top:40px;padding-top:12px;border-top:2px solid #e3e7ee;font-size:22px}
h3{margin-top:24px;font-size:17px}
table{border-collapse:collapse;margin:12px 0;font-size:14px}
th,td{border:1px solid #d8dde6;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#eef2f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;height:auto;border:1px solid #e3e7ee;margin:8px 0}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:8px 12px;margin:12px 0}
.good{background:#eaf7ee;border-left:4px solid #2e9d57;padding:8px 12px;margin:12px 0}
nav.toc a{margin-right:14px;font-size:14px}code{background:#f0f2f5;padding:1px 4px;border-radius:3px}
.muted{color:#667085;font-size:14px}
"""


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _md_cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _fmt(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    return "" if value is None else str(value)


def _inline_html(text: str) -> str:
    """Escape, then turn `code` spans into <code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(text, quote=False))


class ReportDoc:
    def __init__(self, title: str, base: Path):
        self.title = title
        self.base = base  # the markdown's folder: image links are relative to it
        self.html: list[str] = []
        self.md: list[str] = [f"# {title}", ""]
        self.sections: list[str] = []
        self.images = 0

    def section(self, title: str) -> None:
        self.sections.append(title)
        self.html.append(f'<h2 id="{_anchor(title)}">{escape(title)}</h2>')
        self.md += [f"## {title}", ""]

    def heading(self, text: str) -> None:
        self.html.append(f"<h3>{escape(text)}</h3>")
        self.md += [f"### {text}", ""]

    def para(self, text: str, muted: bool = False) -> None:
        css = ' class="muted"' if muted else ""
        self.html.append(f"<p{css}>{_inline_html(text)}</p>")
        self.md += [text, ""]

    def note(self, text: str, good: bool = False) -> None:
        self.html.append(f'<div class="{"good" if good else "note"}">{_inline_html(text)}</div>')
        self.md += [f"> {text}", ""]

    def bullets(self, items: list[str]) -> None:
        if not items:
            return
        self.html.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in items) + "</ul>")
        self.md += [f"- {i}" for i in items] + [""]

    def table(self, header: list[str], rows: list[list]) -> None:
        if not rows:
            self.para("(none)", muted=True)
            return
        head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
        body = []
        for row in rows:
            cells = []
            for value in row:
                css = ' class="num"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
                cells.append(f"<td{css}>{_inline_html(_fmt(value))}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        self.html.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")
        self.md += ["| " + " | ".join(_md_cell(h) for h in header) + " |", "|" + " --- |" * len(header)]
        self.md += ["| " + " | ".join(_md_cell(_fmt(v)) for v in row) + " |" for row in rows]
        self.md.append("")

    def image(self, path: Path, alt: str) -> bool:
        """Embed a PNG (False, with a note, when it is missing or unreadable)."""
        try:
            data = path.read_bytes()
        except OSError:
            self.note(f"image not found: `{path.name}`")
            return False
        if not data.startswith(b"\x89PNG"):
            self.note(f"not a PNG image: `{path.name}`")
            return False
        encoded = base64.b64encode(data).decode("ascii")
        self.html.append(f'<img src="data:image/png;base64,{encoded}" alt="{escape(alt)}">')
        try:
            link = Path(os.path.relpath(path.resolve(), self.base.resolve())).as_posix()
        except ValueError:  # another drive (Windows)
            link = path.resolve().as_posix()
        self.md += [f"![{alt}]({link})", ""]
        self.images += 1
        return True

    def render_html(self, intro: str) -> str:
        toc = "".join(f'<a href="#{_anchor(s)}">{escape(s)}</a>' for s in self.sections)
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(self.title)}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{_CSS}</style></head>\n<body><main>\n<h1>{escape(self.title)}</h1>\n"
            f'<p class="muted">{_inline_html(intro)}</p>\n<nav class="toc">{toc}</nav>\n'
            + "\n".join(self.html)
            + "\n</main></body></html>\n"
        )

    def render_md(self, intro: str) -> str:
        return "\n".join([self.md[0], "", intro, "", *self.md[2:]]).rstrip() + "\n"
