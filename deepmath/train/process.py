"""GRPO with process supervision (DeepSeekMath 4.1.3) as an advantage hook on TRL's GRPOTrainer.

    supervision: process          # in a GRPO recipe; `outcome` (the default) is TRL's GRPO unchanged
    prm: runs/prm/model           # a `deepmath train prm` model (or any `scorer(questions, steps)` in code)
    step_marker: "\\n"

`supervision: outcome_prm` uses the same PRM as an outcome reward model instead (`prm_outcome_reward`: the score of
an output's last step is its reward, and TRL's GRPO normalises it over the group; the rule-based reward_funcs are
still computed and logged, with weight 0).

For each question, the G sampled outputs are split into steps at `step_marker`; the PRM scores every step
(r_i^{index(j)}, index(j) = the last token of step j). The rewards are normalised over *all steps of the group*,
r~ = (r - mean(R)) / std(R) with R every step reward of the G outputs, and the advantage of token t of output i
is the sum of the normalised rewards of its steps that end at or after t:

    A_{i,t} = sum_{index(j) >= t} r~_i^{index(j)}

`ProcessGRPOTrainer` overrides only `_generate_and_score_completions`: it calls TRL's (generation, outcome rewards,
old/reference log-probs, logging) and replaces the (B,) `advantages` with these (B, T) token advantages; TRL's
`_compute_loss` accepts (B, T) advantages as they are (it unsqueezes only 1-D ones), so the loss is TRL's.

Where we depart: std is the unbiased one plus 1e-4 as in TRL's outcome path (the paper says std only); tokens after
the last step (none, since the last step runs to the end of the output) and outputs with no step text get 0;
a group needs all G outputs in one process, so process supervision refuses multi-process training for now.
Token boundaries of steps come from decoding each completion token; a step ends at the token that holds its marker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from trl import GRPOTrainer

__all__ = ["ProcessGRPOTrainer", "load_step_scorer", "prm_outcome_reward", "process_advantages", "step_spans"]

logger = logging.getLogger(__name__)


def step_spans(tokenizer, ids: Sequence[int], marker: str = "\n") -> tuple[list[str], list[int]]:
    """Steps of one completion (its token ids, padding removed): step texts and the index of each step's last
    token. A step ends at the token holding the end of its marker; whitespace-only pieces join the next step; what
    follows the last marker is the last step; the last step always runs to the last token."""
    ids = list(ids)
    if not ids:
        return [], []
    pieces = [tokenizer.decode([i], skip_special_tokens=True) for i in ids]
    full = tokenizer.decode(ids, skip_special_tokens=True)
    if "".join(pieces) != full:  # multi-byte characters split over tokens: decode prefixes instead
        pieces, previous = [], ""
        for t in range(len(ids)):
            text = tokenizer.decode(ids[: t + 1], skip_special_tokens=True)
            pieces.append(text[len(previous) :])
            previous = text
    steps, ends = [], []
    current = ""  # text since the last step ended
    for t, piece in enumerate(pieces):
        current += piece
        while marker in current:
            head, _, current = current.partition(marker)
            if head.strip():  # a whitespace-only piece joins the next step
                steps.append(head.strip())
                ends.append(t)
    if current.strip():
        steps.append(current.strip())
        ends.append(len(ids) - 1)
    elif ends:
        ends[-1] = len(ids) - 1  # trailing whitespace and end-of-sequence belong to the last step
    return steps, ends


def process_advantages(
    step_rewards: Sequence[Sequence[float]], step_ends: Sequence[Sequence[int]], group_size: int, length: int
):
    """(B, length) token advantages: step rewards normalised over every step of each group of `group_size`
    outputs, then A_{i,t} = sum of the normalised rewards of output i's steps ending at or after t."""
    import torch

    if len(step_rewards) % group_size:
        raise ValueError(f"{len(step_rewards)} outputs are not whole groups of {group_size}")
    advantages = torch.zeros(len(step_rewards), length)
    for start in range(0, len(step_rewards), group_size):
        group = [float(r) for rewards in step_rewards[start : start + group_size] for r in rewards]
        if not group:
            continue
        values = torch.tensor(group)
        mean = values.mean()
        std = values.std() if len(group) > 1 else torch.tensor(0.0)
        for i in range(start, start + group_size):
            for reward, end in zip(step_rewards[i], step_ends[i]):
                normalised = (float(reward) - mean) / (std + 1e-4)
                advantages[i, : min(end, length - 1) + 1] += normalised
    return advantages


