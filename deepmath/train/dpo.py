"""`deepmath train dpo RECIPE.yaml --output DIR`: DPO on the policy's own (correct, wrong) samples (DeepSeekMath 5.2.1).

    deepmath train dpo pipelines/dpo_tiny.yaml --output runs/dpo_tiny      # CPU, offline

Samples `sample_k` completions per training question from the starting policy (offline, as the paper's DPO:
pairs from the SFT model's outputs), grades them with `rewards`, pairs distinct correct completions with distinct
wrong ones of the same question (at most `dpo_pairs_per_question`; a question whose samples are all right or all
wrong gives no pair, counted) and trains with TRL's DPOTrainer against the starting policy as reference. Writes,
beside the files every method writes (`deepmath.train.methods`), `OUT/samples/` and `OUT/pairs/` (data + card).
"""

from __future__ import annotations

from pathlib import Path

from deepmath.train.methods_config import DPORecipe

__all__ = ["run_dpo"]


def run_dpo(cfg: DPORecipe) -> dict:
    """Sample, pair and train `cfg.model` (or the `sft:` model) with DPO into `cfg.output`; returns the stage stats."""
    from deepmath.stage import run_stage
    from deepmath.train.methods import run_method

    return run_stage("train-dpo", cfg, lambda run: run_method("train-dpo", "dpo", cfg, run.output, _trainer(cfg)))


def pair_dataset(pairs: list[dict], template: str = "{question}", system_prompt: str = ""):
    """TRL's conversational preference format: `prompt` (chat), `chosen` and `rejected` (assistant turns)."""
    from datasets import Dataset

    from deepmath.problems import build_messages

    return Dataset.from_list(
        [
            {
                "prompt": build_messages(p["question"], template, system_prompt),
                "chosen": [{"role": "assistant", "content": p["chosen"]}],
                "rejected": [{"role": "assistant", "content": p["rejected"]}],
            }
            for p in pairs
        ]
    )


def build_trainer(cfg: DPORecipe, policy: str, dataset, callbacks=()):
    """A DPOTrainer for `policy`; TRL loads the reference model from the same path."""
    from trl import DPOTrainer

    from deepmath.train.runs import policy_trainer

    return policy_trainer(DPOTrainer, cfg, policy, dataset, callbacks)


def _trainer(cfg: DPORecipe):
    def train(policy: str, problems: list[dict], bridge, callbacks, final: Path) -> dict:
        from deepmath.train import dpo
        from deepmath.train.runs import train_to_final
        from deepmath.train.sampling import dpo_pairs, policy_samples, write_set

        out = final.parent
        samples, sample_counts = policy_samples(cfg, policy, problems, bridge, out)
        pairs, pair_counts = dpo_pairs(samples, cfg.dpo_pairs_per_question)
        if not (out / "pairs" / "data" / "pairs.jsonl.gz").exists():
            write_set(
                out / "pairs",
                "pairs",
                pairs,
                title=f"DPO pairs from samples of {policy}",
                summary="A correct and a wrong completion of the same question from the policy samples in "
                "`../samples` (graded with `rewards`); distinct texts, at most "
                f"{cfg.dpo_pairs_per_question} pairs per question.",
                fields={
                    "question": "training question",
                    "answer": "gold answer",
                    "chosen": "a correct completion",
                    "rejected": "a wrong completion",
                },
                counts=pair_counts,
                lineage=[str(out / "samples")],
            )
        resumed_from = None
        if not (final / "config.json").exists():
            dataset = pair_dataset(pairs, cfg.prompt_template, cfg.system_prompt)
            trainer, tokenizer = dpo.build_trainer(cfg, policy, dataset, callbacks)
            resumed_from = train_to_final(trainer, tokenizer, out, final, cfg.resume_from_checkpoint, "train dpo")
        return {
            "policy_samples": sample_counts["samples"],
            "resumed_from": resumed_from,
            "samples": sample_counts,
            "pairs": pair_counts,
        }

    return train
