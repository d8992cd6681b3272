"""A multi-step variant of the tiny arithmetic task: 2-3 short steps whose intermediate results are checkable.

    from deepmath.tasks.multistep import make_multistep_problems, check_steps, corrupt_solution
    problems = make_multistep_problems(500, seed=0)   # [{"question", "solution", "answer", "plan"}, ...]
    check_steps(problems[0], "3 * 4 = 12.\\n12 - 5 = 7.\\nThe answer is \\\\boxed{7}.")   # [True, True, True]

Why: process supervision needs solutions whose *steps* can be right or wrong, and a generator that knows which step
of a solution went wrong (Math-Shepherd's labels are checked against that here). A solution is one step per line:
`a op b = r.` for each operation of the plan, then `The answer is \\boxed{N}.` The plan is the list of
`(op, operand)` pairs applied to the running value, starting from the first number of the question.

Ground truth of a step (`check_steps`): step k is right when it applies the k-th operation of the plan to the right
running value and writes the right result; the answer line is right when it boxes the gold answer. A prefix is "on
track" (`prefix_correct`) when every step in it is right: this is what a Math-Shepherd label estimates (a step is
good when the correct answer is still reachable from it). `corrupt_solution` writes a solution with one wrong result
at a chosen step and carries the wrong value on, computed correctly, as a model that slipped once would.

The arithmetic is as small as the single-step task's (operands 2..9, results below 60), so a tiny model can learn
it partly with a short SFT on CPU.
"""

from __future__ import annotations

import random
import re

__all__ = [
    "check_steps",
    "corrupt_solution",
    "make_multistep_problems",
    "prefix_correct",
    "solution_from_values",
    "split_steps",
]

_NAMES = ["Tom", "Anna", "Ben", "Mia", "Sam", "Lily", "Omar", "Zoe", "Leo", "Ivy", "Max", "Nora"]
_ITEMS = ["apples", "pencils", "stickers", "marbles", "books", "cookies", "cards", "shells", "coins", "beads"]
_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b}
_STEP = re.compile(r"^\s*(-?\d+)\s*([-+*])\s*(-?\d+)\s*=\s*(-?\d+)\s*\.?\s*$")
_BOXED = re.compile(r"\\boxed\{(-?\d+)\}")

# phrases for each operation applied to the running amount (name, item, operand)
_PHRASES = {
    "+": ["then gets {b} more", "then finds {b} more", "and a friend gives {b} more"],
    "-": ["then gives away {b}", "then loses {b}", "and then uses {b}"],
    "*": ["then the amount is multiplied by {b}", "then each one is traded for {b}"],
}


def _question(rng: random.Random, start: int, plan: list[tuple[str, int]]) -> str:
    name, item = rng.choice(_NAMES), rng.choice(_ITEMS)
    parts = [rng.choice(_PHRASES[op]).format(b=b) for op, b in plan]
    return f"{name} has {start} {item}, " + ", ".join(parts) + f". How many {item} does {name} have now?"


def _plan(rng: random.Random, steps: int) -> tuple[int, list[tuple[str, int]]] | None:
    value = rng.randint(2, 9)
    start = value
    plan = []
    for _ in range(steps):
        op = rng.choice("+-*")
        b = rng.randint(2, 9) if op != "*" else rng.randint(2, 4)
        if op == "-" and b >= value:
            return None
        value = _OPS[op](value, b)
        if value >= 60:
            return None
        plan.append((op, b))
    return start, plan


def values_of(start: int, plan: list[tuple[str, int]]) -> list[int]:
    """The running value after each operation."""
    out, value = [], start
    for op, b in plan:
        value = _OPS[op](value, b)
        out.append(value)
    return out


def solution_from_values(
    start: int, plan: list[tuple[str, int]], results: list[int], answer: int | None = None
) -> str:
    """Solution lines `a op b = r.` where each step starts from the previous written result."""
    lines, value = [], start
    for (op, b), r in zip(plan, results):
        lines.append(f"{value} {op} {b} = {r}.")
        value = r
    lines.append(f"The answer is \\boxed{{{results[-1] if answer is None else answer}}}.")
    return "\n".join(lines)


def make_multistep_problems(n: int, seed: int, min_steps: int = 2, max_steps: int = 3) -> list[dict]:
    """`n` unique problems `{"question", "solution", "answer", "start", "plan"}`; same (n, seed) -> same list."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    if not 1 <= min_steps <= max_steps:
        raise ValueError(f"need 1 <= min_steps <= max_steps, got {min_steps}, {max_steps}")
    rng = random.Random(seed)
    problems, seen, attempts = [], set(), 0
    while len(problems) < n:
        attempts += 1
        if attempts > 100 * n + 1000:
            raise ValueError(f"could not generate {n} unique multi-step problems")
        made = _plan(rng, rng.randint(min_steps, max_steps))
        if made is None:
            continue
        start, plan = made
        question = _question(rng, start, plan)
        if question in seen:
            continue
        seen.add(question)
        values = values_of(start, plan)
        problems.append(
            {
                "question": question,
                "solution": solution_from_values(start, plan, values),
                "answer": str(values[-1]),
                "start": start,
                "plan": [[op, b] for op, b in plan],
            }
        )
    return problems


def corrupt_solution(problem: dict, step: int, rng: random.Random) -> str:
    """The problem's solution with a wrong result at `step` (0-based), later steps computed from the wrong value."""
    start, plan = problem["start"], [tuple(p) for p in problem["plan"]]
    if not 0 <= step < len(plan):
        raise ValueError(f"step must be in 0..{len(plan) - 1}, got {step}")
    results, value = [], start
    for k, (op, b) in enumerate(plan):
        value = _OPS[op](value, b)
        if k == step:
            value += rng.choice([-2, -1, 1, 2])
        results.append(value)
    return solution_from_values(start, plan, results)


def split_steps(solution: str, marker: str = "\n") -> list[str]:
    """Non-empty steps of a solution, split at `marker` (a line per step by default)."""
    return [part.strip() for part in solution.split(marker) if part.strip()]


def check_steps(problem: dict, solution: str, marker: str = "\n") -> list[bool]:
    """Ground truth per step: the k-th line applies the k-th operation to the right value with the right result;
    the answer line boxes the gold answer; any line beyond the plan is wrong."""
    plan = [tuple(p) for p in problem["plan"]]
    expected = values_of(problem["start"], plan)
    verdicts = []
    previous = problem["start"]
    for k, text in enumerate(split_steps(solution, marker)):
        if k < len(plan):
            match = _STEP.match(text)
            op, b = plan[k]
            ok = bool(match) and (int(match.group(1)), match.group(2), int(match.group(3)), int(match.group(4))) == (
                previous,
                op,
                b,
                expected[k],
            )
            verdicts.append(ok)
            previous = expected[k]
        else:
            boxed = _BOXED.findall(text)
            verdicts.append(k == len(plan) and bool(boxed) and boxed[-1] == str(expected[-1]))
    return verdicts


def prefix_correct(verdicts: list[bool]) -> list[bool]:
    """Whether each prefix is still on track (every step up to it right)."""
    out, ok = [], True
    for verdict in verdicts:
        ok = ok and verdict
        out.append(ok)
    return out
