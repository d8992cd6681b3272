"""`deepmath eval --benchmarks`: the tiny model on CPU, resume per benchmark, few-shot exemplar rules, prompts,
token-budget batching, and bad options."""

import gzip
import json

import pytest

from deepmath.cli import main
from deepmath.evaluate.generation import HFGenerator, Prompt, SamplingSettings
from deepmath.evaluate.prompts import CHAT_INSTRUCTION, build_prompt, select_exemplars
from tests.conftest import require_shared


@pytest.fixture
def shared_benchmarks(monkeypatch):
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(require_shared("benchmarks")))
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_SOURCE", "local")


def _read(path):
    with gzip.open(path, "rt") as handle:
        return [json.loads(line) for line in handle]


def test_benchmarks_on_cpu_with_the_tiny_model_and_resume(micro_model, shared_benchmarks, tmp_path):
    out = tmp_path / "eval"
    argv = ["eval", "--model", micro_model, "--benchmarks", "gsm8k,math500", "--max-problems", "2", "--k", "2"]
    argv += ["--max-new-tokens", "4", "--output", str(out)]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["benchmarks"]) == ["gsm8k", "math500"]
    for name in ("gsm8k", "math500"):
        metrics = results["benchmarks"][name]
        assert metrics["problems"] == 2 and metrics["mode"] == "chat"
        assert {"greedy", "sampled"} <= set(metrics) and metrics["sampled"]["k"] == 2
        assert 0 <= metrics["sampled"]["maj@k"] <= metrics["sampled"]["pass@k"] <= 1
        greedy, sampled = _read(out / name / "greedy.jsonl.gz"), _read(out / name / "sampled.jsonl.gz")
        assert [len(r["samples"]) for r in greedy] == [1, 1] and [len(r["samples"]) for r in sampled] == [2, 2]
        assert all(len(r["correct"]) == len(r["samples"]) for r in greedy + sampled)
        # chat mode: the English instruction went to the model
        assert CHAT_INSTRUCTION["en"] in build_prompt("chat", greedy[0])[0].messages[0]["content"]
    table = (out / "results.md").read_text()
    assert "| model | metric | gsm8k | math500 |" in table and "maj@2" in table
    assert (out / "results.png").stat().st_size > 0 and (out / "_SUCCESS").exists()
    # resume: a run killed after gsm8k redoes only math500
    kept = (out / "gsm8k" / "greedy.jsonl.gz").stat().st_mtime_ns
    (out / "_SUCCESS").unlink()
    (out / "math500" / "metrics.json").unlink()
    assert main(argv) == 0
    assert (out / "gsm8k" / "greedy.jsonl.gz").stat().st_mtime_ns == kept
    assert (out / "math500" / "metrics.json").exists() and (out / "_SUCCESS").exists()


def test_fewshot_run_uses_plain_text_exemplars_from_train(micro_model, shared_benchmarks, tmp_path):
    out = tmp_path / "fs"
    argv = ["eval", "--model", micro_model, "--benchmarks", "gsm8k", "--mode", "fewshot", "--shots", "2", "--k", "1"]
    assert main([*argv, "--max-problems", "2", "--max-new-tokens", "4", "--output", str(out)]) == 0
    metrics = json.loads((out / "gsm8k" / "metrics.json").read_text())
    assert metrics["fewshot"]["source"] == "gsm8k[train]" and metrics["fewshot"]["shots"] == 2
    assert "sampled" not in metrics  # k = 1: greedy only


def test_exemplars_never_come_from_the_evaluated_split(shared_benchmarks):
    from deepmath.benchmarks import BenchmarkError, get_benchmark, load_problems

    entry = get_benchmark("math500")
    evaluated, _ = load_problems(entry)
    # math500's train split is the full MATH test set, which holds all 500 evaluated problems
    exemplars, report = select_exemplars(entry, evaluated, shots=150, seed=1)
    questions = {p["question"] for p in evaluated}
    assert report["dropped_overlap"] > 0 and not any(e["question"] in questions for e in exemplars)
    assert len(exemplars) == 150 and all(e["solution"] for e in exemplars)
    # the evaluated split itself, as a file, is refused
    test_file = entry.split_files("test")[0]
    with pytest.raises(BenchmarkError, match="is the evaluated split itself"):
        select_exemplars(entry, evaluated, shots=2, fewshot_file=test_file)
    # no train split and no file: a clear error
    with pytest.raises(BenchmarkError, match="no train/dev split"):
        select_exemplars(get_benchmark("math"), evaluated[:5], shots=2)


