"""Find the final answer in a model completion (or in a reference solution): a cascade, most explicit step first.

Within a step the last occurrence wins (models restate and correct themselves, so the last `\\boxed{}` is the
answer, not the first). The steps, and why each sits where it does:

1. `<answer>...</answer>` (R1-style; a `\\boxed{}` inside the tag is unwrapped): the format asked for by the prompt.
2. An explicit "the final answer is ..." written *after* the last box, when it states math or a choice letter: an
   intermediate `\\boxed{}` must not beat the model's later, explicit conclusion (but "the answer is consistent with
   ..." comments on the box and does not replace it).
3. `\\boxed{...}` / `\\fbox{...}` with nested braces, also `\\boxed 5`. Boxes joined only by connectors
   (`\\boxed{-2} and \\boxed{1}`, one box per part) are all parts of the answer (source `boxes`); the grader joins
   them as a tuple or set when the gold is one, and grades the last box otherwise. A `\\boxed` that does not close,
   is empty, or opens more than `_BOXED_WINDOW` characters before the end gives *no answer* (source
   `malformed_box`): never a guess from the rest of the text, or `\\boxed{1+1+...+1}` over 200 KB would be graded
   by its last `1`.
4. Minerva's "Final Answer: The final answer is X. I hope it is correct.", 5. GSM8K's `#### X`,
6. "the answer is X" / "final answer: X" / "答案是 X", 7. an `A: X` last line (OpenAI's GSM8K model solutions) or an
   `Answer: X` line: explicit markers, in the order of how unambiguous they are. A marker followed by a sentence
   ("Final Answer: The largest value is $5$.") gives the sentence's math (or what follows "is"), not the sentence.
8. A bare answer (source `bare`): the whole text when it is short and reads as math, not prose (`\\frac{10}{9}`,
   `$[0,1)$`, a matrix, `y = 2x+3`, `12 apples`). This is what RL frameworks pass when they extracted the answer
   themselves; reading it as prose would grade its last number.
9. The last math span of prose, `$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]` (source `math_span`), with the spans
   connected to it: "Therefore $x \\geq 5$ is the solution." answers `x \\geq 5`, not 5.
10. The last number of prose without any math (source `last_number`, labelled so callers can tell it was a guess),
    and never a number inside LaTeX braces (the 2 of `\\frac{1+\\sqrt{5}}{2}`).

Every scan is linear in the input and only reads a bounded tail, so a 2 MB completion costs milliseconds. Answers
longer than `MAX_ANSWER_CHARS` are still returned (the grader rejects them, counted).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rewards.spans import bare_answer, connected, last_math_spans, sentence_answer

__all__ = [
    "MARKERS",
    "MAX_ANSWER_CHARS",
    "Extraction",
    "completion_text",
    "extract",
    "extract_answer",
    "extract_with_source",
    "find_boxed",
    "find_boxes",
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
_FINAL_PHRASE_RE = re.compile(r"\b(?:the\s+)?final\s+answer\s*(?:is|:|=)|\bthe\s+answer\s+is\b", re.I)
_STATED_RE = re.compile(r"[\d\\$=+^_{}]|^\(?[A-E]\)?$")  # math, or a choice letter
_NUMBER_RE = re.compile(r"(?<![\w.{^_])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+)?|(?<![\w.])-?\.\d+")
# a sentence ends at a period followed by whitespace/end (not a decimal point), at CJK full stops, or where an
# explanation starts ("18 because ...", "18, since ...")
_SENTENCE_END_RE = re.compile(r"\.(?=\s|$)|。|,?\s+(?:because|since|as|which|so that|given that)\b")


def find_boxes(text: str) -> tuple[list[tuple[int, int, str]], int]:
    """Outermost non-empty boxes `(start, end, content)` in the last `_BOXED_WINDOW` characters, in order, and the
    position of the last box opener (in all of `text`), so callers can tell a trailing malformed box."""
    last_open = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if last_open < 0:
        return [], -1
    start = max(0, len(text) - _BOXED_WINDOW)
    closing = _brace_pairs(text, start)
    boxes: list[tuple[int, int, str]] = []
    inside_until = -1
    for match in _BOXED_RE.finditer(text, start):
        if match.start() < inside_until:
            continue  # a box inside the previous box: the outer one is the answer
        if match.group(1) != "{":  # \boxed 5 (no braces): the next token
            content = match.group(1).strip().rstrip("$.")
            boxes.append((match.start(), match.end(), content))
            inside_until = match.end()
            continue
        close = closing.get(match.end() - 1)
        if close is not None and text[match.end() : close].strip():
            boxes.append((match.start(), close + 1, _unwrap_boxes(text[match.end() : close].strip())))
            inside_until = close
    return [box for box in boxes if box[2]], last_open


def _unwrap_boxes(content: str) -> str:
    for _ in range(4):  # \boxed{\boxed{x}} -> x
        match = _BOXED_RE.match(content)
        if match is None or match.group(1) != "{" or _brace_pairs(content, 0).get(match.end() - 1) != len(content) - 1:
            break
        content = content[match.end() : -1].strip()
    return content


def find_boxed(text: str) -> str | None:
    """Content of the last outermost `\\boxed{...}` / `\\fbox{...}`, or None when there is none (or it is unclosed)."""
    boxes, _ = find_boxes(text)
    return boxes[-1][2] if boxes else None


def _final_boxes(text: str) -> tuple[list[str], bool]:
    """The boxes of the final answer (the last box and the boxes connected to it) and whether a box is malformed:
    the last opener is not part of a closed box (unclosed, empty, or beyond the window)."""
    boxes, last_open = find_boxes(text)
    if not boxes or last_open >= boxes[-1][1]:
        return [], True
    parts = [boxes[-1]]
    for box in reversed(boxes[:-1]):
        if not connected(text[box[1] : parts[0][0]]):
            break
        parts.insert(0, box)
    return [content for _, _, content in parts], False


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
        nested = extract(inner, _tags=False)
        if nested.answer is not None and nested.source in MARKERS | {"math_span"}:
            return nested.answer
    return inner.strip("$ ").strip()


@dataclass(frozen=True, slots=True)
class Extraction:
    """What `extract` found: the answer, the step that found it, and its parts when several boxes or math spans
    make one answer (then `answer` is the parts joined by ", ")."""

    answer: str | None
    source: str
    parts: tuple[str, ...] = ()


MARKERS = frozenset({"answer_tag", "boxed", "boxes", "final_answer", "gsm8k", "answer_is", "answer_line"})
_NONE = Extraction(None, "none")


def _joined(parts: list[str], source: str) -> Extraction:
    if len(parts) == 1:
        return Extraction(parts[0], "boxed" if source == "boxes" else source)
    return Extraction(", ".join(parts), source, tuple(parts))


def _answer_is(text: str, lowered: str) -> str | None:
    if "answer" not in lowered and "答案" not in text:
        return None
    match = _last(_ANSWER_IS_RE, text[-_PHRASE_WINDOW:])
    for _ in range(4):  # "Answer: the answer is 5" -> "5"
        if match is None:
            return None
        answer = _trim_sentence(match.group(1))
        nested = _ANSWER_IS_RE.search(answer)
        if nested is None:
            return sentence_answer(answer) if answer else None
        match = nested
    return None


def _phrase_after(text: str, position: int) -> str | None:
    """ "the final answer is X" written after `position` (the end of the last box), else None."""
    window_start = max(position, len(text) - _PHRASE_WINDOW)
    match = _last(_FINAL_PHRASE_RE, text[window_start:])
    if match is None:
        return None
    answer = _answer_is(text[window_start + match.start() :], text[window_start + match.start() :].lower())
    # "the answer is correct / consistent ...": a comment on the boxed answer, not a new one
    return answer if answer and _STATED_RE.search(answer) else None


def extract(text: str | None, *, _tags: bool = True) -> Extraction:
    """The final answer of `text` by the cascade in the module docstring."""
    if not text:
        return _NONE
    if _tags and "<answer>" in text.lower():
        tagged = _from_answer_tag(text)
        if tagged:
            return Extraction(tagged, "answer_tag")
    if "\\boxed" in text or "\\fbox" in text:
        parts, malformed = _final_boxes(text)
        if malformed:
            return Extraction(None, "malformed_box")
        boxes, _ = find_boxes(text)
        later = _phrase_after(text, boxes[-1][1])
        if later:
            return Extraction(later, "answer_is")
        return _joined(parts, "boxes")
    if "I hope it is correct" in text:
        match = _last(_MINERVA_RE, text[-_TAIL_CHARS:])
        if match and match.group(1).strip():
            return Extraction(sentence_answer(_trim_sentence(match.group(1))), "final_answer")
    if "####" in text:
        match = _last(_GSM8K_RE, text)
        if match and match.group(1).strip():
            return Extraction(match.group(1).strip().rstrip(".").strip(), "gsm8k")
    lowered = text.lower()
    phrase = _answer_is(text, lowered)
    if phrase:
        return Extraction(phrase, "answer_is")
    tail = text[-_TAIL_CHARS:]
    last_line = tail.rstrip().rsplit("\n", 1)[-1].strip()
    match = _A_LINE_RE.match(last_line)
    if match:
        return Extraction(_trim_sentence(match.group(1)), "answer_line")
    if "answer" in lowered:
        match = _last(_ANSWER_LINE_RE, tail)
        if match:
            answer = _trim_sentence(match.group(1))
            if answer:
                return Extraction(sentence_answer(answer), "answer_line")
    bare = bare_answer(text)
    if bare:
        return Extraction(bare, "bare")
    spans = last_math_spans(text)
    if spans:
        return _joined(spans, "math_span")
    match = _last(_NUMBER_RE, tail)
    if match and tail[match.end() : match.end() + 1] not in ("}", "^", "_"):
        return Extraction(match.group().rstrip("."), "last_number")
    return _NONE


def extract_with_source(text: str | None, *, _tags: bool = True) -> tuple[str | None, str]:
    """The final answer and which step found it.

    Returns:
        `(answer, source)` with source one of `answer_tag`, `boxed`, `boxes`, `final_answer`, `gsm8k`, `answer_is`,
        `answer_line`, `bare`, `math_span`, `last_number`, or `(None, "none")` / `(None, "malformed_box")`.
    """
    found = extract(text, _tags=_tags)
    return found.answer, found.source


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
    return extract(text).source in MARKERS
