"""`deepmath train iterative-rl RECIPE.yaml --output DIR`: iterative RL with a process reward model (DeepSeekMath
Algorithm 1, §4.1.4), every round a folder of ordinary, resumable stages.

    deepmath train iterative-rl ROUNDS.yaml --policy runs/sft/model --output runs/iter   # its fields: see the recipe below
    deepmath run pipelines/process_supervision_tiny.yaml --output runs/ps      # SFT -> 2 rounds, one command

    OUTPUT/round-1/samples   solutions sampled from the current policy on `sample_questions` training questions
    OUTPUT/round-1/labels    Math-Shepherd step labels (`deepmath label-steps`, the current policy as completer)
    OUTPUT/round-2/replay    a seeded `replay_fraction` share of every earlier round's labels (from round 2 on)
    OUTPUT/round-1/prm       the PRM (`deepmath train prm`) on labels + replay, continued from the previous PRM
    OUTPUT/round-1/grpo      GRPO+PS (`deepmath train grpo`, `supervision: process`) from the current policy

The policy of round r is round r-1's `grpo/model` (round 1: `policy`). Its GRPO stage loads that folder as both
the policy and, with `beta > 0`, TRL's reference model: the reference is reset to the current policy each round
(Algorithm 1, "π_ref ← π_θ"). The PRM of round r starts from round r-1's `prm/model` (round 1: `initial_prm`, else
the PRM recipe's `model`), so it keeps training, as the paper's reward model does ("continuous training").

Each piece is the existing stage run as a nested stage (`run_stage`): a re-run skips every finished one, and the
unfinished one resumes from its own progress (label shards, Trainer checkpoints). Nothing is trained here.

Where we depart from the paper: Algorithm 1 updates the reward model *after* GRPO in each iteration; here each round
updates it first (on samples of the policy it is about to train), so round 1 needs no separately trained PRM. The
paper's replay "incorporates 10% of historical data"; we read that as `replay_fraction` of all earlier labels
(rounded, seeded), added to the round's new labels. Samples, labels and rewards are from `rewards`' checker;
nothing here has run on a GPU.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.train.iterative_config import IterativeRLRecipe

__all__ = ["replay_rows", "round_folders", "run_iterative_rl"]

logger = logging.getLogger(__name__)

PIECES = ("samples", "labels", "replay", "prm", "grpo")


def run_iterative_rl(cfg: IterativeRLRecipe) -> dict:
    from deepmath.stage import run_stage

    return run_stage("train-iterative-rl", cfg, lambda run: _run(cfg, run.output))


def round_folders(out: Path, r: int) -> dict[str, Path]:
    return {piece: out / f"round-{r}" / piece for piece in PIECES}


def replay_rows(history: list[dict], fraction: float, seed: int) -> list[dict]:
    """A seeded sample of round(fraction * len(history)) labelled solutions of earlier rounds (order kept)."""
    n = round(fraction * len(history))
    chosen = sorted(random.Random(seed).sample(range(len(history)), n))
    return [history[i] for i in chosen]


def _grpo_fields(cfg: IterativeRLRecipe) -> dict:
    return {"torch_threads": cfg.torch_threads, "seed": cfg.seed, **cfg.grpo}


def _grpo_config(cfg: IterativeRLRecipe, policy: str, prm: str, out: Path):
    from deepmath.config import from_dict
    from deepmath.train.config import GRPORecipe

    fields = {**_grpo_fields(cfg), "model": policy, "supervision": "process", "prm": prm, "output": str(out)}
    return from_dict(GRPORecipe, fields, where="grpo")


def _run_samples(cfg: IterativeRLRecipe, policy: str, r: int, out: Path) -> dict:
    """Stage `iterative-samples`: `sample_k` solutions of the policy for `sample_questions` training questions."""
    from deepmath.stage import StageResult, run_stage
    from deepmath.stats import StageStats

    def body(run):
        from deepmath.problems import build_messages, write_jsonl
        from deepmath.tasks.multistep import check_steps, prefix_correct
        from deepmath.train.prepare import training_problems
        from deepmath.train.sampling import sample_completions

        probe = _grpo_config(cfg, policy, "unused", run.output)  # the GRPO recipe's data fields, its split
        train, _, data = training_problems(probe, run.output)
        rng = random.Random(f"{cfg.seed}-round-{r}")
        questions = rng.sample(train, min(cfg.sample_questions, len(train)))
        prompts = [build_messages(q["question"], probe.prompt_template, probe.system_prompt) for q in questions]
        completions = sample_completions(cfg, policy, prompts, cfg.seed + r)
        rows, empty = [], 0
        for question, texts in zip(questions, completions):
            for text in texts:
                if not text.strip():
                    empty += 1
                    continue
                row = {"question": question["question"], "answer": question["answer"], "solution": text}
                if "plan" in question:  # the multi-step tiny task knows the truth of every step
                    row["gold_steps"] = prefix_correct(check_steps(question, text, "\n"))
                rows.append(row)
        write_jsonl(run.output / "data" / "solutions.jsonl", rows)
        stats = StageStats(
            rows_in=len(questions) * cfg.sample_k,
            rows_out=len(rows),
            unit="solutions",
            dropped={"empty": empty} if empty else {},
            extra={"questions": len(questions), "policy": policy, "train_problems": data["rows_out"]},
        )
        return StageResult(stats=stats)

    sampling = {k: getattr(cfg, k) for k in ("sample_questions", "sample_k", "sample_temperature", "sample_top_p")}
    sampling.update(max_new_tokens=cfg.sample_max_new_tokens, seed=cfg.seed, grpo=_grpo_fields(cfg))
    return run_stage("iterative-samples", _piece(out, policy=policy, round=r, **sampling), body)


def _run_replay(cfg: IterativeRLRecipe, history: list[str], r: int, out: Path) -> dict:
    """Stage `iterative-replay`: `replay_fraction` of the labelled solutions in `history` (earlier label folders)."""
    from deepmath.stage import StageResult, run_stage
    from deepmath.stats import StageStats

    def body(run):
        from deepmath.io.atomic import atomic_write_text
        from deepmath.steps.labels import read_labels

        old = [row for folder in history for row in read_labels(folder)]
        chosen = replay_rows(old, cfg.replay_fraction, cfg.seed + r)
        data = run.output / "data"
        data.mkdir(parents=True, exist_ok=True)
        atomic_write_text(data / "labels-00000.jsonl", "".join(json.dumps(row) + "\n" for row in chosen))
        stats = StageStats(
            rows_in=len(old), rows_out=len(chosen), unit="solutions", extra={"replay_fraction": cfg.replay_fraction}
        )
        return StageResult(stats=stats)

    settings = {"history": history, "round": r, "seed": cfg.seed, "replay_fraction": cfg.replay_fraction}
    return run_stage("iterative-replay", _piece(out, **settings), body)


@dataclass
class PieceConfig:
    """The config a round's own small stage (samples, replay) saves and is resumed by: what decides its output."""

    output: str = ""
    settings: dict = field(default_factory=dict)
    overwrite: bool = False


