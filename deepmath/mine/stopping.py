"""The stopping rule: stop iterating once a new selection adds almost nothing.

DeepSeekMath stopped after iteration 4 because 98% of what it collected had already been collected in
iteration 3. `selection_overlap` is that share (pages of the new selection that the previous one also held);
`should_stop` compares it with `stop_overlap` (0.98 by default). Pages, not tokens, are counted, as in the paper.
"""

from __future__ import annotations

import numpy as np

__all__ = ["selection_overlap", "should_stop"]


def selection_overlap(current: np.ndarray, previous: np.ndarray) -> float | None:
    """Share of the pages selected now that were selected before; None when nothing is selected now."""
    current = np.asarray(current, dtype=bool)
    previous = np.asarray(previous, dtype=bool)
    if current.shape != previous.shape:
        raise ValueError(f"selections of different pools: {current.shape} vs {previous.shape}")
    selected = int(current.sum())
    if selected == 0:
        return None
    return int((current & previous).sum()) / selected


def should_stop(overlap: float | None, stop_overlap: float) -> bool:
    """True when the new selection is (almost) all old pages; an empty selection also stops (nothing to add)."""
    return overlap is None or overlap >= stop_overlap
