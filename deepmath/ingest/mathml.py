"""Presentation MathML -> LaTeX, good enough for pretraining text (not a round-trip converter).

`mathml_to_latex(math_element)` takes an lxml element (`<math>`, parsed by the HTML or the XML parser, with or without
a namespace or an `m:` prefix) and returns LaTeX without `$` delimiters. A TeX `<annotation>` inside `<semantics>`
wins over the conversion, because it is the author's own source (KaTeX, Wikipedia, LaTeXML all ship one).

Covered: token elements (mi/mn/mo/mtext/ms/mspace) with Unicode operators, Greek and double-struck letters mapped to
commands; mrow/mstyle/mpadded and friends; mfrac (`\\frac`, `\\binom`-like when linethickness=0), msqrt/mroot,
msub/msup/msubsup, munder/mover/munderover (limits on big operators, accents like `\\hat`, `\\bar`, `\\vec`),
mmultiscripts, mfenced, mtable (`matrix`, `pmatrix`/`bmatrix`/`vmatrix` when fenced, `cases` after a lone `{`),
menclose (`\\boxed`, `\\overline`, ...), maction (first child) and semantics.

Depth is capped (`MAX_DEPTH`): hostile or machine-generated MathML nested deeper than that falls back to the element's
plain text instead of blowing Python's recursion limit.
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["MAX_DEPTH", "TEX_ANNOTATION_ENCODINGS", "local_name", "mathml_to_latex", "tex_annotation"]

MAX_DEPTH = 120

# encodings seen in the wild for a TeX annotation (KaTeX, MathJax, LaTeXML, Wikipedia, itex2MML)
TEX_ANNOTATION_ENCODINGS = frozenset(
    {"application/x-tex", "tex", "latex", "text/x-tex", "text/latex", "application/x-latex", "text/x-latex", "itex"}
)

_GREEK = {
    "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "δ": r"\delta", "ε": r"\varepsilon", "ϵ": r"\epsilon",
    "ζ": r"\zeta", "η": r"\eta", "θ": r"\theta", "ϑ": r"\vartheta", "ι": r"\iota", "κ": r"\kappa",
    "λ": r"\lambda", "μ": r"\mu", "ν": r"\nu", "ξ": r"\xi", "ο": "o", "π": r"\pi", "ϖ": r"\varpi",
    "ρ": r"\rho", "ϱ": r"\varrho", "σ": r"\sigma", "ς": r"\varsigma", "τ": r"\tau", "υ": r"\upsilon",
    "φ": r"\varphi", "ϕ": r"\phi", "χ": r"\chi", "ψ": r"\psi", "ω": r"\omega",
    "Γ": r"\Gamma", "Δ": r"\Delta", "Θ": r"\Theta", "Λ": r"\Lambda", "Ξ": r"\Xi", "Π": r"\Pi",
    "Σ": r"\Sigma", "Υ": r"\Upsilon", "Φ": r"\Phi", "Ψ": r"\Psi", "Ω": r"\Omega",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Χ": "X",
}  # fmt: skip

_SYMBOLS = {
    # big operators
    "∑": r"\sum", "∏": r"\prod", "∐": r"\coprod", "∫": r"\int", "∬": r"\iint", "∭": r"\iiint", "∮": r"\oint",
    "⋃": r"\bigcup", "⋂": r"\bigcap", "⨁": r"\bigoplus", "⨂": r"\bigotimes", "⋁": r"\bigvee", "⋀": r"\bigwedge",
    # relations
    "≤": r"\le", "≦": r"\leqq", "≥": r"\ge", "≧": r"\geqq", "≠": r"\neq", "≈": r"\approx", "≡": r"\equiv",
    "∼": r"\sim", "≃": r"\simeq", "≅": r"\cong", "∝": r"\propto", "≪": r"\ll", "≫": r"\gg", "≺": r"\prec",
    "≻": r"\succ", "∈": r"\in", "∉": r"\notin", "∋": r"\ni", "⊂": r"\subset", "⊃": r"\supset",
    "⊆": r"\subseteq", "⊇": r"\supseteq", "⊊": r"\subsetneq", "⊥": r"\perp", "∥": r"\parallel",
    "∣": r"\mid", "∤": r"\nmid", "⊢": r"\vdash", "⊨": r"\models", "≔": r":=", "≜": r"\triangleq",
    # arrows
    "→": r"\to", "←": r"\leftarrow", "↔": r"\leftrightarrow", "⇒": r"\Rightarrow", "⇐": r"\Leftarrow",
    "⇔": r"\Leftrightarrow", "↦": r"\mapsto", "↑": r"\uparrow", "↓": r"\downarrow", "⟶": r"\longrightarrow",
    "⟹": r"\implies", "⟺": r"\iff", "↪": r"\hookrightarrow", "⇀": r"\rightharpoonup",
    # binary operators
    "±": r"\pm", "∓": r"\mp", "×": r"\times", "÷": r"\div", "⋅": r"\cdot", "·": r"\cdot", "∘": r"\circ",
    "∗": "*", "−": "-", "–": "-", "∖": r"\setminus", "∪": r"\cup", "∩": r"\cap", "∧": r"\wedge", "∨": r"\vee",
    "⊕": r"\oplus", "⊗": r"\otimes", "⊙": r"\odot", "†": r"\dagger", "⋆": r"\star", "∔": r"\dotplus",
    # misc
    "∞": r"\infty", "∂": r"\partial", "∇": r"\nabla", "∀": r"\forall", "∃": r"\exists", "∄": r"\nexists",
    "¬": r"\neg", "∅": r"\emptyset", "ℏ": r"\hbar", "ℓ": r"\ell", "℘": r"\wp", "ℵ": r"\aleph",
    "∠": r"\angle", "△": r"\triangle", "°": r"^\circ", "′": "'", "″": "''", "‴": "'''", "√": r"\surd",
    "…": r"\ldots", "⋯": r"\cdots", "⋮": r"\vdots", "⋱": r"\ddots", "∴": r"\therefore", "∵": r"\because",
    "⟨": r"\langle", "⟩": r"\rangle", "〈": r"\langle", "〉": r"\rangle", "‖": r"\|", "⌊": r"\lfloor",
    "⌋": r"\rfloor", "⌈": r"\lceil", "⌉": r"\rceil", "ℜ": r"\Re", "ℑ": r"\Im", "□": r"\square",
    "ℝ": r"\mathbb{R}", "ℕ": r"\mathbb{N}", "ℤ": r"\mathbb{Z}", "ℚ": r"\mathbb{Q}", "ℂ": r"\mathbb{C}",
    "ℙ": r"\mathbb{P}", "ℍ": r"\mathbb{H}",
    # TeX specials that must be escaped when they are content
    "{": r"\{", "}": r"\}", "#": r"\#", "%": r"\%", "&": r"\&", "$": r"\$", "_": r"\_", "~": r"\sim",
    # invisible operators (&InvisibleTimes;, &ApplyFunction;, &InvisibleComma;, invisible plus)
    "\u2062": "", "\u2061": "", "\u2063": ",", "\u2064": "", "\u200b": "", "\ufeff": "",
    "\u00a0": " ", "\u2009": r"\,", "\u200a": r"\,", "\u2005": r"\:", "\u2003": r"\quad",
}  # fmt: skip
_CHAR_TO_TEX = {**_GREEK, **_SYMBOLS}

_FUNCTIONS = frozenset({
    "sin", "cos", "tan", "cot", "sec", "csc", "sinh", "cosh", "tanh", "coth", "arcsin", "arccos", "arctan", "log",
    "ln", "lg", "exp", "lim", "liminf", "limsup", "max", "min", "sup", "inf", "det", "dim", "ker", "deg", "gcd",
    "arg", "Pr", "hom", "mod",
})  # fmt: skip
# operators that take limits under/over them in display style (munder/mover become _ and ^)
_LIMIT_OPS = frozenset(
    {r"\sum", r"\prod", r"\coprod", r"\int", r"\iint", r"\iiint", r"\oint", r"\bigcup", r"\bigcap", r"\bigoplus"}
    | {r"\bigotimes", r"\bigvee", r"\bigwedge", r"\lim", r"\liminf", r"\limsup", r"\max", r"\min", r"\sup"}
    | {r"\inf", r"\det", r"\gcd", r"\Pr"}
)
_OVER_ACCENTS = {
    "^": r"\hat", "ˆ": r"\hat", "\u0302": r"\hat", "~": r"\tilde", "˜": r"\tilde", "\u0303": r"\tilde",
    "¯": r"\bar", "\u0304": r"\bar", "‾": r"\overline", "\u0305": r"\overline", "―": r"\overline",
    "→": r"\vec", "\u20d7": r"\vec", "˙": r"\dot", "\u0307": r"\dot", "¨": r"\ddot",
    "\u0308": r"\ddot", "⏞": r"\overbrace", "︷": r"\overbrace", "ˇ": r"\check", "˘": r"\breve", "´": r"\acute",
    "`": r"\grave", "↔": r"\overleftrightarrow", "←": r"\overleftarrow",
}  # fmt: skip
_UNDER_ACCENTS = {
    "_": r"\underline",
    "‾": r"\underline",
    "¯": r"\underline",
    "̲": r"\underline",
    "⏟": r"\underbrace",
    "︸": r"\underbrace",
}
_VARIANTS = {
    "bold": r"\mathbf", "double-struck": r"\mathbb", "script": r"\mathcal", "bold-script": r"\mathcal",
    "fraktur": r"\mathfrak", "bold-fraktur": r"\mathfrak", "sans-serif": r"\mathsf", "monospace": r"\mathtt",
    "bold-italic": r"\boldsymbol",
}  # fmt: skip
_FENCE_ENVS = {
    ("(", ")"): "pmatrix",
    ("[", "]"): "bmatrix",
    ("|", "|"): "vmatrix",
    ("‖", "‖"): "Vmatrix",
    (r"\|", r"\|"): "Vmatrix",
    (r"\{", r"\}"): "Bmatrix",
}
_ENCLOSE = {
    "box": r"\boxed",
    "roundedbox": r"\boxed",
    "circle": r"\boxed",
    "top": r"\overline",
    "bottom": r"\underline",
    "updiagonalstrike": r"\cancel",
    "downdiagonalstrike": r"\bcancel",
    "horizontalstrike": r"\hcancel",
}

_CMD_END = re.compile(r"\\[A-Za-z]+$")
# a \text{...} whose words would touch the next (or previous) symbol in the source: `\text{for all}x` reads as
# "allx" to a tokenizer and to a person, though TeX renders both the same (math mode ignores spaces)
_TEXT_END = re.compile(r"\\text\{(?:[^{}\\]|\\.)*[^\s{}]\}$")
_TEXT_START = re.compile(r"\\text\{[^\s{}]")
_WS = re.compile(r"\s+")
_ENTITY = re.compile(r"&[A-Za-z][A-Za-z0-9]*;|&#[0-9]+;|&#x[0-9a-fA-F]+;")


class _TooDeep(Exception):
    """MathML nested deeper than MAX_DEPTH; the caller falls back to plain text."""


def local_name(element) -> str:
    """Tag without namespace (`{uri}mi`) or prefix (`m:mi`), lowercased; '' for comments and PIs."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2].rpartition(":")[2].lower()


