"""`deepmath eval`: sample K completions per problem, grade them with `rewards`, report pass@1 / pass@k / maj@k.

    deepmath eval --model runs/grpo/model --data data/test.jsonl --k 8 [--output DIR] [--temperature 0.7]

Writes `OUTPUT/metrics.json` (pass@1 = mean correctness over all samples, pass@k = the unbiased estimator, maj@k =
majority vote over equivalent answers, and the pass@j curve), `OUTPUT/samples.jsonl.gz` (every completion with its
extracted answer and verdict), `OUTPUT/pass_at_k.png`, `stats.json` and a card. Grading runs in worker processes
with a deadline per batch, so a hostile completion cannot stall an evaluation; problems whose gold answer `rewards`
cannot parse are reported and excluded. Generation uses transformers (CPU or GPU) or vLLM (`--backend vllm`).

Where we depart from DeepSeekMath: the paper reports greedy top-1 accuracy and maj@64 at temperature 0.7; we report
pass@1 as the mean over the K samples (the unbiased estimate of sampled accuracy), which equals greedy accuracy only
at temperature 0 (`--temperature 0 --k 1`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from deepmath.evaluate.config import EvalConfig

__all__ = ["evaluate_model", "generate_completions", "run_eval"]

logger = logging.getLogger(__name__)


def generate_completions(
    model_path: str,
    prompts: list[list[dict]],
    k: int,
    temperature: float,
    top_p: float,
    max_new_tokens: int,
    batch_problems: int = 16,
    seed: int = 0,
    backend: str = "transformers",
    max_batch_tokens: int = 0,
    generator=None,
) -> list[list[str]]:
    """k sampled completions (assistant text only) for each chat prompt, through deepmath.evaluate.generation.

    `max_batch_tokens=0` sizes the token budget as `batch_problems` problems of k sequences of up to 512 prompt
    tokens each, which is what one `generate` call held before the budget existed."""
    from deepmath.evaluate.generation import Prompt, SamplingSettings, load_generator

    budget = max_batch_tokens or batch_problems * k * (512 + max_new_tokens)
    generator = generator or load_generator(model_path, backend, budget, seed)
    settings = SamplingSettings(k, temperature, top_p, max_new_tokens, [], seed)
    return generator.generate([Prompt(messages=m) for m in prompts], settings)


def grade_completions(
    problems: list[dict], completions: list[list[str]], bridge=None, timeout: float = 300.0, workers: int = 2
):
    """Grade in worker processes (`bridge`: a RewardBridge, or a temporary one); None for a batch not back in time."""
    from deepmath.evaluate.grading import grade_problems
    from deepmath.grading import RewardBridge

    pairs = [(p["answer"], c) for p, c in zip(problems, completions)]
    own = bridge is None
    bridge = bridge or RewardBridge(["math_accuracy"], batch_timeout=timeout, workers=workers)
    try:
        size = max(1, -(-len(pairs) // (bridge.workers * 4)))
        chunks = [(pairs[i : i + size],) for i in range(0, len(pairs), size)]
        results = bridge.map(grade_problems, chunks, timeout=timeout)
    finally:
        if own:
            bridge.close()
    graded: list[dict | None] = []
    for (chunk,), result in zip(chunks, results):
        graded.extend(result if result is not None else [None] * len(chunk))
    return graded


def evaluate_model(
    model_path: str,
    problems: list[dict],
    k: int,
    temperature: float = 0.7,
    top_p: float = 1.0,
    max_new_tokens: int = 512,
    batch_problems: int = 16,
    seed: int = 0,
    prompt_template: str = "{question}",
    system_prompt: str = "",
    backend: str = "transformers",
    bridge=None,
    grading_timeout: float = 300.0,
    grading_workers: int = 2,
    max_batch_tokens: int = 0,
) -> tuple[dict, list[dict]]:
    """Metrics (pass@1, pass@k, maj@k, pass curve, counts) and per-problem samples for `model_path` on `problems`."""
    import rewards
    from deepmath.evaluate.metrics import summarize
    from deepmath.problems import build_messages

    if not problems:
        raise ValueError("no problems to evaluate")
    start = time.time()
    prompts = [build_messages(p["question"], prompt_template, system_prompt) for p in problems]
    completions = generate_completions(
        model_path, prompts, k, temperature, top_p, max_new_tokens, batch_problems, seed, backend, max_batch_tokens
    )
    generation_seconds = time.time() - start
    graded = grade_completions(problems, completions, bridge, grading_timeout, grading_workers)
    samples, scored = [], []
    skipped = {"gold_unparseable": 0, "grading_timeout": 0}
    for problem, texts, result in zip(problems, completions, graded):
        row = {"question": problem["question"], "answer": problem["answer"], "completions": texts}
        record_grade(row, result, skipped, scored)
        samples.append(row)
    if not scored:
        raise ValueError(f"no problem could be graded ({skipped})")
    metrics = summarize(scored, k, equal=rewards.answers_equal)
    metrics.update(
        {
            "skipped": {key: value for key, value in skipped.items() if value},
            "temperature": temperature,
            "samples_per_problem": k,
            "generation_seconds": round(generation_seconds, 2),
            "seconds": round(time.time() - start, 2),
            "mean_completion_chars": round(sum(len(t) for c in completions for t in c) / (len(completions) * k), 1),
        }
    )
    return metrics, samples


def plot_eval(metrics_by_name: dict[str, dict], path: str | Path, title: str = "") -> None:
    """pass@j curves (and maj@k markers) of one or more evaluations in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepmath.io.atomic import atomic_write_png

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, metrics in metrics_by_name.items():
        curve = metrics["pass_curve"]
        xs = sorted(int(j) for j in curve)
        line = ax.plot(xs, [curve[str(x)] for x in xs], marker="o", label=f"{name} pass@j")[0]
        ax.scatter(
            [metrics["k"]], [metrics["maj@k"]], marker="*", s=120, color=line.get_color(), label=f"{name} maj@k"
        )
    ax.set_xscale("log", base=2)
    ax.set_xlabel("samples j")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or "pass@j and maj@k")
    fig.tight_layout()
    atomic_write_png(path, fig, dpi=110)
    plt.close(fig)


