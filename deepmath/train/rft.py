"""`deepmath train rft RECIPE.yaml --output DIR`: rejection-sampling fine-tuning (DeepSeekMath 5.2.1, RFT).

    deepmath train rft pipelines/rft_tiny.yaml --output runs/rft_tiny      # CPU, offline

RFT samples `sample_k` completions per training question from the SFT model (offline: the policy is never sampled
again), keeps the correct ones by `rewards`, drops duplicates, and fine-tunes the SFT model on them with TRL's
SFTTrainer: gradient coefficient 1 on a correct sample, 0 (left out) on a wrong one. Writes, beside the files every
method writes (`deepmath.train.methods`), `OUT/samples/` (every sample with its verdict, a card) and `OUT/kept/`
(the fine-tuning set, a card). Departure from the paper: the paper's RFT fine-tunes the SFT model for as many
steps as the other methods; here the recipe says how many (`max_steps` or `num_train_epochs`).
"""

from __future__ import annotations

from pathlib import Path

from deepmath.train.methods_config import RFTRecipe

__all__ = ["run_rft"]


def run_rft(cfg: RFTRecipe) -> dict:
    """Sample, filter and fine-tune `cfg.model` (or the `sft:` model) into `cfg.output`; returns the stage stats."""
    from deepmath.stage import run_stage
    from deepmath.train.methods import run_method

    return run_stage("train-rft", cfg, lambda run: run_method("train-rft", "rft", cfg, run.output, _trainer(cfg)))


def build_trainer(cfg: RFTRecipe, policy: str, dataset, callbacks=()):
    """An SFTTrainer for `policy` on the kept samples."""
    from trl import SFTTrainer

    from deepmath.train.runs import policy_trainer

    return policy_trainer(SFTTrainer, cfg, policy, dataset, callbacks)


def _trainer(cfg: RFTRecipe):
    def train(policy: str, problems: list[dict], bridge, callbacks, final: Path) -> dict:
        from deepmath.problems import sft_dataset
        from deepmath.train import rft
        from deepmath.train.runs import train_to_final
        from deepmath.train.sampling import policy_samples, rft_kept, write_set

        out = final.parent
        samples, sample_counts = policy_samples(cfg, policy, problems, bridge, out)
        kept, kept_counts = rft_kept(samples, dedup=cfg.rft_dedup)
        if not (out / "kept" / "data" / "kept.jsonl.gz").exists():
            write_set(
                out / "kept",
                "kept",
                kept,
                title=f"RFT set: correct samples of {policy}",
                summary="The correct completions of the policy samples in `../samples` (graded with `rewards`)"
                + (", one copy of each distinct text per question." if cfg.rft_dedup else "."),
                fields={"question": "training question", "answer": "gold answer", "solution": "a correct completion"},
                counts=kept_counts,
                lineage=[str(out / "samples")],
            )
        resumed_from = None
        if not (final / "config.json").exists():
            dataset = sft_dataset(kept, cfg.prompt_template, cfg.system_prompt)
            trainer, tokenizer = rft.build_trainer(cfg, policy, dataset, callbacks)
            resumed_from = train_to_final(trainer, tokenizer, out, final, cfg.resume_from_checkpoint, "train rft")
        return {
            "policy_samples": sample_counts["samples"],
            "resumed_from": resumed_from,
            "samples": sample_counts,
            "kept": kept_counts,
        }

    return train
