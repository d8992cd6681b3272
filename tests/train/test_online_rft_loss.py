"""Online RFT's gradient coefficient as TRL computes it with online_rft_tiny.yaml equals the paper's definition.

DeepSeekMath 5.2.1 (and appendix A.1.4): Online RFT samples o from the current policy and has

    grad J = E[ 1/|o| sum_t GC(q, o, t) grad log pi(o_t | q, o_<t) ],   GC(q, o, t) = I(o) = 1 if o is correct, else 0

so the gradient of a wrong sample is zero and that of a correct one is SFT's on that sample (the mean token NLL of
its completion tokens). As in test_grpo_loss.py, we build the trainer from the recipe file (only shrunk to a micro
model on CPU, on-policy `num_iterations: 1` as in the paper), score a batch of fixed completions with chosen rewards
through TRL's own `_generate_and_score_completions`, and compare TRL's loss gradients with (a) zero for a wrong
sample, (b) TRL's SFTTrainer's gradient on the same (prompt, completion) for a correct one, and (c) for the whole
batch, the mean over its B completions of I(o) x SFT's gradient (TRL's `loss_type: grpo` normaliser, 1/B).
"""

import copy

import pytest
import torch

from deepmath.config import from_dict, load_yaml

RECIPE = "pipelines/online_rft_tiny.yaml"
G = 4
REWARDS = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]  # math_accuracy of two questions x G samples
WORDS = ["3 + 4 = 7.", "7", "3 + 4 = 8. The", "\\boxed{7}", "5 - 2 = 3.", "2", "5 - 2 = 7. So", "\\boxed{3}"]
PROBLEMS = [
    {"question": "Tom has 3 apples and buys 4 more.", "answer": "7"},
    {"question": "5 - 2?", "answer": "3"},
]


def _repo_file(path):
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / path


def _recipe(micro_model, tmp_path):
    from deepmath.train.methods_config import OnlineRFTRecipe

    data = load_yaml(_repo_file(RECIPE))
    data.pop("sft")
    data.update(
        model=micro_model,
        output=str(tmp_path / "out"),
        num_generations=G,
        per_device_train_batch_size=len(REWARDS),
        gradient_accumulation_steps=1,
        num_iterations=1,  # the paper's Online RFT: one update per rollout (on-policy)
        max_completion_length=8,
        bf16=False,
        use_cpu=True,
        reward_workers=1,
    )
    return from_dict(OnlineRFTRecipe, data)


def math_accuracy(completions, **kwargs):
    """Fixed verdicts, under the name the recipe's `correct_reward` reads."""
    return REWARDS[: len(completions)]


