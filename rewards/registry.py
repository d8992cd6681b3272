"""Reward functions by short name (`rewards.get("math_accuracy")`); an unknown name errors with close matches."""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable

from rewards.policy import NumericPolicy
from rewards.pool import prestart
from rewards.reward_funcs import boxed_format, math_accuracy, think_answer_format

__all__ = ["available", "get", "register"]

RewardFunction = Callable[..., list]

_REGISTRY: dict[str, RewardFunction] = {
    "math_accuracy": math_accuracy,
    "boxed_format": boxed_format,
    "think_answer_format": think_answer_format,
}


def register(name: str, function: RewardFunction | None = None):
    """Add a reward function under `name` (usable as a decorator); re-registering a name is an error."""

    def add(fn: RewardFunction) -> RewardFunction:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"reward {name!r} is already registered")
        _REGISTRY[name] = fn
        return fn

    return add(function) if function is not None else add


def get(name: str, config: NumericPolicy | None = None) -> RewardFunction:
    """The reward function called `name` (TRL-shaped); KeyError with close matches when there is none.

    With `config` (a `rewards.NumericPolicy`), the function grades with that numeric policy; it keeps its
    `__name__`, which TRL logs as `rewards/<name>/mean`. Starts a grading worker in the background, so the first
    reward that needs sympy does not wait for one.
    """
    try:
        function = _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, _REGISTRY, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown reward {name!r}{hint} (available: {', '.join(available())})") from None
    if config is None:
        return function
    if not isinstance(config, NumericPolicy):
        raise TypeError(f"config must be a rewards.NumericPolicy, got {type(config).__name__}")
    if "config" not in inspect.signature(function).parameters:
        return function  # format rewards: no numbers to compare
    prestart()
    return functools.wraps(function)(functools.partial(function, config=config))


def available() -> list[str]:
    """Names of all registered reward functions, sorted."""
    return sorted(_REGISTRY)
