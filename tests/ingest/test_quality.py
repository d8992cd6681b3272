"""Cheap quality metadata: language guess, sizes, character fractions, TeX formula counts."""

import pytest

from deepmath.ingest.quality import count_formulas, guess_language, text_stats

KEYS = {"language", "language_score", "n_chars", "n_words", "n_lines", "alpha_fraction", "bad_char_fraction"}


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("The derivative of a function is the rate at which it changes, and it is defined as a limit.", "en"),
        ("Die Ableitung einer Funktion ist der Grenzwert des Differenzenquotienten, und sie ist nicht immer", "de"),
        ("La dérivée d'une fonction est la limite du taux d'accroissement, et elle est souvent notée", "fr"),
        ("La derivada de una función es el límite del cociente incremental, y se usa para", "es"),
        ("De afgeleide van een functie is de limiet van het differentiequotiënt en wordt gebruikt", "nl"),
        ("函数的导数是差商的极限，它描述了函数的变化率。", "zh"),
        ("関数の導関数は差分商の極限であり、関数の変化率を表します。", "ja"),
        ("함수의 도함수는 차분몫의 극한이며 변화율을 나타냅니다.", "ko"),
        ("Производная функции — это предел отношения приращения функции к приращению аргумента.", "ru"),
        ("Похідна функції є границею відношення приросту функції до приросту аргументу, її позначають ґ", "uk"),
        ("Η παράγωγος μιας συνάρτησης είναι το όριο του λόγου μεταβολής.", "el"),
        ("المشتقة هي نهاية نسبة التغير في الدالة إلى التغير في المتغير.", "ar"),
    ],
)
def test_guess_language(text, language):
    guessed, score = guess_language(text)
    assert guessed == language
    assert 0.5 <= score <= 1.0


@pytest.mark.parametrize("text", ["", "12345 678", "$$x^2$$", "xyz qrs"])
def test_guess_language_undetermined(text):
    assert guess_language(text) == ("und", 0.0)


def test_formula_heavy_english_scores_lower_than_prose():
    prose = guess_language("It is known that the sum of the angles of a triangle is equal to two right angles.")
    formulas = guess_language("Let $x$ be real. Then $x^2 \\ge 0$ and $\\sqrt{x^2} = |x|$ and $e^{i\\pi}=-1$ holds.")
    assert prose[0] == formulas[0] == "en"
    assert formulas[1] < prose[1]


def test_text_stats_values():
    stats = text_stats("Hello world.\n\nSecond line \ufffd here $x$.\n")
    assert set(stats) >= KEYS
    assert stats["n_chars"] == 38
    assert stats["n_words"] == 6
    assert stats["n_lines"] == 2
    assert stats["alpha_fraction"] == round(25 / 38, 4)
    assert stats["bad_char_fraction"] == round(1 / 38, 4)
    assert stats["n_tex_formulas"] == 1


def test_text_stats_empty_and_cjk_words():
    assert text_stats("") == {
        "language": "und",
        "language_score": 0.0,
        "n_chars": 0,
        "n_words": 0,
        "n_lines": 0,
        "alpha_fraction": 0.0,
        "bad_char_fraction": 0.0,
        "n_tex_formulas": 0,
    }
    assert text_stats("数学很美 and fun")["n_words"] == 6  # each Han character counts as a word


@pytest.mark.parametrize(
    ("text", "n"),
    [
        ("Let $x$ and $y_1$ be.", 2),
        ("$$\\sum_i i$$ and \\(a\\) and \\[b\\]", 3),
        ("It costs $5 and $10 today.", 0),
        ("A shell prompt: $ ls and then $ cd", 0),
        ("设$x$为实数，则$x^2\\ge 0$。", 2),
        ("escaped \\$ dollars \\$ here", 0),
        ("", 0),
    ],
)
def test_count_formulas(text, n):
    assert count_formulas(text) == n


@pytest.mark.parametrize("hostile", ["\\[ x " * 100_000, "$$ " * 100_000, "\\( a " * 100_000, "$a " * 100_000])
def test_count_formulas_on_unclosed_delimiters(hostile):
    """An unclosed delimiter opens no formula; the time it takes is measured in bench/ingest.py, not here."""
    assert count_formulas(hostile) <= hostile.count("$") // 2 + hostile.count("\\[") + hostile.count("\\(")
    assert count_formulas(hostile + " x") == count_formulas(hostile)
