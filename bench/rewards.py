"""Benchmark: `rewards` vs math-verify on real labelled model outputs, same rows, one run.

Data (read from ../shared/data/answer_checking, never copied here):

- GSM8K: OpenAI's example model solutions, 1,319 problems x 4 GPT-3 setups, with their `is_correct` labels.
  Gold = the `A:` line of `ground_truth`; completion = the full model solution.
- MATH: Qwen2.5-Math's `math_cot_100`, 100 problems x 8 sampled CoT responses, `score` labels (from Qwen's own
  checker against the `gt` column). Completion = the full response; gold = `gt` (what the labels were computed
  against) and, as a second view, `answer` (the MATH dataset's answer string).

Both checkers see identical (gold, completion) strings. math-verify runs as documented
(`verify(parse(gold), parse(completion))`, default configs, its own signal timeouts, main thread); bare gold
answers are wrapped in `$...$` for it (its best option here: unwrapped, `\\$6` does not parse). `rewards` runs
serially (`grade`) after `warmup()`; batch mode (`grade_batch`) is reported separately. Latency is per row (parsing
gold + completion + comparing). `rewards` caches parsed golds; so that speed is compared with gold parsing cached
for both, math-verify also runs with a dict of parsed golds ("math-verify (gold cached)").

Further sections, same run:

- bare: labelled plain (gold, prediction) pairs where the prediction is a bare answer or short prose with no
  marker: the rows of `tests/rewards/cases.py` with the answer taken out of its box, and the nine category tables
  of `tests/rewards/categories.py`. math-verify gets `parse(prediction)`, and `parse("$" + prediction + "$")` when
  that finds nothing (its best option for LaTeX without delimiters).
- hostile: the slowest of a few runs of each hostile completion of `tests/rewards/test_hostile.py` (budget 1 s).
- fresh: the first grade in a fresh interpreter, with and without `rewards.warmup()` first (start-up counted
  separately), against math-verify's first `verify`.

Run: `python bench/rewards.py [--data ../shared/data] [--repeat 1] [--sections real,bare,hostile,fresh] [--json out]`
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

logger = logging.getLogger("bench.rewards")

SECTIONS = ("real", "bare", "hostile", "fresh")
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GSM8K_SETUPS = ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")


def gsm8k_gold(ground_truth: str) -> str:
    """The final answer on the `A:` line of a GSM8K reference solution."""
    return ground_truth.rsplit("A:", 1)[-1].strip()


def load_rows(data: Path) -> dict[str, list[tuple[str, str, bool]]]:
    """`{dataset: [(gold, completion, label), ...]}` for every labelled set present."""
    sets: dict[str, list[tuple[str, str, bool]]] = {}
    gsm8k = data / "answer_checking" / "gsm8k_example_model_solutions" / "example_model_solutions.jsonl"
    if gsm8k.exists():
        rows = []
        for line in gsm8k.open(encoding="utf-8"):
            record = json.loads(line)
            gold = gsm8k_gold(record["ground_truth"])
            for setup in GSM8K_SETUPS:
                rows.append((gold, record[setup]["solution"], bool(record[setup]["is_correct"])))
        sets["gsm8k"] = rows
    qwen = data / "answer_checking" / "qwen_math_cot_100" / "math_cot_100.jsonl"
    if qwen.exists():
        records = [json.loads(line) for line in qwen.open(encoding="utf-8")]
        for column in ("gt", "answer"):
            sets[f"math_qwen[{column}]"] = [
                (r[column], response, bool(score)) for r in records for response, score in zip(r["code"], r["score"])
            ]
    return sets


def run_rewards(rows):
    import rewards

    verdicts, latencies = [], []
    for gold, completion, _ in rows:
        start = time.perf_counter()
        verdicts.append(rewards.grade(gold, completion).correct)
        latencies.append(time.perf_counter() - start)
    return verdicts, latencies


def run_rewards_batch(rows):
    import rewards

    start = time.perf_counter()
    verdicts = rewards.grade_batch([r[0] for r in rows], [r[1] for r in rows])
    return [v.correct for v in verdicts], time.perf_counter() - start  # one call: no per-row latency


def run_math_verify(rows, cache_gold: bool = False):
    from math_verify import parse, verify

    verdicts, latencies = [], []
    golds: dict[str, list] = {}
    for gold, completion, _ in rows:
        start = time.perf_counter()
        gold_parsed = golds.get(gold) if cache_gold else None
        if gold_parsed is None:
            gold_parsed = parse(gold if "\\boxed" in gold else f"${gold}$")
            if cache_gold:
                golds[gold] = gold_parsed
        verdicts.append(bool(verify(gold_parsed, parse(completion))))
        latencies.append(time.perf_counter() - start)
    return verdicts, latencies


def run_math_verify_gold_cached(rows):
    return run_math_verify(rows, cache_gold=True)


def summarize(name: str, dataset: str, rows, verdicts, latencies: list[float] | float) -> dict:
    """Agreement and speed; `latencies` is per row, or one total for a batch call (then no percentiles)."""
    labels = [r[2] for r in rows]
    agree = sum(v == label for v, label in zip(verdicts, labels))
    per_row = isinstance(latencies, list)
    ordered = sorted(latencies) if per_row else [float("nan")]
    total = sum(latencies) if per_row else latencies
    return {
        "checker": name,
        "dataset": dataset,
        "rows": len(rows),
        "agree": agree,
        "accuracy": agree / len(rows),
        "false_pos": sum(v and not label for v, label in zip(verdicts, labels)),
        "false_neg": sum(label and not v for v, label in zip(verdicts, labels)),
        "p50_ms": 1000 * statistics.median(ordered) if per_row else None,
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if per_row else None,
        "max_ms": 1000 * ordered[-1] if per_row else None,
        "rows_per_s": len(rows) / total if total else float("inf"),
    }


def disagreements(rows, verdicts, limit: int = 10) -> list[dict]:
    out = []
    for (gold, completion, label), verdict in zip(rows, verdicts):
        if verdict != label and len(out) < limit:
            out.append({"gold": gold, "label": label, "verdict": verdict, "tail": completion[-160:]})
    return out


def main(data: Path, repeat: int = 1, json_out: Path | None = None, sections: tuple[str, ...] = SECTIONS) -> list:
    import rewards

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    results: list = []
    if "real" in sections:
        results += bench_real(data, repeat, json_out)
    if "bare" in sections:
        results += bench_bare()
    if "hostile" in sections:
        bench_hostile()
    if "fresh" in sections:
        bench_fresh()
    logger.info("rewards stats: %s", rewards.stats())
    return results


def bench_real(data: Path, repeat: int, json_out: Path | None) -> list[dict]:
    import rewards

    sets = load_rows(data)
    if not sets:
        raise SystemExit(f"no labelled data under {data}/answer_checking")
    start = time.perf_counter()
    rewards.warmup()
    logger.info("rewards worker pool ready in %.2f s (not counted below)", time.perf_counter() - start)
    results, examples = [], {}
    for dataset, rows in sets.items():
        rows = rows * repeat
        for name, runner in (
            ("math-verify", run_math_verify),
            ("math-verify (gold cached)", run_math_verify_gold_cached),
            ("rewards", run_rewards),
            ("rewards (batch)", run_rewards_batch),
        ):
            rewards.clear_caches()  # every checker starts cold on every set
            verdicts, latencies = runner(rows)
            results.append(summarize(name, dataset, rows, verdicts, latencies))
            if name in ("math-verify", "rewards"):
                examples[f"{name} {dataset}"] = disagreements(rows, verdicts)
    print_table(results)
    if json_out:
        json_out.write_text(json.dumps({"results": results, "disagreements": examples}, indent=1), encoding="utf-8")
    return results


def bare_sets() -> dict[str, list[tuple[str, str, bool]]]:
    """Labelled bare-answer pairs: the case table with answers taken out of their boxes, and the category tables."""
    from tests.rewards.cases import ROWS, B
    from tests.rewards.categories import CATEGORIES

    prefix, suffix = B("\x00").split("\x00")
    unboxed = [
        (gold, completion[len(prefix) : -len(suffix)], expected)
        for _, gold, completion, expected in ROWS
        if completion.startswith(prefix) and completion.endswith(suffix)
    ]
    return {"cases.py, unboxed": unboxed, **{f"category: {name}": rows for name, rows in CATEGORIES.items()}}


def _math_verify_bare(gold: str, prediction: str) -> bool:
    from math_verify import parse, verify

    parsed = parse(prediction)
    if not parsed:
        parsed = parse(f"${prediction}$")
    return bool(verify(parse(f"${gold}$"), parsed))


def bench_bare() -> list[dict]:
    """Accuracy of each checker on labelled bare-answer pairs (verdict == label)."""
    import rewards

    lines = ["| pairs | rows | rewards correct | math-verify correct |", "|---|---:|---:|---:|"]
    results, totals = [], [0, 0, 0]
    for name, rows in bare_sets().items():
        ours = sum(rewards.verify(g, p) == e for g, p, e in rows)
        theirs = sum(_math_verify_bare(g, p) == e for g, p, e in rows)
        results.append({"section": "bare", "pairs": name, "rows": len(rows), "rewards": ours, "math_verify": theirs})
        totals = [totals[0] + len(rows), totals[1] + ours, totals[2] + theirs]
        lines.append(
            f"| {name} | {len(rows)} | {ours} ({100 * ours / len(rows):.1f}%) | {theirs} "
            f"({100 * theirs / len(rows):.1f}%) |"
        )
    n, ours, theirs = totals
    lines.append(f"| **all** | {n} | {ours} ({100 * ours / n:.1f}%) | {theirs} ({100 * theirs / n:.1f}%) |")
    print("\n".join(lines))
    return results


def bench_hostile(runs: int = 3) -> None:
    """The slowest of `runs` grades of each hostile completion, against two golds (budget 1 s, pool warm)."""
    import rewards
    from tests.rewards.test_hostile import HOSTILE

    lines = ["| hostile completion | slowest of runs, ms | verdict |", "|---|---:|---|"]
    worst = 0.0
    for name, completion in HOSTILE.items():
        slowest, reasons = 0.0, set()
        for _ in range(runs):
            for gold in ("7", "x^2+1"):
                rewards.clear_caches()
                start = time.perf_counter()
                verdict = rewards.grade(gold, completion, timeout=1.0)
                slowest = max(slowest, time.perf_counter() - start)
                reasons.add(f"{verdict.correct}/{verdict.reason}")
        worst = max(worst, slowest)
        lines.append(f"| {name} | {1000 * slowest:.1f} | {', '.join(sorted(reasons))} |")
    lines.append(f"\nslowest hostile grade: {1000 * worst:.0f} ms (budget 1000 ms)")
    print("\n".join(lines))


_FRESH = """
import json, sys, time
start = time.perf_counter()
import rewards
imported = time.perf_counter()
warm = None
if sys.argv[1] == "warmup":
    rewards.warmup(1)
    warm = time.perf_counter() - imported
