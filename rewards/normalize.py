"""String-level cleanup of an extracted answer: what two people would agree is "the same way of writing it".

`clean` is cheap (regexes over a string of at most a few thousand characters) and runs on every answer before any
parsing: Unicode folding (full-width digits, `−`, `√`, `π`, `²`), invisible formatting characters, math delimiters,
`\\left`, spacing commands, `\\dfrac`, `{,}` thousands separators, degrees, currency, `\\text{}` wrappers and
ordinal suffixes (`12^{th}`). Control characters (NUL, ESC) are not cleaned away: the grader rejects such answers. Units are
removed later, per leaf, by `strip_units`, because only there do we know a number precedes them.
"""

from __future__ import annotations

import re
import unicodedata

from rewards.notations import named_set, ordinal_suffix

__all__ = ["clean", "strip_units", "text_key"]

_UNICODE = {
    "−": "-",
    "–": "-",
    "—": "-",
    "×": "\\times ",
    "÷": "/",
    "·": "\\cdot ",
    "⋅": "\\cdot ",
    "√": "\\sqrt",
    "π": "\\pi ",
    "∞": "\\infty ",
    "≤": "\\le ",
    "≥": "\\ge ",
    "≠": "\\neq ",
    "±": "\\pm ",
    "∓": "\\mp ",
    "∪": "\\cup ",
    "∩": "\\cap ",
    "°": "^\\circ",
    "²": "^2",
    "³": "^3",
    "¹": "^1",
    "€": "",
    "£": "",
    "¥": "",
    "￥": "",
    "，": ",",
    "。": ".",
    "：": ":",
    "（": "(",
    "）": ")",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))
# invisible formatting characters are dropped; C0/C1 control characters never get here (the grader rejects answers
# that hold them, see `rewards.guards.control_characters`: dropping a NUL would turn `4\x002` into 42)
_CONTROL_RE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_WHITESPACE_RE = re.compile(r"[\t\n\r\x0b\x0c\u2028-\u202f]")
_WRAPPERS = ("text", "textbf", "textit", "textrm", "textsf", "texttt", "mathrm", "mathbf", "mathit", "mathsf", "mbox")
_WRAPPER_RE = re.compile(r"\\(?:" + "|".join(_WRAPPERS) + r")\s*\{")
# (?<!\\) keeps the row separator \\\\ of matrices intact
_DROP_RE = re.compile(r"\\(?:left|right|bigl|bigr|Bigl|Bigr|big|Big|limits)(?![a-zA-Z])|(?<!\\)\\[!,]")
_SPACE_RE = re.compile(
    r"\\(?:displaystyle|textstyle)(?![a-zA-Z])|(?<!\\)\\(?:[;:> ]|quad|qquad)|\\hspace\*?\{[^}]*\}|~"
)
_REPLACE = [
    (re.compile(r"\\[dtc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[dt]binom(?![a-zA-Z])"), r"\\binom"),
    (re.compile(r"\{,\}"), ","),
    (re.compile(r"\^\s*\{\s*\\circ\s*\}|\^\s*\\circ|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])"), ""),
    (re.compile(r"\\%"), "%"),
    (re.compile(r"\\\$|\$"), ""),
    (re.compile(r"\\(?:leqslant|leq|le)(?![a-zA-Z])"), r"\\le "),
    (re.compile(r"\\(?:geqslant|geq|ge)(?![a-zA-Z])"), r"\\ge "),
    (re.compile(r"\\(?:neq|ne)(?![a-zA-Z])"), r"\\neq "),
    (re.compile(r"\\lt(?![a-zA-Z])"), "<"),
    (re.compile(r"\\gt(?![a-zA-Z])"), ">"),
    (re.compile(r"<="), r"\\le "),
    (re.compile(r">="), r"\\ge "),
    (re.compile(r"!="), r"\\neq "),
    (re.compile(r"\\infinity|\\inf(?![a-zA-Z])|(?<![A-Za-z\\])(?:infinity|inf)(?![A-Za-z])"), r"\\infty"),
    (re.compile(r"(?<![A-Za-z\\])pi(?![A-Za-z])"), r"\\pi "),  # plain-text pi (2pi, pi/6)
    (re.compile(r"\*\*"), "^"),  # Python powers
    (re.compile(r"\\varnothing(?![a-zA-Z])|\\\{\s*\\\}"), r"\\emptyset"),
    (re.compile(r"\\lbrace|\\\{"), r"\\{"),
    (re.compile(r"\\rbrace|\\\}"), r"\\}"),
    (re.compile(r"\\(?:emph|boldsymbol|bm|mathnormal)(?![a-zA-Z])"), ""),
    (re.compile(r"\\mbox(?=[a-zA-Z])"), " "),  # `\mboxinches`: an extraction that lost the braces
    (re.compile(r"([_^])\{\s*(\w)\s*\}"), r"\1\2"),  # x^{2} -> x^2
    (re.compile(r"\s+"), " "),
]
_DEGREE_WORDS_RE = re.compile(r"\s*(?:degrees?|deg)\s*$", re.IGNORECASE)
_LEADING_RE = re.compile(r"^(?:(?:final\s+)?answer\s*[:：]|答案\s*[:：是为]?|=)\s*", re.IGNORECASE)
_TRAILING = " .,;:?。，；"  # not "!": 5! is a factorial

