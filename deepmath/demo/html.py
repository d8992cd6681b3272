"""HTML pages as real sites write them: MathJax, KaTeX, MathML or LaTeX image alt text, inside site boilerplate.

Each site has one look (navigation, sidebar, footer) and the math markups it uses. A page's formulas are rendered
in one markup per page:

- `mathjax-script`: `<script type="math/tex">` (and `mode=display`), MathJax 2 style
- `mathjax-delim`: `\\(...\\)` and `\\[...\\]` delimiters in the text, MathJax 3 style
- `katex`: KaTeX output (MathML with a TeX `<annotation>`, plus the visual `katex-html` spans)
- `mathml`: bare presentation MathML
- `img-alt`: rendered formula images (codecogs) whose `alt` is the LaTeX

Boilerplate varies with a `variant` number, so a near-duplicate copy can differ in its page furniture.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from deepmath.demo.formulas import Expr
from deepmath.demo.textgen import Block

__all__ = ["MARKUPS", "Site", "render_page"]

MARKUPS = ("mathjax-script", "mathjax-delim", "katex", "mathml", "img-alt")

_MATHJAX_HEAD = {
    "mathjax-script": '<script src="https://cdn.mathjax.example/2.7.9/MathJax.js?config=TeX-AMS_HTML"></script>',
    "mathjax-delim": '<script async src="https://cdn.mathjax.example/3/es5/tex-chtml.js"></script>',
    "katex": '<link rel="stylesheet" href="https://cdn.katex.example/0.16.9/katex.min.css">',
}


@dataclass(frozen=True)
class Site:
    domain: str
    kind: str  # math | nonmath | mixed
    topics: tuple[str, ...]
    markups: tuple[str, ...] = ()
    path: str = "/{slug}"  # may use {slug}, {id}, {topic}, {year}
    style: str = "article"  # article | thread
    name: str = ""

    @property
    def title(self) -> str:
        return self.name or self.domain.split(".")[0].replace("-", " ").title()


def _glyphs(expr: Expr) -> str:
    """The visible characters of a formula (for KaTeX's aria-hidden rendering)."""
    return re.sub(r"<[^>]+>", "", expr.mathml())


def render_math(expr: Expr, markup: str, display: bool) -> str:
    """One formula in one markup."""
    tex = expr.latex()
    if markup == "mathjax-script":
        mode = "; mode=display" if display else ""
        return f'<script type="math/tex{mode}">{tex}</script>'
    if markup == "mathjax-delim":
        return escape(f"\\[{tex}\\]" if display else f"\\({tex}\\)", quote=False)
    if markup == "katex":
        block = ' display="block"' if display else ""
        mathml = (
            f'<span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML"{block}><semantics>'
            f"{expr.mathml()}"
            f'<annotation encoding="application/x-tex">{escape(tex, quote=False)}</annotation></semantics></math></span>'
        )
        visual = f'<span class="katex-html" aria-hidden="true"><span class="base"><span class="mord">{_glyphs(expr)}</span></span></span>'
        katex = f'<span class="katex">{mathml}{visual}</span>'
        return f'<span class="katex-display">{katex}</span>' if display else katex
    if markup == "mathml":
        return f'<math xmlns="http://www.w3.org/1998/Math/MathML" display="{"block" if display else "inline"}">{expr.mathml()}</math>'
    if markup == "img-alt":
        src = "https://latex.codecogs.com/svg.image?" + quote(tex, safe="")
        return f'<img class="latex" src="{src}" alt="{escape(tex)}">'
    raise ValueError(f"unknown math markup {markup!r}; known: {', '.join(MARKUPS)}")


def _inline(parts: list, markup: str) -> str:
    return "".join(render_math(p, markup, False) if isinstance(p, Expr) else escape(p, quote=False) for p in parts)


def _body(blocks: list[Block], markup: str) -> str:
    out, items = [], []
    for block in blocks:
        if block.kind != "li" and items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        if block.kind == "li":
            items.append(f"<li>{_inline(block.parts, markup)}</li>")
        elif block.kind == "h2":
            out.append(f"<h2>{_inline(block.parts, markup)}</h2>")
        elif block.kind == "display":
            math = render_math(block.parts[0], markup, True)
            out.append(f'<div class="equation">{math}</div>' if markup != "mathjax-delim" else f"<p>{math}</p>")
        else:
            out.append(f"<p>{_inline(block.parts, markup)}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(out)


_NAV = [
    ["Home", "About", "Archive", "Contact"],
    ["Home", "Topics", "Popular", "Subscribe", "About us"],
    ["Start here", "Blog", "Newsletter", "Search"],
    ["Home", "Latest", "Categories", "Privacy"],
]
_SIDEBAR = ["Popular this week", "Related posts", "You may also like", "Recent comments"]
_FOOTER = [
    "All rights reserved.",
    "Content licensed for personal use.",
    "Made with care by a small team.",
    "Powered by a static site generator.",
]
_COOKIE = [
    "We use cookies to improve your experience.",
    "This site uses cookies for analytics.",
    "Cookies help us deliver our services.",
]


def render_page(
    site: Site, url: str, title: str, blocks: list[Block], markup: str, variant: int, related: list[str]
) -> str:
    """The full HTML of a page; `variant` picks the boilerplate, `related` are sidebar link titles."""
    rng = random.Random(variant)
    nav = "".join(
        f'<a href="/{escape(item.lower().replace(" ", "-"))}">{escape(item)}</a> ' for item in rng.choice(_NAV)
    )
    side = "".join(f'<li><a href="/post/{i}">{escape(text)}</a></li>' for i, text in enumerate(related))
    head = _MATHJAX_HEAD.get(markup, "") if site.kind != "nonmath" else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} | {escape(site.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">{head}
<link rel="canonical" href="{escape(url)}"></head>
<body><div class="cookie-banner">{escape(rng.choice(_COOKIE))} <button>OK</button></div>
<header><div class="logo">{escape(site.title)}</div><nav>{nav}</nav></header>
<main><article><h1>{escape(title)}</h1>
{_body(blocks, markup)}
</article></main>
<aside><h3>{escape(rng.choice(_SIDEBAR))}</h3><ul>{side}</ul></aside>
<footer><p>&copy; {2015 + variant % 10} {escape(site.title)}. {escape(rng.choice(_FOOTER))}</p>
<p><a href="/terms">Terms</a> | <a href="/privacy">Privacy</a> | <a href="/rss">RSS</a></p></footer>
</body></html>
"""
