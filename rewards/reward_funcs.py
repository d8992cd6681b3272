"""TRL-shaped reward functions: `fn(completions, **columns) -> list[float | None]`.

TRL's GRPOTrainer calls each reward function with `prompts`, `completions` (strings, or chat message lists for
conversational datasets) and every dataset column as a keyword argument. The gold column is `answer` (`solution`
is accepted too: MATH's full solutions work, their `\\boxed{}` is extracted). `None` means "no reward for this
sample" (TRL ignores it), which we return when the gold answer itself cannot be parsed: a broken reference must
not teach the model that its answer is wrong.
"""

from __future__ import annotations

import logging
import re

from rewards.extract import completion_text, find_boxed
from rewards.grader import DEFAULT_TIMEOUT, grade_batch
from rewards.policy import NumericPolicy

__all__ = ["boxed_format", "math_accuracy", "think_answer_format"]

logger = logging.getLogger(__name__)

_THINK_ANSWER_RE = re.compile(
    r"^\s*<think>(?:(?!</?think>).)*</think>\s*<answer>(?:(?!</?answer>).)+</answer>\s*$", re.S
)


def _golds(n: int, kwargs: dict) -> list:
    for column in ("answer", "solution"):
        if kwargs.get(column) is not None:
            golds = list(kwargs[column])
            if len(golds) != n:
                raise ValueError(f"{len(golds)} values in column {column!r} for {n} completions")
            return golds
    raise KeyError("math_accuracy needs the gold answers in an 'answer' (or 'solution') column")


def math_accuracy(
    completions, timeout: float = DEFAULT_TIMEOUT, config: NumericPolicy | None = None, **kwargs
) -> list[float | None]:
    """1.0 when the completion's final answer equals the gold answer, 0.0 otherwise, None for unparseable golds.

    `config`: the numeric policy (`rewards.get("math_accuracy", config=NumericPolicy(...))` binds one).
    """
    texts = [completion_text(c) for c in completions]
    golds = ["" if g is None else str(g) for g in _golds(len(texts), kwargs)]
    verdicts = grade_batch(golds, texts, config, timeout=timeout)
    rewards: list[float | None] = []
    for gold, verdict in zip(golds, verdicts):
        if verdict.reason == "gold_unparseable":
            _warn_once(gold)
            rewards.append(None)
        else:
            rewards.append(1.0 if verdict.correct else 0.0)
    return rewards


_warned: set[str] = set()


def _warn_once(gold: str) -> None:
    # a GRPO group repeats its gold G times per step: one warning per distinct gold is enough
    if gold not in _warned and len(_warned) < 10_000:
        _warned.add(gold)
        logger.warning("math_accuracy: cannot parse gold answer %r; reward is None", gold[:200])


def boxed_format(completions, **kwargs) -> list[float]:
    """1.0 when the completion ends its reasoning with a non-empty, balanced `\\boxed{...}`."""
    return [1.0 if find_boxed(completion_text(c)) else 0.0 for c in completions]


def think_answer_format(completions, **kwargs) -> list[float]:
    """1.0 for exactly `<think>...</think>` followed by `<answer>...</answer>` (R1 format; whitespace between)."""
    return [1.0 if _THINK_ANSWER_RE.match(completion_text(c)) else 0.0 for c in completions]
