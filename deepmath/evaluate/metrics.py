"""pass@k and maj@k from graded samples; pure Python, no heavy imports.

    pass_at_k(n=8, c=3, k=1)            # 0.375: the unbiased estimator of Chen et al. (2021)
    majority_answer(["7", "7.0", "8"], equal=rewards.answers_equal)   # ("7", 2): equivalent answers vote together
    summarize(problems, k=8)            # {"pass@1", "pass@k", "maj@k", ...} over graded problems

pass@1 is the mean correctness over all samples; pass@k is 1 - C(n-c, k) / C(n, k) per problem, averaged (n samples of
which c are correct); maj@k takes the first k samples of a problem, groups equivalent extracted answers (a sample with
no answer does not vote), and scores the largest group's verdict. Ties go to the group seen first, so the result does
not depend on dict order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import comb

__all__ = ["GradedProblem", "maj_at_k", "majority_answer", "pass_at_k", "summarize"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one problem with `n` samples of which `c` are correct (Chen et al., 2021)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


def majority_answer(
    answers: Sequence[str | None], equal: Callable[[str, str], bool] | None = None
) -> tuple[int | None, int]:
    """Index of the first sample of the largest group of equivalent answers, and that group's size.

    `equal(a, b)` decides equivalence (default: string equality after strip); None answers do not vote.
    Returns (None, 0) when no sample has an answer.
    """
    equal = equal or (lambda a, b: a.strip() == b.strip())
    groups: list[list[int]] = []  # sample indices; groups[i][0] is the representative
    for index, answer in enumerate(answers):
        if answer is None:
            continue
        for group in groups:
            if answers[group[0]] == answer or equal(answers[group[0]], answer):
                group.append(index)
                break
        else:
            groups.append([index])
    if not groups:
        return None, 0
    best = max(groups, key=len)  # max keeps the first of equal-sized groups
    return best[0], len(best)


@dataclass
class GradedProblem:
    """One problem's samples: the extracted answer and the verdict of each."""

    answers: list[str | None]
    correct: list[bool]
    majority: int | None = None  # precomputed majority sample index over all samples (see `voted`)
    voted: bool = False  # True when `majority` was computed already (graders that vote with a costly `equal`)


def maj_at_k(problem: GradedProblem, k: int, equal: Callable[[str, str], bool] | None = None) -> float:
    """1.0 when the majority answer of the first k samples is correct, else 0.0 (also when nothing was answered)."""
    if problem.voted and k == len(problem.answers):
        index = problem.majority
    else:
        index, _ = majority_answer(problem.answers[:k], equal)
    return float(index is not None and problem.correct[index])


def summarize(
    problems: Sequence[GradedProblem], k: int, equal: Callable[[str, str], bool] | None = None
) -> dict[str, float]:
    """pass@1, pass@k (unbiased) and maj@k averaged over problems, plus pass@j for powers of two j < k."""
    if not problems:
        raise ValueError("no graded problems to summarize")
    n = min(len(p.correct) for p in problems)
    if not 1 <= k <= n:
        raise ValueError(f"k={k} needs at least k samples per problem; the smallest problem has {n}")
    counts = [(len(p.correct), sum(p.correct)) for p in problems]
    total = len(problems)
    result = {
        "pass@1": sum(c / m for m, c in counts) / total,
        "pass@k": sum(pass_at_k(m, c, k) for m, c in counts) / total,
        "maj@k": sum(maj_at_k(p, k, equal) for p in problems) / total,
        "k": k,
        "problems": total,
    }
    curve = {}
    j = 1
    while j <= k:
        curve[str(j)] = sum(pass_at_k(m, c, j) for m, c in counts) / total
        j *= 2
    curve[str(k)] = result["pass@k"]
    result["pass_curve"] = curve
    result["answered"] = sum(sum(a is not None for a in p.answers) for p in problems) / sum(m for m, _ in counts)
    return result
