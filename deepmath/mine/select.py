"""Global selection: the top-scored pages of the whole pool up to a token budget (or above a score threshold).

DeepSeekMath keeps the top-ranked pages until the budget is spent (40B tokens in iteration 1), not the pages
above a fixed probability, so selection needs the scores of every shard at once: `select_top` takes the pool's
score and token arrays in one piece. A page is kept when the tokens of all better-ranked pages are still below
the budget, so the kept tokens reach the budget and overshoot it by less than one page. Equal scores are ranked by
position in the pool (stable), which makes the selection deterministic.

Token counts are in the unit of `deepmath.mine.tokens` (model tokens by default, whitespace words on request).

Per-language quotas (`language_quotas: {zh: 0.3}`: at most 30% of the budget in Chinese) are applied before the
budget: within each capped language, pages are taken in score order while that language's kept tokens stay below
its share of the budget, and the rest of that language is skipped; the budget then runs over the remaining ranking,
so a capped language frees its unused share for the others. Pages outside `allowed` (`--languages`) are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Selection", "language_counts", "select_top"]


def language_counts(languages: np.ndarray, tokens: np.ndarray, mask: np.ndarray | None = None) -> dict[str, dict]:
    """{code: {"documents", "tokens"}} of the pages in `mask` (all pages without one), most tokens first."""
    if mask is not None:
        languages, tokens = languages[mask], tokens[mask]
    codes, inverse = np.unique(languages.astype(str), return_inverse=True) if len(languages) else ([], [])
    docs = np.bincount(inverse, minlength=len(codes)) if len(codes) else []
    toks = np.bincount(inverse, weights=tokens, minlength=len(codes)) if len(codes) else []
    rows = {str(c): {"documents": int(d), "tokens": int(t)} for c, d, t in zip(codes, docs, toks)}
    return dict(sorted(rows.items(), key=lambda item: (-item[1]["tokens"], item[0])))


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
    languages: np.ndarray | None = None,
    quotas: dict[str, float] | None = None,
    allowed: np.ndarray | None = None,
) -> Selection:
    """Mask of the kept pages under exactly one rule, computed over the whole pool.

    `languages` (one code per page) with `quotas` caps languages' shares of the budget; `allowed` masks pages out.
    """
    scores = np.asarray(scores, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.int64)
    if scores.shape != tokens.shape or scores.ndim != 1:
        raise ValueError(f"scores and tokens must be 1-D arrays of one length, got {scores.shape} and {tokens.shape}")
    rules = {"keep_tokens": keep_tokens, "keep_fraction": keep_fraction, "threshold": threshold}
    given = {name: value for name, value in rules.items() if value is not None}
    if len(given) != 1:
        raise ValueError(f"give exactly one of keep_tokens, keep_fraction, threshold (got {sorted(given) or 'none'})")
    ((name, value),) = given.items()
    if quotas and threshold is not None:
        raise ValueError("language quotas need a token budget, not a threshold")
    eligible = np.ones(len(scores), dtype=bool) if allowed is None else np.asarray(allowed, dtype=bool).copy()
    budget = None
    if threshold is not None:
        mask = (scores >= threshold) & eligible
    else:
        total = int(tokens[eligible].sum())
        budget = int(keep_tokens) if keep_tokens is not None else round(float(keep_fraction) * int(tokens.sum()))
        order = np.argsort(-scores, kind="stable")
        for language, share in (quotas or {}).items():
            in_language = order[(languages[order] == language) & eligible[order]]
            before = np.cumsum(tokens[in_language]) - tokens[in_language]
            eligible[in_language[before >= share * budget]] = False
        order = order[eligible[order]]
        before = np.cumsum(tokens[order]) - tokens[order]  # tokens of all better-ranked pages
        mask = np.zeros(len(scores), dtype=bool)
        mask[order[before < budget]] = True
        if budget >= total:  # pages without tokens would otherwise sit exactly on the budget
            mask[eligible] = True
    kept = int(mask.sum())
    return Selection(
        mask=mask,
        rule=f"{name}={value}",
        budget_tokens=budget,
        cutoff_score=float(scores[mask].min()) if kept else None,
        documents=kept,
        tokens=int(tokens[mask].sum()),
    )
