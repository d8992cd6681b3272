"""Score histogram of one iteration: pages of the pool by math score, selected vs not, with the cutoff."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["score_histogram"]


def score_histogram(
    scores: np.ndarray, selected: np.ndarray, path: str | Path, title: str, cutoff: float | None = None
) -> Path:
    """Write a PNG (log-scale counts, 50 bins over [0, 1]) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepmath.io.atomic import atomic_write_png

    path = Path(path)
    bins = np.linspace(0.0, 1.0, 51)
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    ax.hist(
        [scores[~selected], scores[selected]],
        bins=bins,
        stacked=True,
        color=["#9aa7b5", "#2f6db3"],
        label=[f"not selected ({int((~selected).sum()):,})", f"selected ({int(selected.sum()):,})"],
    )
    if cutoff is not None:
        ax.axvline(cutoff, color="#c0392b", linestyle="--", linewidth=1, label=f"cutoff {cutoff:.3f}")
    if len(scores):
        ax.set_yscale("log")
    ax.set_xlabel("math score P(math)")
    ax.set_ylabel("pages")
    ax.set_title(title)
    ax.legend(loc="upper center", fontsize=8)
    fig.tight_layout()
    atomic_write_png(path, fig)
    plt.close(fig)
    return path