@pytest.fixture(scope="module")
def scored(micro_model, tmp_path_factory):
    from transformers import AutoTokenizer

    from deepmath.problems import grpo_dataset
    from deepmath.train.online_rft import OnlineRFTTrainer

    cfg = _recipe(micro_model, tmp_path_factory.mktemp("online_rft_loss"))
    tokenizer = AutoTokenizer.from_pretrained(micro_model, padding_side="left")
    dataset = grpo_dataset(PROBLEMS)
    trainer = OnlineRFTTrainer(
        model=micro_model,
        reward_funcs=[math_accuracy],
        args=cfg,
        train_dataset=dataset,
        processing_class=tokenizer,
        correct_reward=cfg.correct_reward,
    )
    trainer.current_gradient_accumulation_steps = 1
    trainer.model.train()
    eos = tokenizer.eos_token_id
    texts = [
        tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True) for row in dataset
    ]
    prompt_ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    completion_ids = [[*tokenizer(w, add_special_tokens=False)["input_ids"], eos] for w in WORDS]
    batch_prompts = [prompt_ids[i // G] for i in range(len(WORDS))]

    def fake_generate(prompts):
        completions = [[{"role": "assistant", "content": w}] for w in WORDS]
        return batch_prompts, completion_ids, None, completions, None, {}, None, []

    trainer._generate = fake_generate
    out = trainer._generate_and_score_completions([dict(dataset[i // G]) for i in range(len(WORDS))])
    return trainer, cfg, out


def _select(out: dict, rows: list[int]) -> dict:
    """The scored batch restricted to some completions (every per-completion tensor sliced alike)."""
    picked = {}
    for key, value in out.items():
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.shape[0] == len(REWARDS):
            picked[key] = value[rows]
        else:
            picked[key] = value
    return picked


def _trl_grads(trainer, inputs) -> dict[str, torch.Tensor]:
    model = trainer.model
    model.zero_grad()
    trainer._compute_loss(model, copy.copy(inputs)).backward()
    return {n: (p.grad.clone() if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()}


@pytest.fixture(scope="module")
def sft_grads(micro_model, tmp_path_factory):
    """SFTTrainer's gradient of its loss on each (prompt, completion) of the batch, one sample at a time."""
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from deepmath.problems import build_messages

    tokenizer = AutoTokenizer.from_pretrained(micro_model)
    rows = [
        {"messages": [*build_messages(PROBLEMS[i // G]["question"]), {"role": "assistant", "content": w}]}
        for i, w in enumerate(WORDS)
    ]
    args = SFTConfig(
        output_dir=str(tmp_path_factory.mktemp("sft")),
        assistant_only_loss=True,
        bf16=False,
        use_cpu=True,
        report_to="none",
    )
    trainer = SFTTrainer(
        model=micro_model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer
    )
    model = trainer.model
    model.train()
    grads = []
    for i in range(len(WORDS)):
        batch = trainer.data_collator([trainer.train_dataset[i]])
        n_targets = int((batch["labels"] != -100).sum())
        assert n_targets == len(tokenizer(WORDS[i], add_special_tokens=False)["input_ids"]) + 1  # content + <|end|>
        model.zero_grad()
        trainer.compute_loss(model, batch).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    return grads


def test_recipe_sets_the_papers_online_rft(micro_model, tmp_path):
    cfg = _recipe(micro_model, tmp_path)
    assert (cfg.beta, cfg.loss_type, cfg.temperature, cfg.correct_reward) == (0.0, "grpo", 1.0, "math_accuracy")
    full = load_yaml(_repo_file(RECIPE))
    assert "beta" in full and full["beta"] == 0.0  # no KL term (5.2.1)


def test_advantages_are_the_correctness_indicator(scored):
    _, _, out = scored
    assert out["advantages"].tolist() == REWARDS  # 1 for a correct sample, 0 for a wrong one: no baseline, no std
    assert "ref_per_token_logps" not in out  # beta 0: no reference model is even scored


def test_a_wrong_sample_has_zero_gradient(scored):
    trainer, _, out = scored
    for row in (1, 2):
        grads = _trl_grads(trainer, _select(out, [row]))
        assert all(torch.count_nonzero(g) == 0 for g in grads.values())


def test_a_correct_sample_has_exactly_sfts_gradient(scored, sft_grads):
    trainer, _, out = scored
    for row in (0, 3, 7):
        grads = _trl_grads(trainer, _select(out, [row]))
        assert any(torch.count_nonzero(g) > 0 for g in grads.values())
        for name, expected in sft_grads[row].items():
            torch.testing.assert_close(grads[name], expected, rtol=1e-4, atol=1e-7)


def test_a_batch_is_the_mean_of_the_indicator_times_sft(scored, sft_grads):
    """TRL's normaliser: each completion's 1/|o| term, averaged over all B completions of the micro-batch."""
    trainer, _, out = scored
    grads = _trl_grads(trainer, out)
    correct = [i for i, r in enumerate(REWARDS) if r == 1.0]
    for name in sft_grads[0]:
        expected = sum(sft_grads[i][name] for i in correct) / len(REWARDS)
        torch.testing.assert_close(grads[name], expected, rtol=1e-4, atol=1e-7)


def test_grpo_would_push_the_wrong_samples_down(scored):
    """The same batch with GRPO's group-normalised advantages gives a wrong sample a non-zero (negative) push."""
    from deepmath.train.online_rft import correct_indicator

    r = torch.tensor(REWARDS).view(-1, G)
    grpo = ((r - r.mean(1, keepdim=True)) / r.std(1, keepdim=True)).flatten()
    assert (grpo[torch.tensor(REWARDS) == 0] < 0).all()
    assert correct_indicator(torch.tensor([1.0, 0.0, float("nan"), 0.7, 0.2])).tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