_UNIT_WORDS = """
    m cm mm km g kg mg l ml s h hr hrs min mins sec secs ft yd mi lb lbs oz in mph kph kmh meter meters metre
    metres centimeter centimeters millimeter millimeters kilometer kilometers inch inches foot feet yard yards
    mile miles gram grams kilogram kilograms pound pounds ounce ounces liter liters litre litres gallon gallons
    cup cups second seconds minute minutes hour hours day days week weeks month months year years dollar
    dollars cent cents euro euros unit units square cubic sq degree degrees radian radians people persons
    students apples eggs times ways
"""
UNITS = frozenset(_UNIT_WORDS.split())
_UNIT_TAIL_RE = re.compile(r"^(?P<head>.*?[\d}%])\s*(?P<words>[A-Za-z][A-Za-z.\s]*?(?:\^\{?[23]\}?)?)\s*$")
_SEPARATOR_WORDS = {"or", "and", "to", "if", "for", "when", "where", "with", "is", "are", "i", "e", "x", "y", "z"}


def _unwrap_text(s: str) -> str:
    """`\\text{abc}` -> `abc` (nested braces respected)."""
    for _ in range(50):  # bounded: each pass removes one wrapper
        match = _WRAPPER_RE.search(s)
        if match is None:
            return s
        depth, end = 0, -1
        for i in range(match.end() - 1, len(s)):
            if s[i] == "{" and s[i - 1] != "\\":
                depth += 1
            elif s[i] == "}" and s[i - 1] != "\\":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        if end < 0:
            return s[: match.start()] + s[match.end() :]
        s = s[: match.start()] + " " + s[match.end() : end] + " " + s[end + 1 :]
    return s


def clean(answer: str) -> str:
    """Canonical spelling of an answer string (no math is parsed here)."""
    s = _CONTROL_RE.sub("", _WHITESPACE_RE.sub(" ", answer))
    s = _UNICODE_RE.sub(lambda m: _UNICODE[m.group()], s)
    if not s.isascii():
        s = unicodedata.normalize("NFKC", s)
    s = _SPACE_RE.sub(" ", _DROP_RE.sub("", s))
    s = _unwrap_text(s)
    for pattern, repl in _REPLACE:
        s = pattern.sub(repl, s)
    s = ordinal_suffix(s).strip()
    if (s.startswith("\\[") and s.endswith("\\]")) or (s.startswith("\\(") and s.endswith("\\)")):
        s = s[2:-2].strip()
    s = _LEADING_RE.sub("", s)
    s = _DEGREE_WORDS_RE.sub("", s) if any(c.isdigit() for c in s) else s
    return named_set(s.rstrip(_TRAILING).lstrip(" ,;:"))


def strip_units(leaf: str) -> str:
    """`18 dollars` -> `18`, `\\frac{1}{2} inch` -> `\\frac{1}{2}`, `5 cm^2` -> `5`; leaves `3 x` and `2 or 3` alone."""
    match = _UNIT_TAIL_RE.match(leaf)
    if match is None:
        return leaf
    words = match.group("words").replace(".", " ").split()
    if not words or any(w.lower() in _SEPARATOR_WORDS for w in words):
        return leaf
    first = words[0].lower()
    if first in UNITS or (len(first) >= 3 and all(w.isalpha() for w in words)):
        return match.group("head").strip()
    return leaf


_TEXT_DROP_RE = re.compile(r"[^\w]|_", re.UNICODE)
_ARTICLES_RE = re.compile(r"\b(?:the|a|an)\b\s*", re.IGNORECASE)


def text_key(s: str) -> str:
    """Comparison key of a text answer: case-folded, articles, spaces and punctuation dropped."""
    return _TEXT_DROP_RE.sub("", _ARTICLES_RE.sub("", s.replace("\\", " ")).casefold())
