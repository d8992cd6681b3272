"""`deepmath eval --completions`: regrading saved model outputs, on real labelled outputs and on constructed files.

Real data: Qwen2.5-Math's 100 MATH problems x 8 responses with their `score` labels, and OpenAI's GSM8K example
model solutions (1,319 problems x 4 GPT-3 setups) with their `is_correct` labels (../shared/data/answer_checking).
Every disagreement with a label must be one of the audited label errors below (explained in bench/README.md, "eval
--completions"), and our accuracy must be within 0.5 points of the accuracy of the corrected labels.
"""

import gzip
import json

import pytest

from deepmath.cli import main
from deepmath.problems import write_jsonl
from tests.conftest import require_shared

# (gold, our extracted answer, the file's label): label errors we checked by reading the responses.
AUDITED_LABEL_ERRORS = {
    # Qwen's checker does not read the {,} thousands separator: the response's \boxed{10000} is right.
    ("10{,}000", "10000", False),
    # The labels were computed against `gt` = "4:30p.." (truncated); the MATH answer is \text{4:30 p.m.} and the
    # eight responses' \boxed{4:30 \text{ p.m.}} are right (only in the `answer` view of the file).
    ("\\text{4:30 p.m.}", "4:30 \\text{ p.m.}", False),
}


def _regrade(path, out, *extra) -> dict:
    assert main(["eval", "--completions", str(path), "--output", str(out), *extra]) == 0
    return json.loads((out / "metrics.json").read_text())


def _check_against_labels(metrics: dict) -> set:
    labels = metrics["labels"]
    found = {(d["gold"], d["predicted"], d["label"]) for d in labels["disagreements"]}
    assert found <= AUDITED_LABEL_ERRORS, found - AUDITED_LABEL_ERRORS
    # corrected labels: every audited disagreement flipped to our verdict
    corrected = (
        labels["label_accuracy"]
        + sum(1 if not d["label"] else -1 for d in labels["disagreements"]) / (labels["labelled"])
    )
    accuracy = metrics["correct"] / metrics["completions"]
    assert abs(accuracy - corrected) <= 0.005
    assert metrics["pass@1"] == pytest.approx(accuracy)  # same number of completions per problem
    return found


