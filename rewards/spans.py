"""Where an answer sits when nothing marks it: the whole text (a bare answer), or the last math span of prose.

Helpers for `rewards.extract`, split out to keep that module small:

- `bare_answer`: RL frameworks often hand the checker an already extracted answer (`\\frac{10}{9}`, `$[0,1)$`,
  `$\\text{E}$`, a matrix, `y = 2x + 3`, `12 apples`). A short text with at most two prose words is taken whole;
  reading it as prose would grade its last number (9 of `\\frac{10}{9}`).
- `last_math_spans`: prose whose answer is its math ("Therefore $x \\geq 5$ is the solution."). The last `$...$`,
  `$$...$$`, `\\(...\\)` or `\\[...\\]` span is the answer; spans joined only by `,`, `and`, `or` (`$x = 1$ and
  $x = 2$`) are its parts. Money (`$5 and $6`) is not math.
- `group_parts`: which trailing boxes or spans belong to one final answer (separated by connectors only).

All scans read a bounded tail with patterns that cannot backtrack across a long text.
"""

from __future__ import annotations

import re

from rewards.notations import named_set

__all__ = ["BARE_MAX_CHARS", "bare_answer", "connected", "last_math_spans", "sentence_answer"]

BARE_MAX_CHARS = 400  # a longer text is a solution, not an answer
_SPAN_TAIL = 6000  # math spans are searched for in this much of the end
_MAX_SPAN = 1500
_MAX_GAP = 60  # characters between two parts of one answer

_SPAN_RE = re.compile(
    r"\$\$(?P<display>[^$]{1,N})\$\$|\\\[(?P<bracket>(?:(?!\\\]).){1,N})\\\]|\\\((?P<paren>(?:(?!\\\)).){1,N})\\\)"
    r"|(?<![\\$])\$(?P<inline>(?:\\\$|[^$]){1,N})(?<!\\)\$".replace("N", str(_MAX_SPAN)),
    re.S,
)
_WHOLE_SPAN_RE = re.compile(r"^(?:\$\$(.+)\$\$|\$(.+)\$|\\\[(.+)\\\]|\\\((.+)\\\))[\s.]*$", re.S)
_COMMAND_RE = re.compile(r"\\[a-zA-Z]+")
_TEXT_RE = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_WORD_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,}(?![A-Za-z])")
_SENTENCE_RE = re.compile(r"[.!?]\s+[A-Z]|[:;]\s+\S.*\s")
_NOT_PROSE_WORDS = (
    "or and sin cos tan cot sec csc log ln exp lim max min gcd lcm mod det arcsin arccos arctan sinh cosh tanh pi inf "
    "infty deg dx dy dt cm mm km kg mg ml ft yd mi lb lbs oz in mph hr hrs min sec am pm"
)
_NOT_PROSE = frozenset(_NOT_PROSE_WORDS.split())
_CONNECTOR_RE = re.compile(
    r"^(?:[\s,;&$]|\\quad|\\qquad|\\[,;:! ]|\\text\{\s*(?:and|or)?\s*\}|\\\(|\\\)|\\\[|\\\]|\band\b|\bor\b"
    r"|\(?\b(?:[a-h]|i{1,3}|iv|v)\)|\b(?:[a-h]|i{1,3}|iv|v)[.:]|\b[A-Za-z](?:_\{?\w+\}?)?\s*=)*$"
)
_DELIMITER_RE = re.compile(r"(?<!\\)\$|\\\(|\\\[")  # `\$` is a dollar sign, not a delimiter
_MATHY_RE = re.compile(r"[\d\\=+^_{}()<>]")
_LABEL_RE = re.compile(r"\b[A-Za-z]\w{0,11}\s*=")
_POINTS_RE = re.compile(r"^[A-Z]{2,3}$")  # AB, ABC: segments, triangles
_MONEY_RE = re.compile(r"^\d[\d,.]*(?:\s|$)")
_IS_RE = re.compile(r"\b(?:is|are|was|equals|be)\s+(?!\s)(.{1,200}?)\s*$", re.I | re.S)


def _prose_words(s: str) -> list[str]:
    s = _TEXT_RE.sub(" ", s)  # \text{E}, \text{cm}: part of the answer, not prose around it
    s = _LABEL_RE.sub(" = ", _COMMAND_RE.sub(" ", s))  # `AB = 4`, `area = 5`: names, not prose
    return [w for w in _WORD_RE.findall(s) if w.lower() not in _NOT_PROSE and not _POINTS_RE.match(w)]


def bare_answer(text: str) -> str | None:
    """The whole text when it is a short answer (one math span, or at most two prose words), else None."""
    s = text.strip()
    if not s or len(s) > BARE_MAX_CHARS:
        return None
    whole = _WHOLE_SPAN_RE.match(s)
    if whole is not None:
        inner = next(g for g in whole.groups() if g is not None).strip()
        if not _DELIMITER_RE.search(inner):
            return inner or None
        return None  # several spans: prose-like, see last_math_spans
    if _DELIMITER_RE.search(s):
        return None
    if "\n" in s and "\\begin" not in s:
        return None  # lines of work
    if _SENTENCE_RE.search(s):
        return None
    if named_set(s.rstrip(". ")) != s.rstrip(". "):
        return s.rstrip(". ")  # "all real numbers", "no solution": answers in words
    words = _prose_words(s)
    if len(words) > 2:
        return None
    if words and _MATHY_RE.search(s[: s.find(words[0])]):
        pass  # words after the math: units or a label of the value (`12 apples`, `12^{th} grade`)
    elif words and _MATHY_RE.search(s):
        return None  # words before the math: prose ("values -3 and -7")
    return s.rstrip(". ").strip() or None


def _is_money(inner: str) -> bool:
    return inner[:1].isdigit() and (inner != inner.rstrip() or (bool(_MONEY_RE.match(inner)) and " " in inner))


def connected(gap: str) -> bool:
    """Whether the text between two boxes or spans only joins them (`, `, ` and `, `(b)`, `y = `)."""
    return len(gap) <= _MAX_GAP and "\n\n" not in gap and _CONNECTOR_RE.match(gap) is not None


def last_math_spans(text: str) -> list[str]:
    """The last math span of `text` and the spans connected to it (in order); [] when there is none."""
    start = max(0, len(text) - _SPAN_TAIL)
    spans: list[tuple[int, int, str]] = []
    for match in _SPAN_RE.finditer(text, start):
        kind = match.lastgroup
        inner = match.group(kind)
        if kind == "inline" and _is_money(inner):
            continue
        if inner.strip():
            spans.append((match.start(), match.end(), inner.strip()))
    if not spans:
        return []
    parts = [spans[-1]]
    for span in reversed(spans[:-1]):
        if not connected(text[span[1] : parts[0][0]]):
            break
        parts.insert(0, span)
    return [inner for _, _, inner in parts]


def sentence_answer(answer: str) -> str:
    """The answer inside a sentence given after a marker ("Final Answer: The largest value is $5$." -> `5`)."""
    if len(_prose_words(_SPAN_RE.sub(" ", answer))) < 2:
        return answer  # `12 apples`, `x = 5`, `\\text{Monday}`: already an answer
    spans = last_math_spans(answer)
    if spans:
        return ", ".join(spans)
    match = _IS_RE.search(answer)
    return match.group(1).strip() if match else answer
