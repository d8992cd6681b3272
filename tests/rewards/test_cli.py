"""`python -m rewards check GOLD COMPLETION` and `extract TEXT`."""

import subprocess
import sys


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rewards", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_check_correct():
    result = run("check", "\\frac{1}{2}", "so the answer is $\\boxed{0.5}$")
    assert result.returncode == 0, result.stderr
    assert "correct: True" in result.stdout
    assert "predicted: '0.5' (via boxed)" in result.stdout
    assert "reason: equal:fast" in result.stdout


def test_check_wrong_from_stdin():
    result = run("check", "5", "-", stdin="The answer is 500.")
    assert result.returncode == 1
    assert "correct: False" in result.stdout and "reason: different:fast" in result.stdout


def test_extract():
    result = run("extract", "so $\\boxed{\\dfrac{2}{4}}$")
    assert result.returncode == 0
    assert "answer: '\\\\dfrac{2}{4}' (via boxed)" in result.stdout
    assert "normalized: '1/2'" in result.stdout
    assert run("extract", "there is nothing to extract here").returncode == 1
