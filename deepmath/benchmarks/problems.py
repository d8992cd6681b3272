"""Questions and gold answers of a registry benchmark, for evaluation and few-shot exemplars.

    problems, dropped = load_problems("mgsm_zh")            # [{"id", "question", "answer", "benchmark", ...}]
    exemplars, _ = load_problems("gsm8k", split="train")     # with "solution" where the entry names one

The question is the entry's `question_field` (`a&b` joins fields, chat `messages` give the first user message) with
multiple-choice options appended as `A. ...` lines; the gold answer is the first non-empty `answer_field` (an option
index becomes its letter), kept as given: a worked solution with a marker (GSM8K's `#### 18`, MATH's `\\boxed{}`)
is a valid gold answer for `rewards`. Rows without a question or a gold answer are dropped and counted.

Files come from the entry's local `splits` (under `$DEEPMATH_BENCHMARKS_DIR` or ../shared/data/benchmarks); when a
test split has no local file and the Hub is reachable, its Hugging Face source is used.
"""

from __future__ import annotations

import logging
from pathlib import Path

from deepmath.benchmarks.registry import BenchmarkEntry, BenchmarkError, get_benchmark

__all__ = ["format_question", "load_problems", "problems_from_rows"]

logger = logging.getLogger(__name__)

_LETTERS = "ABCDEFGHIJ"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v).strip() for v in value if v is not None and str(v).strip())
    return str(value).strip()


def _question(row: dict, name: str) -> str:
    if name == "messages":
        for message in row.get("messages") or []:
            if isinstance(message, dict) and message.get("role") == "user":
                return _text(message.get("content"))
        return ""
    return " ".join(t for t in (_text(row.get(part)) for part in name.split("&")) if t)


def _options(value) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(str(k), _text(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        texts = [_text(v) for v in value]
        # "A)12" / "a ) 12" strings (AQuA, MathQA) already carry their letters
        if texts and all(len(t) > 1 and t[0].upper() in _LETTERS and t[1] in ").:" for t in texts):
            return [(t[0].upper(), t[2:].strip()) for t in texts]
        return [(_LETTERS[i], t) for i, t in enumerate(texts[: len(_LETTERS)])]
    return []


def format_question(row: dict, entry: BenchmarkEntry) -> str:
    """The question text of one row, with its options as `A. ...` lines for multiple choice."""
    question = next((q for q in (_question(row, name) for name in entry.question_fields) if q), "")
    options = _options(row.get(entry.options_field)) if entry.options_field else []
    if question and options:
        question += "\n" + "\n".join(f"{letter}. {text}" for letter, text in options)
    return question


def _answer(row: dict, entry: BenchmarkEntry) -> str:
    for name in entry.answer_fields:
        value = row.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and entry.options_field:
            options = row.get(entry.options_field)
            if isinstance(options, list | tuple) and 0 <= value < len(options):
                return _LETTERS[value]
        text = _text(value)
        if text:
            return text
    return ""


def problems_from_rows(rows, entry: BenchmarkEntry, id_prefix: str = "") -> tuple[list[dict], dict[str, int]]:
    """Problems of rows (iterable of dicts) read with `entry`'s fields, and the rows dropped by reason."""
    problems: list[dict] = []
    dropped: dict[str, int] = {}
    for index, row in enumerate(rows):
        question, answer = format_question(row, entry), _answer(row, entry)
        reason = "no_question" if not question else "no_answer" if not answer else ""
        if reason:
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        problem = {"id": f"{id_prefix}{index}", "question": question, "answer": answer, "benchmark": entry.name}
        if entry.solution_field and _text(row.get(entry.solution_field)):
            problem["solution"] = _text(row.get(entry.solution_field))
        problems.append(problem)
    return problems, dropped


def _hub_allowed() -> bool:
    import os

    return (os.environ.get("DEEPMATH_BENCHMARKS_SOURCE") or "auto").lower() != "local"


def load_problems(name: str | BenchmarkEntry, split: str = "test") -> tuple[list[dict], dict[str, int]]:
    """Problems of one registry benchmark's split, and rows dropped by reason (no_question, no_answer)."""
    from deepmath.benchmarks import loading

    entry = name if isinstance(name, BenchmarkEntry) else get_benchmark(name)
    if not entry.evaluable:
        raise BenchmarkError(
            f"benchmark '{entry.name}' has no gold answers ({entry.answer_type}); it serves decontamination only"
        )
    files = entry.split_files(split)
    problems: list[dict] = []
    dropped: dict[str, int] = {}
    if files:
        for path in files:
            prefix = f"{loading._name_from_path(Path(path))}/" if len(files) > 1 else ""
            got, lost = problems_from_rows((row for _, row in loading.iter_rows(path)), entry, prefix)
            problems += got
            for key, value in lost.items():
                dropped[key] = dropped.get(key, 0) + value
    elif split == "test" and entry.hf and _hub_allowed() and loading._hub_reachable():
        import datasets

        for source in entry.hf:
            for config in source.configs:
                dataset = datasets.load_dataset(source.hf_id, config, split=source.split)
                got, lost = problems_from_rows(dataset, entry, f"{config or source.hf_id}/")
                problems += got
                for key, value in lost.items():
                    dropped[key] = dropped.get(key, 0) + value
    else:
        searched = ", ".join(str(d) for d in loading.benchmark_dirs())
        wanted = list(entry.splits.get(split, ())) or "none in the registry"
        raise BenchmarkError(
            f"benchmark '{entry.name}': no local files for split '{split}' ({wanted}) under {searched} "
            "(set DEEPMATH_BENCHMARKS_DIR)"
        )
    if not problems:
        raise BenchmarkError(f"benchmark '{entry.name}' split '{split}': no row has a question and an answer")
    logger.info("benchmark %s[%s]: %d problems (dropped %s)", entry.name, split, len(problems), dropped or "none")
    return problems, dropped
