"""TRL-shaped reward functions and the name registry."""

import pytest

import rewards
from rewards.extract import completion_text


def chat(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def test_math_accuracy_strings_and_chats(warm_pool):
    fn = rewards.get("math_accuracy")
    completions = ["so \\boxed{18}", chat("The answer is 17."), chat("#### 18"), "no answer"]
    assert fn(completions, answer=["18"] * 4) == [1.0, 0.0, 1.0, 0.0]


def test_math_accuracy_solution_column_and_trl_kwargs(warm_pool):
    fn = rewards.get("math_accuracy")
    solutions = ["We get $\\boxed{\\frac{1}{2}}$.", "Janet sells 9 eggs.\n#### 18"]
    got = fn(
        ["\\boxed{0.5}", "A: 18"],
        solution=solutions,
        prompts=["p1", "p2"],
        completion_ids=[[1], [2]],
        trainer_state=None,
    )
    assert got == [1.0, 1.0]


def test_math_accuracy_is_none_for_unparseable_gold(warm_pool, caplog):
    fn = rewards.get("math_accuracy")
    no_marker_solution = "A long reference solution without any answer marker. " * 50  # not an answer
    completions = ["\\boxed{1}"] * 4
    assert fn(completions, answer=["", None, no_marker_solution, "1"]) == [None, None, None, 1.0]
    assert "cannot parse gold answer 'A long reference" in caplog.text


def test_math_accuracy_needs_a_gold_column():
    with pytest.raises(KeyError, match="'answer'"):
        rewards.get("math_accuracy")(["\\boxed{1}"])
    with pytest.raises(ValueError, match="2 values in column 'answer' for 1 completions"):
        rewards.get("math_accuracy")(["\\boxed{1}"], answer=["1", "2"])


def test_boxed_format():
    fn = rewards.get("boxed_format")
    completions = ["x \\boxed{3}", "\\boxed{}", "\\boxed{3", "3", chat("\\fbox{2}")]
    assert fn(completions) == [1.0, 0.0, 0.0, 0.0, 1.0]


def test_think_answer_format():
    fn = rewards.get("think_answer_format")
    completions = [
        "<think>\nreasoning\n</think>\n<answer>\n5\n</answer>",
        "<think>r</think><answer>5</answer>",
        "<answer>5</answer>",  # no reasoning block
        "<think>r</think><answer></answer>",  # empty answer
        "<think>r</think><answer>5</answer> trailing text",
        "<think>a</think><think>b</think><answer>5</answer>",  # two think blocks
        chat("<think>r</think>\n<answer>7</answer>"),
    ]
    assert fn(completions) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_completion_text_shapes():
    assert completion_text("plain") == "plain"
    assert completion_text(None) == ""
    assert completion_text([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]) == "a"
    assert completion_text([{"role": "assistant", "content": [{"type": "text", "text": "x"}]}]) == "x"


def test_registry():
    assert rewards.available() == ["boxed_format", "math_accuracy", "think_answer_format"]
    assert rewards.get("boxed_format") is rewards.boxed_format
    with pytest.raises(KeyError, match="did you mean math_accuracy"):
        rewards.get("math_acuracy")
    with pytest.raises(KeyError, match="unknown reward 'zzz'"):
        rewards.get("zzz")


def test_register_and_duplicate_names():
    def length_penalty(completions, **kwargs):
        return [0.0 for _ in completions]

    rewards.register("test_length_penalty", length_penalty)
    try:
        assert rewards.get("test_length_penalty") is length_penalty
        with pytest.raises(ValueError, match="already registered"):
            rewards.register("test_length_penalty", lambda completions, **kw: [])
    finally:
        from rewards import registry

        registry._REGISTRY.pop("test_length_penalty")


def test_get_binds_a_numeric_policy(warm_pool):
    lenient = rewards.NumericPolicy(rounded_digits=3)
    accuracy = rewards.get("math_accuracy", config=lenient)
    assert accuracy.__name__ == "math_accuracy"  # TRL logs rewards/<name>/mean
    completions = ["\\boxed{1.414}", "\\boxed{1.41421356}", "\\boxed{1.5}"]
    golds = ["\\sqrt{2}"] * 3
    assert accuracy(completions, answer=golds) == [1.0, 1.0, 0.0]
    assert rewards.get("math_accuracy")(completions, answer=golds) == [0.0, 1.0, 0.0]
    assert rewards.get("boxed_format", config=lenient) is rewards.boxed_format  # nothing numeric to configure
    with pytest.raises(TypeError, match="NumericPolicy"):
        rewards.get("math_accuracy", config={"rounded_digits": 3})


@pytest.mark.parametrize(
    "values",
    [{"relative_tolerance": -1e-6}, {"relative_tolerance": 2}, {"rounded_digits": 0}, {"exact_integers": "yes"}],
)
def test_numeric_policy_rejects_bad_values(values):
    with pytest.raises(ValueError, match="NumericPolicy"):
        rewards.NumericPolicy(**values)


def test_numeric_policy_is_frozen_and_hashable():
    policy = rewards.NumericPolicy()
    assert policy == rewards.DEFAULT_POLICY and hash(policy) == hash(rewards.DEFAULT_POLICY)
    with pytest.raises(AttributeError):
        policy.relative_tolerance = 0.1
