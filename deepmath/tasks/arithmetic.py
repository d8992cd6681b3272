"""A small arithmetic word-problem task for the tiny CPU path (and the demo's SFT sources).

    from deepmath.tasks.arithmetic import make_arithmetic_problems, split_problems
    problems = make_arithmetic_problems(2000, seed=0)   # [{"question", "solution", "answer"}, ...]
    train, test = split_problems(problems, n_test=200, seed=0)

Problems are generated from a fixed seed with Python's `random.Random`, so the same (n, seed) always gives the same
list on every platform. Each solution is a short chain of thought (the arithmetic written out) ending in
`\\boxed{N}`; `answer` is N as a string. Questions are unique within one call.

Not a benchmark: the point is a task a ~1M-parameter model learns partly with a short SFT, so that GRPO has something
to improve. The arithmetic is small on purpose (sums of two digits 2..9, differences below 12, products up to 6 x 6):
about 150 facts, each seen often enough in a few minutes of CPU training, while names, items and templates vary widely
(20 items, 16 names, 3-4 templates per kind) so that a held-out question is rarely a near copy of a training one.
Two-step problems were tried and left out: the tiny policy got them right too rarely, and GRPO lowered its held-out
accuracy on them (in one run their maj@8 fell from 0.35 to 0.05 while the other kinds rose).
"""

from __future__ import annotations

import random

__all__ = ["make_arithmetic_problems", "split_problems"]

_NAMES = [
    ("Tom", "he"),
    ("Anna", "she"),
    ("Ben", "he"),
    ("Mia", "she"),
    ("Sam", "he"),
    ("Lily", "she"),
    ("Omar", "he"),
    ("Zoe", "she"),
    ("Leo", "he"),
    ("Ivy", "she"),
    ("Max", "he"),
    ("Nora", "she"),
    ("Eli", "he"),
    ("Ruth", "she"),
    ("Hugo", "he"),
    ("Lena", "she"),
]
_OBJECT = {"he": "him", "she": "her"}
_ITEMS = [
    "apples",
    "pencils",
    "stickers",
    "marbles",
    "books",
    "cookies",
    "cards",
    "shells",
    "coins",
    "stamps",
    "oranges",
    "buttons",
    "candies",
    "flowers",
    "toys",
    "rocks",
    "balloons",
    "crayons",
    "eggs",
    "beads",
]


def _add(rng: random.Random) -> tuple[str, list[tuple[int, str, int, int]]]:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    name, pron = rng.choice(_NAMES)
    item = rng.choice(_ITEMS)
    text = rng.choice(
        [
            f"{name} has {a} {item} and buys {b} more. How many {item} does {pron} have now?",
            f"There are {a} {item} in a box. {name} puts in {b} more. How many {item} are in the box?",
            f"{name} found {a} {item} on Monday and {b} {item} on Tuesday. How many {item} did {pron} find?",
            f"{name} had {a} {item}. A friend gave {_OBJECT[pron]} {b} more. How many {item} does {name} have?",
        ]
    )
    return text, [(a, "+", b, a + b)]


def _sub(rng: random.Random) -> tuple[str, list[tuple[int, str, int, int]]]:
    a = rng.randint(5, 12)
    b = rng.randint(1, a - 1)
    name, pron = rng.choice(_NAMES)
    item = rng.choice(_ITEMS)
    text = rng.choice(
        [
            f"{name} has {a} {item} and gives {b} to a friend. How many {item} does {pron} have left?",
            f"A shop had {a} {item} and sold {b} of them. How many {item} are left?",
            f"{name} had {a} {item} and lost {b}. How many {item} does {pron} have now?",
            f"There were {a} {item} on a table. {name} took {b} of them. How many {item} are still on the table?",
        ]
    )
    return text, [(a, "-", b, a - b)]


def _mul(rng: random.Random) -> tuple[str, list[tuple[int, str, int, int]]]:
    a, b = rng.randint(2, 6), rng.randint(2, 6)
    name, pron = rng.choice(_NAMES)
    item = rng.choice(_ITEMS)
    text = rng.choice(
        [
            f"{name} buys {a} bags with {b} {item} in each bag. How many {item} does {pron} buy?",
            f"There are {a} boxes and each box holds {b} {item}. How many {item} are there in total?",
            f"{name} makes {a} rows of {item} with {b} {item} in each row. How many {item} are there?",
        ]
    )
    return text, [(a, "*", b, a * b)]


_KINDS = [(_add, 4), (_sub, 3), (_mul, 2)]


def _solution(steps: list[tuple[int, str, int, int]]) -> str:
    work = " ".join(f"{x} {op} {y} = {r}." for x, op, y, r in steps)
    return f"{work} The answer is \\boxed{{{steps[-1][3]}}}."


def make_arithmetic_problems(n: int, seed: int) -> list[dict]:
    """`n` unique arithmetic word problems, each `{"question", "solution", "answer"}`; same (n, seed) -> same list."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = random.Random(seed)
    kinds = [kind for kind, weight in _KINDS for _ in range(weight)]
    problems: list[dict] = []
    seen: set[str] = set()
    attempts = 0
    while len(problems) < n:
        attempts += 1
        if attempts > 50 * n + 1000:
            raise ValueError(f"could not generate {n} unique problems (the task has fewer distinct questions)")
        question, steps = rng.choice(kinds)(rng)
        if question in seen:
            continue
        seen.add(question)
        problems.append({"question": question, "solution": _solution(steps), "answer": str(steps[-1][3])})
    return problems


def split_problems(problems: list[dict], n_test: int, seed: int) -> tuple[list[dict], list[dict]]:
    """A seeded train/test split; the test problems are held out from training."""
    if not 0 <= n_test <= len(problems):
        raise ValueError(f"n_test must be between 0 and {len(problems)}, got {n_test}")
    order = list(range(len(problems)))
    random.Random(seed + 1).shuffle(order)
    test_ids = set(order[:n_test])
    train = [p for i, p in enumerate(problems) if i not in test_ids]
    test = [p for i, p in enumerate(problems) if i in test_ids]
    return train, test
