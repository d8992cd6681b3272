"""GRPO+OS vs GRPO+PS, and one vs two rounds of iterative RL, from one SFT model, over seeds (issue #19).

    nice -n 10 python bench/process_supervision.py --out runs/bench_ps --seeds 0 1 2

Everything comes from `pipelines/process_supervision_tiny.yaml`: its `sft` stage is trained once (into OUT/sft) and
is the starting policy of every run; per seed s:

- OS: `deepmath train grpo` with the recipe's `grpo` fields, `supervision: outcome` (rewards from `rewards`),
  `seed: s` -> OUT/seed-s/grpo-os
- PS, iterative: `deepmath train iterative-rl` with the recipe's fields, `seed: s`, 2 rounds -> OUT/seed-s/iterative
  (for the recipe's own seed: OUT/iterative-rl, so a `deepmath run` of the recipe into OUT is reused);
  round 1's GRPO is "PS, 1 round" (the same GRPO budget as OS: same steps, prompts per step, G, lengths, lr),
  round 2's is "PS, 2 rounds" (twice the GRPO budget, plus a second round of sampling, labels and PRM update)
- PS, oracle PRM (a diagnostic, `--no-oracle` skips it): as OS but `supervision: process` with
  `prm: deepmath.steps.simulated:oracle_prm`, the tiny task's ground-truth step verdicts: GRPO+PS with a perfect PRM
  -> OUT/seed-s/grpo-ps-oracle

Held-out pass@1 and maj@k (the recipe's `eval_k` samples on its held-out split) of each final policy; mean and
sample standard deviation over seeds, and every seed's value. The SFT row is the OS run's evaluation before
training (the same model; the evaluation samples with the run's seed). Every run is a resumable stage folder: a re-run skips
what finished. Writes OUT/results.json and OUT/table.md. `--rounds 1` skips the second round.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

logger = logging.getLogger("bench.process_supervision")


def _stages(recipe_path: Path, out: Path) -> dict:
    from deepmath.recipes import load_recipe

    recipe = load_recipe(recipe_path, output=out)
    return {planned.name: planned for planned in recipe.stages}


def _grade(result: dict | None) -> dict:
    return {key: (result or {}).get(key) for key in ("pass@1", "maj@k", "pass@k", "k", "problems")}


def run(args) -> dict:
    from deepmath.config import from_dict
    from deepmath.train.config import GRPORecipe
    from deepmath.train.grpo import run_grpo
    from deepmath.train.iterative import run_iterative_rl
    from deepmath.train.iterative_config import IterativeRLRecipe
    from deepmath.train.sft import run_sft

    out = Path(args.out)
    stages = _stages(Path(args.recipe), out)
    start = time.time()
    sft = run_sft(stages["sft"].config())
    sft_model = sft["model"]
    iterative_fields = dict(stages["iterative-rl"].fields)
    results = {
        "recipe": args.recipe,
        "sft": _grade(json.loads((out / "sft" / "eval_after.json").read_text())),
        "seeds": {},
        "seconds": {},
    }
    results["seconds"]["sft"] = round(time.time() - start, 1)
    for seed in args.seeds:
        seed_out = out / f"seed-{seed}"
        t0 = time.time()
        os_fields = {**iterative_fields["grpo"], "model": sft_model, "supervision": "outcome", "seed": seed}
        os_fields["output"] = str(seed_out / "grpo-os")
        os_stats = run_grpo(from_dict(GRPORecipe, os_fields, where="grpo-os"))
        if args.oracle:  # diagnostic: GRPO+PS with a perfect PRM (the tiny task's ground-truth step verdicts)
            oracle_fields = {**os_fields, "supervision": "process", "prm": "deepmath.steps.simulated:oracle_prm"}
            oracle_fields["output"] = str(seed_out / "grpo-ps-oracle")
            run_grpo(from_dict(GRPORecipe, oracle_fields, where="grpo-ps-oracle"))
        t1 = time.time()
        fields = {**iterative_fields, "seed": seed, "rounds": args.rounds, "output": str(seed_out / "iterative")}
        if seed == iterative_fields.get("seed", 0) and args.rounds == iterative_fields.get("rounds", 2):
            fields["output"] = iterative_fields["output"]  # the recipe's own `deepmath run` into OUT: this seed
        iterative = run_iterative_rl(from_dict(IterativeRLRecipe, fields, where="iterative"))
        t2 = time.time()
        rounds = iterative["rounds"]
        row = {
            "sft": _grade(json.loads((seed_out / "grpo-os" / "eval_before.json").read_text())),
            "os": _grade(json.loads((seed_out / "grpo-os" / "eval_after.json").read_text())),
            "os_train": os_stats.get("eval_after"),
        }
        if args.oracle:
            row["ps_oracle"] = _grade(json.loads((seed_out / "grpo-ps-oracle" / "eval_after.json").read_text()))
        for x in rounds:
            row[f"ps_round_{x['round']}"] = _grade(x["eval_after"])
            row[f"ps_round_{x['round']}_prm_vs_truth"] = x["prm_held_out_vs_ground_truth"]
            row[f"ps_round_{x['round']}_labels"] = {
                "agreement": x["label_hard_agreement"],
                "chance": x["label_chance_agreement"],
            }
        results["seeds"][str(seed)] = row
        results["seconds"][f"seed-{seed}"] = {"os": round(t1 - t0, 1), "iterative": round(t2 - t1, 1)}
        logger.info("seed %s: %s", seed, json.dumps(row))
    results["table"] = _table(results, args.rounds)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    (out / "table.md").write_text(results["table"])
    return results


def _mean_std(values: list[float]) -> str:
    if not values:
        return "-"
    mean = statistics.fmean(values)
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:.3f} ± {spread:.3f}"


def _table(results: dict, rounds: int) -> str:
    methods = [("SFT (start; sampled with each seed)", "sft"), ("GRPO+OS", "os"), ("GRPO+PS, 1 round", "ps_round_1")]
    if rounds >= 2:
        methods.append(("GRPO+PS, 2 rounds (iterative)", "ps_round_2"))
    methods.append(("GRPO+PS, oracle PRM (diagnostic)", "ps_oracle"))
    seeds = results["seeds"]
    k = results["sft"].get("k")
    lines = [
        f"| method | pass@1 (mean ± sd) | maj@{k} (mean ± sd) | pass@1 per seed | maj@{k} per seed |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for title, key in methods:
        rows = [seeds[s][key] for s in seeds if key in seeds[s]]
        if not rows:
            continue
        p1 = [r["pass@1"] for r in rows if r.get("pass@1") is not None]
        mk = [r["maj@k"] for r in rows if r.get("maj@k") is not None]
        lines.append(
            f"| {title} | {_mean_std(p1)} | {_mean_std(mk)} | {' / '.join(f'{v:.3f}' for v in p1)} | "
            f"{' / '.join(f'{v:.3f}' for v in mk)} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="output folder (resumable)")
    parser.add_argument("--recipe", default=str(ROOT / "pipelines" / "process_supervision_tiny.yaml"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rounds", type=int, default=2, choices=(1, 2))
    parser.add_argument("--no-oracle", dest="oracle", action="store_false", help="skip the oracle-PRM diagnostic")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    results = run(args)
    print(results["table"])
    print(json.dumps(results["seconds"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
