"""Hostile completions: each graded False within the 1 s budget, never an exception; timeouts are counted."""

import pytest

import rewards

BUDGET = 1.0
SLACK = 0.25  # scheduling noise on a shared 2-core machine; the budget itself is enforced at 1.0 s

HOSTILE = {
    "power_tower": "\\boxed{5^{5^{5^{5^5}}}}",
    "power_tower_unbraced": "The answer is 9^9^9^9.",
    "power_tower_symbolic": "\\boxed{x^{5^{5^{5}}}}",
    "huge_power": "\\boxed{2^{10^{7}}}",
    "huge_factorial": "\\boxed{100000!}",
    "nested_factorial": "\\boxed{(10^{10})!}",
    "factorial_in_expression": "\\boxed{(2^{64})! + 1}",
    "huge_scientific": "\\boxed{1e999999999}",
    "nested_braces_10k": "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}",
    "nested_parens_10k": "\\boxed{" + "(" * 10_000 + "1" + ")" * 10_000 + "}",
    "nested_brackets_unclosed": "\\boxed{" + "[{(" * 10_000,
    "nested_fractions": "\\boxed{" + "\\frac{1}{" * 3000 + "2" + "}" * 3000 + "}",
    "2mb_letters": "a" * 2_000_000,
    "2mb_digits": "9" * 2_000_000,
    "2mb_boxes": "\\boxed{" * 300_000,
    "2mb_answer_tags": "<answer>" * 250_000,
    "2mb_phrases": "the answer is " * 150_000,
    "2mb_boxed_expression": "\\boxed{" + "x+" * 1_000_000 + "1}",
    "2mb_numbers": "1 " * 1_000_000,
    "control_characters": "\\boxed{\x00\x01\x02\x1b[31m\x7f\u200b\ufeff}",
    "only_nul": "\x00" * 10_000,
    "expand_bomb": "\\boxed{(x+1)^{40000}}",
    "slow_integral": "\\boxed{\\int_0^1 e^{-x^{2}} \\sin(x^{50}) dx}",
    "many_items": "\\boxed{" + ",".join(str(i) for i in range(5000)) + "}",
    "boxed_sum_200kb": "\\boxed{" + "1+" * 100_000 + "1}",  # the box opens 200 KB before the end
    "boxed_sum_1mb": "\\boxed{" + "1+" * 500_000 + "1}",
    "unclosed_box_then_number": "\\boxed{" + "1+" * 100_000 + "1",
    "nul_between_digits": "\\boxed{4\x002}",
    "big_matrix": "\\boxed{\\begin{pmatrix}"
    + "\\\\".join("&".join(f"x^{{{i * j}}}" for j in range(30)) for i in range(30))
    + "\\end{pmatrix}}",
}


@pytest.mark.parametrize("gold", ["7", "x^2+1"])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_completion_is_false_within_budget(warm_pool, name, gold):
    verdict = rewards.grade(gold, HOSTILE[name], timeout=BUDGET)
    # within the budget by construction (a grade past it is a `timeout` verdict); bench/rewards.py times each case
    assert verdict.correct is False, verdict


def test_guards_reject_without_a_worker(warm_pool):
    for name in ("power_tower", "huge_factorial", "nested_braces_10k", "2mb_digits", "huge_scientific"):
        verdict = rewards.grade("7", HOSTILE[name])
        assert verdict.reason.startswith("rejected:"), (name, verdict)


def test_identical_hostile_answers_are_rejected_even_when_gold_is_hostile(warm_pool):
    # an answer equal to the gold string is right even if it is too big to evaluate
    assert rewards.verify("5^{5^{5^{5^5}}}", "\\boxed{5^{5^{5^{5^5}}}}")


def test_timeout_is_a_counted_false_verdict_and_the_pool_recovers(warm_pool):
    rewards.stats(reset=True)
    verdict = rewards.grade("x", "\\boxed{(x+1)^{40001}}", timeout=0.5)
    assert (verdict.correct, verdict.reason) == (False, "timeout")
    assert rewards.stats()["timeout"] == 1
    # the killed worker is replaced: sympy work still succeeds right after
    assert rewards.grade("x^2+2x+1", "\\boxed{(x+1)^2}").reason == "equal:symbolic"
    # the same pair is not given a second budget to burn
    burned = rewards.stats()["worker_timeouts"]
    assert rewards.grade("x", "\\boxed{(x+1)^{40001}}", timeout=0.5).reason == "timeout"
    assert rewards.stats()["worker_timeouts"] == burned, "answered from the cache: no worker ran it again"


def test_bad_types_do_not_raise(warm_pool):
    assert rewards.grade("5", None).reason == "no_answer"
    assert rewards.grade(None, "\\boxed{5}").reason == "gold_unparseable"
    assert rewards.extract_answer(None) is None
    assert rewards.verify(18, [{"role": "assistant", "content": "\\boxed{18}"}])  # int gold, chat completion
    assert rewards.verify("5", b"\\boxed{5}")
    assert not rewards.verify("5", 12345)


@pytest.mark.parametrize("name", ["boxed_sum_200kb", "boxed_sum_1mb", "unclosed_box_then_number"])
def test_box_reward_hack_gets_no_answer(warm_pool, name):
    # before: the box was out of the searched window, the last-number fallback read `1` and graded it correct
    verdict = rewards.grade("1", HOSTILE[name])
    assert (verdict.correct, verdict.reason, verdict.source) == (False, "no_answer", "malformed_box")


@pytest.mark.parametrize(
    "text", ["\\boxed{4\x002}", "\\boxed{4\x1b2}", "The answer is 4\x002.", "4\x002", "\\boxed{42\x00}"]
)
def test_control_characters_never_join_digits(warm_pool, text):
    # cleaning used to drop the NUL, so `4\x002` graded equal to 42
    verdict = rewards.grade("42", text)
    assert verdict.correct is False, verdict
    assert verdict.reason == "rejected:control_characters", verdict


def test_whitespace_controls_are_whitespace(warm_pool):
    assert rewards.verify("42", "\\boxed{42\r}")
    assert rewards.verify("1000", "\\boxed{1\u202f000}")  # narrow no-break space as a thousands separator
    assert not rewards.verify("42", "\\boxed{4\r2}")
