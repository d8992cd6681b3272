"""Evaluation prompts as the paper's evaluation builds them: zero-shot chat, few-shot, program-of-thought, TIR.

    exemplars, report = select_exemplars(entry, problems, shots=8)          # from the train split, decontaminated
    prompt, stop = build_prompt("fewshot", problem, entry.language, exemplars)

Modes:
- `chat` (instruct models, zero-shot): one user message, the question then the instruction "Please reason step by
  step, and put your final answer within \\boxed{}." (Chinese benchmarks: its Chinese counterpart, as DeepSeekMath's
  Chinese evaluation prompts). The model's chat template is applied by the generation layer.
- `fewshot` (base models): plain text, never a chat template: k exemplars "Question: ...\\nAnswer: <solution> The
  answer is X." (Chinese: 问题：/答案：... 所以答案是：X。), then the question and "Answer:"; generation stops at the
  next "Question:" (the stop sequences of DeepSeekMath's few-shot prompts).
- `pot` (program-of-thought): chat, asking for one Python program that prints the answer; the program runs in the
  sandbox and its printed result is the answer (see tools.py). Base models: `pot` with exemplars (`shots > 0`) gives a
  few-shot text prompt whose exemplars are the question then "# solution in Python:"; exemplars need programs,
  which only a given `fewshot_file` with a `program` field provides.
- `tir` (tool-integrated): chat, asking to solve with interleaved reasoning and Python, the final answer boxed.

Exemplars come from the benchmark's `train` (or `dev`) split in the registry, or from a given file; never from the
split being evaluated (same files -> error), and every exemplar whose question overlaps an evaluated question under
the decontamination rule (deepmath.decontam: 10-gram or whole short text, the precise rule) is dropped and counted.
Where we depart from the paper: exemplars are drawn (seeded) from the train split rather than fixed hand-written
ones; pass `fewshot_file` with the paper's exemplars to reproduce its prompts exactly.
"""

from __future__ import annotations

import logging
import random
import re
from pathlib import Path

from deepmath.benchmarks.registry import BenchmarkEntry, BenchmarkError
from deepmath.evaluate.generation import Prompt

__all__ = ["CHAT_INSTRUCTION", "MODES", "build_prompt", "exemplar_answer", "select_exemplars"]

logger = logging.getLogger(__name__)

MODES = ("chat", "fewshot", "pot", "tir")

CHAT_INSTRUCTION = {
    "en": "Please reason step by step, and put your final answer within \\boxed{}.",
    "zh": "请通过逐步推理来解答问题，并把最终答案放置于\\boxed{}中。",
}
POT_INSTRUCTION = {
    "en": "Write a Python program that solves the problem and prints the final answer. Put the program in one "
    "```python code block.",
    "zh": "请编写一个解决该问题并打印最终答案的 Python 程序，把程序放在一个 ```python 代码块中。",
}
TIR_INSTRUCTION = {
    "en": "Please integrate natural language reasoning with programs to solve the problem above, and put your final "
    "answer within \\boxed{}.",
    "zh": "请结合自然语言推理与程序来解决上面的问题，并把最终答案放置于\\boxed{}中。",
}
_LABELS = {
    "en": ("Question: ", "Answer: ", "The answer is {answer}."),
    "zh": ("问题：", "答案：", "所以答案是：{answer}。"),
}
_CALC = re.compile(r"<<[^<>]*>>")  # GSM8K calculator annotations
_HASHES = re.compile(r"\n?####\s*(.+?)\s*$", re.S)


def exemplar_answer(example: dict, language: str) -> str:
    """An exemplar's answer text: its worked solution (GSM8K's `#### N` turned into a sentence) or just the answer."""
    template = _LABELS[language][2]
    solution = example.get("solution") or ""
    if solution:
        solution = _CALC.sub("", solution).strip()
        marked = _HASHES.search(solution)
        if marked:
            return f"{solution[: marked.start()].strip()}\n{template.format(answer=marked.group(1).strip())}"
        return solution
    answer = example["answer"]
    marked = _HASHES.search(answer)
    return template.format(answer=marked.group(1).strip() if marked else answer)


def fewshot_stop(language: str) -> list[str]:
    question = _LABELS[language][0].strip()
    return [f"\n{question}", f"\n\n{question}", "\n\n\n"]


