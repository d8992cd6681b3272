"""Chain-of-thought, program-of-thought and tool-integrated rows -> one chat shape.

Every source row becomes a `Candidate`: the user problem, the assistant text to check, the gold answer (from the
`answer` field, else extracted from the solution with `rewards`), and for PoT the program to run. After checking,
`final_messages` writes the conversation the mix keeps, whose last assistant turn ends with `\\boxed{gold}`:

- CoT: the solution with GSM8K calculator marks (`<<48/2=24>>`) removed and a `#### 72` line turned into
  "The answer is $\\boxed{72}$."; solutions that already box their answer are kept as they are.
- PoT: the program in a ```python block, its executed result in an ```output block, then the boxed answer.
- TIR: the source's turns (tool/ipython/function turns folded into the previous assistant turn as ```output
  blocks); a box is appended only when the last assistant turn has none.

Rows that cannot be normalised give a `Skip` with a reason (no question, no gold answer, no program, bad turns).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = [
    "Candidate",
    "Skip",
    "detect_language",
    "extract_program",
    "final_messages",
    "normalise_row",
    "pot_assistant",
]

_CALCULATOR = re.compile(r"<<[^<>\n]*>>")
_GSM8K_FINAL = re.compile(r"\n?\s*####\s*(.+?)\s*$", re.DOTALL)
_PY_BLOCK = re.compile(r"```(?:python|py)\s*\n(.*?)```", re.DOTALL)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")
_TOOL_ROLES = ("tool", "ipython", "function", "observation")


@dataclass
class Skip:
    """A row that could not become a candidate, and why (counted as `skipped_<reason>`)."""

    reason: str


@dataclass
class Candidate:
    """One normalised row before checking."""

    source: str
    source_id: str
    format: str
    question: str
    gold: str  # normalised gold answer
    text: str = ""  # CoT solution / TIR last assistant turn: what `rewards.verify` checks
    turns: list[dict] = field(default_factory=list)  # conversation without system turn (PoT: user turn only)
    program: str = ""  # PoT only
    result: str = ""  # PoT: the executed result, once run
    language: str = "en"

    @property
    def key(self) -> str:
        return f"{self.source}/{self.source_id}"

    def conversation_text(self) -> str:
        """Plain text of the conversation, for dedup and contamination checks."""
        body = [t["content"] for t in self.turns]
        if self.program:
            body.append(self.program)
        return "\n\n".join(body)


def detect_language(text: str, threshold: float = 0.2) -> str:
    """'zh' when CJK characters are at least `threshold` of the non-space characters, else 'en' (cheap on purpose)."""
    chars = sum(1 for ch in text if not ch.isspace())
    if not chars:
        return "en"
    return "zh" if len(_CJK.findall(text)) / chars >= threshold else "en"


def extract_program(text: str) -> str:
    """The first ```python block of `text`, or `text` itself when it has no fences."""
    match = _PY_BLOCK.search(text)
    return (match.group(1) if match else text).strip("\n")


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _gold(answer, solution: str | None) -> str | None:
    """Normalised gold: the answer field (markers like #### or \\boxed extracted), else the solution's answer."""
    import rewards

    raw = _as_text(answer)
    if raw is not None and ("\\boxed" in raw or "####" in raw):
        raw = rewards.extract_answer(raw)
    if raw is None and solution:
        raw = rewards.extract_answer(solution)
    if raw is None:
        return None
    gold = rewards.normalize_answer(raw)
    return gold or None


def _turns(messages) -> list[dict] | None:
    """Source messages as system/user/assistant turns; tool output turns fold into the assistant turn before."""
    if not isinstance(messages, list) or not messages:
        return None
    turns: list[dict] = []
    for message in messages:
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            return None
        role = str(message.get("role", "")).lower()
        content = message["content"]
        if role in _TOOL_ROLES:
            if not turns or turns[-1]["role"] != "assistant":
                return None
            turns[-1]["content"] += f"\n```output\n{content.strip()}\n```\n"
        elif role in ("system", "user", "assistant"):
            if turns and turns[-1]["role"] == role == "assistant":
                turns[-1]["content"] += "\n" + content
            else:
                turns.append({"role": role, "content": content})
        else:
            return None
    turns = [t for t in turns if t["role"] != "system"]  # the mix sets its own system prompt
    if not turns or turns[0]["role"] != "user" or turns[-1]["role"] != "assistant":
        return None
    return turns


def normalise_row(source, source_id: str, mapped: dict) -> Candidate | Skip:
    """A mapped row ({role: value}) of `source` (a SourceConfig) as a Candidate, or a Skip with the reason."""
    turns = None
    if mapped.get("messages") is not None:
        turns = _turns(mapped["messages"])
        if turns is None:
            return Skip("bad_messages")
    question = _as_text(mapped.get("question"))
    if question is None and turns:
        question = turns[0]["content"].strip() or None
    if question is None:
        return Skip("no_question")
    solution = mapped.get("solution")
    solution = solution if isinstance(solution, str) and solution.strip() else None
    if turns is None and source.format != "pot":
        if solution is None:
            return Skip("no_solution")
        turns = [{"role": "user", "content": question}, {"role": "assistant", "content": solution}]
    elif turns is None:
        turns = [{"role": "user", "content": question}]
    text = turns[-1]["content"] if source.format != "pot" else (solution or "")
    gold = _gold(mapped.get("answer"), text or None)
    if gold is None:
        return Skip("no_answer")
    program = ""
    if source.format == "pot":
        raw = mapped.get("program")
        program = extract_program(raw) if isinstance(raw, str) else ""
        if not program.strip():
            return Skip("no_program")
    language = source.language or detect_language(question)
    return Candidate(source.name, source_id, source.format, question, gold, text, turns, program, language=language)


def _boxed_tail(gold: str) -> str:
    return f"The answer is $\\boxed{{{gold}}}$."


def _clean_cot(solution: str, gold: str) -> str:
    text = _CALCULATOR.sub("", solution).rstrip()
    match = _GSM8K_FINAL.search(text)
    if match and "\n" not in match.group(1):
        text = text[: match.start()].rstrip()
        return f"{text}\n{_boxed_tail(gold)}" if text else _boxed_tail(gold)
    if "\\boxed" in text:
        return text
    return f"{text}\n\n{_boxed_tail(gold)}"


def pot_assistant(program: str, result: str, gold: str) -> str:
    """The PoT assistant turn: program, its executed result, boxed answer."""
    return f"```python\n{program.strip()}\n```\n```output\n{result}\n```\n{_boxed_tail(gold)}"


def final_messages(candidate: Candidate, system_prompt: str = "") -> list[dict]:
    """The conversation the mix keeps (optional system turn, user, assistant ending in the boxed answer)."""
    turns = [dict(t) for t in candidate.turns]
    if candidate.format == "pot":
        turns = [
            turns[0],
            {"role": "assistant", "content": pot_assistant(candidate.program, candidate.result, candidate.gold)},
        ]
    elif candidate.format == "cot":
        turns[-1]["content"] = _clean_cot(turns[-1]["content"], candidate.gold)
    elif "\\boxed" not in turns[-1]["content"]:
        turns[-1]["content"] = f"{turns[-1]['content'].rstrip()}\n\n{_boxed_tail(candidate.gold)}"
    if system_prompt:
        turns.insert(0, {"role": "system", "content": system_prompt})
    return turns
