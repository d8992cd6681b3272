"""Find every math rendering in a parsed HTML page and swap it for one placeholder holding its LaTeX.

`replace_math(root)` rewrites the lxml tree in place: each formula becomes a `<dmmath mode="inline|display|ascii">`
element whose text is the LaTeX (no delimiters) and whose tail is the original tail, so later steps (boilerplate
removal, linearisation) see one node per formula and never the rendered copies. Handled, in document order:

- MathJax `<script type="math/tex">` (`; mode=display` -> display), `math/asciimath` and `math/mml`;
  the MathJax v2 render next to such a script (`.MathJax_Preview`, `.MathJax`, `.MathJax_Display`, SVG/CHTML frames)
  is dropped so the formula appears once;
- KaTeX `.katex`: the `application/x-tex` annotation, dropping `.katex-html` and the MathML copy;
- MathJax v3/v4 `<mjx-container>`: `data-latex` if present, else the assistive MathML, converted;
- Wikipedia `.mwe-math-element`: the TeX annotation (or alttext, or the fallback image's alt);
- bare `<math>`: converted by `mathml.mathml_to_latex` (`display="block"` -> display);
- LaTeX images (codecogs, WordPress `latex.php`, `class="latex"`, `tex` in the src): the alt text, or the TeX in
  the URL when the alt text is empty or generic.

TeX typed straight into the text (`\\(..\\)`, `$..$`, ...) needs no handling here: it stays in the text nodes.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, unquote, urlsplit

from lxml import etree

from deepmath.ingest.htmltree import remove_element
from deepmath.ingest.mathml import local_name, mathml_to_latex, tex_annotation

__all__ = ["PLACEHOLDER_TAG", "latex_from_img", "replace_math"]

PLACEHOLDER_TAG = "dmmath"

_MJ2_CLASSES = frozenset(
    {"MathJax_Preview", "MathJax", "MathJax_Display", "MathJax_SVG", "MathJax_SVG_Display", "MathJax_CHTML"}
    | {"MathJax_MathML", "MathJax_PHTML", "MathJax_PlainSource", "MJXc-display", "MathJax_MathContainer"}
    | {"MJX_Assistive_MathML", "MathJax_Processing", "MathJax_Processed"}
)
_LATEX_IMG_SRC = re.compile(
    r"latex\.codecogs\.com|codecogs\.com/(?:gif|png|svg)\.latex|latex\.php|[?&]latex=|mathtex|mimetex|"
    r"chart\.apis\.google\.com/chart\?[^ ]*cht=tx|(?<![a-z])(?:la)?tex(?![a-z])",
    re.IGNORECASE,
)
_LATEX_IMG_CLASSES = frozenset(
    {"latex", "tex", "mwe-math-fallback-image-inline", "mwe-math-fallback-image-display", "tex-image", "latex-image"}
)
# alt texts that name the image instead of holding its TeX
_GENERIC_ALTS = frozenset({
    "", "latex", "tex", "equation", "formula", "math", "image", "img", "eq", "[math]", "latex formula",
    "mathematical expression",
})  # fmt: skip
# "TeX users group logo": three or more plain words are a description, not a formula
_PROSE = re.compile(r"^[A-Za-z]+(?: [A-Za-z]+){2,}\.?$")
# rendering options codecogs accepts in front of the formula (`\dpi{150}\bg_white x^2`)
_CODECOGS_OPTIONS = re.compile(
    r"^(?:\s*\\(?:dpi\{\d+\}|bg(?:_\w+|\{\w+\})|fg(?:_\w+|\{\w+\})|fn_\w+|"
    r"inline|tiny|small|normal|large|Large|LARGE|huge|Huge)\s*)+"
)
_CDATA = re.compile(r"^\s*%?\s*<!\[CDATA\[|%?\s*\]\]>\s*$")
_WRAPPED = re.compile(r"^\s*(\$\$|\$|\\\(|\\\[)(.*?)(\$\$|\$|\\\)|\\\])\s*$", re.DOTALL)
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def replace_math(root) -> None:
    """Replace every formula under `root` by a placeholder (see the module docstring); modifies the tree."""
    candidates = [(kind, el) for el in root.iter() if isinstance(el.tag, str) and (kind := _kind(el, el.tag))]
    consumed: set = set()
    for kind, element in candidates:
        if element not in consumed:  # e.g. the <math> inside a KaTeX span already replaced
            _HANDLERS[kind](element, consumed)


def latex_from_img(src: str, alt: str) -> str:
    """The TeX behind a LaTeX image: the alt text unless generic or plain prose, else the formula in the URL."""
    alt_tex, _ = _unwrap(_squash(alt))
    if alt_tex.lower() not in _GENERIC_ALTS and not _PROSE.match(alt_tex):
        return alt_tex
    return _tex_from_url(src)


def _kind(element, tag: str) -> str | None:
    """Which handler applies to this element, if any (cheap: called on every element of the page)."""
    if tag == "script":
        kind = (element.get("type") or "").lower()
        return "script" if kind.startswith("math/") else None
    if tag == "math" or tag.endswith(":math"):
        return "math"
    if tag == "mjx-container":
        return "mjx3"
    if tag == "img":
        return "img" if _is_latex_img(element) else None
    classes = element.get("class")
    if not classes:
        return None
    tokens = classes.split()
    if "katex" in tokens:
        return "katex"
    if "mwe-math-element" in tokens:
        return "wiki"
    if not _MJ2_CLASSES.isdisjoint(tokens):
        return "mj2"
    return None


def _is_latex_img(element) -> bool:
    classes = (element.get("class") or "").lower().split()
    if not _LATEX_IMG_CLASSES.isdisjoint(classes):
        return True
    src = element.get("src") or element.get("data-src") or ""
    return bool(src) and _LATEX_IMG_SRC.search(src) is not None


def _squash(text: str) -> str:
    return " ".join(text.split())


def _unwrap(tex: str) -> tuple[str, bool]:
    """Strip `$..$`, `$$..$$`, `\\(..\\)`, `\\[..\\]` around a formula; True when the wrapper was a display one."""
    match = _WRAPPED.match(tex)
    if match and {match.group(1), match.group(3)} in ({"$"}, {"$$"}, {"\\(", "\\)"}, {"\\[", "\\]"}):
        return match.group(2).strip(), match.group(1) in {"$$", "\\["}
    return tex.strip(), False


def _tex_from_url(src: str) -> str:
    """TeX in a formula-image URL: WordPress/Google `latex=`/`chl=` parameters, or a codecogs query string."""
    try:
        parts = urlsplit(src)
    except ValueError:  # e.g. a broken IPv6 literal: no formula to recover
        return ""
    params = parse_qs(parts.query, keep_blank_values=False)
    for key in ("latex", "chl", "tex", "formula", "eq"):
        if params.get(key):
            return _squash(params[key][0])  # parse_qs already decoded `+` and `%xx`
    if "codecogs" in parts.netloc.lower() or parts.path.lower().endswith(
        (".latex", ".image", "mimetex.cgi", "mathtex.cgi")
    ):
        query = src.split("?", 1)[1] if "?" in src else ""
        tex = unquote(query).replace("&space;", " ")
        tex = html.unescape(tex)
        return _squash(_CODECOGS_OPTIONS.sub("", tex))
    return ""


def _clean(latex: str) -> str:
    """Text that lxml will accept as element text (no NULs or C0 controls)."""
    return _XML_BAD.sub("", latex).strip()


def _swap(element, latex: str, mode: str, consumed: set) -> None:
    """Put a placeholder in place of `element`, keeping its tail; an empty formula just removes the element."""
    consumed.update(element.iter())
    latex = _clean(latex)
    parent = element.getparent()
    if parent is None:
        return
    if not latex:
        remove_element(element)
        return
    placeholder = element.makeelement(PLACEHOLDER_TAG, {"mode": mode})
    placeholder.text = latex
    placeholder.tail = element.tail
    parent.replace(element, placeholder)


def _drop(element, consumed: set) -> None:
    consumed.update(element.iter())
    remove_element(element)


def _is_display_math(math) -> bool:
    return (math.get("display") or "").lower() == "block" or (math.get("mode") or "").lower() == "display"


def _on_script(element, consumed: set) -> None:
    kind = (element.get("type") or "").lower().replace(" ", "")
    body = _CDATA.sub("", element.text or "").strip()
    if kind.startswith(("math/tex", "math/latex")):
        _swap(element, body, "display" if "mode=display" in kind else "inline", consumed)
    elif kind.startswith("math/asciimath"):
        _swap(element, body, "ascii", consumed)
    elif kind.startswith("math/mml") and body:
        fragment = etree.fromstring(f"<div>{body}</div>", etree.HTMLParser())
        math = next((el for el in fragment.iter() if local_name(el) == "math"), fragment)
        _swap(element, mathml_to_latex(math), "display" if _is_display_math(math) else "inline", consumed)
    else:
        _drop(element, consumed)


def _on_math(element, consumed: set) -> None:
    _swap(element, mathml_to_latex(element), "display" if _is_display_math(element) else "inline", consumed)


def _on_katex(element, consumed: set) -> None:
    tex = tex_annotation(element)
    math = next((el for el in element.iter() if local_name(el) == "math"), None)
    if tex is None and math is not None:
        tex = mathml_to_latex(math)
    parent = element.getparent()
    display = (parent is not None and "katex-display" in (parent.get("class") or "").split()) or (
        math is not None and _is_display_math(math)
    )
    _swap(element, tex or "", "display" if display else "inline", consumed)  # no TeX: drop the glyph soup


def _on_mjx3(element, consumed: set) -> None:
    tex = element.get("data-latex")
    math = next((el for el in element.iter() if local_name(el) == "math"), None)
    if not tex and math is not None:
        tex = mathml_to_latex(math)
    display = (element.get("display") or "").lower() in {"true", "block"} or (
        math is not None and _is_display_math(math)
    )
    _swap(element, tex or "", "display" if display else "inline", consumed)


def _on_wiki(element, consumed: set) -> None:
    tex = None
    display = False
    for child in element.iter():
        name = local_name(child)
        classes = child.get("class") or ""
        display = display or "display" in classes
        if name == "math":
            tex = tex_annotation(child) or (child.get("alttext") or "").strip() or mathml_to_latex(child)
            display = display or _is_display_math(child)
            break
        if name == "img" and tex is None:
            tex = (child.get("alt") or "").strip()
    if tex:
        tex = re.sub(r"^\{\\displaystyle\s*(.*)\}$", r"\1", tex, flags=re.DOTALL)  # Wikipedia's wrapper
    _swap(element, tex or "", "display" if display else "inline", consumed)


def _on_mj2(element, consumed: set) -> None:
    """A MathJax v2 render: redundant when its source script follows, else the best we can get from it."""
    for sibling in element.itersiblings():
        classes = (sibling.get("class") or "").split() if isinstance(sibling.tag, str) else []
        if not _MJ2_CLASSES.isdisjoint(classes):
            continue
        if sibling.tag == "script" and (sibling.get("type") or "").lower().startswith("math/"):
            _drop(element, consumed)
            return
        break
    math = next((el for el in element.iter() if local_name(el) == "math"), None)
    if math is not None:
        display = "MathJax_Display" in (element.get("class") or "") or _is_display_math(math)
        _swap(element, mathml_to_latex(math), "display" if display else "inline", consumed)
    # otherwise leave it: without a script or MathML there is nothing better than its own text


def _on_img(element, consumed: set) -> None:
    alt = element.get("alt") or element.get("title") or ""
    tex = latex_from_img(element.get("src") or element.get("data-src") or "", alt)
    display = _unwrap(_squash(alt))[1]
    if not tex:
        return  # a decorative image that merely matched the pattern: leave it (images emit no text)
    if "display" in (element.get("class") or ""):
        display = True
    _swap(element, tex, "display" if display else "inline", consumed)


_HANDLERS = {
    "script": _on_script,
    "math": _on_math,
    "katex": _on_katex,
    "mjx3": _on_mjx3,
    "wiki": _on_wiki,
    "mj2": _on_mj2,
    "img": _on_img,
}
