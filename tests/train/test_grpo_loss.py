"""The GRPO loss TRL computes with grpo_deepseekmath.yaml equals DeepSeekMath's objective computed by hand.

DeepSeekMath eq. (3), per question q with G outputs o_i and rewards r_i:

    A_i      = (r_i - mean(r)) / std(r)                                   (outcome supervision, section 4.1.2)
    rho_i,t  = pi(o_i,t | q, o_i,<t) / pi_old(o_i,t | ...)
    kl_i,t   = pi_ref / pi - log(pi_ref / pi) - 1                          (the k3 estimator, eq. 4)
    J        = 1/G sum_i 1/|o_i| sum_t [ min(rho A_i, clip(rho, 1 - eps, 1 + eps) A_i) - beta kl_i,t ]

and the loss is -J, averaged over questions. We build a batch of prompts x G completions with chosen rewards,
let the trainer (configured by the recipe file, only shrunk to a micro model on CPU) score it through its own
`_generate_and_score_completions` (advantages, reference log-probs), and compare `_compute_loss` and its gradients
with the formula above, written here from scratch with plain `model(...).logits`.
"""

import copy

import pytest
import torch

from deepmath.config import from_dict, load_yaml

RECIPE = "pipelines/grpo_deepseekmath.yaml"
G = 4
REWARDS = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]  # two questions x G samples; mixed outcomes in both groups


def _repo_file(path):
    from pathlib import Path

    return Path(__file__).resolve().parents[2] / path


def _recipe(micro_model, tmp_path):
    from deepmath.train.config import GRPORecipe

    data = load_yaml(_repo_file(RECIPE))
    # only what is needed to run on a micro model on CPU; the objective's keys come from the file unchanged
    data.update(
        model=micro_model,
        output=str(tmp_path / "out"),
        num_generations=G,
        per_device_train_batch_size=len(REWARDS),
        gradient_accumulation_steps=1,
        max_completion_length=8,
        bf16=False,
        activation_checkpointing=False,
        use_cpu=True,
        use_vllm=False,  # the recipe generates with vLLM on GPUs; here the scripted generation below
        model_init_kwargs=None,  # float32 on CPU (the recipe loads bf16 weights)
        reward_workers=1,
        reward_funcs=["math_accuracy"],  # the test scores with fixed rewards instead
        reward_weights=[1.0],
    )
    return from_dict(GRPORecipe, data)


def _completion_logps(model, prompt_ids, completion_ids, temperature):
    """log pi(o_t | q, o_<t) for every completion token, from plain logits (no TRL code)."""
    rows = []
    for prompt, completion in zip(prompt_ids, completion_ids):
        ids = torch.tensor([prompt + completion])
        logits = model(input_ids=ids).logits[0, :-1] / temperature
        logps = torch.log_softmax(logits.float(), dim=-1)
        targets = ids[0, 1:]
        token_logps = logps.gather(-1, targets[:, None])[:, 0]
        rows.append(token_logps[len(prompt) - 1 :])  # positions that predict the completion tokens
    return rows


def _paper_loss(logps, old_logps, ref_logps, rewards, beta, epsilon):
    r = torch.tensor(rewards).view(-1, G)
    advantages = ((r - r.mean(dim=1, keepdim=True)) / r.std(dim=1, keepdim=True)).flatten()
    per_sequence = []
    clipped = 0
    for i, (lp, old, ref) in enumerate(zip(logps, old_logps, ref_logps)):
        ratio = torch.exp(lp - old)
        a = advantages[i]
        surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 1 - epsilon, 1 + epsilon) * a)
        clipped += int(((ratio < 1 - epsilon) | (ratio > 1 + epsilon)).sum())
        kl = torch.exp(ref - lp) - (ref - lp) - 1
        per_sequence.append(-(surrogate - beta * kl).sum() / len(lp))  # 1/|o_i| sum_t
    return torch.stack(per_sequence).view(-1, G).mean(dim=1).mean(), advantages, clipped


