"""GRPO with process supervision (DeepSeekMath 4.1.3) computed by hand equals ProcessGRPOTrainer's, tokens and grads.

For a group of G outputs of one question, with step rewards r_i^{index(j)} (index(j): the last token of step j):

    r~       = (r - mean(R)) / std(R)                 R = every step reward of the G outputs
    A_{i,t}  = sum_{index(j) >= t} r~_i^{index(j)}
    J        = 1/G sum_i 1/|o_i| sum_t [ min(rho A_{i,t}, clip(rho, 1-eps, 1+eps) A_{i,t}) - beta kl_{i,t} ]

Completions are built here from known step pieces, so each step's last token is known by construction (not by the
code under test); the step rewards are fixed per step text. The trainer runs TRL's own scoring and loss.
"""

import copy

import pytest
import torch

from tests.train.test_grpo_loss import _completion_logps, _perturb, _recipe

G = 4
# two questions x G outputs, each a list of step pieces (the marker ends every step but the last)
OUTPUTS = [
    ["3 + 4 = 7.\n", "7 - 2 = 5.\n", "The answer is \\boxed{5}."],
    ["3 + 4 = 8.\n", "8 - 2 = 6.\n", "The answer is \\boxed{6}."],
    ["3 + 4 = 7.\n", "The answer is \\boxed{7}."],
    ["The answer is \\boxed{5}."],
    ["5 * 2 = 10.\n", "The answer is \\boxed{10}."],
    ["5 * 2 = 12.\n", "The answer is \\boxed{12}."],
    ["5 * 2 = 10.\n", "10 + 1 = 11.\n", "The answer is \\boxed{11}."],
    ["5 * 2 = 10.\n", "\nThe answer is \\boxed{10}."],  # a blank line joins the next step
]
STEP_REWARD = {
    "3 + 4 = 7.": 0.9,
    "3 + 4 = 8.": 0.2,
    "7 - 2 = 5.": 0.8,
    "8 - 2 = 6.": 0.1,
    "The answer is \\boxed{5}.": 0.95,
    "The answer is \\boxed{6}.": 0.05,
    "The answer is \\boxed{7}.": 0.3,
    "5 * 2 = 10.": 0.7,
    "5 * 2 = 12.": 0.1,
    "10 + 1 = 11.": 0.6,
    "The answer is \\boxed{10}.": 0.9,
    "The answer is \\boxed{12}.": 0.0,
    "The answer is \\boxed{11}.": 0.4,
}


def _scorer(questions, steps):
    _scorer.calls.append((list(questions), [list(s) for s in steps]))
    return [[STEP_REWARD[s] for s in row] for row in steps]


_scorer.calls = []


def _by_hand(ends, length):
    """(B, length) advantages from the definition, groups of G."""
    rewards = [[STEP_REWARD[p.strip()] for p in pieces] for pieces in OUTPUTS]
    out = torch.zeros(len(OUTPUTS), length)
    for g in range(0, len(OUTPUTS), G):
        every = torch.tensor([r for row in rewards[g : g + G] for r in row])
        mean, std = every.mean(), every.std()
        for i in range(g, g + G):
            for t in range(length):
                out[i, t] = sum(
                    (r - mean) / std for r, end in zip(rewards[i], ends[i]) if end >= t and t <= ends[i][-1]
                )
    return out