def _piece(out: Path, **settings) -> PieceConfig:
    return PieceConfig(output=str(out), settings=json.loads(json.dumps(settings, default=str)))


def _run(cfg: IterativeRLRecipe, out: Path):
    from deepmath.config import ConfigError, from_dict
    from deepmath.io.atomic import atomic_write_json
    from deepmath.stage import StageResult, nested_stage
    from deepmath.stats import StageStats
    from deepmath.steps.config import LabelStepsConfig
    from deepmath.steps.labels import run_label_steps
    from deepmath.train.grpo import run_grpo
    from deepmath.train.prm import run_prm
    from deepmath.train.prm_config import PRMRecipe

    if not (Path(cfg.policy) / "config.json").exists():
        raise ConfigError(f"policy {cfg.policy!r} is not a model folder (no config.json)")
    if cfg.initial_prm and not (Path(cfg.initial_prm) / "config.json").exists():
        raise ConfigError(f"initial_prm {cfg.initial_prm!r} is not a PRM model folder (no config.json)")
    policy, prm = cfg.policy, cfg.initial_prm
    history = list(cfg.initial_labels)
    rounds = []
    for r in range(1, cfg.rounds + 1):
        folders = round_folders(out, r)
        logger.info("iterative RL round %d/%d: policy %s", r, cfg.rounds, policy)
        with nested_stage():
            samples = _run_samples(cfg, policy, r, folders["samples"])
            label_fields = {"torch_threads": cfg.torch_threads, "seed": cfg.seed + r, **cfg.label}
            label_fields.update(
                input=str(folders["samples"] / "data" / "solutions.jsonl"),
                completer=policy,
                output=str(folders["labels"]),
            )
            labels = run_label_steps(from_dict(LabelStepsConfig, label_fields, where="label"))
            label_sets = [str(folders["labels"])]
            replay = None
            if history and cfg.replay_fraction > 0:
                replay = _run_replay(cfg, history, r, folders["replay"])
                if replay["rows_out"]:
                    label_sets.append(str(folders["replay"]))
            prm_fields = {"torch_threads": cfg.torch_threads, "seed": cfg.seed, **cfg.prm}
            if prm:  # continue training the previous round's PRM (its head included)
                prm_fields["model"] = prm
            prm_fields.update(labels=label_sets, output=str(folders["prm"]))
            prm_stats = run_prm(from_dict(PRMRecipe, prm_fields, where="prm"))
            prm = str(folders["prm"] / "model")
            grpo = run_grpo(_grpo_config(cfg, policy, prm, folders["grpo"]))
        rounds.append(_round_summary(r, policy, samples, labels, replay, prm_stats, grpo))
        history.append(str(folders["labels"]))
        policy = str(folders["grpo"] / "model")
    stats = StageStats(
        rows_in=sum(x["samples"] for x in rounds),
        rows_out=sum(x["labelled_solutions"] for x in rounds),
        unit="solutions",
        extra={"rounds": rounds, "model": policy, "prm": prm},
    )
    atomic_write_json(out / "metrics.json", {"rounds": rounds})
    return StageResult(stats=stats, card=_card(cfg, rounds))