before = time.perf_counter()
fast = rewards.grade("\\frac{1}{2}", "so \\boxed{0.5}")
after_fast = time.perf_counter()
slow = rewards.grade("x^2+2x+1", "so \\boxed{(x+1)^2}")
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "warmup_s": warm, "first_fast_s": after_fast - before,
                  "first_symbolic_s": done - after_fast, "symbolic_reason": slow.reason}))
"""

_FRESH_MATH_VERIFY = """
import json, logging, time
start = time.perf_counter()
from math_verify import parse, verify
imported = time.perf_counter()
ok = verify(parse("$x^2+2x+1$"), parse("so \\boxed{(x+1)^2}"))
done = time.perf_counter()
print(json.dumps({"import_s": imported - start, "first_symbolic_s": done - imported, "ok": bool(ok)}))
"""


def bench_fresh(runs: int = 3) -> None:
    """First grade in a fresh interpreter (median of `runs`): start-up counted apart from the grade itself."""
    import subprocess

    root = str(Path(__file__).resolve().parents[1])
    env = {**__import__("os").environ, "PYTHONPATH": root}
    lines = [
        "| fresh process | import s | worker start-up s | first fast grade ms | first sympy grade s |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, code, arg in (
        ("rewards, no warmup", _FRESH, "cold"),
        ("rewards, warmup() first", _FRESH, "warmup"),
        ("math-verify", _FRESH_MATH_VERIFY, ""),
    ):
        samples = []
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, env=env, cwd=root)
            samples.append(json.loads(out.stdout.strip().splitlines()[-1]))
        med = {k: statistics.median([s[k] for s in samples]) for k in samples[0] if isinstance(samples[0][k], float)}
        warm = f"{med['warmup_s']:.2f}" if "warmup_s" in med else "-"
        fast = f"{1000 * med['first_fast_s']:.1f}" if "first_fast_s" in med else "-"
        lines.append(f"| {label} | {med['import_s']:.2f} | {warm} | {fast} | {med['first_symbolic_s']:.3f} |")
    print("\n".join(lines))


def print_table(results: list[dict]) -> None:
    header = (
        "| dataset | checker | rows | agree with labels | false pos | false neg | p50 ms | p99 ms | max ms | rows/s |"
    )
    lines = [header, "|" + "---|" * 10]
    for r in results:
        p50, p99, top = (
            ("-", "-", "-") if r["p50_ms"] is None else (f"{r[k]:.2f}" for k in ("p50_ms", "p99_ms", "max_ms"))
        )
        lines.append(
            f"| {r['dataset']} | {r['checker']} | {r['rows']} | {r['agree']} ({100 * r['accuracy']:.2f}%) | "
            f"{r['false_pos']} | {r['false_neg']} | {p50} | {p99} | {top} | {r['rows_per_s']:.0f} |"
        )
    speed = {(r["dataset"], r["checker"]): r["rows_per_s"] for r in results}
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        ratio = speed[(dataset, "rewards")] / speed[(dataset, "math-verify")]
        cached = speed[(dataset, "rewards")] / speed[(dataset, "math-verify (gold cached)")]
        lines.append(
            f"\n{dataset}: rewards/math-verify throughput = {ratio:.1f}x (serial), "
            f"{cached:.1f}x against math-verify with its golds cached too"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    # this file is named rewards.py: put the repository root first so `import rewards` finds the package, not us
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=1, help="repeat the rows (steadier timings)")
    parser.add_argument("--json", type=Path, default=None, help="also write results and disagreements here")
    parser.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, of {', '.join(SECTIONS)}")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(args.data, args.repeat, args.json, tuple(args.sections.split(",")))
