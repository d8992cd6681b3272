"""`deepmath label-steps`: Math-Shepherd step labels (arXiv 2312.08935) by rolling out from every step prefix.

    deepmath label-steps --input runs/samples.jsonl --completer runs/sft/model --rollouts 8 --output runs/labels
    deepmath label-steps --input tiny --completer deepmath.steps.simulated:noisy_completer --output runs/labels

For each solution, split into steps at `marker` (a line per step by default), and for each step k < K the prefix
`step_1 .. step_k` is continued `rollouts` times by the completer; each rollout (prefix + continuation) is graded with
the `rewards` reward against the gold answer. The *soft* label of step k is the fraction of correct rollouts, the
*hard* label whether any is correct (Math-Shepherd's SE and HE). The last step needs no rollout: its label is the
grade of the solution itself (both hard and soft).

Output `data/labels-NNNNN.jsonl`, one row per solution: question, answer, steps, hard, soft (and `gold_steps`, the
ground-truth "still on track" verdict per step, when the input has it: the tiny task does). Shards are written
atomically, one per `batch_solutions` solutions; a re-run skips finished shards (resumable). The card reports label
statistics and, with ground truth, the agreement of hard labels with it against the majority-class baseline.

Departure from the paper: Math-Shepherd rolls out with a separate completer LLM; any model folder (or a scripted
completer, see `deepmath.steps.simulated`) serves here, and rollouts are batched across all prefixes of a shard.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

from deepmath.steps.config import LabelStepsConfig

__all__ = ["label_solutions", "load_solutions", "run_label_steps"]

logger = logging.getLogger(__name__)


def run_label_steps(cfg: LabelStepsConfig) -> dict:
    from deepmath.stage import run_stage

    return run_stage("label-steps", cfg, lambda run: _label(cfg, run.output))


def load_solutions(cfg: LabelStepsConfig) -> list[dict]:
    """Solutions to label: the tiny multi-step task (correct and corrupted ones) or rows of `cfg.input`."""
    from deepmath.problems import DataError, load_rows
    from deepmath.tasks.multistep import check_steps, corrupt_solution, make_multistep_problems, prefix_correct

    if cfg.input == "tiny":
        rng = random.Random(cfg.tiny_seed + 7)
        rows = []
        for problem in make_multistep_problems(cfg.tiny_problems, cfg.tiny_seed):
            solution = problem["solution"]
            if rng.random() < cfg.tiny_corrupt:
                solution = corrupt_solution(problem, rng.randrange(len(problem["plan"])), rng)
            gold = prefix_correct(check_steps(problem, solution, "\n"))
            rows.append(
                {
                    "question": problem["question"],
                    "answer": problem["answer"],
                    "solution": solution,
                    "gold_steps": gold,
                }
            )
    else:
        rows = []
        for i, row in enumerate(load_rows(cfg.input)):
            missing = [k for k in ("question", "answer", "solution") if not isinstance(row.get(k), str)]
            if missing:
                raise DataError(f"{cfg.input}: row {i + 1} lacks {', '.join(missing)} (strings)")
            rows.append(row)
    if cfg.max_solutions:
        rows = rows[: cfg.max_solutions]
    if not rows:
        raise DataError(f"{cfg.input}: no solutions to label")
    return rows


def _completer(cfg: LabelStepsConfig):
    from deepmath.config import ConfigError, import_target

    if ":" in cfg.completer and not Path(cfg.completer).exists():
        return import_target(cfg.completer, "completer")(cfg)
    if not (Path(cfg.completer) / "config.json").exists():
        raise ConfigError(f"completer {cfg.completer!r} is neither a model folder nor module:factory")
    from deepmath.evaluate.generation import load_generator

    return load_generator(cfg.completer, max_batch_tokens=cfg.max_batch_tokens, seed=cfg.seed)


def label_solutions(rows: list[dict], completer, cfg: LabelStepsConfig, grade, seed: int = 0) -> list[dict]:
    """Hard and soft labels for every step of `rows`; all rollouts of the batch go to the completer at once."""
    from deepmath.evaluate.generation import Prompt, SamplingSettings
    from deepmath.problems import build_messages
    from deepmath.tasks.multistep import split_steps

    prompts, owners = [], []
    split = [split_steps(row["solution"], cfg.marker) for row in rows]
    for i, (row, steps) in enumerate(zip(rows, split)):
        messages = build_messages(row["question"], cfg.prompt_template, cfg.system_prompt)
        for k in range(1, len(steps)):  # prefixes ending at steps 1..K-1; the last step is graded directly
            prefix = cfg.marker.join(steps[:k]) + cfg.marker
            prompts.append(Prompt(messages=messages, prefix=prefix))
            owners.append((i, k - 1, prefix))
    settings = SamplingSettings(
        n=cfg.rollouts, temperature=cfg.temperature, top_p=cfg.top_p, max_new_tokens=cfg.max_new_tokens, seed=seed
    )
    outputs = completer.generate(prompts, settings) if prompts else []
    texts, answers, where = [], [], []
    for (i, k, prefix), completions in zip(owners, outputs):
        for completion in completions:
            texts.append(prefix + completion)
            answers.append(rows[i]["answer"])
            where.append((i, k))
    for i, (row, steps) in enumerate(zip(rows, split)):  # the whole solution grades the last step
        texts.append(row["solution"])
        answers.append(row["answer"])
        where.append((i, len(steps) - 1))
    scores = grade(texts, answers)
    correct: list[list[list[float]]] = [[[] for _ in steps] for steps in split]
    for (i, k), score in zip(where, scores):
        correct[i][k].append(float(score or 0.0))
    out = []
    for row, steps, per_step in zip(rows, split, correct):
        soft = [round(sum(c) / len(c), 4) if c else 0.0 for c in per_step]
        labelled = {
            "question": row["question"],
            "answer": row["answer"],
            "steps": steps,
            "hard": [int(s > 0) for s in soft],
            "soft": soft,
            "rollouts": [len(c) for c in per_step],
        }
        if "gold_steps" in row:
            labelled["gold_steps"] = [bool(g) for g in row["gold_steps"]][: len(steps)]
        out.append(labelled)
    return out


def _grader(name: str):
    from deepmath.grading import load_reward

    function = load_reward(name)

    def grade(texts: list[str], answers: list[str]) -> list[float | None]:
        return list(function(texts, answer=answers))

    return grade


def _label(cfg: LabelStepsConfig, out: Path):
    from tqdm.auto import tqdm

    from deepmath.io.atomic import atomic_write_text
    from deepmath.stage import StageResult, StageStats

    if cfg.torch_threads > 0:  # a tiny completer on a shared CPU: one thread beats several spinning ones
        import torch

        torch.set_num_threads(cfg.torch_threads)
    rows = load_solutions(cfg)
    grade = _grader(cfg.reward)
    data = out / "data"
    data.mkdir(parents=True, exist_ok=True)
    shards = range(0, len(rows), cfg.batch_solutions)
    completer = None
    resumed = 0
    for shard, start in enumerate(tqdm(shards, desc="label-steps", unit="shard", disable=len(shards) < 4)):
        path = data / f"labels-{shard:05d}.jsonl"
        if path.exists():
            resumed += 1
            continue
        completer = completer or _completer(cfg)
        labelled = label_solutions(rows[start : start + cfg.batch_solutions], completer, cfg, grade, cfg.seed + shard)
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in labelled))
    labelled = read_labels(out)
    stats = label_statistics(labelled)
    stats["resumed_shards"] = resumed
    return StageResult(stats=StageStats.from_dict({**stats, "unit": "solutions"}), card=_card(cfg, stats))


def read_labels(folder: str | Path) -> list[dict]:
    """Every labelled solution of a label-steps folder (its data/ shards, in order)."""
    folder = Path(folder)
    data = folder / "data" if (folder / "data").is_dir() else folder
    from deepmath.io.rows import read_rows

    return [row for path in sorted(data.glob("labels-*.jsonl")) for row in read_rows(path)]


def label_statistics(rows: list[dict]) -> dict:
    """Counts, label means and (with ground truth) agreement of hard / soft>=0.5 labels with it vs chance."""
    steps = [(h, s, g) for r in rows for h, s, g in zip(r["hard"], r["soft"], r.get("gold_steps") or [None] * 10**6)]
    n = len(steps)
    stats = {
        "rows_in": len(rows),
        "rows_out": len(rows),
        "solutions": len(rows),
        "steps": n,
        "rollouts": sum(sum(r["rollouts"]) for r in rows),
        "hard_positive_rate": round(sum(h for h, _, _ in steps) / n, 4) if n else 0.0,
        "soft_mean": round(sum(s for _, s, _ in steps) / n, 4) if n else 0.0,
    }
    gold = [(h, s, g) for h, s, g in steps if g is not None]
    if gold:
        positive = sum(g for _, _, g in gold) / len(gold)
        stats["gold_steps"] = len(gold)
        stats["gold_positive_rate"] = round(positive, 4)
        stats["chance_agreement"] = round(max(positive, 1 - positive), 4)  # always guessing the majority class
        stats["hard_agreement"] = round(sum(int(h) == int(g) for h, _, g in gold) / len(gold), 4)
        stats["soft_agreement"] = round(sum(int(s >= 0.5) == int(g) for _, s, g in gold) / len(gold), 4)
        wrong = [h for h, _, g in gold if not g]
        right = [h for h, _, g in gold if g]
        stats["hard_false_positive_rate"] = round(sum(wrong) / len(wrong), 4) if wrong else 0.0
        stats["hard_false_negative_rate"] = round(1 - sum(right) / len(right), 4) if right else 0.0
    return stats


def _card(cfg: LabelStepsConfig, stats: dict):
    from deepmath.cards import Card

    counts = {k: v for k, v in stats.items() if isinstance(v, int | float) and k not in ("rows_in", "rows_out")}
    summary = (
        f"Math-Shepherd step labels for {stats['solutions']} solutions ({stats['steps']} steps): {cfg.rollouts} "
        f"rollouts per step prefix from `{cfg.completer}`, graded with `{cfg.reward}`; hard = any rollout correct, "
        "soft = fraction correct."
    )
    if "hard_agreement" in stats:
        summary += (
            f" Hard labels agree with the ground-truth step verdicts on {stats['hard_agreement']:.1%} of steps "
            f"(majority-class chance: {stats['chance_agreement']:.1%})."
        )
    return Card(
        title="Math-Shepherd step labels",
        stage="label-steps",
        summary=summary,
        n_rows=stats["solutions"],
        fields={
            "question": "the problem",
            "answer": "gold answer",
            "steps": "the solution split at the marker",
            "hard": "1 when any rollout from the prefix ending at this step is correct",
            "soft": "fraction of correct rollouts",
            "rollouts": "rollouts graded per step",
            "gold_steps": "ground truth: every step up to this one is right (tiny task only)",
        },
        counts=counts,
        parameters={
            "rollouts": cfg.rollouts,
            "marker": cfg.marker,
            "temperature": cfg.temperature,
            "reward": cfg.reward,
            "completer": cfg.completer,
        },
        tags=["deepmath", "process-supervision", "math-shepherd"],
    )