def build_prompt(mode: str, problem: dict, language: str = "en", exemplars: list[dict] | None = None):
    """(Prompt, stop strings) for one problem."""
    if mode not in MODES:
        raise ValueError(f"prompt mode must be one of {MODES}, not {mode!r}")
    question = problem["question"].strip()
    if mode == "fewshot" or (mode == "pot" and exemplars):
        q_label, a_label, _ = _LABELS[language]
        parts = []
        for example in exemplars or []:
            if mode == "pot":
                parts.append(
                    f"{q_label}{example['question'].strip()}\n\n# solution in Python:\n\n{example['program']}"
                )
            else:
                parts.append(f"{q_label}{example['question'].strip()}\n{a_label}{exemplar_answer(example, language)}")
        if mode == "pot":
            parts.append(f"{q_label}{question}\n\n# solution in Python:\n\n")
            return Prompt(text="\n\n\n".join(parts)), [f"\n{q_label.strip()}"]
        parts.append(f"{q_label}{question}\n{a_label.rstrip()}")
        return Prompt(text="\n\n\n".join(parts)), fewshot_stop(language)
    instruction = {"chat": CHAT_INSTRUCTION, "pot": POT_INSTRUCTION, "tir": TIR_INSTRUCTION}[mode][language]
    return Prompt(messages=[{"role": "user", "content": f"{question}\n{instruction}"}]), []


def _read_exemplar_file(path: str) -> list[dict]:
    from deepmath.problems import DataError, load_rows

    try:
        rows = list(load_rows(path))
    except DataError as err:
        raise BenchmarkError(f"few-shot file {path}: {err}") from err
    out = []
    for row in rows:
        question = row.get("question") or row.get("problem")
        answer = row.get("answer") or row.get("final_answer")
        if not question or not (answer or row.get("solution")):
            continue
        example = {"question": str(question), "answer": str(answer or ""), "solution": str(row.get("solution") or "")}
        if row.get("program"):
            example["program"] = str(row["program"])
        out.append(example)
    if not out:
        raise BenchmarkError(f"few-shot file {path}: no row with a question and an answer or solution")
    return out


def _overlapping(candidates: list[dict], evaluated: list[dict], ngram: int = 10) -> list[bool]:
    """Whether each candidate's question overlaps an evaluated question under the decontamination rule."""
    from deepmath.benchmarks.loading import BenchmarkItem, LoadedBenchmark
    from deepmath.decontam.index import ContaminationIndex, MatchRule
    from deepmath.decontam.matcher import ContaminationMatcher

    items = [BenchmarkItem(str(i), (p["question"],)) for i, p in enumerate(evaluated) if p["question"].strip()]
    index = ContaminationIndex.build(
        [LoadedBenchmark("evaluated", items, ["evaluated"], ["question"], "-")], MatchRule(ngram=ngram)
    )
    matcher = ContaminationMatcher(index)
    return [matcher.is_contaminated(c["question"]) for c in candidates]


def select_exemplars(
    entry: BenchmarkEntry,
    evaluated: list[dict],
    shots: int,
    fewshot_file: str = "",
    seed: int = 0,
    eval_split: str = "test",
    need_programs: bool = False,
) -> tuple[list[dict], dict]:
    """`shots` exemplars for `entry`, none from the evaluated split, none overlapping an evaluated question.

    Returns the exemplars and a report {"source", "candidates", "dropped_overlap", "shots"}."""
    from deepmath.benchmarks.problems import load_problems

    if shots <= 0:
        return [], {"source": None, "shots": 0}
    if fewshot_file:
        evaluated_files = {str(Path(p).resolve()) for p in entry.split_files(eval_split) or []}
        if str(Path(fewshot_file).resolve()) in evaluated_files:
            raise BenchmarkError(f"{entry.name}: few-shot file {fewshot_file} is the evaluated split itself")
        candidates, source = _read_exemplar_file(fewshot_file), fewshot_file
    else:
        split = next((s for s in ("train", "dev") if s in entry.splits and s != eval_split), None)
        if split is None:
            raise BenchmarkError(
                f"{entry.name}: no train/dev split in the registry to draw few-shot exemplars from; "
                "give --fewshot-file or use --mode chat"
            )
        if set(entry.splits[split]) & set(entry.splits.get(eval_split, ())):
            raise BenchmarkError(f"{entry.name}: split '{split}' shares files with the evaluated split '{eval_split}'")
        candidates, _ = load_problems(entry, split)
        source = f"{entry.name}[{split}]"
    if need_programs:
        candidates = [c for c in candidates if c.get("program")]
        if not candidates:
            raise BenchmarkError(f"{entry.name}: few-shot program-of-thought needs exemplars with a `program` field")
    rng = random.Random(seed)
    order = list(range(len(candidates)))
    rng.shuffle(order)
    pool = [candidates[i] for i in order[: max(shots * 20, 200)]]  # enough to survive the overlap check
    overlap = _overlapping(pool, evaluated)
    chosen = [c for c, bad in zip(pool, overlap) if not bad][:shots]
    if len(chosen) < shots:
        raise BenchmarkError(f"{entry.name}: only {len(chosen)} of {shots} exemplars left after the overlap check")
    report = {"source": source, "candidates": len(pool), "dropped_overlap": sum(overlap), "shots": shots}
    logger.info("few-shot %s: %d exemplars from %s (%d overlapping dropped)", entry.name, shots, source, sum(overlap))
    return chosen, report
