"""Program-of-thought and the tool-integrated loop, end to end through the real sandbox, with scripted model turns.

Scenarios: a correct program, a wrong one, an infinite loop, an exception, a forbidden module (subprocess), and
more programs than allowed. The model is a ScriptedGenerator (fixed turns); programs really run in sandbox processes.
"""

import gzip
import json

import pytest

from deepmath.evaluate.generation import Prompt, SamplingSettings, ScriptedGenerator
from deepmath.evaluate.sandbox import SandboxLimits
from deepmath.evaluate.tools import extract_program, run_pot, run_tir

LIMITS = SandboxLimits(timeout=3, cpu_seconds=2)


def block(code: str) -> str:
    return f"```python\n{code}\n```"


def test_extract_program_variants():
    assert extract_program("Let me compute.\n" + block("print(1)") + "\nthen\n" + block("print(2)")) == "print(2)\n"
    pal = "def solution():\n    x = 3\n    return x * 2\n"
    assert extract_program(pal).endswith("print(solution())\n")  # PAL: the function's result is the answer
    assert extract_program("The answer is 4.") is None
    assert extract_program(block("   ")) is None


def test_pot_programs_through_the_sandbox():
    completions = [
        block("print(6 * 7)"),  # correct
        block("print(6 * 8)"),  # wrong
        block("while True:\n    pass"),  # infinite loop
        block("x = 1 / 0"),  # exception
        block("import subprocess\nprint(subprocess.run(['ls']))"),  # forbidden module
        "no program at all, the answer is 42",
    ]
    results = run_pot(completions, LIMITS, workers=2)
    assert [r["status"] for r in results] == ["ok", "ok", "timeout", "error", "blocked", "no_program"]
    assert [r["answer"] for r in results] == ["42", "48", None, None, None, None]
    assert results[0]["graded_text"] == "\\boxed{42}" and results[2]["graded_text"] == ""
    assert "ZeroDivisionError" in results[3]["error"] and "subprocess" in results[4]["error"]
    import rewards

    verdicts = [rewards.grade("42", r["graded_text"]).correct for r in results]
    assert verdicts == [True, False, False, False, False, False]


SCENARIOS = {
    # question: model turns (one per round; round n+1 comes after n programs ran)
    "Q-correct": [block("print(40 + 2)"), "The program printed 42, so the answer is \\boxed{42}."],
    "Q-wrong": [block("print(40 + 3)"), "So the answer is \\boxed{43}."],
    "Q-loop": [block("while True:\n    pass"), "The program did not finish; I guess \\boxed{0}."],
    "Q-error": [block("print(1 / 0)"), "Division failed, so \\boxed{7}."],
    "Q-forbidden": [block("import subprocess\nsubprocess.run(['ls'])"), "Not allowed; \\boxed{5}."],
    "Q-too-many": [block(f"print({i})") + "\nafter the fence is discarded" for i in range(5)],
}


def _tir(max_calls=2):
    generator = ScriptedGenerator(SCENARIOS)
    prompts = [Prompt(messages=[{"role": "user", "content": q}]) for q in SCENARIOS]
    samples = run_tir(generator, prompts, SamplingSettings(n=1, max_new_tokens=64), max_calls, LIMITS, workers=2)
    return dict(zip(SCENARIOS, (s[0] for s in samples))), generator


