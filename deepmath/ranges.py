"""Declared value ranges of config fields, checked in one place.

    num_perm: int = field(default=128, metadata={"help": "MinHash permutations", "range": (16, 4096)})

    def __post_init__(self):
        check_ranges(self)   # ValueError: "num_perm must be between 16 and 4096, got 100000000"

A range is `(low, high)`, both inclusive, either may be None (no bound); a special value below the range that
means "all" or "auto" is simply included in it (`limit: (-1, None)`). Fields a config inherits and cannot annotate
(TRL's `max_steps`, the shared corpus fields) are declared in the class attribute `RANGES = {name: (low, high)}`.
The check only reads the config, so calling it twice (in `__post_init__` and again from `config.from_dict`) is
harmless. None, booleans and non-numbers are not checked (types are `config.py`'s job). Upper bounds keep memory
and file counts sane: an absurd `--num-perm` or `--splits` fails here, not after minutes of work.
"""

from __future__ import annotations

import dataclasses
import math

__all__ = ["CORPUS_RANGES", "RangeError", "check_ranges", "field_range"]

# the fields every corpus stage shares (deepmath.stage.CorpusStageConfig)
CORPUS_RANGES = {"tasks": (0, 100_000), "workers": (1, 4096)}


class RangeError(ValueError):
    """A config value outside its declared range."""


def field_range(cfg, name: str) -> tuple | None:
    """The declared (low, high) of field `name` of `cfg`, or None."""
    for f in dataclasses.fields(cfg):
        if f.name == name and "range" in f.metadata:
            return tuple(f.metadata["range"])
    declared = getattr(type(cfg), "RANGES", None) or {}
    return tuple(declared[name]) if name in declared else None


def _describe(low, high) -> str:
    if low is not None and high is not None:
        return f"between {low} and {high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def check_ranges(cfg) -> None:
    """Raise RangeError (one line, the field named) for the first numeric field outside its declared range."""
    for f in dataclasses.fields(cfg):
        bounds = field_range(cfg, f.name)
        if bounds is None:
            continue
        value = getattr(cfg, f.name, None)
        if value is None or isinstance(value, bool) or not isinstance(value, int | float):
            continue
        low, high = bounds
        outside = (low is not None and value < low) or (high is not None and value > high)
        if outside or (isinstance(value, float) and math.isnan(value)):
            raise RangeError(
                f"{f.name} must be {_describe(low, high)}, got {value:g}"
                if isinstance(value, float)
                else f"{f.name} must be {_describe(low, high)}, got {value}"
            )