def load_step_scorer(cfg) -> Callable:
    """`scorer(questions, steps) -> step rewards` for `cfg.prm`: a `deepmath train prm` model folder, or
    `module:factory` whose `factory(cfg)` returns one (as label-steps' completer; e.g. the tiny task's oracle,
    `deepmath.steps.simulated:oracle_prm`, to measure GRPO+PS apart from a learned PRM's errors)."""
    from pathlib import Path

    from deepmath.config import ConfigError, import_target

    if ":" in cfg.prm and not Path(cfg.prm).exists():
        return import_target(cfg.prm, "prm")(cfg)
    if not (Path(cfg.prm) / "config.json").exists():
        raise ConfigError(f"prm {cfg.prm!r} is neither a PRM model folder nor module:factory")
    from deepmath.train.prm import ProcessRewardModel

    return ProcessRewardModel(cfg.prm).score


def prm_outcome_reward(step_scorer: Callable, step_marker: str = "\n") -> Callable:
    """A TRL reward function from a PRM: an output's reward is the PRM's score of its last step (the probability
    that the solution so far, i.e. the whole of it, is right), so the PRM serves as the outcome reward model of
    GRPO+OS (DeepSeekMath 4.1.2). Outputs with no step text get 0.0 and are not sent to the PRM."""

    def prm_outcome(prompts, completions, **kwargs) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else str(c) for c in completions]
        steps = [[s for s in text.split(step_marker) if s.strip()] for text in texts]
        scored = [i for i, row in enumerate(steps) if row]
        rewards = [0.0] * len(texts)
        if scored:
            questions = [_question({"prompt": prompts[i]}) for i in scored]
            for i, row in zip(scored, step_scorer(questions, [steps[i] for i in scored])):
                rewards[i] = float(row[-1]) if row else 0.0
        return rewards

    return prm_outcome


def _question(row: dict) -> str:
    prompt = row.get("prompt")
    if isinstance(prompt, list):
        users = [m["content"] for m in prompt if m.get("role") == "user"]
        if users:
            return users[-1]
    return str(prompt)


class ProcessGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer whose advantages come from step rewards (`step_scorer(questions, steps)`)."""

    def __init__(self, *args, step_scorer: Callable, step_marker: str = "\n", **kwargs):
        super().__init__(*args, **kwargs)
        if self.accelerator.num_processes > 1:
            from deepmath.config import ConfigError

            raise ConfigError("supervision: process runs in one process for now (a group must stay together)")
        self.step_scorer = step_scorer
        self.step_marker = step_marker

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        mode = "train" if self.model.training else "eval"
        group = self.num_generations if mode == "train" else self.num_generations_eval
        ids, mask = output["completion_ids"], output["completion_mask"]
        spans = [
            step_spans(self.processing_class, row[: int(m.sum())].tolist(), self.step_marker)
            for row, m in zip(ids, mask)
        ]
        questions = [_question(row) for row in inputs]
        scores = self.step_scorer(questions, [steps for steps, _ in spans])
        ends = [e[: len(s)] for (_, e), s in zip(spans, scores)]
        advantages = process_advantages(scores, ends, group, ids.shape[1]).to(ids.device)
        output["advantages"] = advantages * mask
        flat = [s for row in scores for s in row]
        if flat:
            self._metrics[mode]["process/step_reward_mean"].append(sum(flat) / len(flat))
        self._metrics[mode]["process/steps_per_completion"].append(len(flat) / max(1, len(scores)))
        return output