def _round_summary(r, policy, samples, labels, replay, prm, grpo) -> dict:
    return {
        "round": r,
        "policy": policy,
        "reference": policy,  # TRL loads the reference model from the policy folder: reset every round
        "samples": samples["rows_out"],
        "labelled_solutions": labels.get("solutions", 0),
        "label_hard_agreement": labels.get("hard_agreement"),
        "label_chance_agreement": labels.get("chance_agreement"),
        "replayed_solutions": replay["rows_out"] if replay else 0,
        "prm_held_out_vs_hard_labels": prm.get("held_out_vs_hard_labels"),
        "prm_held_out_vs_ground_truth": prm.get("held_out_vs_ground_truth"),
        "eval_before": grpo.get("eval_before"),
        "eval_after": grpo.get("eval_after"),
        "model": grpo.get("model"),
    }


def _card(cfg: IterativeRLRecipe, rounds: list[dict]):
    from deepmath.cards import Card

    def metric(summary, key):
        value = (summary or {}).get(key)
        return f"{value:.3f}" if isinstance(value, int | float) else "-"

    lines = [
        f"{cfg.rounds} round(s) of iterative RL with process supervision (DeepSeekMath Algorithm 1) from "
        f"`{cfg.policy}`; each round samples the policy, labels steps with it (Math-Shepherd), trains the PRM on the "
        f"new labels plus {cfg.replay_fraction:.0%} of the earlier ones, resets the reference model to the policy "
        "and runs GRPO+PS. Nothing here has run on a GPU.",
        "",
        "| round | samples | replayed | label agreement (chance) | PRM acc. vs truth | pass@1 before -> after |"
        " maj@k after |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for x in rounds:
        truth = (x["prm_held_out_vs_ground_truth"] or {}).get("accuracy")
        agreement = (
            f"{x['label_hard_agreement']:.3f} ({x['label_chance_agreement']:.3f})"
            if x["label_hard_agreement"] is not None
            else "-"
        )
        lines.append(
            f"| {x['round']} | {x['samples']} | {x['replayed_solutions']} | {agreement} | "
            f"{truth if truth is not None else '-'} | {metric(x['eval_before'], 'pass@1')} -> "
            f"{metric(x['eval_after'], 'pass@1')} | {metric(x['eval_after'], 'maj@k')} |"
        )
    return Card(
        title="Iterative RL with a process reward model",
        stage="train-iterative-rl",
        summary="\n".join(lines),
        n_rows=sum(x["samples"] for x in rounds),
        fields={"round-N/": "samples, labels, replay, prm, grpo: one stage folder each"},
        parameters={"rounds": cfg.rounds, "replay_fraction": cfg.replay_fraction, "policy": cfg.policy},
        tags=["deepmath", "iterative-rl", "process-supervision", "grpo"],
    )
