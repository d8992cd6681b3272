"""Figure 5 in small: RFT, Online RFT, GRPO and DPO from the same SFT model, same policy samples, several seeds.

    nice -n 10 python bench/paradigm.py [--seeds 0 1 2] [--steps 40] [--work /tmp/deepmath_bench_paradigm]

1. The SFT model of the tiny recipe (`pipelines/sft_tiny.yaml`, = the `sft:` step of grpo_tiny.yaml), once.
2. For each seed, each method from that model with its tiny recipe (`pipelines/{rft,online_rft,grpo,dpo}_tiny.yaml`)
   shortened to `--steps` optimizer steps and the same number of policy samples: the online methods draw
   `steps / num_iterations` rollouts x 128 completions; the offline ones sample 8 completions for each of as many
   training questions / 8 (`sample_questions`). Held-out evaluation (200 problems, k = 8) before, after and every
   `--eval-every` steps (`eval_before` once per seed: the same model, seed and sampler for every method).
3. `deepmath compare` of all runs (into `WORK/compare_seeds0_1_2`), grouped by method (mean ± sd [min, max] over seeds): the table is printed and the
   plot copied to `--plot`.

Each run is an ordinary stage run (the same entry functions as `deepmath train METHOD RECIPE --model SFT/model
--sft null ...`), so a killed bench resumes where it stopped, and seeds can run in parallel processes
(`--seeds 0 & --seeds 1 & ...`, then once more with all seeds: finished runs are skipped, only the comparison runs).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METHODS = ("rft", "online-rft", "grpo", "dpo")
RECIPES = {"rft": "rft_tiny", "online-rft": "online_rft_tiny", "grpo": "grpo_tiny", "dpo": "dpo_tiny"}


def _recipe(method: str, out: Path, policy: str, seed: int, steps: int, eval_every: int):
    from deepmath.config import from_dict, load_yaml
    from deepmath.registry import get_stage

    data = load_yaml(REPO / "pipelines" / f"{RECIPES[method]}.yaml")
    data.pop("sft", None)
    data.update(model=policy, output=str(out), seed=seed, max_steps=steps, eval_every=eval_every)
    data.update(save_strategy="steps", save_steps=max(1, steps // 2), logging_steps=5)
    if method in ("rft", "dpo"):
        rollout = 128  # completions per rollout of the online recipes (16 prompts x 8)
        rollouts = -(-steps // 2)  # num_iterations 2 in the online recipes
        data["sample_questions"] = rollouts * rollout // data["sample_k"]
    return from_dict(get_stage(f"train-{method}").config_class(), data, where=method)


def _share_eval_before(first: Path, out: Path) -> None:
    """Every method of a seed starts from the same SFT model and evaluates it with the same seed, problems and
    sampler, so its `eval_before` is the same computation: the first method's cached result is copied into the
    others' folders (where `cached_evaluation` finds it) instead of being recomputed four times."""
    if first == out or not (first / "eval_before.json").exists() or (out / "eval_before.json").exists():
        return
    out.mkdir(parents=True, exist_ok=True)
    for name in ("eval_before.json", "eval_before_samples.jsonl.gz"):
        shutil.copyfile(first / name, out / name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=40, help="optimizer steps of every method")
    parser.add_argument("--eval-every", type=int, default=10)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--work", default="/tmp/deepmath_bench_paradigm")
    parser.add_argument("--plot", default=str(REPO / "bench" / "paradigm.png"), help="copy of the compare plot")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "deepmath.evaluate.run", "deepmath.decontam"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    from deepmath.config import from_dict, load_yaml
    from deepmath.registry import get_stage
    from deepmath.train.compare import CompareConfig, run_compare
    from deepmath.train.config import SFTRecipe
    from deepmath.train.sft import run_sft

    work = Path(args.work)
    start = time.time()
    sft = from_dict(SFTRecipe, {**load_yaml(REPO / "pipelines" / "sft_tiny.yaml"), "output": str(work / "sft")})
    run_sft(sft)
    policy = str(work / "sft" / "model")
    minutes = {"sft": (time.time() - start) / 60}
    runs, labels = [], []
    for seed in args.seeds:
        for method in args.methods:
            out = work / method / f"seed{seed}"
            cfg = _recipe(method, out, policy, seed, args.steps, args.eval_every)
            _share_eval_before(work / args.methods[0] / f"seed{seed}", out)
            begun = time.time()
            get_stage(f"train-{method}").main_function()(cfg)
            minutes[f"{method}/seed{seed}"] = (time.time() - begun) / 60
            runs.append(str(out))
            labels.append(method)
    compare_out = work / ("compare_seeds" + "_".join(map(str, args.seeds)))
    if compare_out.exists():
        shutil.rmtree(compare_out)
    run_compare(CompareConfig(runs=runs, labels=labels, output=str(compare_out), title="tiny task: Figure 5 in small"))
    shutil.copyfile(compare_out / "compare.png", args.plot)

    result = json.loads((compare_out / "compare.json").read_text())
    by_seed: dict[int, dict[str, float]] = {}
    for row in result["runs"]:
        seed = int(Path(row["run"]).name.removeprefix("seed"))
        by_seed.setdefault(seed, {})[row["label"]] = row["after"]["pass@1"]
    print()
    print((compare_out / "compare.md").read_text())
    print("held-out pass@1 after training, per seed:")
    print("| seed | " + " | ".join(args.methods) + " | RFT < Online RFT < GRPO |")
    print("| ---: | " + " | ".join("---:" for _ in args.methods) + " | --- |")
    for seed, values in sorted(by_seed.items()):
        order = all(m in values for m in ("rft", "online-rft", "grpo")) and (
            values["rft"] < values["online-rft"] < values["grpo"]
        )
        cells = " | ".join(f"{values[m]:.3f}" if m in values else "-" for m in args.methods)
        print(f"| {seed} | {cells} | {'yes' if order else 'no'} |")
    print()
    print("minutes: " + ", ".join(f"{key} {value:.1f}" for key, value in minutes.items()))
    print(f"total {(time.time() - start) / 60:.1f} min; load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
