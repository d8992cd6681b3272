"""Micro recipes of GRPO and the paradigm's methods for the run tests (a 2-layer model, 48 tiny problems, 2 steps).

`scripted_samples` stands in for the sampler of the offline methods (a micro model that trained for seconds is
never right): per question, correct and wrong completions in a fixed pattern, with repeats, graded for real.
"""

from deepmath.config import from_dict

TINY_RUN = {  # any training recipe: the tiny model on 48 tiny problems, 2 steps, on CPU
    "model": "tiny",
    "dataset": "tiny",
    "tiny_problems": 48,
    "tiny_test_problems": 6,
    "tiny_hidden_size": 32,
    "tiny_layers": 2,
    "tiny_heads": 2,
    "tiny_vocab_size": 300,
    "torch_threads": 1,
    "learning_rate": 1e-3,
    "max_steps": 2,
    "use_cpu": True,
    "disable_tqdm": True,
}
COMMON = {
    **TINY_RUN,
    "save_strategy": "steps",
    "save_steps": 1,
    "logging_steps": 1,
    "reward_workers": 1,
    "eval_k": 2,
    "eval_max_new_tokens": 6,
    "eval_batch_problems": 6,
}
SAMPLED = {
    "sample_k": 4,
    "sample_questions": 12,
    "sample_max_new_tokens": 6,
    "per_device_train_batch_size": 4,
    "max_length": 64,
}
ONLINE = {"num_generations": 2, "per_device_train_batch_size": 4, "max_completion_length": 6}
GRPO = {**ONLINE, "loss_type": "grpo", "beta": 0.04, "use_bias_correction_kl": False}  # DeepSeekMath's objective


def micro_recipe(method: str, output, **overrides):
    """The micro recipe of `train-<method>` (grpo, rft, online-rft, dpo, ...) writing into `output`."""
    from deepmath.registry import get_stage

    extra = {"grpo": GRPO, "online-rft": ONLINE}.get(method, SAMPLED)
    cls = get_stage(f"train-{method}").config_class()
    return from_dict(cls, {**COMMON, **extra, "output": str(output), **overrides})


def scripted_samples(model, prompts, k, *args):
    """k completions per prompt: right, right (a repeat), wrong, wrong; the answer is read from the question."""
    import re

    out = []
    for messages in prompts:
        numbers = [int(n) for n in re.findall(r"\d+", messages[-1]["content"])]
        a, b = numbers[0], numbers[1]
        question = messages[-1]["content"]
        right = a * b if "each" in question or "rows" in question else (a - b if _is_sub(question) else a + b)
        texts = [f"\\boxed{{{right}}}", f"\\boxed{{{right}}}", f"\\boxed{{{right + 1}}}", "no idea"]
        out.append([texts[i % len(texts)] for i in range(k)])
    return out


def _is_sub(question: str) -> bool:
    return any(word in question for word in ("gives", "sold", "lost", "took"))


class Interrupted(Exception):
    """Raised from inside a training run to stand for a kill right after its first checkpoint."""


def interrupt_after_first_save(monkeypatch, module) -> None:
    """Make `module.build_trainer` give trainers that raise Interrupted once checkpoint-1 is saved (undo with
    monkeypatch.undo() or by setting the original back)."""
    from transformers import TrainerCallback

    class InterruptAfterFirstSave(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step == 1:
                raise Interrupted

    original = module.build_trainer

    def interrupting(*args, **kwargs):
        trainer, tokenizer = original(*args, **kwargs)
        trainer.add_callback(InterruptAfterFirstSave())
        return trainer, tokenizer

    monkeypatch.setattr(module, "build_trainer", interrupting)
