"""Prompts and gold answers for training and evaluation: load, decontaminate, format as chat.

    problems, dropped = load_problems(["out/sft-mix", "hf:openai/gsm8k:train:main"])  # [{"question", "answer", ...}]
    problems, report = decontaminate(problems, ["gsm8k", "math"], ngram=10)           # drops benchmark overlaps
    dataset = grpo_dataset(problems, "{question}", system_prompt="")                   # TRL: prompt (chat) + answer

A source is an SFT-mix folder (its `data/*.parquet`), any local JSONL/JSON/Parquet file, folder or glob, or a Hugging
Face dataset `hf:owner/name[:split[:config]]`. Each row needs a question (`question`, `problem`, `prompt`, ... or the
first user message of `messages`) and a gold answer (`answer`, `final_answer`, ...). When only a worked solution
is given (`solution`, GSM8K's `answer` with `#### N`, an assistant message), the answer is extracted with `rewards`
and the row is kept only if the solution carries an explicit marker (`\\boxed{}`, `####`, "the answer is"); a bare
last number is not trusted as a gold answer. Rows without a question or an answer are dropped and counted.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from deepmath.config import ConfigError

__all__ = [
    "DataError",
    "build_messages",
    "decontaminate",
    "grpo_dataset",
    "load_problems",
    "load_rows",
    "read_jsonl",
    "sft_dataset",
    "write_jsonl",
]

logger = logging.getLogger(__name__)

QUESTION_FIELDS = ("question", "problem", "prompt", "query", "input", "instruction", "Question", "informal_statement")
ANSWER_FIELDS = ("answer", "final_answer", "gold", "golden", "target", "expected_answer", "Answer")
SOLUTION_FIELDS = ("solution", "rationale", "response", "output", "informal_proof")


class DataError(ConfigError):
    """A data source that cannot be read or has no usable rows (a UserError: the CLI prints one line, exit 2)."""


def _read_file(path: str, on_skip=None):
    """Rows of one file with bounded memory (see `deepmath.io.rows`); a bad row is a DataError naming file:line
    unless `on_skip` is given (then it is counted there and reading goes on)."""
    from deepmath.io.rows import iter_rows

    try:
        for _, row in iter_rows(path, on_skip=on_skip, strict=on_skip is None):
            yield row
    except (OSError, EOFError, ValueError) as err:
        raise DataError(f"{path}: cannot read: {err}") from err


def load_rows(spec: str, on_skip=None):
    """Rows (dicts) of one source: a stage folder, file, folder, glob, URL or `hf:owner/name[:split[:config]]`."""
    from deepmath.io.inputs import InputError, resolve_inputs

    try:
        sources = resolve_inputs(spec, suffixes=(".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet"))
    except InputError as err:
        raise DataError(str(err)) from err
    for source in sources:
        if source.is_hf:
            import datasets

            dataset = datasets.load_dataset(source.hf_id, source.hf_config, split=source.hf_split)
            yield from dataset
        else:
            for path in source.files:
                yield from _read_file(path, on_skip)


def _first(row: dict, names: tuple[str, ...]):
    for name in names:
        value = row.get(name)
        if value not in (None, "", []):
            return value
    return None


def _as_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, list | tuple):
        items = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return ", ".join(items) if items else None
    text = str(value).strip()
    return text or None


def _messages_text(row: dict, role: str) -> str | None:
    messages = row.get("messages")
    if not isinstance(messages, list):
        return None
    texts = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == role]
    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        return None
    return texts[0] if role == "user" else texts[-1]


def _from_solution(text: str | None) -> str | None:
    """The marked final answer of a worked solution, or None (a bare last number is not a gold answer)."""
    if not text:
        return None
    from rewards.extract import extract_with_source

    answer, source = extract_with_source(text)
    return answer if source not in ("none", "last_number") else None


def row_to_problem(row: dict, question_field: str = "", answer_field: str = "") -> dict | str:
    """A `{"question", "answer", "solution"}` dict, or the reason the row is unusable (`no_question`, `no_answer`)."""
    question = _as_text(row.get(question_field)) if question_field else _as_text(_first(row, QUESTION_FIELDS))
    if question is None:
        question = _messages_text(row, "user")
    if question is None:
        return "no_question"
    solution = _as_text(_first(row, SOLUTION_FIELDS)) or _messages_text(row, "assistant")
    raw = row.get(answer_field) if answer_field else _first(row, ANSWER_FIELDS)
    answer = _as_text(raw)
    if answer is not None and ("####" in answer or "\\boxed" in answer or len(answer) > 200):
        # a worked solution in the answer column (GSM8K): keep it as the solution, take its marked answer
        solution = solution or answer
        answer = _from_solution(answer)
    if answer is None:
        answer = _from_solution(solution)
    if answer is None:
        return "no_answer"
    problem = {"question": question, "answer": answer}
    if solution:
        problem["solution"] = solution
    return problem


def load_problems(
    specs: str | list[str], question_field: str = "", answer_field: str = "", max_rows: int = 0
) -> tuple[list[dict], dict[str, int]]:
    """Problems from every source (in order) and the count of dropped rows by reason; DataError when none is usable."""
    specs = [specs] if isinstance(specs, str) else list(specs)
    if not specs:
        raise DataError("no dataset given (dataset: [PATH or hf:owner/name:split])")
    problems: list[dict] = []
    dropped: Counter = Counter()
    for spec in specs:
        for row in load_rows(spec):
            result = row_to_problem(row, question_field, answer_field)
            if isinstance(result, str):
                dropped[result] += 1
                continue
            result["source"] = str(row.get("source") or spec)
            problems.append(result)
            if max_rows and len(problems) >= max_rows:
                break
        if max_rows and len(problems) >= max_rows:
            break
    if not problems:
        reasons = ", ".join(f"{k}={v}" for k, v in dropped.items()) or "no rows"
        raise DataError(f"no usable question/answer rows in {', '.join(specs)} ({reasons})")
    return problems, dict(dropped)


def decontaminate(
    problems: list[dict], benchmarks: list[str], ngram: int = 10, cache_dir: str | Path | None = None
) -> tuple[list[dict], dict]:
    """Drop problems whose question overlaps a benchmark (the decontam matcher's rule); report counts by benchmark."""
    if not benchmarks:
        return problems, {"benchmarks": [], "dropped": 0, "by_benchmark": {}}
    from deepmath.decontam.matcher import ContaminationMatcher

    matcher = ContaminationMatcher.from_benchmarks(list(benchmarks), ngram=ngram, cache_dir=cache_dir)
    kept: list[dict] = []
    by_benchmark: Counter = Counter()
    examples: list[dict] = []
    for problem in problems:
        matches = matcher.matches(problem["question"])
        if not matches:
            kept.append(problem)
            continue
        for name in sorted({m.benchmark for m in matches}):
            by_benchmark[name] += 1
        if len(examples) < 5:
            first = matches[0]
            examples.append(
                {"question": problem["question"][:200], "benchmark": first.benchmark, "item": first.item_id}
            )
    report = {
        "benchmarks": list(benchmarks),
        "ngram": ngram,
        "dropped": len(problems) - len(kept),
        "by_benchmark": dict(by_benchmark),
        "examples": examples,
    }
    logger.info("decontamination: dropped %d of %d prompts %s", report["dropped"], len(problems), dict(by_benchmark))
    return kept, report


def build_messages(question: str, template: str = "{question}", system_prompt: str = "") -> list[dict]:
    """The chat prompt of one question; `{question}` in the template is replaced (other braces are left alone)."""
    if "{question}" not in template:
        raise DataError(f"prompt_template must contain {{question}}: {template!r}")
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": template.replace("{question}", question)})
    return messages


def grpo_dataset(problems: list[dict], template: str = "{question}", system_prompt: str = ""):
    """A `datasets.Dataset` with TRL's conversational `prompt` and the gold `answer` column the rewards read."""
    from datasets import Dataset

    return Dataset.from_list(
        [{"prompt": build_messages(p["question"], template, system_prompt), "answer": p["answer"]} for p in problems]
    )


def sft_dataset(rows: list[dict], template: str = "{question}", system_prompt: str = ""):
    """A `datasets.Dataset` of chat `messages`: rows that have them as they are, else question + solution."""
    from datasets import Dataset

    records = []
    for row in rows:
        messages = row.get("messages")
        if isinstance(messages, list) and any(m.get("role") == "assistant" for m in messages if isinstance(m, dict)):
            records.append({"messages": [{"role": m["role"], "content": m["content"]} for m in messages]})
        elif row.get("question") and row.get("solution"):
            prompt = build_messages(row["question"], template, system_prompt)
            records.append({"messages": [*prompt, {"role": "assistant", "content": row["solution"]}]})
    if not records:
        raise DataError("no SFT rows: each row needs `messages` with an assistant turn, or question + solution")
    return Dataset.from_list(records)


def write_jsonl(path: str | Path, rows: list[dict]) -> None:
    """Write rows as JSONL (gzipped when the name ends in .gz), atomically."""
    from deepmath.io.rows import write_rows

    write_rows(path, rows)


def read_jsonl(path: str | Path) -> list[dict]:
    return list(_read_file(str(path)))
