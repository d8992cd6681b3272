"""The tiny task (a stable public generator) and the locally trained tokenizer/model."""

import hashlib
import json
import re

import pytest

from deepmath.tasks.arithmetic import make_arithmetic_problems, split_problems


def test_problems_are_deterministic_unique_and_well_formed():
    problems = make_arithmetic_problems(400, seed=7)
    assert problems == make_arithmetic_problems(400, seed=7)
    assert problems != make_arithmetic_problems(400, seed=8)
    assert make_arithmetic_problems(50, seed=7) == problems[:50]  # a prefix: n does not change earlier problems
    assert len({p["question"] for p in problems}) == 400
    for p in problems:
        assert set(p) == {"question", "solution", "answer"}
        assert p["solution"].endswith(f"\\boxed{{{p['answer']}}}.")
        # the written arithmetic is right and ends at the answer
        steps = re.findall(r"(\d+) ([-+*]) (\d+) = (\d+)\.", p["solution"])
        assert steps
        for x, op, y, r in steps:
            assert eval(f"{x} {op} {y}") == int(r)
        assert steps[-1][3] == p["answer"] and int(p["answer"]) >= 0


def test_generator_is_stable_across_versions():
    """The demo builds its SFT sources from this generator: changing its output is a breaking change."""
    digest = hashlib.sha256(json.dumps(make_arithmetic_problems(100, seed=0)).encode()).hexdigest()[:16]
    assert digest == STABLE_DIGEST


STABLE_DIGEST = "fd256ab9f5116f47"


def test_split_is_seeded_and_disjoint():
    problems = make_arithmetic_problems(100, seed=0)
    train, test = split_problems(problems, 20, seed=0)
    assert (len(train), len(test)) == (80, 20)
    assert not {p["question"] for p in train} & {p["question"] for p in test}
    assert split_problems(problems, 20, seed=0) == (train, test)
    with pytest.raises(ValueError):
        split_problems(problems, 101, seed=0)
    with pytest.raises(ValueError):
        make_arithmetic_problems(-1, seed=0)


def test_tokenizer_and_model_reload_from_the_saved_folder(micro_model):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(micro_model)
    text = "Tom has 12 apples. 12 + 3 = 15. The answer is \\boxed{15}."
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert "1" in tokenizer.convert_ids_to_tokens(ids) and "12" not in tokenizer.convert_ids_to_tokens(ids)  # digits
    assert tokenizer.decode(tokenizer("ünïcode ✓", add_special_tokens=False)["input_ids"]) == "ünïcode ✓"  # bytes
    chat = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    rendered = tokenizer.apply_chat_template(chat, tokenize=False)
    assert rendered == "<|bos|><|user|>q<|end|><|assistant|>a<|end|>"
    prompt = tokenizer.apply_chat_template(chat[:1], tokenize=False, add_generation_prompt=True)
    assert prompt.endswith("<|assistant|>")
    model = AutoModelForCausalLM.from_pretrained(micro_model)
    assert model.config.eos_token_id == tokenizer.eos_token_id == tokenizer.convert_tokens_to_ids("<|end|>")
    assert 10_000 < sum(p.numel() for p in model.parameters()) < 200_000  # the micro size used by tests


def test_bad_tiny_sizes(tmp_path):
    from deepmath.train.tiny import build_tiny_model

    with pytest.raises(ValueError, match="divisible"):
        build_tiny_model(tmp_path / "m", ["a b c"], hidden_size=30, heads=4)


def test_tokenizer_text_reads_chat_turns_and_needs_no_answer_column():
    from deepmath.train.prepare import tokenizer_text

    chat = {
        "messages": [
            {"role": "user", "content": "What is 7 * 6?"},
            {"role": "assistant", "content": "Seven sixes: 7 * 6 = 42. The answer is \\boxed{42}."},
        ],
        "question": "What is 7 * 6?",
    }
    text = tokenizer_text(chat)
    assert "Seven sixes" in text and "What is 7 * 6?" in text, "the assistant's solution reaches the tokenizer"
    assert tokenizer_text({"question": "Q?", "solution": "S.", "answer": "1"}) == "Q? S."
    assert tokenizer_text({"question": "Q?", "answer": "1"}) == "Q? 1"
    assert tokenizer_text({"messages": [], "question": "Q?", "solution": "S."}) == "Q? S."


def test_tokenizer_learns_merges_from_the_assistant_turns():
    """A word only the assistant writes gets merged into few tokens once chat turns are tokenizer text."""
    from deepmath.train.prepare import tokenizer_text
    from deepmath.train.tiny import build_tokenizer

    rows = [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} + {i}?"},
                {"role": "assistant", "content": f"Doubling quadrilateral {i}: {i} + {i} = {2 * i}."},
            ],
            "question": f"What is {i} + {i}?",
            "answer": str(2 * i),
        }
        for i in range(200)
    ]
    with_turns = build_tokenizer([tokenizer_text(r) for r in rows], vocab_size=300)
    questions_only = build_tokenizer([f"{r['question']} {r['answer']}" for r in rows], vocab_size=300)
    word = " quadrilateral"
    assert len(with_turns.encode(word, add_special_tokens=False)) < len(
        questions_only.encode(word, add_special_tokens=False)
    )