def test_exemplar_file_is_checked_against_the_evaluated_questions(tmp_path, shared_benchmarks):
    from deepmath.benchmarks import get_benchmark, load_problems
    from deepmath.problems import write_jsonl

    entry = get_benchmark("gsm8k")
    evaluated, _ = load_problems(entry)
    evaluated = evaluated[:50]
    path = tmp_path / "shots.jsonl"
    copied = [{"question": p["question"], "answer": p["answer"]} for p in evaluated[:3]]  # evaluated questions
    fresh = [
        {"question": f"Tom has {i} apples and buys {i + 2} more pears today.", "answer": str(i)} for i in range(4)
    ]
    write_jsonl(path, copied + fresh)
    exemplars, report = select_exemplars(entry, evaluated, shots=4, fewshot_file=str(path))
    assert report["dropped_overlap"] == 3 and {e["question"] for e in exemplars} == {f["question"] for f in fresh}


def test_prompts_by_mode_and_language():
    problem = {"question": "1+1?", "answer": "2"}
    chat, stop = build_prompt("chat", problem, "zh")
    assert chat.messages[0]["content"] == "1+1?\n" + CHAT_INSTRUCTION["zh"] and stop == []
    shots = [{"question": "2+2?", "answer": "#### 4", "solution": "2+2 = <<2+2=4>>4\n#### 4"}]
    fewshot, stop = build_prompt("fewshot", problem, "en", shots)
    assert fewshot.messages is None and fewshot.text.endswith("Question: 1+1?\nAnswer:")
    assert "Answer: 2+2 = 4\nThe answer is 4." in fewshot.text and "\nQuestion:" in stop
    zh, stop = build_prompt("fewshot", problem, "zh", [{"question": "3+3?", "answer": "6"}])
    assert "答案：所以答案是：6。" in zh.text and "\n问题：" in stop
    assert "```python" in build_prompt("pot", problem)[0].messages[0]["content"]
    assert "programs" in build_prompt("tir", problem)[0].messages[0]["content"]


def test_token_budget_batches_never_exceed_the_budget(micro_model):
    gen = HFGenerator(micro_model, max_batch_tokens=64)
    lengths = [5, 30, 12, 60, 8]
    for n in (1, 3):
        batches = gen._batches(lengths, n, max_new=4)
        samples_per_prompt = {i: sum(s for b in batches for j, s in b if j == i) for i in range(len(lengths))}
        assert samples_per_prompt == dict.fromkeys(range(len(lengths)), n)  # every sample generated once
        for batch in batches:
            longest = max(lengths[i] + 4 for i, _ in batch)
            sequences = sum(s for _, s in batch)
            assert longest * sequences <= 64 or sequences == 1  # one sequence over budget still runs, alone
    prompts = [Prompt(text="Tom has 3 apples. " * k) for k in (1, 4, 8)]
    texts = gen.generate(prompts, SamplingSettings(n=2, temperature=0.7, max_new_tokens=3))
    assert [len(t) for t in texts] == [2, 2, 2] and gen.calls > 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--benchmarks", "gsm8k", "--data", "x.jsonl"], "one of them"),
        (["--benchmarks", "gsm8"], "unknown benchmark 'gsm8'"),
        (["--benchmarks", "gsm8k", "--mode", "cot"], "mode must be"),
        (["--data", "x.jsonl", "--mode", "fewshot"], "works with --benchmarks"),
        (["--benchmarks", "math", "--mode", "fewshot"], "no train/dev split"),
        (["--benchmarks", "minif2f"], "decontamination only"),
    ],
)
def test_bad_benchmark_options(micro_model, shared_benchmarks, tmp_path, capsys, extra, message):
    argv = ["eval", "--model", micro_model, "--max-problems", "1", "--k", "1", "--output", str(tmp_path / "o"), *extra]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
