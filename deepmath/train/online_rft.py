"""`deepmath train online-rft RECIPE.yaml --output DIR`: Online RFT (DeepSeekMath 5.2.1) on TRL's GRPOTrainer.

    deepmath train online-rft pipelines/online_rft_tiny.yaml --output runs/online_rft_tiny   # CPU, offline

Online RFT samples from the *current* policy (as GRPO does) and reinforces the correct samples only: its gradient
coefficient is GC(q, o, t) = I(o), 1 when the answer is right and 0 when it is wrong, with no baseline, no std
normalisation and (5.2.1) no KL term. `OnlineRFTTrainer` is GRPOTrainer with one hook: after TRL has generated and
scored a batch (`_generate_and_score_completions`), the advantages are replaced by I(o) of `correct_reward`
(`math_accuracy >= 0.5`); sampling, log-probs, clipping and the loss are TRL's.

How TRL's loss normalises (`loss_type: grpo`, the default here): loss = -1/B sum_i 1/|o_i| sum_t ratio_i,t A_i over
the B completions of a micro-batch (divided by `gradient_accumulation_steps`). On-policy (`num_iterations: 1`, so
ratio = 1 with gradient grad log pi) and at `temperature: 1`, a wrong completion contributes nothing and a correct
one contributes exactly SFT's gradient on that completion (mean token NLL of its completion tokens), divided by B,
the number of completions in the micro-batch, wrong ones included: the paper's 1/|o| sum_t I(o) grad log pi averaged
over samples. `tests/train/test_online_rft_loss.py` checks both. TRL computes log-probs of logits / `temperature`, so
with another sampling temperature the gradient is SFT's on the tempered distribution; with `num_iterations > 1` the
clipped ratio multiplies I(o) as in GRPO. Writes the files every method writes (`deepmath.train.methods`).
"""

from __future__ import annotations

from pathlib import Path

import torch
from trl import GRPOTrainer

from deepmath.train.methods_config import OnlineRFTRecipe

__all__ = ["OnlineRFTTrainer", "correct_indicator", "run_online_rft"]


def correct_indicator(rewards: torch.Tensor) -> torch.Tensor:
    """I(o): 1.0 where the correctness reward is >= 0.5, 0.0 where it is lower or missing (NaN: unscorable)."""
    return (torch.nan_to_num(rewards, nan=0.0) >= 0.5).float()


class OnlineRFTTrainer(GRPOTrainer):
    """GRPOTrainer whose advantage of a completion is the Online RFT coefficient I(o) of `correct_reward`."""

    def __init__(self, *args, correct_reward: str = "math_accuracy", **kwargs):
        super().__init__(*args, **kwargs)
        if correct_reward not in self.reward_func_names:
            raise ValueError(f"correct_reward {correct_reward!r} is not one of {self.reward_func_names}")
        self._correct_column = self.reward_func_names.index(correct_reward)
        self._rewards_per_func = None

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        # rewards of the whole batch (every process), as TRL computes them for its group baseline
        self._rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        return self._rewards_per_func

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        local = output["advantages"].shape[0]
        start = self.accelerator.process_index * local  # TRL's own process slice of the gathered rewards
        indicator = correct_indicator(self._rewards_per_func[start : start + local, self._correct_column])
        output["advantages"] = indicator.to(output["advantages"].device, output["advantages"].dtype)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["online_rft/frac_correct"].append(indicator.mean().item())
        return output


def run_online_rft(cfg: OnlineRFTRecipe) -> dict:
    """Train `cfg.model` (or the `sft:` model) with Online RFT into `cfg.output`; returns the stage stats."""
    from deepmath.stage import run_stage
    from deepmath.train.methods import run_method

    def body(run):
        return run_method("train-online-rft", "online-rft", cfg, run.output, _trainer(cfg), cfg.reward_funcs)

    return run_stage("train-online-rft", cfg, body)


def build_trainer(cfg: OnlineRFTRecipe, policy: str, train_dataset, bridge, callbacks=()):
    """An OnlineRFTTrainer for `policy` (rewards from `bridge`)."""
    from transformers import AutoTokenizer

    from deepmath.train.lora import lora_config

    tokenizer = AutoTokenizer.from_pretrained(policy, padding_side="left")
    trainer = OnlineRFTTrainer(
        model=policy,
        reward_funcs=bridge.functions(),
        args=cfg,
        train_dataset=train_dataset,
        processing_class=tokenizer,
        callbacks=list(callbacks),
        correct_reward=cfg.correct_reward.rpartition(":")[2],
        peft_config=lora_config(cfg.peft) if getattr(cfg, "peft", None) is not None else None,
    )
    return trainer, tokenizer


def _trainer(cfg: OnlineRFTRecipe):
    def train(policy: str, problems: list[dict], bridge, callbacks, final: Path) -> dict:
        from deepmath.problems import grpo_dataset
        from deepmath.train import online_rft
        from deepmath.train.methods import grpo_policy_samples
        from deepmath.train.runs import read_logs, train_to_final

        out = final.parent
        resumed_from = None
        if not (final / "config.json").exists():
            dataset = grpo_dataset(problems, cfg.prompt_template, cfg.system_prompt)
            trainer, tokenizer = online_rft.build_trainer(cfg, policy, dataset, bridge, callbacks)
            resumed_from = train_to_final(
                trainer, tokenizer, out, final, cfg.resume_from_checkpoint, "train online-rft"
            )
        history = read_logs(out)
        steps = history[-1].get("step", 0) if history else 0
        return {"policy_samples": grpo_policy_samples(cfg, steps), "resumed_from": resumed_from}

    return train
