"""Benchmark: throughput of the bubblewrap sandbox vs the in-process fallback layer, on real PoT programs.

Input (read from ../shared/data, never copied): the first `--limit` programs of
`pot/program_of_thoughts/gsm8K_s0_e-1_11_17_10_20.jsonl` (GSM8K test, PoT authors' outputs) and of
`pot/tora_70b_gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl` (ToRA-70B, first ```python block).

All modes run the same programs through `deepmath.sandbox.run_programs` with `--workers` at once and the same
limits (10 s wall, 5 s CPU, 1 GB): bubblewrap with the audit-hook guards on top (the default), bubblewrap alone
(`guards=False`), and the old layer (`isolation="inprocess"`: plain child process + audit hook, the fallback).
The modes alternate in `--rounds` chunks in one run, so all see the same machine load; reported: programs/s per
mode, the ratio to the old layer, and whether every mode gave the old layer's verdict on every program.

Run: `python bench/sandbox.py [--data ../shared/data] [--workers 2] [--limit 400] [--rounds 4]`
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

DEFAULT_DATA = Path(os.environ.get("DEEPMATH_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
POT_FILE = "pot/program_of_thoughts/gsm8K_s0_e-1_11_17_10_20.jsonl"
TORA_FILE = "pot/tora_70b_gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl"


def _programs(data: Path, limit: int) -> list[tuple[str, str]]:
    from deepmath.sftmix.formats import extract_program

    programs = []
    for name, path, field in (("pot", POT_FILE, "generated"), ("tora", TORA_FILE, "code")):
        count = 0
        with open(data / path, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if field not in row or "question" not in row:
                    continue
                code = row[field][0]
                programs.append((f"{name}:{count}", code if name == "pot" else extract_program(code)))
                count += 1
                if count >= limit:
                    break
    return programs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=400, help="programs per file")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    here = str(Path(__file__).resolve().parent)  # bench/rewards.py would shadow the rewards package
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]

    from deepmath.sandbox import SandboxLimits, bwrap_problem, run_programs

    if bwrap_problem() is not None:
        raise SystemExit(f"bench/sandbox.py: {bwrap_problem()}")
    programs = _programs(args.data, args.limit)
    base = {"timeout": 10.0, "cpu_seconds": 5, "memory_mb": 1024}
    modes = {
        "bubblewrap + guards (default)": SandboxLimits(**base, isolation="bwrap"),
        "bubblewrap alone": SandboxLimits(**base, isolation="bwrap", guards=False),
        "in-process layer (old)": SandboxLimits(**base, isolation="inprocess"),
    }
    old = "in-process layer (old)"
    seconds, results = Counter(), {mode: {} for mode in modes}
    chunk = -(-len(programs) // args.rounds)
    for start in range(0, len(programs), chunk):
        part = programs[start : start + chunk]
        order = list(modes) if (start // chunk) % 2 == 0 else list(reversed(modes))
        for mode in order:
            began = time.monotonic()
            results[mode].update(run_programs(part, modes[mode], args.workers))
            seconds[mode] += time.monotonic() - began
    rate = {mode: len(programs) / seconds[mode] for mode in modes}
    print(f"{len(programs)} programs, {args.workers} at a time, {args.rounds} alternating rounds\n")
    print("| runner | programs | outcomes | wall s | programs/s | vs in-process | same verdict as old |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for mode in modes:
        outcomes = ", ".join(f"{k} {v}" for k, v in Counter(r.status for r in results[mode].values()).most_common())
        same = sum(
            (results[mode][k].status, results[mode][k].value) == (results[old][k].status, results[old][k].value)
            for k, _ in programs
        )
        print(
            f"| {mode} | {len(programs)} | {outcomes} | {seconds[mode]:.1f} | {rate[mode]:.1f} | "
            f"{rate[mode] / rate[old]:.2f}x | {same}/{len(programs)} |"
        )


if __name__ == "__main__":
    main()
