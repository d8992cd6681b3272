import pytest

from deepmath.mine.normalize import normalize_text, training_line


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello   World\n\tagain", "hello world again"),
        ("$x^2+y_1$", "$ x ^ 2+y _ 1 $"),
        ("Let\\frac{1}{2}be", "let \\frac { 1 } { 2 } be"),
        ("$$\\int_0^1 f(x)\\,dx$$", "$ $ \\int _ 0 ^ 1 f(x) \\,dx $ $"),
        ("\\alpha\\beta", "\\alpha \\beta"),
        ("ÉCOLE Über", "école über"),
        ("", ""),
        ("   \n  ", ""),
        ("line one\r\nline two\u2028three\xa0four\u3000five", "line one line two three four five"),
    ],
)
def test_normalize_text(text, tokens):
    # fastText splits on runs of spaces itself; the tokens are what counts
    assert normalize_text(text).split() == tokens.split()


@pytest.mark.parametrize("text", ["a\nb", "a\r\nb", "a\rb", "a\u2028b\u2029c", "x\x0by\x0cz\x85w"])
def test_one_line_for_fasttext_and_for_python_text_mode(text):
    out = normalize_text(text)
    assert "\n" not in out and "\r" not in out
    assert len(out.splitlines()) == 1


def test_fasttext_sees_the_same_tokens_as_python():
    # fastText splits on " \n\r\t\v\f\0" only: every other whitespace must already be a space
    text = "Théorème:\xa0soit $f$ continue\u3000et\u2028bornée\tici"
    out = normalize_text(text)
    fasttext_tokens = [t for t in out.split(" ") if t]
    assert fasttext_tokens == out.split() == ["théorème:", "soit", "$", "f", "$", "continue", "et", "bornée", "ici"]


def test_training_line_cannot_carry_a_second_label():
    line = training_line("math", "a page\nwith __label__other inside\n\nand $x$")
    assert line.startswith("__label__math ")
    assert "\n" not in line
    assert line.count("__label__") == 1


def test_normalize_is_idempotent_on_tokens():
    text = "Proof. Let $f(x) = \\sum_{n=1}^\\infty a_n x^n$ converge."
    once = normalize_text(text)
    assert normalize_text(once).split() == once.split()