def _stem(data: str) -> str:
    return Path(data.rstrip("/")).name.split(".")[0] or "data"


def _default_output(cfg: EvalConfig) -> str:
    name = _stem(cfg.data) if not cfg.data.startswith("hf:") else cfg.data[3:]
    name = name.replace("/", "_").replace(":", "_") or "data"
    if Path(cfg.model).is_dir():
        return str(Path(cfg.model) / "eval" / name)
    return str(Path("eval_output") / name)


def run_eval(cfg: EvalConfig) -> dict:
    """Evaluate `cfg.model` on `cfg.data` into `cfg.output` (default: MODEL/eval/<data name>)."""
    from deepmath.cards import Card
    from deepmath.io.atomic import atomic_write_json
    from deepmath.problems import load_problems, write_jsonl
    from deepmath.stage import StageResult, StageStats, run_stage

    if cfg.completions:
        from deepmath.evaluate.completions import run_score_completions

        if not cfg.output:
            cfg.output = str(Path("eval_output") / _stem(cfg.completions))
        return run_score_completions(cfg)
    if cfg.benchmarks:
        from deepmath.evaluate.suite import run_benchmarks

        if not cfg.output:
            model = Path(cfg.model)
            cfg.output = str(model / "eval" / cfg.mode) if model.is_dir() else str(Path("eval_output") / cfg.mode)
        return run_benchmarks(cfg)
    if not cfg.output:
        cfg.output = _default_output(cfg)

    def body(run) -> StageResult:
        problems, dropped = load_problems(cfg.data, cfg.question_field, cfg.answer_field)
        rows_in = len(problems) + sum(dropped.values())
        if cfg.max_problems:
            problems = problems[: cfg.max_problems]
        metrics, samples = evaluate_model(
            cfg.model,
            problems,
            cfg.k,
            cfg.temperature,
            cfg.top_p,
            cfg.max_new_tokens,
            cfg.batch_problems,
            cfg.seed,
            cfg.prompt_template,
            cfg.system_prompt,
            cfg.backend,
            grading_timeout=cfg.grading_timeout,
            grading_workers=cfg.grading_workers,
        )
        metrics.update({"model": cfg.model, "data": cfg.data})
        atomic_write_json(run.output / "metrics.json", metrics)
        write_jsonl(run.output / "samples.jsonl.gz", samples)
        plot_eval({Path(cfg.model).name or "model": metrics}, run.output / "pass_at_k.png", Path(cfg.data).name)
        all_dropped = {**dropped, **metrics["skipped"]}
        logger.info(
            "eval: pass@1 %.3f  pass@%d %.3f  maj@%d %.3f  on %d problems",
            metrics["pass@1"],
            cfg.k,
            metrics["pass@k"],
            cfg.k,
            metrics["maj@k"],
            metrics["problems"],
        )
        print(
            f"pass@1 {metrics['pass@1']:.3f}  pass@{cfg.k} {metrics['pass@k']:.3f}  maj@{cfg.k} {metrics['maj@k']:.3f}"
            f"  ({metrics['problems']} problems) -> {run.output / 'metrics.json'}"
        )
        card = Card(
            title=f"Evaluation of {cfg.model} on {cfg.data}",
            stage="eval",
            summary=f"{cfg.k} samples per problem at temperature {cfg.temperature}, graded with `rewards`.",
            n_rows=len(samples),
            fields={
                "question": "the problem",
                "answer": "gold answer",
                "completions": f"{cfg.k} sampled completions",
                "answers": "extracted answer of each completion (None: no answer)",
                "correct": "verdict of each completion",
                "majority": "index of the majority answer's first sample",
            },
            counts={key: round(metrics[key], 4) for key in ("pass@1", "pass@k", "maj@k")} | {"k": cfg.k},
            dropped=all_dropped,
            parameters={"model": cfg.model, "data": cfg.data, "k": cfg.k, "temperature": cfg.temperature},
            lineage=[cfg.model, cfg.data],
            data_files="samples.jsonl.gz",
            images=["pass_at_k.png"],
        )
        stats = StageStats(
            rows_in=rows_in,
            rows_out=metrics["problems"],
            unit="problems",
            dropped=all_dropped,
            plots=["pass_at_k.png"],
            extra={"metrics": {key: metrics[key] for key in ("pass@1", "pass@k", "maj@k", "k")}},
        )
        return StageResult(stats=stats, card=card)

    return run_stage("eval", cfg, body)


def record_grade(row: dict, result: dict | None, skipped: dict, scored: list) -> bool:
    """Put one problem's grade on its saved row; count it as skipped (grading timeout, unparseable gold) or add it
    to `scored`. True when it was scored."""
    from deepmath.evaluate.metrics import GradedProblem

    if result is None:
        skipped["grading_timeout"] += 1
        row["skipped"] = "grading_timeout"
        return False
    if result["gold_unparseable"]:
        skipped["gold_unparseable"] += 1
        row["skipped"] = "gold_unparseable"
        return False
    row.update({key: result[key] for key in ("answers", "correct", "majority", "reasons")})
    scored.append(GradedProblem(result["answers"], result["correct"], majority=result["majority"], voted=True))
    return True
