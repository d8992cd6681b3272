"""Benchmarks by name, shared by decontamination, the SFT mix, training and evaluation.

    from deepmath.benchmarks import BENCHMARKS, get_benchmark, load_benchmarks, load_problems
    get_benchmark("cmath").language                    # "zh"
    load_benchmarks(["gsm8k", "math"])                 # texts to decontaminate against (deepmath.benchmarks.loading)
    problems, dropped = load_problems("gsm8k")         # [{"id", "question", "answer", ...}] to evaluate

Entries live in `registry.yaml` beside this file (data, not code); see deepmath.benchmarks.registry for the format
and for adding your own with `DEEPMATH_BENCHMARK_REGISTRY`.
"""

from deepmath.benchmarks.loading import (
    BenchmarkItem,
    LoadedBenchmark,
    expand_specs,
    load_benchmark,
    load_benchmarks,
    parse_spec,
)
from deepmath.benchmarks.problems import load_problems
from deepmath.benchmarks.registry import (
    BENCHMARKS,
    GROUPS,
    BenchmarkEntry,
    BenchmarkError,
    HfSource,
    benchmark_dirs,
    get_benchmark,
)

__all__ = [
    "BENCHMARKS",
    "GROUPS",
    "BenchmarkEntry",
    "BenchmarkError",
    "BenchmarkItem",
    "HfSource",
    "LoadedBenchmark",
    "benchmark_dirs",
    "expand_specs",
    "get_benchmark",
    "load_benchmark",
    "load_benchmarks",
    "load_problems",
    "parse_spec",
]
