"""The fastText math classifier: train from a labelled file, score texts in batches, measure on a held-out split.

DeepSeekMath hyperparameters are the defaults (dim 256, lr 0.1, word n-grams 3, min count 3, 3 epochs). Two
labels: `__label__math` (seeds and pages under accepted math paths) and `__label__other` (negatives). The score
of a page is P(math).

Where we depart from the paper: a small-training-set rule. Below `small_train_size` examples (10K by default;
the paper trained on 1M, so the rule never triggers at web scale) 3 epochs at lr 0.1 leave every score near 0.5:
the ranking is still good but thresholds and per-domain collected fractions are meaningless. The rule trains
with epoch >= 25 and min count 1, and caps the n-gram buckets at 100K (2M buckets x 256 dims is a 2 GB model for
a few hundred pages). `effective_params` returns what was used and the run records it in metrics.json.
Training that diverges ("Encountered NaN") is retried at half the learning rate (up to 3 times, recorded).
Training always uses at least 11 threads (see the trap in `train_classifier`), so models are not bit-reproducible.

NumPy 2: batch prediction goes through `model.f.multilinePredict`, which returns Python lists and float32
arrays without the `np.array(..., copy=False)` call that breaks fastText 0.9.2's `predict` under NumPy 2.
"""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

__all__ = [
    "MATH_LABEL",
    "OTHER_LABEL",
    "FastTextParams",
    "binary_metrics",
    "effective_params",
    "load_model",
    "predict_math",
    "roc_auc",
    "save_model",
    "train_classifier",
    "training_threads",
]

logger = logging.getLogger(__name__)

MATH_LABEL = "math"
OTHER_LABEL = "other"
SMALL_TRAIN_EPOCH = 25
SMALL_TRAIN_MIN_COUNT = 1
SMALL_TRAIN_BUCKET = 100_000
NAN_ATTEMPTS = 4
MIN_THREADS = 11  # 10 blocks of floor(size/10) floats, plus one thread for the remainder


@dataclass(frozen=True)
class FastTextParams:
    """`fasttext.train_supervised` arguments under our names (config fields of the same names)."""

    dim: int = 256
    lr: float = 0.1
    word_ngrams: int = 3
    min_count: int = 3
    epoch: int = 3
    bucket: int = 2_000_000
    threads: int = 0
    seed: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def effective_params(params: FastTextParams, n_train: int, small_train_size: int) -> tuple[FastTextParams, bool]:
    """The parameters to train with, and whether the small-training-set rule changed them."""
    if small_train_size <= 0 or n_train >= small_train_size:
        return params, False
    adapted = replace(
        params,
        epoch=max(params.epoch, SMALL_TRAIN_EPOCH),
        min_count=min(params.min_count, SMALL_TRAIN_MIN_COUNT),
        bucket=min(params.bucket, SMALL_TRAIN_BUCKET),
    )
    return adapted, adapted != params


def training_threads(params: FastTextParams) -> int:
    """fastText training threads: `threads` (0: all cores), at least MIN_THREADS (see `train_classifier`)."""
    return max(MIN_THREADS, params.threads if params.threads > 0 else (os.cpu_count() or 1))


def train_classifier(train_file: str | Path, params: FastTextParams, attempts: int = NAN_ATTEMPTS):
    """Train a supervised fastText model on a file of `__label__<label> <text>` lines; returns (model, lr used).

    fastText aborts with "Encountered NaN" when SGD diverges (a too high learning rate); each retry halves it and
    the lr that worked is returned so the run records it.
    """
    import fasttext

    threads = training_threads(params)
    # Trap: fastText master (what fasttext-numpy2-wheel ships) allocates the input matrix uninitialised
    # (intgemm::AlignedVector) and `uniform(a, thread, seed)` fills floor(size/10) floats per thread, so with fewer
    # than 11 threads part of the model starts as heap garbage (weights of 1e16, NaN on reruns in one process).
    lr = params.lr
    for attempt in range(1, attempts + 1):
        try:
            model = fasttext.train_supervised(
                input=str(train_file),
                dim=params.dim,
                lr=lr,
                wordNgrams=params.word_ngrams,
                minCount=params.min_count,
                epoch=params.epoch,
                bucket=params.bucket,
                thread=threads,
                seed=params.seed,
                verbose=0,
            )
            return model, lr
        except RuntimeError as err:
            if "NaN" not in str(err) or attempt == attempts:
                raise
            logger.warning("fastText training diverged (%s) at lr %g; retrying at lr %g", err, lr, lr / 2)
            lr /= 2
    raise AssertionError("unreachable")


def save_model(model, path: str | Path) -> None:
    """Save atomically: a killed run leaves no half-written model that a resume would load."""
    from deepmath.io.atomic import atomic_path

    with atomic_path(path) as tmp:
        model.save_model(str(tmp))


def load_model(path: str | Path):
    import fasttext

    if not Path(path).exists():
        raise FileNotFoundError(f"fastText model not found: {path}")
    return fasttext.load_model(str(path))


def predict_math(model, texts: list[str]) -> np.ndarray:
    """P(math) for each normalised one-line text, as float32 (one C++ call per batch)."""
    if not texts:
        return np.zeros(0, dtype=np.float32)
    lines = [text + "\n" for text in texts]
    all_labels, all_probs = model.f.multilinePredict(lines, 2, 0.0, "replace")
    target = f"__label__{MATH_LABEL}"
    scores = np.empty(len(texts), dtype=np.float32)
    for i, (labels, probs) in enumerate(zip(all_labels, all_probs)):
        if labels and labels[0] == target:
            scores[i] = probs[0]
        elif len(labels) > 1 and labels[1] == target:
            scores[i] = probs[1]
        else:  # a model trained without a math label, or an empty line
            scores[i] = 0.0
    return np.clip(scores, 0.0, 1.0)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count one half); None when one class is missing."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(scores, kind="mergesort")
    _, inverse, counts = np.unique(scores[order], return_inverse=True, return_counts=True)
    ranks_sorted = np.arange(1, len(scores) + 1, dtype=np.float64)
    average = np.bincount(inverse, weights=ranks_sorted) / counts
    ranks = np.empty(len(scores))
    ranks[order] = average[inverse]
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_metrics(labels: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict:
    """Precision, recall and F1 at `threshold`, AUC, and the counts they come from."""
    labels = np.asarray(labels, dtype=bool)
    predicted = np.asarray(scores) >= threshold
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    auc = roc_auc(labels, scores)
    return {
        "positives": int(labels.sum()),
        "negatives": int((~labels).sum()),
        "threshold": threshold,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "auc": None if auc is None else round(auc, 4),
    }
