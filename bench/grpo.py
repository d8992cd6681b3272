"""GRPO step time split into generation, reward, scoring and update, for the tiny recipe (CPU).

    python bench/grpo.py [--steps 10] [--work /tmp/deepmath_bench_grpo] [--policy PATH]

Runs GRPO steps of `pipelines/grpo_tiny.yaml` twice on the same policy, prompts and seed:

- ours: rewards graded by name in the bounded worker pool (`deepmath.grading`, what the stage uses);
- anchor: TRL's own wiring, the same `rewards` functions called in-process by `GRPOTrainer` (blocking, unbounded).

Each step is split (mean per step; a rollout feeds `num_iterations` steps) by wrapping the trainer's methods: generation (`_generate`), reward (`_calculate_rewards`),
scoring (the rest of `_generate_and_score_completions`: old/reference log-probs, advantages) and update (loss,
backward, optimizer step: the rest of the step). The policy is the SFT model of the tiny recipe (built once into
`--work`, or `--policy`). Target: reward time at most 5% of a step.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PHASES = ("generation", "reward", "scoring", "update")


class _InProcess:
    """TRL's default wiring: the reward functions themselves, called in the trainer process."""

    def __init__(self, names):
        import rewards

        self._functions = [rewards.get(name) for name in names]

    def functions(self):
        return list(self._functions)


def _instrument(trainer) -> dict[str, list[float]]:
    from transformers import TrainerCallback

    times: dict[str, list[float]] = {name: [] for name in (*PHASES, "step")}
    current = {"generation": 0.0, "reward": 0.0, "score_total": 0.0, "start": 0.0}

    def timed(method, key):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                current[key] += time.perf_counter() - start

        return wrapper

    trainer._generate = timed(trainer._generate, "generation")
    trainer._calculate_rewards = timed(trainer._calculate_rewards, "reward")
    trainer._generate_and_score_completions = timed(trainer._generate_and_score_completions, "score_total")

    class StepTimer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kwargs):
            current.update(generation=0.0, reward=0.0, score_total=0.0, start=time.perf_counter())

        def on_step_end(self, args, state, control, **kwargs):
            step = time.perf_counter() - current["start"]
            times["step"].append(step)
            times["generation"].append(current["generation"])
            times["reward"].append(current["reward"])
            times["scoring"].append(current["score_total"] - current["generation"] - current["reward"])
            times["update"].append(step - current["score_total"])

    trainer.add_callback(StepTimer())
    return times


def _run(label, cfg, policy, dataset, wiring, warmup_steps):
    from deepmath.train.grpo import build_trainer

    trainer, _ = build_trainer(cfg, policy, dataset, wiring)
    times = _instrument(trainer)
    trainer.train()
    # the first rollout pays one-off costs (allocations, lazy imports); report the steady state
    return {key: values[warmup_steps:] for key, values in times.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="GRPO steps per run (the first rollout is not counted)")
    parser.add_argument("--work", default="/tmp/deepmath_bench_grpo", help="cache for the tiny task and SFT policy")
    parser.add_argument("--policy", default="", help="a policy folder (default: the tiny recipe's SFT model)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from deepmath.config import from_dict, load_yaml
    from deepmath.grading import RewardBridge
    from deepmath.problems import grpo_dataset
    from deepmath.train.config import GRPORecipe
    from deepmath.train.grpo import sft_config
    from deepmath.train.prepare import training_problems
    from deepmath.train.runs import set_torch_threads
    from deepmath.train.sft import run_sft

    work = Path(args.work)
    data = load_yaml(REPO / "pipelines" / "grpo_tiny.yaml")
    data.update(output=str(work / "grpo"), max_steps=args.steps, save_strategy="no", logging_steps=1, eval_k=0)
    cfg = from_dict(GRPORecipe, data)
    set_torch_threads(cfg.torch_threads)
    train, _, _ = training_problems(cfg, work / "grpo")
    policy = args.policy
    if not policy:
        sft = sft_config(cfg, work / "grpo")
        run_sft(sft)
        policy = str(Path(sft.output) / "model")
    dataset = grpo_dataset(train, cfg.prompt_template, cfg.system_prompt)

    results = {}
    skip = cfg.num_iterations  # one rollout feeds num_iterations steps: skip the first rollout
    with RewardBridge(cfg.reward_funcs, batch_timeout=cfg.reward_timeout, workers=cfg.reward_workers) as bridge:
        bridge.warmup()
        results["ours: bounded worker pool"] = _run("ours", cfg, policy, dataset, bridge, skip)
    results["anchor: TRL in-process"] = _run("anchor", cfg, policy, dataset, _InProcess(cfg.reward_funcs), skip)

    completions = cfg.per_device_train_batch_size
    print(
        f"\nGRPO step time, tiny recipe ({completions} completions/step = {completions // cfg.num_generations} "
        f"prompts x G {cfg.num_generations}, max {cfg.max_completion_length} tokens, torch threads "
        f"{cfg.torch_threads or 'default'}, {cfg.num_iterations} updates per rollout); mean per step over "
        f"{args.steps - skip} steps, ms\n"
    )
    print("| wiring | generation | reward | scoring | update | step | reward share |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    verdicts = []
    for label, times in results.items():
        med = {key: statistics.fmean(values) * 1000 for key, values in times.items()}
        share = sum(times["reward"]) / sum(times["step"])
        cells = " | ".join(f"{med[key]:.0f}" for key in (*PHASES, "step"))
        print(f"| {label} | {cells} | {share:.1%} |")
        if label.startswith("ours"):
            verdicts.append(share <= 0.05)
    print(f"\ntarget: reward time <= 5% of a step (ours): {'PASS' if all(verdicts) else 'FAIL'}")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
