"""`deepmath eval --benchmarks gsm8k,math500,cmath,mgsm_zh --model M`: registry benchmarks, paper-style, one run.

    deepmath eval --model runs/sft/model --benchmarks gsm8k,math500 --mode chat --k 8 --output out/eval
    deepmath eval --model base_model --benchmarks deepseekmath --mode fewshot --k 1 --output out/eval_base
    deepmath eval --model runs/sft/model --benchmarks gsm8k --mode tir --max-tool-calls 4 --output out/eval_tir

Per benchmark: a greedy run (temperature 0, one completion: the paper's top-1 accuracy) and, when `k > 1`, a sampled
run (k > 1 completions at `temperature`: pass@1 as the mean over samples, pass@k, maj@k with `rewards` answer
equivalence), in one of the prompt modes of prompts.py (chat, fewshot, pot, tir). Writes per benchmark
`OUTPUT/<name>/greedy.jsonl.gz` and `sampled.jsonl.gz` (every completion with its extracted answer and verdict, and
for pot/tir the programs and their status) and `OUTPUT/<name>/metrics.json` (written last: a re-run skips finished
benchmarks, so a killed run resumes per benchmark), then `results.json`, `results.md` (a table shaped like the
paper's: one row per metric, one column per benchmark, in percent) and `results.png`.

Where we depart from the paper: maj@k uses our answer equivalence (`rewards.answers_equal`), not string equality of
normalised answers; few-shot exemplars are drawn from a train split (see prompts.py); DeepSeekMath reports maj@64 at
temperature 0.7 where we default to k=8.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

__all__ = ["complete", "evaluate_benchmark", "run_benchmarks", "write_results"]

logger = logging.getLogger(__name__)


def complete(generator, mode: str, prompts, stops: list[str], settings, cfg) -> list[list[dict]]:
    """Per prompt, n sample dicts {"completion", "graded_text", ...} in `mode` (pot/tir run programs)."""
    from dataclasses import replace

    from deepmath.evaluate.sandbox import SandboxLimits
    from deepmath.evaluate.tools import run_pot, run_tir

    limits = SandboxLimits(timeout=cfg.sandbox_timeout, cpu_seconds=max(1, int(cfg.sandbox_timeout)))
    if mode == "tir":
        samples = run_tir(generator, prompts, settings, cfg.max_tool_calls, limits, cfg.grading_workers)
        # a turn cut off at the call limit has no final answer: grading its text would read a number out of the
        # unexecuted program (rewards' last-number fallback)
        return [
            [{**s, "graded_text": "" if s["status"] == "too_many_calls" else s["completion"]} for s in sample]
            for sample in samples
        ]
    # one stop list per call: prompts of one benchmark and mode share it
    texts = generator.generate(prompts, replace(settings, stop=stops[0] if stops else []))
    if mode == "pot":
        flat = [t for sample in texts for t in sample]
        results = iter(run_pot(flat, limits, cfg.grading_workers))
        return [[{"completion": t, **next(results)} for t in sample] for sample in texts]
    return [[{"completion": t, "graded_text": t} for t in sample] for sample in texts]


def _grade(problems: list[dict], samples: list[list[dict]], cfg, bridge=None) -> tuple[list[dict], dict]:
    """Rows with verdicts, and skip counts; gold answers `rewards` cannot parse are skipped, not counted wrong."""
    from deepmath.evaluate.run import grade_completions

    texts = [[s["graded_text"] for s in sample] for sample in samples]
    graded = grade_completions(problems, texts, bridge, timeout=cfg.grading_timeout, workers=cfg.grading_workers)
    rows, skipped = [], {}
    for problem, sample, result in zip(problems, samples, graded):
        row = {"id": problem["id"], "question": problem["question"], "answer": problem["answer"], "samples": sample}
        if result is None or result["gold_unparseable"]:
            reason = "grading_timeout" if result is None else "gold_unparseable"
            skipped[reason] = skipped.get(reason, 0) + 1
            row["skipped"] = reason
        else:
            row.update({key: result[key] for key in ("answers", "correct", "majority")})
        rows.append(row)
    return rows, skipped


def evaluate_benchmark(generator, name: str, cfg, bridge=None) -> dict:
    """Greedy and sampled runs of one registry benchmark into `cfg.output/<name>/`; its metrics."""
    import rewards
    from deepmath.benchmarks import get_benchmark, load_problems
    from deepmath.evaluate.generation import SamplingSettings
    from deepmath.evaluate.metrics import GradedProblem, summarize
    from deepmath.evaluate.prompts import build_prompt, select_exemplars
    from deepmath.io.atomic import atomic_write_json
    from deepmath.problems import write_jsonl

    folder = Path(cfg.output) / name
    done = folder / "metrics.json"
    if done.exists():
        logger.info("eval %s: finished earlier (%s)", name, done)
        return json.loads(done.read_text())
    start = time.time()
    entry = get_benchmark(name)
    problems, dropped = load_problems(entry)
    rows_in = len(problems) + sum(dropped.values())
    if cfg.max_problems:
        problems = problems[: cfg.max_problems]
    shots = entry.fewshot if cfg.shots < 0 else cfg.shots
    use_exemplars = cfg.mode == "fewshot" or (cfg.mode == "pot" and cfg.shots > 0)
    exemplars, report = (
        select_exemplars(entry, problems, shots, cfg.fewshot_file, cfg.seed, need_programs=cfg.mode == "pot")
        if use_exemplars
        else ([], {"shots": 0})
    )
    built = [build_prompt(cfg.mode, p, entry.language, exemplars) for p in problems]
    prompts, stops = [p for p, _ in built], [s for _, s in built][:1]
    metrics: dict = {
        "benchmark": name,
        "language": entry.language,
        "mode": cfg.mode,
        "fewshot": report,
        "rows_in": rows_in,
        "dropped": dropped,
    }
    folder.mkdir(parents=True, exist_ok=True)
    runs = [("greedy", SamplingSettings(1, 0.0, 1.0, cfg.max_new_tokens, [], cfg.seed))]
    if cfg.k > 1:
        runs.append(("sampled", SamplingSettings(cfg.k, cfg.temperature, cfg.top_p, cfg.max_new_tokens, [], cfg.seed)))
    for run_name, settings in runs:
        samples = complete(generator, cfg.mode, prompts, stops, settings, cfg)
        rows, skipped = _grade(problems, samples, cfg, bridge)
        write_jsonl(folder / f"{run_name}.jsonl.gz", rows)
        scored = [
            GradedProblem(r["answers"], r["correct"], majority=r["majority"], voted=True)
            for r in rows
            if "correct" in r
        ]
        if not scored:
            raise ValueError(f"{name}: no problem could be graded ({skipped})")
        summary = summarize(scored, settings.n, equal=rewards.answers_equal)
        summary["skipped"] = skipped
        if cfg.mode in ("pot", "tir"):
            statuses: dict[str, int] = {}
            for row in rows:
                for sample in row["samples"]:
                    for status in [p["status"] for p in sample.get("programs", [])] or [sample.get("status", "")]:
                        statuses[status] = statuses.get(status, 0) + 1
            summary["program_status"] = statuses
        metrics[run_name] = summary
    metrics["greedy_accuracy"] = metrics["greedy"]["pass@1"]
    metrics["problems"] = metrics["greedy"]["problems"]
    metrics["seconds"] = round(time.time() - start, 2)
    atomic_write_json(done, metrics)  # last: marks the benchmark finished
    logger.info("eval %s: greedy %.3f on %d problems", name, metrics["greedy_accuracy"], metrics["problems"])
    return metrics


def _table_rows(results: dict[str, dict], k: int) -> list[tuple[str, list[float | None]]]:
    names = list(results)
    rows = [("greedy (top-1)", [results[n]["greedy"]["pass@1"] for n in names])]
    if k > 1:
        rows += [
            (f"pass@1 (mean of {k} samples)", [results[n]["sampled"]["pass@1"] for n in names]),
            (f"maj@{k}", [results[n]["sampled"]["maj@k"] for n in names]),
            (f"pass@{k}", [results[n]["sampled"]["pass@k"] for n in names]),
        ]
    return rows


def write_results(output: Path, results: dict[str, dict], cfg) -> None:
    """results.json, results.md (benchmarks as columns, metrics as rows, percent) and results.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepmath.io.atomic import atomic_write_json, atomic_write_png, atomic_write_text

    names = list(results)
    rows = _table_rows(results, cfg.k)
    atomic_write_json(
        output / "results.json", {"model": cfg.model, "mode": cfg.mode, "k": cfg.k, "benchmarks": results}
    )
    header = "| model | metric | " + " | ".join(names) + " |"
    lines = [
        f"Evaluation of `{cfg.model}`, mode `{cfg.mode}`"
        + (f", {cfg.k} samples at temperature {cfg.temperature}" if cfg.k > 1 else "")
        + " (accuracy, %; problems per benchmark: "
        + ", ".join(f"{n} {results[n]['problems']}" for n in names)
        + ")",
        "",
        header,
        "| --- | --- |" + " ---: |" * len(names),
    ]
    model = Path(cfg.model).name or cfg.model
    for label, values in rows:
        lines.append(f"| {model} | {label} | " + " | ".join(f"{100 * v:.1f}" for v in values) + " |")
    atomic_write_text(output / "results.md", "\n".join(lines) + "\n")
    fig, ax = plt.subplots(figsize=(max(4.5, 1.4 * len(names) + 2), 3.6))
    width = 0.8 / len(rows)
    for i, (label, values) in enumerate(rows):
        ax.bar([x + i * width for x in range(len(names))], [100 * v for v in values], width, label=label)
    ax.set_xticks([x + width * (len(rows) - 1) / 2 for x in range(len(names))], names)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7)
    ax.set_title(f"{model}: {cfg.mode}")
    fig.tight_layout()
    atomic_write_png(output / "results.png", fig, dpi=110)
    plt.close(fig)


