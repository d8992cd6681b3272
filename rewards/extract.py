"""Find the final answer in a model completion (or in a reference solution).

Markers are tried from the most to the least explicit; the first marker kind present wins and, within a kind, the
last occurrence wins (models restate and correct themselves, so the last `\\boxed{}` is the answer, not the first):

1. `<answer>...</answer>` (R1-style; a `\\boxed{}` inside the tag is unwrapped),
2. `\\boxed{...}` / `\\fbox{...}` with nested braces, also `\\boxed 5`,
3. Minerva's "Final Answer: The final answer is X. I hope it is correct.",
4. GSM8K's `#### X`,
5. "the answer is X" / "final answer: X" / "答案是 X",
6. an `A: X` last line (OpenAI's GSM8K model solutions) or an `Answer: X` line,
7. the last number in the text, labelled `last_number` so callers can tell it was a guess.

Every scan is linear in the input and the number fallback only reads the tail, so a 2 MB completion costs
milliseconds. Answers longer than `MAX_ANSWER_CHARS` are still returned (the grader rejects them, counted).
"""

from __future__ import annotations

import re

__all__ = ["MAX_ANSWER_CHARS", "extract_answer", "extract_with_source", "find_boxed", "has_marker"]

MAX_ANSWER_CHARS = 2000  # an answer longer than this is not an answer; the grader rejects it
_BRACE_SCAN_LIMIT = 20_000  # stop matching braces after this many characters (hostile nesting)
_TAIL_CHARS = 4000  # the last-number fallback only reads this much of the end

_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*(\{|\s+\S)")
_BRACES_RE = re.compile(r"[{}]")
_ANSWER_TAG_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL | re.IGNORECASE)
_MINERVA_RE = re.compile(r"final answer is\s*(.{1,%d}?)\.?\s*I hope it is correct" % MAX_ANSWER_CHARS, re.I | re.S)
_GSM8K_RE = re.compile(r"####[ \t]*([^\n]*)")
_ANSWER_IS_RE = re.compile(
    r"(?:\b(?:the\s+)?(?:final\s+)?answer\s*(?:is|:|=)|(?:最终)?答案\s*(?:是|为|：|:))[ \t:]*(?:\*\*)?[ \t]*([^\n]*)",
    re.IGNORECASE,
)
_ANSWER_LINE_RE = re.compile(r"^[ \t>*#]*(?:final\s+)?answer[ \t*]*[:：][ \t*]*([^\n]+)$", re.IGNORECASE | re.MULTILINE)
_A_LINE_RE = re.compile(r"^A:[ \t]*(.+)$")
_NUMBER_RE = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|(?<![\w.])-?\.\d+")
# a sentence ends at a period followed by whitespace/end (not a decimal point), or at CJK full stops
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|。")


def find_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` / `\\fbox{...}` (nested braces), or None when there is none or it is unclosed."""
    for match in reversed(list(_BOXED_RE.finditer(text))):
        if match.group(1) != "{":  # \boxed 5 (no braces): the next token
            content = match.group(1).strip()
            return content.rstrip("$.") or None
        content = _braced(text, match.end() - 1)
        if content is not None and content.strip():
            return content.strip()
    return None


def _braced(text: str, open_at: int) -> str | None:
    """Content of the brace group opening at `open_at`; None when unclosed within the scan limit."""
    depth = 0
    stop = min(len(text), open_at + _BRACE_SCAN_LIMIT)
    for match in _BRACES_RE.finditer(text, open_at, stop):
        if match.start() > open_at and text[match.start() - 1] == "\\":
            continue  # \{ and \} are literal braces (sets)
        depth += 1 if match.group() == "{" else -1
        if depth == 0:
            return text[open_at + 1 : match.start()]
    return None


def _last(pattern: re.Pattern, text: str) -> re.Match | None:
    last = None
    for last in pattern.finditer(text):  # noqa: B007 - we want the last match
        pass
    return last


def _trim_sentence(answer: str) -> str:
    """Cut "18 dollars. Then we ..." to "18 dollars"; unwrap `$...$` / `\\(...\\)` math when it opens the answer."""
    answer = answer.strip().lstrip("*").strip()
    if answer.startswith("\\boxed") or answer.startswith("\\fbox"):
        boxed = find_boxed(answer)
        if boxed:
            return boxed
    for opener, closer in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if answer.startswith(opener):
            end = answer.find(closer, len(opener))
            if end > len(opener):
                return answer[len(opener) : end].strip()
            break  # "$18" with no closing "$": a dollar amount, not math
    match = _SENTENCE_END_RE.search(answer)
    if match:
        answer = answer[: match.start()]
    return answer.strip().rstrip("*").strip()


def _from_answer_tag(text: str) -> str | None:
    match = _last(_ANSWER_TAG_RE, text)
    if match is None:
        return None
    inner = match.group(1).strip()
    if not inner:
        return None
    boxed = find_boxed(inner)
    if boxed is not None:
        return boxed
    if "\n" in inner or len(inner) > 200:  # a sentence or a short derivation inside the tag
        nested, source = extract_with_source(inner, _tags=False)
        if nested is not None and source != "last_number":
            return nested
    return inner.strip("$ ").strip()


def extract_with_source(text: str | None, *, _tags: bool = True) -> tuple[str | None, str]:
    """The final answer and which marker found it.

    Returns:
        `(answer, source)` with source one of `answer_tag`, `boxed`, `final_answer`, `gsm8k`, `answer_is`,
        `answer_line`, `last_number`, or `(None, "none")`.
    """
    if not text:
        return None, "none"
    if _tags and "<answer>" in text.lower():
        tagged = _from_answer_tag(text)
        if tagged:
            return tagged, "answer_tag"
    if "\\boxed" in text or "\\fbox" in text:
        boxed = find_boxed(text)
        if boxed:
            return boxed, "boxed"
    if "I hope it is correct" in text:
        match = _last(_MINERVA_RE, text)
        if match and match.group(1).strip():
            return _trim_sentence(match.group(1)), "final_answer"
    if "####" in text:
        match = _last(_GSM8K_RE, text)
        if match and match.group(1).strip():
            return match.group(1).strip().rstrip(".").strip(), "gsm8k"
    lowered = text.lower()
    if "answer" in lowered or "答案" in text:
        match = _last(_ANSWER_IS_RE, text)
        if match:
            answer = _trim_sentence(match.group(1))
            if answer:
                return answer, "answer_is"
    tail = text[-_TAIL_CHARS:]
    last_line = tail.rstrip().rsplit("\n", 1)[-1].strip()
    match = _A_LINE_RE.match(last_line)
    if match:
        return _trim_sentence(match.group(1)), "answer_line"
    if "answer" in lowered:
        match = _last(_ANSWER_LINE_RE, tail)
        if match:
            answer = _trim_sentence(match.group(1))
            if answer:
                return answer, "answer_line"
    match = _last(_NUMBER_RE, tail)
    if match:
        return match.group().rstrip("."), "last_number"
    return None, "none"


def extract_answer(text: str | None) -> str | None:
    """The final answer of a completion or solution, or None when there is none (see the module docstring)."""
    return extract_with_source(text)[0]


def has_marker(text: str) -> bool:
    """Whether `text` carries an explicit answer marker (a reference given as a full solution, not a bare answer)."""
    source = extract_with_source(text)[1]
    return source not in ("none", "last_number")
