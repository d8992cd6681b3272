"""A simulated completer for the multi-step tiny task: continues a solution prefix like a noisy calculator.

    deepmath label-steps --input tiny --completer deepmath.steps.simulated:noisy_completer --output runs/labels

Why: Math-Shepherd labels are only as good as the completer that rolls out from each prefix. To measure the
*labelling* (agreement with ground-truth step correctness) apart from a model's skill, this completer reads the
question's plan and continues from the last value the prefix wrote, making each remaining step wrong with
probability `error_rate` (default 0.3). It never looks at whether the prefix is right: a wrong prefix leads to a
wrong answer only because the arithmetic is carried on from the wrong value, as with a real model. Tests and the
label-rate measurement use it; real runs use a model folder as `completer`.
"""

from __future__ import annotations

import random
import re

from deepmath.evaluate.generation import Prompt, SamplingSettings
from deepmath.tasks.multistep import _OPS, check_steps, make_multistep_problems, prefix_correct

__all__ = ["NoisyCalculator", "noisy_completer", "oracle_prm"]

_RESULT = re.compile(r"=\s*(-?\d+)\s*\.?\s*$")


class NoisyCalculator:
    def __init__(self, problems: list[dict], error_rate: float = 0.3, seed: int = 0):
        self.by_question = {p["question"]: p for p in problems}
        self.error_rate = error_rate
        self.seed = seed
        self.calls = 0

    def _continue(self, problem: dict, prefix: str, rng: random.Random) -> str:
        lines = [line for line in prefix.split("\n") if line.strip()]
        value = problem["start"]
        for line in lines:
            match = _RESULT.search(line)
            if match:
                value = int(match.group(1))
        out = []
        for op, b in problem["plan"][len(lines) :]:
            result = _OPS[op](value, b)
            if rng.random() < self.error_rate:
                result += rng.choice([-2, -1, 1, 2])
            out.append(f"{value} {op} {b} = {result}.")
            value = result
        out.append(f"The answer is \\boxed{{{value}}}.")
        return "\n".join(out)

    def generate(self, prompts: list[Prompt], settings: SamplingSettings) -> list[list[str]]:
        self.calls += 1
        rng = random.Random(f"{self.seed}-{settings.seed}-{self.calls}")
        out = []
        for prompt in prompts:
            text = prompt.text if prompt.text is not None else prompt.messages[-1]["content"]
            problem = next((p for q, p in self.by_question.items() if q in text), None)
            if problem is None:
                raise KeyError(f"no problem for prompt {text[:80]!r}")
            out.append([self._continue(problem, prompt.prefix, rng) for _ in range(settings.n)])
        return out


def noisy_completer(cfg) -> NoisyCalculator:
    """`completer: deepmath.steps.simulated:noisy_completer` for `input: tiny` (the same generated problems)."""
    problems = make_multistep_problems(cfg.tiny_problems, cfg.tiny_seed)
    return NoisyCalculator(problems, error_rate=0.3, seed=cfg.seed)


def oracle_prm(cfg):
    """`prm: deepmath.steps.simulated:oracle_prm` in a GRPO recipe on `dataset: tiny-multistep`: step rewards are
    the ground truth (1.0 while every step so far is right, else 0.0), a perfect PRM. A diagnostic: it measures
    GRPO+PS itself, apart from a learned PRM's errors. A question not of the task gets 0.0 for every step."""
    by_question = {p["question"]: p for p in make_multistep_problems(cfg.tiny_problems, cfg.tiny_seed)}

    def score(questions: list[str], steps: list[list[str]]) -> list[list[float]]:
        out = []
        for question, row in zip(questions, steps):
            problem = by_question.get(question)
            if problem is None:
                out.append([0.0] * len(row))
                continue
            out.append([float(ok) for ok in prefix_correct(check_steps(problem, "\n".join(row), "\n"))])
        return out

    return score