@pytest.mark.parametrize(("answer_field", "expected_errors"), [("", 9), ("gt", 1)])
def test_qwen_math_outputs_agree_with_labels_except_audited_errors(tmp_path, answer_field, expected_errors):
    path = require_shared("answer_checking", "qwen_math_cot_100", "math_cot_100.jsonl")
    extra = ["--answer-field", answer_field] if answer_field else []
    metrics = _regrade(path, tmp_path / "out", *extra)
    assert metrics["fields"]["completions"] == ["response"] and metrics["fields"]["labels"] == ["score"]
    assert (metrics["problems"], metrics["completions"], metrics["k"]) == (100, 800, 8)
    found = _check_against_labels(metrics)
    assert metrics["labels"]["disagree"] == expected_errors and ("10{,}000", "10000", False) in found
    assert metrics["pass@1"] <= metrics["pass@k"] and metrics["maj@k"] <= metrics["pass@k"]
    with gzip.open(tmp_path / "out" / "data" / "graded.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
    assert len(rows) == 100 and all(len(r["correct"]) == len(r["labels"]) == 8 for r in rows)


def test_gsm8k_model_solutions_agree_with_labels(tmp_path):
    path = require_shared("answer_checking", "gsm8k_example_model_solutions", "example_model_solutions.jsonl")
    metrics = _regrade(path, tmp_path / "out")
    # detected: one completion per GPT-3 setup object, its is_correct is the label, gold = ground_truth's A: line
    assert metrics["fields"]["answer"] == "ground_truth"
    assert metrics["fields"]["labels"] == [
        f"{s}.is_correct" for s in ("6b_finetuning", "6b_verification", "175b_finetuning", "175b_verification")
    ]
    assert (metrics["problems"], metrics["completions"]) == (1319, 5276)
    _check_against_labels(metrics)
    assert metrics["labels"]["disagree"] == 0
    # the per-setup accuracies are the labels' (286, 515, 458 and 742 correct of 1,319; PROVENANCE.md)
    by_field = metrics["accuracy_by_field"]
    assert [round(v * 1319) for v in by_field.values()] == [286, 515, 458, 742]


def test_constructed_parquet_with_mapped_fields(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = {
        "prob": ["1+1?", "Half of 1?", "Capital?"],
        "gold": ["2", "\\frac{1}{2}", ""],  # the last row has no gold answer: dropped and counted
        "outs": [["\\boxed{2}", "\\boxed{3}", "so 2"], ["\\boxed{0.5}", "\\boxed{1/2}", "\\boxed{2}"], ["x"]],
    }
    path = tmp_path / "c.parquet"
    pq.write_table(pa.table(rows), path)
    argv = ["--question-field", "prob", "--answer-field", "gold", "--completion-field", "outs"]
    metrics = _regrade(path, tmp_path / "out", *argv)
    assert metrics["problems"] == 2 and metrics["k"] == 3 and "labels" not in metrics
    assert metrics["pass@1"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    assert metrics["maj@k"] == 1.0  # 2 wins 2-1; 0.5 and 1/2 vote together
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["dropped"] == {"no_answer": 1} and stats["rows_in"] == 3
    assert (tmp_path / "out" / "_SUCCESS").exists() and (tmp_path / "out" / "pass_at_k.png").stat().st_size > 0


def test_single_completion_strings_and_comma_fields(tmp_path):
    path = tmp_path / "c.jsonl"
    write_jsonl(
        path,
        [
            {"question": "q1", "answer": "7", "a": "The answer is 7.", "b": "\\boxed{8}", "ok_a": 1, "ok_b": 1},
            {"question": "q2", "answer": "5", "a": "\\boxed{5}", "b": None, "ok_a": 1, "ok_b": 0},
        ],
    )
    metrics = _regrade(path, tmp_path / "out", "--completion-field", "a,b", "--label-field", "ok_a,ok_b")
    assert metrics["completions"] == 4 and metrics["correct"] == 2  # a missing completion is an empty (wrong) one
    assert metrics["labels"]["disagree"] == 1 and metrics["labels"]["disagreements"][0]["row"] == 1
    assert metrics["accuracy_by_field"] == {"a": 1.0, "b": 0.0}
    one = tmp_path / "one.jsonl"
    write_jsonl(one, [{"problem": "p", "gt": "3", "completion": "\\boxed{3}"}])
    metrics = _regrade(one, tmp_path / "out1")
    assert (metrics["pass@1"], metrics["k"], metrics["fields"]["answer"]) == (1.0, 1, "gt")


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        ([{"question": "q", "completion": "1"}], [], "no gold answer field"),
        ([{"question": "q", "answer": "1"}], [], "no completion field"),
        ([{"question": "q", "answer": "1", "completion": "1"}], ["--completion-field", "nope"], "'nope' not found"),
        ([{"answer": "1", "completions": ["1", "2"], "score": [True]}], ["--label-field", "score"], "1 labels for 2"),
        ([{"answer": "", "completion": "1"}], [], "no row has both"),
    ],
)
def test_bad_completion_files_are_one_line_errors(tmp_path, capsys, rows, extra, message):
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, rows)
    assert main(["eval", "--completions", str(path), "--output", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_completions_excludes_model_and_needs_a_readable_file(tmp_path, capsys):
    assert main(["eval", "--completions", "x.jsonl", "--model", "m", "--output", str(tmp_path / "o")]) == 2
    assert "without --model" in capsys.readouterr().err
    assert main(["eval", "--completions", str(tmp_path / "missing.jsonl"), "--output", str(tmp_path / "o")]) == 2
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"answer": "1", "completion": "1"}\n{not json\n')
    assert main(["eval", "--completions", str(broken), "--output", str(tmp_path / "o2")]) == 2
    assert "not valid JSON" in capsys.readouterr().err