def run_benchmarks(cfg, generator=None) -> dict:
    """The `--benchmarks` form of `deepmath eval` (cfg: EvalConfig) as a stage writing into `cfg.output`.

    `generator`: a ready generation backend (tests pass a ScriptedGenerator); default: `cfg.model` on `cfg.backend`.
    """
    from deepmath.benchmarks import BenchmarkError, expand_specs, get_benchmark
    from deepmath.cards import Card
    from deepmath.evaluate.generation import load_generator
    from deepmath.stage import StageResult, StageStats, run_stage

    names = expand_specs(cfg.benchmarks)
    for name in names:  # unknown names and answer-less benchmarks fail before anything is written
        if not get_benchmark(name).evaluable:
            raise BenchmarkError(f"benchmark '{name}' has no gold answers; it serves decontamination only")

    def body(run) -> StageResult:
        from deepmath.grading import RewardBridge

        backend = generator
        results = {}
        bridge = RewardBridge(["math_accuracy"], batch_timeout=cfg.grading_timeout, workers=cfg.grading_workers)
        try:
            for name in names:
                if not (run.output / name / "metrics.json").exists() and backend is None:  # load only if work is left
                    backend = load_generator(cfg.model, cfg.backend, cfg.max_batch_tokens, cfg.seed)
                results[name] = evaluate_benchmark(backend, name, cfg, bridge)
        finally:
            bridge.close()
        write_results(run.output, results, cfg)
        table = (run.output / "results.md").read_text()
        print(table)
        card = Card(
            title=f"Evaluation of {cfg.model} on {', '.join(names)}",
            stage="eval",
            summary=f"Mode `{cfg.mode}`: greedy top-1"
            + (f" and {cfg.k} samples" if cfg.k > 1 else "")
            + ".\n\n"
            + table,
            n_rows=sum(r["problems"] for r in results.values()),
            fields={
                "samples": "completions (pot/tir: programs and their status)",
                "answers": "extracted answer of each completion",
                "correct": "verdict of each completion",
            },
            counts={f"{n} greedy": round(r["greedy_accuracy"], 4) for n, r in results.items()},
            dropped={},
            parameters={"model": cfg.model, "mode": cfg.mode, "k": cfg.k, "benchmarks": names},
            lineage=[cfg.model, *names],
            data_files="<benchmark>/greedy.jsonl.gz, <benchmark>/sampled.jsonl.gz",
            images=["results.png"],
        )
        stats = StageStats(
            rows_in=sum(r["rows_in"] for r in results.values()),
            rows_out=sum(r["problems"] for r in results.values()),
            unit="problems",
            plots=["results.png"],
            extra={
                "metrics": {
                    n: {"greedy": r["greedy_accuracy"], **({"maj@k": r["sampled"]["maj@k"]} if "sampled" in r else {})}
                    for n, r in results.items()
                }
            },
        )
        return StageResult(stats=stats, card=card)

    return run_stage("eval", cfg, body)
