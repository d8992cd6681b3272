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
from collections.abc import Sequence

__all__ = [
    "MAX_ANSWER_CHARS",
    "completion_text",
    "extract_answer",
    "extract_with_source",
    "find_boxed",
    "has_marker",
]

MAX_ANSWER_CHARS = 2000  # an answer longer than this is not an answer; the grader rejects it
_BOXED_WINDOW = 200_000  # only the end of a huge completion is searched for boxes
_PHRASE_WINDOW = 50_000  # "the answer is" is searched for in this much of the end
_TAIL_CHARS = 4000  # the last-number and Minerva patterns only read this much of the end

_BOXED_RE = re.compile(r"\\(?:boxed|fbox)\s*(\{|\s+\S)")
_BRACES_RE = re.compile(r"(?<!\\)[{}]")
_MINERVA_RE = re.compile(r"final answer is\s*(.{1,2000}?)\.?\s*I hope it is correct", re.I | re.S)
_GSM8K_RE = re.compile(r"####[ \t]*([^\n]*)")
_ANSWER_IS_RE = re.compile(
    r"(?:\b(?:the\s+)?(?:final\s+)?answer\s*(?:is|:|=)|(?:最终)?答案\s*(?:是|为|：|:))[ \t:]*(?:\*\*)?[ \t]*([^\n]*)",
    re.IGNORECASE,
)
_ANSWER_LINE_RE = re.compile(
    r"^[ \t>*#]*(?:final\s+)?answer[ \t*]*[:：][ \t*]*([^\n]+)$", re.IGNORECASE | re.MULTILINE
)
_A_LINE_RE = re.compile(r"^A:[ \t]*(.+)$")
_NUMBER_RE = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|(?<![\w.])-?\.\d+")
# a sentence ends at a period followed by whitespace/end (not a decimal point), at CJK full stops, or where an
# explanation starts ("18 because ...", "18, since ...")
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|。|,?\s+(?:because|since|as|which|so that|given that)\b")


def find_boxed(text: str) -> str | None:
    """Content of the last outermost `\\boxed{...}` / `\\fbox{...}`, or None when there is none (or it is unclosed)."""
    start = max(0, len(text) - _BOXED_WINDOW)
    matches = list(_BOXED_RE.finditer(text, start))
    if not matches:
        return None
    closing = _brace_pairs(text, start)
    best, inside_until = None, -1
    for match in matches:
        if match.start() < inside_until:
            continue  # a box inside the previous box: the outer one is the answer
        if match.group(1) != "{":  # \boxed 5 (no braces): the next token
            best, inside_until = match.group(1).strip().rstrip("$."), match.end()
            continue
        close = closing.get(match.end() - 1)
        if close is not None and text[match.end() : close].strip():
            best, inside_until = text[match.end() : close].strip(), close
    for _ in range(4):  # \\boxed{\\boxed{x}} -> x
        match = _BOXED_RE.match(best or "")
        if match is None or match.group(1) != "{" or _brace_pairs(best, 0).get(match.end() - 1) != len(best) - 1:
            break
        best = best[match.end() : -1].strip()
    return best or None


def _brace_pairs(text: str, start: int) -> dict[int, int]:
    """Opening-brace index -> closing-brace index for `text[start:]` (one linear pass; `\\{` is literal)."""
    pairs: dict[int, int] = {}
    stack: list[int] = []
    for match in _BRACES_RE.finditer(text, start):
        if match.group() == "{":
            stack.append(match.start())
        elif stack:
            pairs[stack.pop()] = match.start()
    return pairs


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
    # rfind, not a regex: `<answer>(.*?)</answer>` is quadratic on a megabyte of unclosed tags
    lowered = text.lower()
    end = lowered.rfind("</answer>")
    start = lowered.rfind("<answer>", 0, end) if end >= 0 else -1
    if start < 0:
        return None
    inner = text[start + len("<answer>") : end].strip()
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
        match = _last(_MINERVA_RE, text[-_TAIL_CHARS:])
        if match and match.group(1).strip():
            return _trim_sentence(match.group(1)), "final_answer"
    if "####" in text:
        match = _last(_GSM8K_RE, text)
        if match and match.group(1).strip():
            return match.group(1).strip().rstrip(".").strip(), "gsm8k"
    lowered = text.lower()
    if "answer" in lowered or "答案" in text:
        match = _last(_ANSWER_IS_RE, text[-_PHRASE_WINDOW:])
        for _ in range(4):  # "Answer: the answer is 5" -> "5"
            if match is None:
                break
            answer = _trim_sentence(match.group(1))
            nested = _ANSWER_IS_RE.search(answer)
            if nested is None:
                if answer:
                    return answer, "answer_is"
                break
            match = nested
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


def completion_text(completion) -> str:
    """The assistant text of a completion: a string, or the content of the last assistant message of a chat."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, bytes):
        return completion.decode("utf-8", "replace")
    if isinstance(completion, dict):
        content = completion.get("content", "")
        return content if isinstance(content, str) else _content_text(content)
    if isinstance(completion, Sequence):
        messages = [m for m in completion if isinstance(m, dict)]
        assistant = [m for m in messages if m.get("role", "assistant") == "assistant"] or messages
        return completion_text(assistant[-1]) if assistant else ""
    return str(completion)


def _content_text(content) -> str:
    # multimodal-style content: [{"type": "text", "text": "..."}]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def extract_answer(text: str | None) -> str | None:
    """The final answer of a completion or solution, or None when there is none (see the module docstring)."""
    return extract_with_source(text)[0]


def has_marker(text: str) -> bool:
    """Whether `text` carries an explicit answer marker (a reference given as a full solution, not a bare answer)."""
    source = extract_with_source(text)[1]
    return source not in ("none", "last_number")
