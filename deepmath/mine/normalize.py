"""Text normalisation for the fastText math classifier: the same function for training lines and for scoring.

    normalize_text("Let $x^2+\\frac{1}{2}$\nbe").split()  ->  ["let", "$", "x", "^", "2+", "\\frac", "{", "1", ...]

Lowercase; LaTeX kept as tokens: a space goes before every backslash (so `\\frac` is one token, never glued to
what precedes it) and around `$ { } ^ _`, the characters that make math markup; line breaks and the common Unicode
spaces (no-break, line/paragraph separator, ideographic) become spaces, so a page is one fastText line.

CJK text has no spaces, so a Chinese solution would be a few huge "words" that never repeat: runs of Han, kana and
Hangul characters become overlapping character bigrams (`"设函数"` -> `"设函 函数"`; a lone character stays itself),
the usual character n-gram answer to unsegmented scripts, here with no dictionary to ship or keep in sync. Latin
words, digits and LaTeX inside a mixed-script page stay tokens as above, since the run ends where the script does.
Pages without CJK pay one C-speed regex scan (a `str.isascii()` check first for pure-ASCII pages).

Where we depart from a full tokenizer: other punctuation stays attached to words. Splitting every symbol roughly
doubles the token count (and fastText's predict time, which is linear in tokens) for no measurable gain on the
math-vs-web task; the six markup characters carry the signal. Runs of spaces are left in place: fastText skips
them when it splits words, and collapsing them (`" ".join(text.split())`) would double the cost of this function,
which runs on every page of the pool (bench/mining.py). Everything is `str.lower/replace`, C-speed passes. Since
`_` is separated, no page can smuggle a fastText label (`__label__x`) into a training line.
"""

from __future__ import annotations

import re

__all__ = ["CJK_RUN", "LATEX_SEPARATED", "cjk_bigrams", "normalize_text", "training_line"]

LATEX_SEPARATED = ("$", "{", "}", "^", "_")
_LABEL_PREFIX = "__label__"
# "\n" ends a fastText example and "\r" a line for Python's text mode; the rest are spaces fastText would not split on
_LINE_BREAKS = ("\n", "\r", "\t", "\x0b", "\x0c", "\x85", "\xa0", "\u2028", "\u2029", "\u3000")
# Han (with extension A and compatibility ideographs), kana, Hangul syllables
CJK_RUN = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]+")


def _bigrams(match: re.Match) -> str:
    run = match.group()
    if len(run) < 3:
        return f" {run} "
    return " " + " ".join([run[i : i + 2] for i in range(len(run) - 1)]) + " "


def cjk_bigrams(text: str) -> str:
    """CJK runs as space-separated overlapping character bigrams; other text unchanged."""
    if text.isascii():
        return text
    return CJK_RUN.sub(_bigrams, text)


def normalize_text(text: str) -> str:
    """One line of lowercase, space-separated tokens with LaTeX commands and markup as their own tokens."""
    text = cjk_bigrams(text.lower())
    if "\\" in text:
        text = text.replace("\\", " \\")
    for char in LATEX_SEPARATED:
        if char in text:
            text = text.replace(char, f" {char} ")
    for char in _LINE_BREAKS:
        if char in text:  # cheap for ASCII pages: CPython rejects a non-Latin-1 char without scanning
            text = text.replace(char, " ")
    return text


def training_line(label: str, text: str) -> str:
    """A fastText supervised line: `__label__<label> <normalised text>` (no trailing newline)."""
    return f"{_LABEL_PREFIX}{label} {normalize_text(text)}"