def tex_annotation(math_element) -> str | None:
    """The TeX source stored in a `<annotation encoding="application/x-tex">` (or similar), if any."""
    for element in math_element.iter():
        if (
            local_name(element) == "annotation"
            and (element.get("encoding") or "").strip().lower() in TEX_ANNOTATION_ENCODINGS
        ):
            tex = (element.text or "").strip()
            if tex:
                return tex
    return None


def mathml_to_latex(math_element) -> str:
    """LaTeX for a `<math>` element (no `$` delimiters); '' when it holds nothing."""
    tex = tex_annotation(math_element)
    if tex is not None:
        return tex
    try:
        latex = _Converter().children(math_element, 0)
    except _TooDeep:
        latex = _text(math_element)
    latex = _WS.sub(" ", latex).strip()
    if not latex:
        # some generators put the TeX (or a readable form) only in alttext
        latex = (math_element.get("alttext") or "").strip()
    return latex


def _text(element, strip: bool = True) -> str:
    """All text under an element, entities that libxml2 left alone decoded, whitespace collapsed."""
    text = "".join(element.itertext())
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)
    text = _WS.sub(" ", text)
    return text.strip() if strip else text


def _chars_to_tex(text: str) -> str:
    """Map each character through the symbol tables; Unicode math alphanumerics (𝑥, 𝐱) fold to ASCII."""
    out: list[str] = []
    for char in text:
        mapped = _CHAR_TO_TEX.get(char)
        if mapped is None:
            mapped = char
            if ord(char) >= 0x1D400:  # Mathematical Alphanumeric Symbols block
                mapped = unicodedata.normalize("NFKC", char)
                mapped = _CHAR_TO_TEX.get(mapped, mapped)
        _append(out, mapped)
    return "".join(out)


