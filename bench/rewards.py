"""Benchmark: `rewards` vs math-verify on real labelled model outputs, same rows, one run.

Data (read from ../shared/data/answer_checking, never copied here):

- GSM8K: OpenAI's example model solutions, 1,319 problems x 4 GPT-3 setups, with their `is_correct` labels.
  Gold = the `A:` line of `ground_truth`; completion = the full model solution.
- MATH: Qwen2.5-Math's `math_cot_100`, 100 problems x 8 sampled CoT responses, `score` labels (from Qwen's own
  checker against the `gt` column). Completion = the full response; gold = `gt` (what the labels were computed
  against) and, as a second view, `answer` (the MATH dataset's answer string).

Both checkers see identical (gold, completion) strings. math-verify runs as documented
(`verify(parse(gold), parse(completion))`, default configs, its own signal timeouts, main thread); bare gold
answers are wrapped in `$...$` for it (its best option here: unwrapped, `\\$6` does not parse). `rewards` runs serially (`grade`) after `warmup()`; batch mode
(`grade_batch`) is reported separately. Latency is per row (parsing gold + completion + comparing).

Run: `python bench/rewards.py [--data ../shared/data] [--repeat 1] [--json out.json]`
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


def run_math_verify(rows):
    from math_verify import parse, verify

    verdicts, latencies = [], []
    for gold, completion, _ in rows:
        start = time.perf_counter()
        gold_parsed = parse(gold if "\\boxed" in gold else f"${gold}$")
        verdicts.append(bool(verify(gold_parsed, parse(completion))))
        latencies.append(time.perf_counter() - start)
    return verdicts, latencies


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


def main(data: Path, repeat: int = 1, json_out: Path | None = None) -> list[dict]:
    import rewards

    logging.getLogger("math_verify").setLevel(logging.ERROR)
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
            ("rewards", run_rewards),
            ("rewards (batch)", run_rewards_batch),
        ):
            rewards.clear_caches()  # every checker starts cold on every set
            verdicts, latencies = runner(rows)
            results.append(summarize(name, dataset, rows, verdicts, latencies))
            if name != "rewards (batch)":
                examples[f"{name} {dataset}"] = disagreements(rows, verdicts)
    print_table(results)
    logger.info("rewards stats: %s", rewards.stats())
    if json_out:
        json_out.write_text(json.dumps({"results": results, "disagreements": examples}, indent=1), encoding="utf-8")
    return results


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
        lines.append(f"\n{dataset}: rewards/math-verify throughput = {ratio:.1f}x (serial)")
    print("\n".join(lines))


if __name__ == "__main__":
    # this file is named rewards.py: put the repository root first so `import rewards` finds the package, not us
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=1, help="repeat the rows (steadier timings)")
    parser.add_argument("--json", type=Path, default=None, help="also write results and disagreements here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    main(args.data, args.repeat, args.json)