@pytest.fixture(scope="module")
def _scored_once(micro_model, tmp_path_factory):
    """A GRPOTrainer from the recipe, a scored batch of fixed completions, and the pieces to recompute it."""
    from transformers import AutoTokenizer
    from trl import GRPOTrainer

    from deepmath.problems import grpo_dataset

    cfg = _recipe(micro_model, tmp_path_factory.mktemp("grpo_loss"))
    tokenizer = AutoTokenizer.from_pretrained(micro_model, padding_side="left")
    problems = [
        {"question": "Tom has 3 apples and buys 4 more.", "answer": "7"},
        {"question": "5 - 2?", "answer": "3"},
    ]
    dataset = grpo_dataset(problems)
    rewards = list(REWARDS)

    def fixed_reward(completions, **kwargs):
        return rewards[: len(completions)]

    trainer = GRPOTrainer(
        model=micro_model, reward_funcs=[fixed_reward], args=cfg, train_dataset=dataset, processing_class=tokenizer
    )
    trainer.current_gradient_accumulation_steps = 1
    trainer.model.train()

    eos = tokenizer.eos_token_id
    texts = [
        tokenizer.apply_chat_template(row["prompt"], tokenize=False, add_generation_prompt=True) for row in dataset
    ]
    prompt_ids = [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    words = ["3 + 4 = 7.", "7", "3 + 4 = 8. The", "\\boxed{7}", "5 - 2 = 3.", "2", "5 - 2 = 7. So", "\\boxed{3}"]
    completion_ids = [tokenizer(w, add_special_tokens=False)["input_ids"] for w in words]
    completion_ids = [[*ids, eos] if i % 3 != 2 else ids for i, ids in enumerate(completion_ids)]  # some truncated
    batch_prompts = [prompt_ids[i // G] for i in range(len(words))]

    def fake_generate(prompts):
        completions = [[{"role": "assistant", "content": w}] for w in words]
        return batch_prompts, completion_ids, None, completions, None, {}, None, []

    trainer._generate = fake_generate
    inputs = [dict(dataset[i // G]) for i in range(len(words))]
    out = trainer._generate_and_score_completions(inputs)
    initial = copy.deepcopy(trainer.model.state_dict())
    return trainer, cfg, out, batch_prompts, completion_ids, initial


@pytest.fixture
def scored(_scored_once):
    """The module's trainer with the policy reset to its initial weights (tests perturb it)."""
    trainer, cfg, out, prompts, completions, initial = _scored_once
    trainer.model.load_state_dict(initial)
    trainer.model.zero_grad()
    trainer.loss_type = cfg.loss_type
    return trainer, cfg, out, prompts, completions


def _perturb(model, scale, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * scale)


def test_recipe_sets_the_papers_objective(micro_model, tmp_path):
    cfg = _recipe(micro_model, tmp_path)
    assert (cfg.loss_type, cfg.beta, cfg.use_bias_correction_kl, cfg.scale_rewards) == ("grpo", 0.04, False, "group")
    assert (cfg.learning_rate, cfg.num_iterations, cfg.importance_sampling_level) == (1e-6, 1, "token")
    full = load_yaml(_repo_file(RECIPE))
    assert (full["num_generations"], full["max_completion_length"]) == (64, 1024)


def test_advantages_and_reference_logps_match_by_hand(scored, micro_model):
    from transformers import AutoModelForCausalLM

    _, cfg, out, prompts, completions = scored
    r = torch.tensor(REWARDS).view(-1, G)
    by_hand = ((r - r.mean(1, keepdim=True)) / r.std(1, keepdim=True)).flatten()
    torch.testing.assert_close(out["advantages"], by_hand, rtol=1e-3, atol=1e-3)  # TRL: std + 1e-4
    reference = AutoModelForCausalLM.from_pretrained(micro_model)
    ref = _completion_logps(reference, prompts, completions, cfg.temperature)
    for i, row in enumerate(ref):
        torch.testing.assert_close(out["ref_per_token_logps"][i, : len(row)], row.detach(), rtol=1e-4, atol=1e-5)


def test_on_policy_loss_and_gradient_equal_the_paper(scored):
    """num_iterations=1 (one update per rollout): ratio 1, so the loss is -A plus the KL term; grads must match too."""
    trainer, cfg, out, prompts, completions = scored
    model = trainer.model
    _perturb(model, 0.02)  # the policy moves away from the reference: KL > 0
    ref = [out["ref_per_token_logps"][i, : len(c)] for i, c in enumerate(completions)]

    model.zero_grad()
    loss = trainer._compute_loss(model, copy.copy(out))
    loss.backward()
    trl_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    model.zero_grad()
    logps = _completion_logps(model, prompts, completions, cfg.temperature)
    old = [lp.detach() for lp in logps]
    expected, _, _ = _paper_loss(logps, old, ref, REWARDS, cfg.beta, cfg.epsilon)
    expected.backward()

    # TRL divides by std + 1e-4, the paper by std: a relative difference below 1e-3 here
    torch.testing.assert_close(loss.detach(), expected.detach(), rtol=1e-3, atol=1e-5)
    kl_part = trainer._metrics["train"]["kl"][-1]
    assert kl_part > 0  # the KL term is really in play
    for name, grad in trl_grads.items():
        torch.testing.assert_close(grad, dict(model.named_parameters())[name].grad, rtol=2e-3, atol=1e-6)


def test_clipped_loss_equals_the_paper_when_the_policy_moved(scored):
    """With pi_old != pi (num_iterations > 1, Algorithm 1's inner loop) the clip must act as in eq. (3)."""
    trainer, cfg, out, prompts, completions = scored
    model = trainer.model
    old = [lp.detach() for lp in _completion_logps(model, prompts, completions, cfg.temperature)]
    _perturb(model, 0.15, seed=1)
    ref = [out["ref_per_token_logps"][i, : len(c)] for i, c in enumerate(completions)]
    inputs = copy.copy(out)
    padded = torch.zeros_like(out["completion_mask"], dtype=torch.float32)
    for i, row in enumerate(old):
        padded[i, : len(row)] = row
    inputs["old_per_token_logps"] = padded

    loss = trainer._compute_loss(model, inputs)
    logps = _completion_logps(model, prompts, completions, cfg.temperature)
    expected, _, clipped = _paper_loss(logps, old, ref, REWARDS, cfg.beta, cfg.epsilon)
    assert clipped > 0  # the test exercises clipping
    torch.testing.assert_close(loss.detach(), expected.detach(), rtol=1e-3, atol=1e-5)


def test_trl_defaults_are_not_the_paper(scored):
    """The same batch under TRL 1.x's default loss (dapo) gives a different value: the recipe's keys matter."""
    trainer, cfg, out, prompts, completions = scored
    model = trainer.model
    _perturb(model, 0.05, seed=2)
    ref = [out["ref_per_token_logps"][i, : len(c)] for i, c in enumerate(completions)]
    logps = _completion_logps(model, prompts, completions, cfg.temperature)
    expected, _, _ = _paper_loss(logps, [lp.detach() for lp in logps], ref, REWARDS, cfg.beta, cfg.epsilon)
    trainer.loss_type = "dapo"
    loss = trainer._compute_loss(model, copy.copy(out))
    assert not torch.allclose(loss.detach(), expected.detach(), rtol=1e-3, atol=1e-5)
