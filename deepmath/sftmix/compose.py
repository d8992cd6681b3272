"""Weights and caps, applied to the rows that passed every filter, with a fixed seed.

A source's target size is `round(weight * kept)`, capped by `max_samples` (-1: no cap). Up to `kept` rows are a
random subset; above it every row appears `target // kept` times and a random subset once more, so upweighting
repeats whole rows rather than favouring some. Each source has its own random stream (seed and source name), so
adding a source does not change which rows another source keeps.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["sample_source", "target_size"]

T = TypeVar("T")


def target_size(kept: int, weight: float, max_samples: int = -1) -> int:
    """How many rows a source contributes after weighting and capping."""
    target = round(weight * kept)
    return min(target, max_samples) if max_samples >= 0 else target


def sample_source(rows: Sequence[T], weight: float, max_samples: int, seed: int, name: str) -> list[T]:
    """The rows of one source after weighting and capping (deterministic for a given seed and name)."""
    target = target_size(len(rows), weight, max_samples)
    if not rows or target <= 0:
        return []
    rng = random.Random(f"{seed}:{name}")
    repeats, extra = divmod(target, len(rows))
    chosen = sorted(rng.sample(range(len(rows)), extra))
    return [row for _ in range(repeats) for row in rows] + [rows[i] for i in chosen]
