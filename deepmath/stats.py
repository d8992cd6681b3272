"""The typed `stats.json` of every stage: one object, one vocabulary, written by `run_stage` through one code path.

    {"stage": "dedup", "rows_in": 1200, "rows_out": 1013, "unit": "documents",
     "dropped": {"near_duplicate": 187}, "plots": [...], <stage fields...>, "seconds": 4.2}

`rows_in`/`rows_out` count what the stage read and wrote, in `unit` (documents for corpus stages, problems,
conversations, prompts ... elsewhere); `dropped` says why rows did not come out, by reason. Everything else a stage
wants to keep goes in `extra` and is written after the common keys.

Older run folders (and plugins written before this object) speak `documents_in`/`documents_out`: `normalize_stats`
is the one place that reads them as `rows_in`/`rows_out` with unit `documents`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["COMMON_KEYS", "LEGACY_KEYS", "StageStats", "check_stats", "normalize_stats"]

COMMON_KEYS = ("rows_in", "rows_out", "unit", "dropped", "plots")
# old name -> common name; read everywhere, written nowhere
LEGACY_KEYS = {"documents_in": "rows_in", "documents_out": "rows_out"}
# keys run_stage adds around a stage's stats
_FRAME_KEYS = ("stage", "seconds")
_UNIT = re.compile(r"[a-z][a-z_ -]*")


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


@dataclass
class StageStats:
    """What a stage reports about its run; `to_json()` is what lands in stats.json (after `stage`)."""

    rows_in: int
    rows_out: int
    unit: str = "rows"
    dropped: dict[str, int] = field(default_factory=dict)
    plots: list[str] = field(default_factory=list)  # PNG files (relative to the stage folder) for the run report
    extra: dict = field(default_factory=dict)  # the stage's own fields

    def __post_init__(self):
        self.check()

    def check(self) -> StageStats:
        """Raise TypeError/ValueError naming the first field of the wrong type (a stage's bug, not a user's)."""
        for name in ("rows_in", "rows_out"):
            if not _is_count(getattr(self, name)):
                raise TypeError(f"stats: {name} must be a count (an int >= 0), not {getattr(self, name)!r}")
        if not isinstance(self.unit, str) or not _UNIT.fullmatch(self.unit):
            raise TypeError(f"stats: unit must be a lower-case word such as 'documents', not {self.unit!r}")
        if not isinstance(self.dropped, dict) or not all(
            isinstance(k, str) and _is_count(v) for k, v in self.dropped.items()
        ):
            raise TypeError(f"stats: dropped must map reasons to counts, not {self.dropped!r}")
        if not isinstance(self.plots, list) or not all(isinstance(p, str) for p in self.plots):
            raise TypeError(f"stats: plots must be a list of file names, not {self.plots!r}")
        if not isinstance(self.extra, dict) or not all(isinstance(k, str) for k in self.extra):
            raise TypeError("stats: extra must be a dict with string keys")
        clash = sorted(set(self.extra) & {*COMMON_KEYS, *LEGACY_KEYS, *_FRAME_KEYS})
        if clash:
            raise ValueError(f"stats: extra may not hold {', '.join(clash)} (common or reserved keys)")
        return self

    def to_json(self) -> dict:
        """The common keys first, then the stage's fields."""
        self.check()  # fields may have been changed since construction
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "unit": self.unit,
            "dropped": dict(self.dropped),
            "plots": list(self.plots),
            **self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict, unit: str = "rows") -> StageStats:
        """A plain stats dict (a plugin's, or an old stats.json) as the typed object; old key names are read."""
        if not isinstance(data, dict):
            raise TypeError(f"stats must be a StageStats or a dict, not {type(data).__name__}")
        data = normalize_stats(data, unit=unit)
        missing = [k for k in ("rows_in", "rows_out") if k not in data]
        if missing:
            raise TypeError(f"stats lack {' and '.join(missing)} (the counts every stage reports)")
        extra = {k: v for k, v in data.items() if k not in COMMON_KEYS and k not in _FRAME_KEYS}
        return cls(
            rows_in=data["rows_in"],
            rows_out=data["rows_out"],
            unit=data.get("unit", unit),
            dropped=data.get("dropped") or {},  # checked as given: a wrong type is named, not papered over
            plots=data.get("plots") or [],
            extra=extra,
        )


def normalize_stats(data: dict, unit: str = "rows") -> dict:
    """The one alias reader: `documents_in`/`documents_out` of older stats read as `rows_in`/`rows_out` (unit
    `documents`). Returns a new dict; keys in the common vocabulary win over old ones; other keys are kept."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    legacy = False
    for old, new in LEGACY_KEYS.items():
        if old in out:
            value = out.pop(old)
            out.setdefault(new, value)
            legacy = True
    if legacy or "rows_in" in out or "rows_out" in out:
        out.setdefault("unit", "documents" if legacy else unit)
    return out


def check_stats(data: dict) -> list[str]:
    """What is wrong with a written stats.json (a dict): missing common keys or wrong types; [] when fine."""
    if not isinstance(data, dict):
        return [f"not a JSON object but {type(data).__name__}"]
    problems = [f"missing '{k}'" for k in ("stage", *COMMON_KEYS, "seconds") if k not in data]
    problems += [f"old key '{k}'" for k in LEGACY_KEYS if k in data]
    if problems:
        return problems
    try:
        StageStats.from_dict({k: v for k, v in data.items() if k not in _FRAME_KEYS}, unit=data["unit"])
    except (TypeError, ValueError) as err:
        problems.append(str(err))
    if not isinstance(data["stage"], str) or not data["stage"]:
        problems.append(f"stage must be a name, not {data['stage']!r}")
    if not isinstance(data["seconds"], int | float) or isinstance(data["seconds"], bool):
        problems.append(f"seconds must be a number, not {data['seconds']!r}")
    return problems