@pytest.fixture(scope="module")
def _scored_once(micro_model, tmp_path_factory):
    from transformers import AutoTokenizer

    from deepmath.problems import grpo_dataset
    from deepmath.train.process import ProcessGRPOTrainer

    cfg = _recipe(micro_model, tmp_path_factory.mktemp("grpo_ps"))
    cfg.max_completion_length = 64
    tokenizer = AutoTokenizer.from_pretrained(micro_model, padding_side="left")
    dataset = grpo_dataset(
        [
            {"question": "Tom has 3 apples, gets 4 more, gives 2.", "answer": "5"},
            {"question": "5 bags of 2, one more?", "answer": "11"},
        ]
    )
    trainer = ProcessGRPOTrainer(
        model=micro_model,
        reward_funcs=[lambda completions, **kw: [0.0] * len(completions)],
        args=cfg,
        train_dataset=dataset,
        processing_class=tokenizer,
        step_scorer=_scorer,
    )
    trainer.current_gradient_accumulation_steps = 1
    trainer.model.train()
    eos = tokenizer.eos_token_id
    texts = [tokenizer.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True) for r in dataset]
    prompt_ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
    completion_ids, ends = [], []
    for i, pieces in enumerate(OUTPUTS):
        ids, row_ends = [], []
        for piece in pieces:
            ids += tokenizer(piece, add_special_tokens=False)["input_ids"]
            row_ends.append(len(ids) - 1)
        if i % 3 != 2:  # some outputs end with eos (it belongs to the last step), others are cut
            ids.append(eos)
            row_ends[-1] = len(ids) - 1
        completion_ids.append(ids)
        ends.append(row_ends)
    batch_prompts = [prompt_ids[i // G] for i in range(len(OUTPUTS))]

    def fake_generate(prompts):
        completions = [[{"role": "assistant", "content": "".join(p)}] for p in OUTPUTS]
        return batch_prompts, completion_ids, None, completions, None, {}, None, []

    trainer._generate = fake_generate
    inputs = [dict(dataset[i // G]) for i in range(len(OUTPUTS))]
    out = trainer._generate_and_score_completions(inputs)
    initial = copy.deepcopy(trainer.model.state_dict())
    return trainer, cfg, out, batch_prompts, completion_ids, ends, initial


@pytest.fixture
def scored(_scored_once):
    trainer, cfg, out, prompts, completions, ends, initial = _scored_once
    trainer.model.load_state_dict(initial)
    trainer.model.zero_grad()
    return trainer, cfg, out, prompts, completions, ends


def test_steps_reach_the_scorer_as_written(scored):
    questions, steps = _scorer.calls[0]
    assert questions[0].startswith("Tom has 3 apples") and questions[G].startswith("5 bags")
    assert steps == [[p.strip() for p in pieces] for pieces in OUTPUTS]  # the blank line is no step


def test_token_advantages_match_by_hand(scored):
    _, _, out, _, _, ends = scored
    length = out["completion_ids"].shape[1]
    assert out["advantages"].shape == (len(OUTPUTS), length)
    expected = _by_hand(ends, length)
    torch.testing.assert_close(out["advantages"], expected, rtol=1e-3, atol=1e-3)  # std + 1e-4 in ours
    # the first token of output 0 carries all three of its normalised step rewards, the last only the answer's
    assert not torch.allclose(out["advantages"][0, 0], out["advantages"][0, ends[0][-1]])


def test_loss_and_gradients_match_by_hand(scored):
    trainer, cfg, out, prompts, completions, ends = scored
    model = trainer.model
    _perturb(model, 0.02)
    ref = [out["ref_per_token_logps"][i, : len(c)] for i, c in enumerate(completions)]
    model.zero_grad()
    loss = trainer._compute_loss(model, copy.copy(out))
    loss.backward()
    trl_grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}

    model.zero_grad()
    logps = _completion_logps(model, prompts, completions, cfg.temperature)
    advantages = _by_hand(ends, out["completion_ids"].shape[1])
    per_sequence = []
    for i, (lp, r) in enumerate(zip(logps, ref)):
        ratio = torch.exp(lp - lp.detach())
        a = advantages[i, : len(lp)]
        surrogate = torch.minimum(ratio * a, torch.clamp(ratio, 1 - cfg.epsilon, 1 + cfg.epsilon) * a)
        kl = torch.exp(r - lp) - (r - lp) - 1
        per_sequence.append(-(surrogate - cfg.beta * kl).sum() / len(lp))
    expected = torch.stack(per_sequence).view(-1, G).mean(dim=1).mean()
    expected.backward()
    torch.testing.assert_close(loss.detach(), expected.detach(), rtol=1e-3, atol=1e-5)
    for name, grad in trl_grads.items():
        torch.testing.assert_close(grad, dict(model.named_parameters())[name].grad, rtol=2e-3, atol=1e-6)


def test_step_spans_and_advantages_unit(micro_model):
    from transformers import AutoTokenizer

    from deepmath.train.process import process_advantages, step_spans

    tokenizer = AutoTokenizer.from_pretrained(micro_model)
    ids = tokenizer("1 + 1 = 2.\n\nThe answer is 2.\n", add_special_tokens=False)["input_ids"]
    steps, ends = step_spans(tokenizer, ids)
    assert steps == ["1 + 1 = 2.", "The answer is 2."] and ends[-1] == len(ids) - 1
    assert tokenizer.decode(ids[: ends[0] + 1]).endswith("\n")
    # one group of 2 outputs: rewards 1, 0 | 0.5 -> mean 0.5, std 0.5; A = [1+(-1), -1 | 0]
    adv = process_advantages([[1.0, 0.0], [0.5]], [[0, 2], [1]], group_size=2, length=4)
    torch.testing.assert_close(adv, torch.tensor([[0.0, -1.0, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]), atol=1e-3, rtol=0)
    with pytest.raises(ValueError, match="whole groups"):
        process_advantages([[1.0]], [[0]], group_size=2, length=2)


def test_process_supervision_needs_a_prm(micro_model, tmp_path):
    with pytest.raises(ValueError, match="needs prm"):
        _recipe_with(micro_model, tmp_path, supervision="process")
    with pytest.raises(ValueError, match="outcome, process or outcome_prm"):
        _recipe_with(micro_model, tmp_path, supervision="steps")
    assert _recipe(micro_model, tmp_path).supervision == "outcome"


def _recipe_with(micro_model, tmp_path, **kw):
    from deepmath.config import from_dict
    from deepmath.train.config import GRPORecipe

    cfg = _recipe(micro_model, tmp_path)
    data = {k: getattr(cfg, k) for k in ("model", "output", "reward_funcs", "reward_weights", "use_cpu")}
    data.update(kw)
    return from_dict(GRPORecipe, data)
