"""Grade sampled completions with `rewards` (runs inside grading worker processes; light imports only).

    grade_problems([("7", ["... \\boxed{7}", "... 8"])])  # [{"answers": ["7", "8"], "correct": [True, False], ...}]

For each problem: the extracted answer of every sample (None when there is none), its verdict against the gold
answer, and the sample index of the majority answer, where equivalent answers (`rewards.answers_equal`, e.g.
`0.5` and `\\frac{1}{2}`) vote together. A gold answer `rewards` cannot parse marks the problem `gold_unparseable`:
it is reported and left out of the metrics instead of counting as wrong.
"""

from __future__ import annotations

__all__ = ["grade_problems"]


def grade_problems(problems: list[tuple[str, list[str]]]) -> list[dict]:
    """Per problem: `answers`, `correct`, `majority` (sample index or None), `reasons`, `gold_unparseable`."""
    import rewards
    from deepmath.evaluate.metrics import majority_answer

    out = []
    for gold, completions in problems:
        verdicts = rewards.grade_batch([gold] * len(completions), list(completions))
        answers = [v.predicted for v in verdicts]
        keys = [None if a is None else rewards.normalize_answer(a) for a in answers]
        majority, votes = majority_answer(keys, equal=rewards.answers_equal)
        out.append(
            {
                "answers": answers,
                "correct": [bool(v.correct) for v in verdicts],
                "majority": majority,
                "majority_votes": votes,
                "reasons": [v.reason for v in verdicts],
                "gold_unparseable": any(v.reason == "gold_unparseable" for v in verdicts),
            }
        )
    return out
