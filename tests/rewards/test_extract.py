"""Answer extraction: markers, their priority, and the labelled last-number fallback."""

import pytest

from rewards.extract import extract_answer, extract_with_source, find_boxed, has_marker


@pytest.mark.parametrize(
    ("text", "answer", "source"),
    [
        ("a \\boxed{1} b \\boxed{2}", "2", "boxed"),
        ("\\boxed{\\frac{1}{\\sqrt{2}}}", "\\frac{1}{\\sqrt{2}}", "boxed"),
        ("\\boxed{\\boxed{4}}", "4", "boxed"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}", "boxed"),
        ("\\boxed{\\text{(A)}}.", "\\text{(A)}", "boxed"),
        ("\\boxed 5.", "5", "boxed"),
        ("\\fbox{x+1}", "x+1", "boxed"),
        ("<think>\\boxed{1}</think><answer>2</answer>", "2", "answer_tag"),
        ("<answer>so \\boxed{3}</answer>", "3", "answer_tag"),
        ("<answer></answer> the answer is 4", "4", "answer_is"),
        ("Final Answer: The final answer is $\\frac{3}{4}$. I hope it is correct.", "\\frac{3}{4}", "final_answer"),
        ("work\n#### 1,234", "1,234", "gsm8k"),
        ("So the answer is $\\frac{1}{2}$. Next", "\\frac{1}{2}", "answer_is"),
        ("The final answer is 12 apples.\nThanks", "12 apples", "answer_is"),
        ("answer: (B)", "(B)", "answer_is"),
        ("The answer is $18.", "$18", "answer_is"),
        ("所以答案是 12。", "12", "answer_is"),
        ("steps\nA: 26", "26", "answer_line"),
        ("**Answer:** 42", "42", "answer_is"),
        ("we get 3 and then 4.5 in total", "4.5", "last_number"),
        ("values -3 and -7", "-7", "last_number"),
        ("from 1,000 to 2,500", "2,500", "last_number"),
    ],
)
def test_extract(text, answer, source):
    assert extract_with_source(text) == (answer, source)
    assert extract_answer(text) == answer


@pytest.mark.parametrize("text", [None, "", "no numbers at all here"])
def test_nothing_to_extract(text):
    assert extract_with_source(text) == (None, "none")


@pytest.mark.parametrize(
    "text", ["\\boxed{}", "\\boxed{unclosed 5", "so \\boxed{4} then \\boxed{5", "\\boxed{" + "1+" * 110_000 + "1}"]
)
def test_malformed_box_gives_no_answer_not_a_guess(text):
    # an unclosed, empty or over-long final box is not an answer; the last number would be a guess (a reward hack)
    assert extract_with_source(text) == (None, "malformed_box")


def test_find_boxed_is_linear_on_hostile_nesting():
    assert find_boxed("\\boxed{" * 100_000) is None
    assert len(find_boxed("\\boxed{" + "{" * 10_000 + "}" * 10_000 + "}")) == 20_000


def test_has_marker_distinguishes_solutions_from_bare_answers():
    assert has_marker("so it is \\boxed{3}") and has_marker("...\n#### 3") and has_marker("...\nA: 3")
    assert not has_marker("3") and not has_marker("\\frac{1}{2}") and not has_marker("x = 3")