def test_tir_loop_scenarios():
    result, generator = _tir(max_calls=2)
    ok = result["Q-correct"]
    assert ok["calls"] == 1 and ok["status"] == "answered" and ok["programs"][0] == {"status": "ok", "output": "42"}
    assert ok["completion"] == block("print(40 + 2)") + "\n```output\n42\n```\n" + SCENARIOS["Q-correct"][1]
    assert result["Q-wrong"]["programs"][0]["output"] == "43"
    assert result["Q-loop"]["programs"][0]["status"] == "timeout"
    assert "```output\ntimeout: " in result["Q-loop"]["completion"]  # wall clock or CPU limit, whichever fires first
    assert result["Q-error"]["programs"][0]["status"] == "error"
    assert "ZeroDivisionError" in result["Q-error"]["completion"]
    assert result["Q-forbidden"]["programs"][0]["status"] == "blocked"
    many = result["Q-too-many"]
    # two programs ran, the third block was written but not run; text after each closing fence was dropped
    assert many["calls"] == 2 and many["status"] == "too_many_calls"
    assert [p["output"] for p in many["programs"]] == ["0", "1"]
    assert "after the fence" not in many["completion"] and many["completion"].endswith(block("print(2)"))
    # the model saw its own program's output before its next turn
    assert any("```output\n42\n```" in text for text in generator.prompts)

    import rewards

    verdicts = {q: rewards.grade("42", r["completion"]).correct for q, r in result.items()}
    assert verdicts == {q: q == "Q-correct" for q in SCENARIOS}


def test_tir_with_zero_calls_runs_nothing():
    result, _ = _tir(max_calls=0)
    assert all(r["calls"] == 0 and r["status"] == "too_many_calls" for r in result.values())


@pytest.fixture
def gsm8k_first(monkeypatch):
    from tests.conftest import require_shared

    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(require_shared("benchmarks")))
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_SOURCE", "local")
    from deepmath.benchmarks import load_problems

    problems, _ = load_problems("gsm8k")
    return problems[:6]


def _cfg(tmp_path, **overrides):
    from deepmath.evaluate.config import EvalConfig

    values = dict(
        model="scripted", benchmarks="gsm8k", max_problems=6, k=1, output=str(tmp_path / "out"), sandbox_timeout=3.0
    )
    return EvalConfig(**{**values, **overrides})


@pytest.mark.parametrize("mode", ["tir", "pot"])
def test_benchmark_run_with_scripted_model_and_real_sandbox(tmp_path, gsm8k_first, mode):
    """The suite end to end on 6 real GSM8K problems: one scenario each, graded against the real gold answers."""
    from deepmath.evaluate.suite import run_benchmarks

    golds = [p["answer"].rsplit("####", 1)[1].strip() for p in gsm8k_first]
    programs = [
        f"print({golds[0]})",
        f"print({golds[1]} + 1)",
        "while True:\n    pass",
        "raise ValueError('bad')",
        "import subprocess\nsubprocess.run(['ls'])",
        f"print({golds[5]})",
    ]
    script = {}
    for i, (problem, program) in enumerate(zip(gsm8k_first, programs)):
        if mode == "pot":
            script[problem["question"]] = [block(program)]
        elif i == 5:  # more calls than allowed: the right program comes third, after the limit of 2
            script[problem["question"]] = [block("print(0)"), block("print(1)"), block(program), "\\boxed{x}"]
        else:
            script[problem["question"]] = [
                block(program),
                f"So the answer is \\boxed{{{golds[i]}}}." if i == 0 else "",
            ]
    cfg = _cfg(tmp_path, mode=mode, max_tool_calls=2)
    run_benchmarks(cfg, generator=ScriptedGenerator(script))
    metrics = json.loads((tmp_path / "out" / "gsm8k" / "metrics.json").read_text())
    expected = (1 if mode == "tir" else 2) / 6  # pot has no call limit: the last program counts
    assert metrics["problems"] == 6 and metrics["greedy_accuracy"] == pytest.approx(expected)
    statuses = metrics["greedy"]["program_status"]
    assert statuses["timeout"] == 1 and statuses["error"] == 1 and statuses["blocked"] == 1
    with gzip.open(tmp_path / "out" / "gsm8k" / "greedy.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
    assert [r["correct"][0] for r in rows] == [True, False, False, False, False, mode == "pot"]
    if mode == "tir":
        assert rows[5]["samples"][0]["status"] == "too_many_calls" and rows[5]["samples"][0]["calls"] == 2
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["benchmarks"]["gsm8k"]["greedy"]["pass@1"] == pytest.approx(expected)
    assert f"| scripted | greedy (top-1) | {100 * expected:.1f} |" in (tmp_path / "out" / "results.md").read_text()
