"""Benchmark: our sandboxed re-execution of program-of-thought outputs vs the verdicts recorded in the files.

Inputs (read from ../shared/data, never copied):

- `pot/program_of_thoughts/gsm8K_s0_e-1_11_17_10_20.jsonl`: 1,319 PoT programs on GSM8K test with the value the
  PoT authors' run produced (`executed`) and the gold (`answer`). Anchor verdict: recorded `executed` equals the gold
  (floats, relative tolerance 1e-4: both are float-formatted numbers).
- `pot/tora_70b_gsm8k/test_tora_-1_seed0_t0.0_s0_e1319.jsonl`: ToRA-70B programs (first `--tora-limit`) with the
  answer ToRA's harness extracted after running them (`pred`). Anchor verdict: `rewards.verify(gt, pred)`.

Ours: `deepmath.sftmix` extracts each program (first ```python block), runs it in `deepmath.sandbox` (bubblewrap,
or the in-process fallback where it cannot run; limits), takes `ans` or the last printed line, and checks it with
`rewards.verify` (gold first), exactly as the sft-mix stage does. Reported: sandbox outcomes, both verdicts, their agreement, a few disagreements, and
throughput (programs per second with `--workers` processes at once; wall clock includes interpreter start-up).

Run: `python bench/sftmix.py [--data ../shared/data] [--workers 2] [--tora-limit 300]`
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


def _rows(path: Path, limit: int = -1) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if "question" in row:  # the PoT file's first line is the few-shot prompt only
                rows.append(row)
            if 0 <= limit <= len(rows):
                break
    return rows


def _float_equal(a, b) -> bool:
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return abs(a - b) <= 1e-4 * max(1.0, abs(b))


def _run(items: list[tuple[str, str, str, bool]], workers: int) -> dict:
    """items: (key, program, gold, anchor verdict) -> outcome counts, verdicts and throughput."""
    from deepmath.sftmix.sandbox import SandboxLimits, run_programs
    from deepmath.sftmix.verify import program_reason

    limits = SandboxLimits(timeout=10.0, cpu_seconds=5, memory_mb=1024)
    by_key = {key: (program, gold, anchor) for key, program, gold, anchor in items}
    start = time.monotonic()
    results = dict(run_programs(((k, p) for k, p, _, _ in items), limits, workers))
    seconds = time.monotonic() - start
    statuses = Counter(r.status for r in results.values())
    table = Counter()
    disagreements = []
    for key, (_, gold, anchor) in by_key.items():
        ours = program_reason(results[key], gold) is None
        table[(ours, anchor)] += 1
        if ours != anchor and len(disagreements) < 4:
            r = results[key]
            disagreements.append(
                f"{key}: gold {gold!r}, ours {r.status}/{r.value!r} ({'kept' if ours else 'rejected'})"
            )
    return {"n": len(items), "seconds": seconds, "statuses": statuses, "table": table, "disagreements": disagreements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tora-limit", type=int, default=300)
    args = parser.parse_args()
    # `python bench/sftmix.py` puts bench/ first on sys.path, where bench/rewards.py would shadow the package
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != here]

    import rewards
    from deepmath.sftmix.formats import extract_program

    pot = _rows(args.data / POT_FILE)
    pot_items = [
        (f"pot:{i}", r["generated"][0], str(r["answer"]), _float_equal(r["executed"], r["answer"]))
        for i, r in enumerate(pot)
    ]
    tora = _rows(args.data / TORA_FILE, args.tora_limit)
    tora_items = [
        (
            f"tora:{r['idx']}",
            extract_program(r["code"][0]),
            str(r["gt"]),
            bool(r["pred"]) and rewards.verify(str(r["gt"]), f"\\boxed{{{r['pred'][0]}}}"),
        )
        for r in tora
    ]
    print(
        "| file | programs | sandbox outcomes | anchor: correct | ours: correct | agree | ours kept, anchor not | anchor kept, ours not | wall s | programs/s |"
    )
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    notes = []
    for name, items in (("PoT (GSM8K test)", pot_items), (f"ToRA-70B (first {len(tora_items)})", tora_items)):
        out = _run(items, args.workers)
        t = out["table"]
        outcomes = ", ".join(f"{k} {v}" for k, v in out["statuses"].most_common())
        agree = t[(True, True)] + t[(False, False)]
        print(
            f"| {name} | {out['n']} | {outcomes} | {t[(True, True)] + t[(False, True)]} | {t[(True, True)] + t[(True, False)]} | "
            f"{agree} ({100 * agree / max(1, out['n']):.1f}%) | {t[(True, False)]} | {t[(False, True)]} | "
            f"{out['seconds']:.1f} | {out['n'] / out['seconds']:.1f} |"
        )
        notes += [f"- {name}: {d}" for d in out["disagreements"]]
    if notes:
        print("\nSample disagreements:\n" + "\n".join(notes))


if __name__ == "__main__":
    main()
