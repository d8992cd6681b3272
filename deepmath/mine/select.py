"""Global selection: the top-scored pages of the whole pool up to a token budget (or above a score threshold).

DeepSeekMath keeps the top-ranked pages until the budget is spent (40B tokens in iteration 1), not the pages
above a fixed probability, so selection needs the scores of every shard at once: `select_top` takes the pool's
score and token arrays in one piece. A page is kept when the tokens of all better-ranked pages are still below
the budget, so the kept tokens reach the budget and overshoot it by less than one page. Equal scores are ranked by
position in the pool (stable), which makes the selection deterministic.

Token counts are whitespace word counts (`len(text.split())`): cheap, tokenizer-free, and within a constant factor
of BPE counts for English web text; budgets are in those units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Selection", "count_tokens", "select_top"]


def count_tokens(text: str) -> int:
    """The budget's token unit: whitespace-separated words."""
    return len(text.split())


@dataclass
class Selection:
    mask: np.ndarray  # bool per pool page
    rule: str  # "keep_tokens=..." / "keep_fraction=..." / "threshold=..."
    budget_tokens: int | None
    cutoff_score: float | None  # lowest kept score (None when nothing is kept)
    documents: int
    tokens: int

    def summary(self) -> dict:
        return {
            "rule": self.rule,
            "budget_tokens": self.budget_tokens,
            "cutoff_score": None if self.cutoff_score is None else round(self.cutoff_score, 6),
            "documents": self.documents,
            "tokens": self.tokens,
        }


def select_top(
    scores: np.ndarray,
    tokens: np.ndarray,
    *,
    keep_tokens: int | None = None,
    keep_fraction: float | None = None,
    threshold: float | None = None,
) -> Selection:
    """Mask of the kept pages under exactly one rule, computed over the whole pool."""
    scores = np.asarray(scores, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.int64)
    if scores.shape != tokens.shape or scores.ndim != 1:
        raise ValueError(f"scores and tokens must be 1-D arrays of one length, got {scores.shape} and {tokens.shape}")
    rules = {"keep_tokens": keep_tokens, "keep_fraction": keep_fraction, "threshold": threshold}
    given = {name: value for name, value in rules.items() if value is not None}
    if len(given) != 1:
        raise ValueError(f"give exactly one of keep_tokens, keep_fraction, threshold (got {sorted(given) or 'none'})")
    ((name, value),) = given.items()
    budget = None
    if threshold is not None:
        mask = scores >= threshold
    else:
        total = int(tokens.sum())
        budget = int(keep_tokens) if keep_tokens is not None else round(float(keep_fraction) * total)
        order = np.argsort(-scores, kind="stable")
        before = np.cumsum(tokens[order]) - tokens[order]  # tokens of all better-ranked pages
        mask = np.zeros(len(scores), dtype=bool)
        mask[order[before < budget]] = True
        if budget >= total:  # pages without tokens would otherwise sit exactly on the budget
            mask[:] = True
    kept = int(mask.sum())
    return Selection(
        mask=mask,
        rule=f"{name}={value}",
        budget_tokens=budget,
        cutoff_score=float(scores[mask].min()) if kept else None,
        documents=kept,
        tokens=int(tokens[mask].sum()),
    )