def _append(out: list[str], piece: str) -> None:
    """Append, inserting a space where `\\alpha` + `b` would otherwise fuse into `\\alphab`, and between the words
    of a `\\text{}` and a letter, digit or command beside it (`\\text{for all} x`, `x \\text{is real}`)."""
    if not piece:
        return
    if out and _fuses(out[-1], piece):
        out.append(" ")
    out.append(piece)


def _fuses(before: str, piece: str) -> bool:
    if _CMD_END.search(before) and (piece[0].isalpha() or piece[0] == "@"):
        return True
    if _TEXT_END.search(before) and (piece[0].isalnum() or piece[0] == "\\"):
        return True
    return bool(_TEXT_START.match(piece)) and before[-1:].isalnum()


def _group(latex: str) -> str:
    """Brace a sub/superscript or accent argument unless it is a single character."""
    return latex if len(latex) == 1 and latex.isalnum() else "{" + latex + "}"


def _base(latex: str) -> str:
    """Brace a script base unless it is one atom (a character, a command, or already a group)."""
    if len(latex) <= 1 or re.fullmatch(r"\\[A-Za-z]+|\{.*\}|\\[A-Za-z]+\{[^{}]*\}", latex):
        return latex or "{}"
    return "{" + latex + "}"


class _Converter:
    """Recursive descent over presentation MathML; one instance per formula."""

    def convert(self, element, depth: int) -> str:
        if depth > MAX_DEPTH:
            raise _TooDeep
        name = local_name(element)
        method = getattr(self, "_on_" + name, None) if name.isalpha() else None
        if method is not None:
            return method(element, depth + 1)
        if name in {"annotation", "annotation-xml", "none", "mprescripts", "malignmark", "maligngroup"}:
            return ""
        return self.children(element, depth + 1)

    def children(self, element, depth: int) -> str:
        """Convert the child elements of an mrow-like element, spotting fenced tables on the way."""
        kids = [child for child in element if isinstance(child.tag, str)]
        if not kids:
            return _chars_to_tex(_text(element))
        parts = [self.convert(child, depth) for child in kids]
        names = [local_name(child) for child in kids]
        parts = self._fenced_tables(names, parts, kids, depth)
        out: list[str] = []
        for part in parts:
            _append(out, part)
        return "".join(out)

    def _fenced_tables(self, names: list[str], parts: list[str], kids: list, depth: int) -> list[str]:
        """`( mtable )` -> pmatrix (and friends); `{ mtable` with no closer -> cases."""
        if "mtable" not in names:
            return parts
        for i, name in enumerate(names):
            if name != "mtable" or i == 0 or names[i - 1] != "mo":
                continue
            left = parts[i - 1].strip()
            right = parts[i + 1].strip() if i + 1 < len(parts) and names[i + 1] == "mo" else None
            env = _FENCE_ENVS.get((left, right)) if right is not None else None
            if env:
                return [*parts[: i - 1], self._table(kids[i], depth, env), *parts[i + 2 :]]
            if left == r"\{" and not right:
                return [*parts[: i - 1], self._table(kids[i], depth, "cases"), *parts[i + 1 :]]
        return parts

    # containers that only group
    def _on_math(self, element, depth):
        return self.children(element, depth)

    _on_mrow = _on_mstyle = _on_mpadded = _on_merror = _on_mtd = _on_math
    _on_mphantom = _on_math  # keep the content: a phantom is invisible but still tells the reader what is there

    def _on_semantics(self, element, depth):
        tex = tex_annotation(element)
        if tex is not None:
            return tex
        kids = [
            child for child in element if isinstance(child.tag, str) and not local_name(child).startswith("annotation")
        ]
        return self.convert(kids[0], depth) if kids else ""

    def _on_maction(self, element, depth):
        kids = [child for child in element if isinstance(child.tag, str)]
        return self.convert(kids[0], depth) if kids else ""

    # tokens
    def _on_mi(self, element, depth):
        text = _text(element)
        if text in _FUNCTIONS:
            return "\\" + text
        latex = _chars_to_tex(text)
        if not latex:
            return ""
        variant = element.get("mathvariant", "")
        if variant == "normal":
            # an upright single Latin letter (the d in dx, the e in e^x); Greek and symbols are upright anyway
            return rf"\mathrm{{{latex}}}" if len(text) == 1 and text.isascii() and text.isalpha() else latex
        command = _VARIANTS.get(variant)
        if command:
            return f"{command}{{{latex}}}"
        if len(text) > 1 and text.isascii() and text.isalpha():
            return rf"\mathrm{{{latex}}}"  # multi-letter identifiers are upright in MathML
        return latex

    def _on_mn(self, element, depth):
        return _chars_to_tex(_text(element))

    def _on_mo(self, element, depth):
        text = _text(element)
        if text in _FUNCTIONS:
            return "\\" + text
        return _chars_to_tex(text)

    def _on_mtext(self, element, depth):
        text = _text(element, strip=False)  # spaces inside \text{} are significant: "if " before x
        if text == " ":
            return r"\ "
        if not text:
            return ""
        escaped = re.sub(r"([{}#%&$_])", r"\\\1", text.replace("\\", r"\textbackslash "))
        return rf"\text{{{escaped}}}"

    def _on_ms(self, element, depth):
        return rf'\text{{"{_text(element)}"}}'

    def _on_mspace(self, element, depth):
        if element.get("linebreak") == "newline":
            return r"\\ "
        match = re.match(r"\s*([\d.]+)\s*(em|ex|px|pt|mu)?", element.get("width") or "")
        if not match:
            return " "
        try:
            width = float(match.group(1))
        except ValueError:
            return " "
        unit = match.group(2) or "em"
        em = width / {"em": 1.0, "ex": 2.0, "px": 16.0, "pt": 10.0, "mu": 18.0}[unit]
        if em >= 1.8:
            return r"\qquad "
        if em >= 0.9:
            return r"\quad "
        if em >= 0.15:
            return r"\, "
        return " "

    def _on_mglyph(self, element, depth):
        return element.get("alt") or ""

    # layout schemata
    def _args(self, element, depth, n: int) -> list[str]:
        kids = [child for child in element if isinstance(child.tag, str)]
        parts = [self.convert(child, depth).strip() for child in kids[:n]]
        return parts + [""] * (n - len(parts))

    def _on_mfrac(self, element, depth):
        num, den = self._args(element, depth, 2)
        thickness = (element.get("linethickness") or "").strip()
        if thickness in {"0", "0px", "0pt", "0em", "0.0"}:
            return rf"\genfrac{{}}{{}}{{0pt}}{{}}{{{num}}}{{{den}}}"
        if element.get("bevelled") == "true":
            return f"{_base(num)}/{_base(den)}"
        return rf"\frac{{{num}}}{{{den}}}"

    def _on_msqrt(self, element, depth):
        return rf"\sqrt{{{self.children(element, depth).strip()}}}"

    def _on_mroot(self, element, depth):
        radicand, index = self._args(element, depth, 2)
        return rf"\sqrt[{index}]{{{radicand}}}"

    def _on_msub(self, element, depth):
        base, sub = self._args(element, depth, 2)
        return f"{_base(base)}_{_group(sub)}"

    def _on_msup(self, element, depth):
        base, sup = self._args(element, depth, 2)
        if sup in {"'", "''", "'''"}:
            return f"{_base(base)}{sup}"
        return f"{_base(base)}^{_group(sup)}"

    def _on_msubsup(self, element, depth):
        base, sub, sup = self._args(element, depth, 3)
        return f"{_base(base)}_{_group(sub)}^{_group(sup)}"

    def _on_munder(self, element, depth):
        base, under = self._args(element, depth, 2)
        if base in _LIMIT_OPS:
            return f"{base}_{_group(under)}"
        accent = _UNDER_ACCENTS.get(under) or _UNDER_ACCENTS.get(under.replace("\\", ""))
        if accent:
            return f"{accent}{{{base}}}"
        return rf"\underset{{{under}}}{{{base}}}"

    def _on_mover(self, element, depth):
        base, over = self._args(element, depth, 2)
        if base in _LIMIT_OPS:
            return f"{base}^{_group(over)}"
        accent = _OVER_ACCENTS.get(over) or _OVER_ACCENTS.get(over.replace("\\", ""))
        if over == r"\to":
            accent = r"\vec"
        elif over in {r"\sim"}:
            accent = r"\tilde"
        if accent:
            return f"{accent}{{{base}}}"
        return rf"\overset{{{over}}}{{{base}}}"

    def _on_munderover(self, element, depth):
        base, under, over = self._args(element, depth, 3)
        if base in _LIMIT_OPS:
            return f"{base}_{_group(under)}^{_group(over)}"
        return rf"\underset{{{under}}}{{\overset{{{over}}}{{{base}}}}}"

    def _on_mmultiscripts(self, element, depth):
        kids = [child for child in element if isinstance(child.tag, str)]
        if not kids:
            return ""
        base = self.convert(kids[0], depth).strip()
        post: list[str] = []
        pre: list[str] = []
        target = post
        for child in kids[1:]:
            if local_name(child) == "mprescripts":
                target = pre
                continue
            target.append("" if local_name(child) == "none" else self.convert(child, depth).strip())

        def scripts(items: list[str]) -> str:
            out = ""
            for i in range(0, len(items) - 1, 2):
                sub, sup = items[i], items[i + 1]
                out += (f"_{_group(sub)}" if sub else "") + (f"^{_group(sup)}" if sup else "")
            return out

        prefix = "{}" + scripts(pre) if pre else ""
        return f"{prefix}{_base(base)}{scripts(post)}"

    def _on_mfenced(self, element, depth):
        open_, close = element.get("open", "("), element.get("close", ")")
        separators = (element.get("separators", ",") or "").replace(" ", "")
        kids = [child for child in element if isinstance(child.tag, str)]
        if len(kids) == 1 and local_name(kids[0]) == "mtable":
            env = _FENCE_ENVS.get((_chars_to_tex(open_), _chars_to_tex(close)))
            if env:
                return self._table(kids[0], depth, env)
        out: list[str] = [_chars_to_tex(open_)]
        for i, child in enumerate(kids):
            if i and separators:
                out.append(_chars_to_tex(separators[min(i - 1, len(separators) - 1)]))
            _append(out, self.convert(child, depth))
        _append(out, _chars_to_tex(close))
        return "".join(out)

    def _on_menclose(self, element, depth):
        body = self.children(element, depth).strip()
        notation = (element.get("notation") or "longdiv").split()
        command = _ENCLOSE.get(notation[0]) if notation else None
        return f"{command}{{{body}}}" if command else body

    def _on_mtable(self, element, depth):
        return self._table(element, depth, "matrix")

    def _table(self, element, depth: int, env: str) -> str:
        rows: list[str] = []
        for row in element:
            name = local_name(row)
            if name not in {"mtr", "mlabeledtr"}:
                continue
            cells = [cell for cell in row if local_name(cell) == "mtd"]
            if name == "mlabeledtr":
                cells = cells[1:]  # the first cell is the equation label
            rows.append(" & ".join(self.convert(cell, depth).strip() for cell in cells))
        return rf"\begin{{{env}}}" + r" \\ ".join(rows) + rf"\end{{{env}}}"
