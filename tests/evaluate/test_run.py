"""`deepmath eval` end to end on a micro model, and the grading of constructed completions."""

import gzip
import json

from deepmath.evaluate.grading import grade_problems
from deepmath.problems import write_jsonl
from tests.stage_folder import assert_stage_stats, stage_fragment


def test_grading_votes_with_equivalent_answers():
    (result,) = grade_problems(
        [("\\frac{1}{2}", ["so \\boxed{3}", "\\boxed{0.5}", "\\boxed{\\frac{1}{2}}", "\\boxed{3}", "\\boxed{1/2}"])]
    )
    assert result["correct"] == [False, True, True, False, True]
    assert result["answers"] == ["3", "0.5", "\\frac{1}{2}", "3", "1/2"]
    assert result["majority"] == 1 and result["majority_votes"] == 3  # 0.5 = 1/2 = \frac{1}{2} outvote 3
    assert not result["gold_unparseable"]


def test_grading_flags_unparseable_gold_and_missing_answers():
    (bad, none) = grade_problems(
        [
            ("", ["\\boxed{1}"]),
            ("4", ["I am not sure how to solve this problem.", "There is not enough information given here."]),
        ]
    )
    assert bad["gold_unparseable"]
    assert none["answers"] == [None, None] and none["majority"] is None and none["correct"] == [False, False]


def test_eval_cli_writes_metrics_plot_and_samples(micro_model, tmp_path):
    from deepmath.cli import main

    data = tmp_path / "test.jsonl"
    rows = [{"question": f"Tom has {i} apples and buys 2 more. How many?", "answer": str(i + 2)} for i in range(4)]
    write_jsonl(data, [*rows, {"question": "broken gold", "answer": "???"}, {"question": "no answer at all"}])
    out = tmp_path / "eval"
    argv = ["eval", "--model", micro_model, "--data", str(data), "--k", "3", "--max-new-tokens", "6"]
    assert main([*argv, "--output", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert {"pass@1", "pass@k", "maj@k", "pass_curve"} <= set(metrics) and metrics["k"] == 3
    assert 0 <= metrics["pass@1"] <= metrics["pass@k"] <= 1 and metrics["problems"] == 4
    assert metrics["skipped"] == {"gold_unparseable": 1}
    stats = assert_stage_stats(out, "eval", "problems")
    assert (stats["rows_in"], stats["rows_out"]) == (6, 4)
    markdown, missing = stage_fragment("eval", out, tmp_path / "report")
    assert missing == [] and "## Evaluation" in markdown and "| metrics.pass@1 |" in markdown
    assert stats["dropped"] == {"no_answer": 1, "gold_unparseable": 1} and stats["plots"] == ["pass_at_k.png"]
    assert (out / "pass_at_k.png").stat().st_size > 0 and (out / "_SUCCESS").exists()
    with gzip.open(out / "samples.jsonl.gz", "rt") as handle:
        samples = [json.loads(line) for line in handle]
    assert len(samples) == 5 and all(len(s["completions"]) == 3 for s in samples)
    assert samples[-1]["skipped"] == "gold_unparseable"
    # finished: a second run with the same config is skipped (it rewrites nothing)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert main([*argv, "--output", str(out)]) == 0
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def test_eval_bad_options(micro_model, tmp_path, capsys):
    from deepmath.cli import main

    data = tmp_path / "d.jsonl"
    write_jsonl(data, [{"question": "q"}])
    assert main(["eval", "--model", micro_model, "--data", str(data), "--k", "4", "--temperature", "0"]) == 2
    assert "greedy" in capsys.readouterr().err
    assert main(["eval", "--model", micro_model, "--data", str(data), "--k", "0"]) == 2
    assert main(["eval", "--data", str(data)]) == 2  # --model is required
    capsys.readouterr()
    # a data problem is a user mistake too: one line, exit code 2, no folder left behind
    assert main(["eval", "--model", micro_model, "--data", str(data), "--output", str(tmp_path / "o")]) == 2
    assert "no_answer=1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
