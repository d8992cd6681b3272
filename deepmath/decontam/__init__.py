"""Benchmark decontamination: registry and loading (`benchmarks`), normalisation and hashing (`normalize`), the
n-gram index (`index`), the matcher other stages call (`matcher`), the datatrove step (`steps`), the report
(`report`) and the `deepmath decontam` stage (`stage`).

    from deepmath.decontam import ContaminationMatcher
    matcher = ContaminationMatcher.from_benchmarks(["gsm8k", "math"])
    matcher.is_contaminated(text)
"""

from __future__ import annotations

__all__ = ["ContaminationMatcher", "Match", "MatchRule"]


def __getattr__(name: str):
    # lazy: `deepmath.decontam.config` must stay importable without numpy work at import time
    if name in __all__:
        from deepmath.decontam import matcher

        return getattr(matcher, name)
    raise AttributeError(f"module 'deepmath.decontam' has no attribute {name!r}")
