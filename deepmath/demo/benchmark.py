"""The demo's benchmark and its SFT and RL sources, all from the tiny arithmetic task.

One call of `make_arithmetic_problems` gives unique questions, which are split into disjoint sets: the benchmark
(decontamination target and evaluation set), chain-of-thought rows, program-of-thought rows and RL prompts. Then
two kinds of flaws go in on purpose, so the SFT mix visibly drops something:

- wrong rows: a CoT solution whose final number is off, a PoT program that computes the wrong thing or fails
- contaminated rows: rows whose question is a benchmark question word for word
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

__all__ = ["ProblemSets", "make_problem_sets", "program_for"]

_STEP = re.compile(r"(-?\d+) ([+\-*]) (-?\d+) = (-?\d+)\.")
_NAMES = {"+": "total", "-": "left", "*": "product"}


@dataclass
class ProblemSets:
    benchmark: list[dict]  # id, question, answer
    cot: list[dict]  # id, question, solution, answer
    pot: list[dict]  # id, question, program, answer
    rl: list[dict]  # id, question, answer
    flaws: dict[str, list[str]]  # kind -> row ids (wrong_cot, wrong_pot, contaminated_cot, contaminated_pot)


def program_for(solution: str, wrong: int = 0) -> str:
    """A Python program computing a tiny-task solution's steps into `ans` (`wrong` adds an error to the result)."""
    steps = _STEP.findall(solution)
    if not steps:
        raise ValueError(f"no arithmetic steps in solution: {solution!r}")
    lines: list[str] = []
    previous, previous_result = None, None
    for index, (left, op, right, result) in enumerate(steps):
        name = _NAMES[op] if not any(line.startswith(f"{_NAMES[op]} =") for line in lines) else f"{_NAMES[op]}_{index}"
        first = previous if previous is not None and left == previous_result else left
        lines.append(f"{name} = {first} {op} {right}")
        previous, previous_result = name, result
    lines.append(f"ans = {previous}" + (f" + {wrong}" if wrong > 0 else f" - {-wrong}" if wrong < 0 else ""))
    return "\n".join(lines)


def make_problem_sets(cfg, rng: random.Random) -> ProblemSets:
    """Disjoint benchmark / CoT / PoT / RL sets with a few wrong and contaminated SFT rows."""
    from deepmath.tasks.arithmetic import make_arithmetic_problems

    problems = make_arithmetic_problems(cfg.n_benchmark, seed=cfg.seed)
    benchmark = [
        {"id": f"demo-bench-{i}", "question": p["question"], "answer": p["answer"]} for i, p in enumerate(problems)
    ]
    sizes = [cfg.n_cot, cfg.n_pot, cfg.n_rl]
    needed, factor = sum(sizes), 1.3
    while True:
        # one call gives unique questions; the first n_benchmark are the benchmark's (same seed, same prefix)
        more = make_arithmetic_problems(cfg.n_benchmark + int(needed * factor), seed=cfg.seed)[cfg.n_benchmark :]
        clean = _unlike_benchmark(more, benchmark)
        if len(clean) >= needed:
            break
        factor *= 2
    clean = clean[:needed]
    rng.shuffle(clean)
    cot_rows, pot_rows, rl_rows = (
        clean[: sizes[0]],
        clean[sizes[0] : sizes[0] + sizes[1]],
        clean[sizes[0] + sizes[1] :],
    )
    cot = [
        {"id": f"cot-{i}", "question": p["question"], "solution": p["solution"], "answer": p["answer"]}
        for i, p in enumerate(cot_rows)
    ]
    pot = [
        {"id": f"pot-{i}", "question": p["question"], "program": program_for(p["solution"]), "answer": p["answer"]}
        for i, p in enumerate(pot_rows)
    ]
    rl = [{"id": f"rl-{i}", "question": p["question"], "answer": p["answer"]} for i, p in enumerate(rl_rows)]
    solutions = {p["question"]: p["solution"] for p in problems}
    flaws: dict[str, list[str]] = {}

    n_wrong = max(1, round(cfg.wrong_fraction * len(cot)))
    for row in rng.sample(cot, min(n_wrong, len(cot))):
        # the gold stays right; the solution's final number is off, so answer verification must drop the row
        delta = rng.choice([-2, -1, 1, 2, 10])
        wrong = str(int(row["answer"]) + delta)
        row["solution"] = re.sub(
            r"= (-?\d+)\. The answer is \\boxed\{-?\d+\}\.$",
            f"= {wrong}. The answer is \\\\boxed{{{wrong}}}.",
            row["solution"],
        )
        flaws.setdefault("wrong_cot", []).append(row["id"])
    n_wrong = max(2, round(cfg.wrong_fraction * len(pot)))
    for index, row in enumerate(rng.sample(pot, min(n_wrong, len(pot)))):
        if index % 3 == 1:  # a program that fails: the sandbox reports an error instead of a result
            row["program"] = row["program"].replace("ans = ", "ans = 1 // 0 + ")
        else:
            row["program"] = program_for(
                pot_rows[int(row["id"].split("-")[1])]["solution"], wrong=rng.choice([-1, 1, 3])
            )
        flaws.setdefault("wrong_pot", []).append(row["id"])

    for rows, key, fields in (
        (cot, "contaminated_cot", ("question", "solution")),
        (pot, "contaminated_pot", ("question",)),
    ):
        clean = [r for r in rows if r["id"] not in flaws.get("wrong_cot", []) + flaws.get("wrong_pot", [])]
        for row, item in zip(
            rng.sample(clean, min(cfg.contaminated_rows, len(clean))),
            rng.sample(benchmark, min(cfg.contaminated_rows, len(benchmark))),
        ):
            row["question"], row["answer"] = item["question"], item["answer"]
            if "solution" in fields:
                row["solution"] = solutions[item["question"]]
            else:
                row["program"] = program_for(solutions[item["question"]])
            flaws.setdefault(key, []).append(row["id"])
    return ProblemSets(benchmark, cot, pot, rl, flaws)


def _unlike_benchmark(problems: list[dict], benchmark: list[dict]) -> list[dict]:
    """Problems the decontamination rule does not tie to any benchmark problem.

    The tiny task's templates make some training problems share a 10-gram with a benchmark problem ("books in each
    bag. How many books does he buy"); those are set aside here, so that the only contamination the SFT mix finds
    is the one planted on purpose.
    """
    from deepmath.decontam.benchmarks import BenchmarkItem, LoadedBenchmark
    from deepmath.decontam.index import ContaminationIndex, MatchRule
    from deepmath.decontam.matcher import ContaminationMatcher

    items = [BenchmarkItem(row["id"], (row["question"],)) for row in benchmark]
    loaded = LoadedBenchmark("demo", items, origin=[], fields=["question"], fingerprint="demo")
    matcher = ContaminationMatcher(ContaminationIndex.build([loaded], MatchRule()))
    return [p for p in problems if not matcher.is_contaminated(f"{p['question']}\n{p['solution']}")]
