"""Prompt/answer loading from the formats we accept, decontamination before training, chat formatting."""

import gzip
import json

import pytest

from deepmath.problems import (
    DataError,
    build_messages,
    decontaminate,
    grpo_dataset,
    load_problems,
    row_to_problem,
    sft_dataset,
    write_jsonl,
)
from deepmath.tasks.arithmetic import make_arithmetic_problems, split_problems
from tests.conftest import require_shared


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"question": "1+1?", "answer": "2"}, ("1+1?", "2")),
        ({"problem": "x?", "solution": "So $x = \\boxed{\\frac{1}{2}}$."}, ("x?", "\\frac{1}{2}")),
        ({"question": "Q", "answer": "She has 3 + 4 = 7.\n#### 7"}, ("Q", "7")),  # GSM8K: solution in `answer`
        ({"question": "Q", "final_answer": ["(1, 2)"]}, ("Q", "(1, 2)")),  # OlympiadBench: a list
        ({"question": "Q", "answer": 12}, ("Q", "12")),
        (
            {"messages": [{"role": "user", "content": "Q?"}, {"role": "assistant", "content": "The answer is 5."}]},
            ("Q?", "5"),
        ),
        ({"question": "Q", "solution": "we get 41 and 42 in the end"}, "no_answer"),  # a bare last number is no gold
        ({"answer": "3"}, "no_question"),
        ({"question": "   ", "answer": "3"}, "no_question"),
    ],
)
def test_row_to_problem(row, expected):
    result = row_to_problem(row)
    if isinstance(expected, str):
        assert result == expected
    else:
        assert (result["question"], result["answer"]) == expected


def test_explicit_fields_win():
    row = {"input": "the question", "question": "other", "target": "9", "answer": "1"}
    assert row_to_problem(row, "input", "target") == {"question": "the question", "answer": "9"}


def test_load_jsonl_parquet_json_and_stage_folder(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"question": f"q{i}", "answer": str(i)} for i in range(3)]
    write_jsonl(tmp_path / "a.jsonl.gz", rows)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "b.parquet")
    (tmp_path / "c.json").write_text(json.dumps(rows))
    for name in ("a.jsonl.gz", "b.parquet", "c.json"):
        problems, dropped = load_problems(str(tmp_path / name))
        assert [p["answer"] for p in problems] == ["0", "1", "2"] and dropped == {}
    # an SFT-mix style stage folder: data/*.parquet, read only when finished
    stage = tmp_path / "mix"
    (stage / "data").mkdir(parents=True)
    (stage / "config.yaml").write_text("{}")
    mix = [{"messages": [], "question": "q", "answer": "4", "source": "gsm8k", "format": "cot", "language": "en"}]
    pq.write_table(pa.Table.from_pylist(mix), stage / "data" / "00000.parquet")
    with pytest.raises(DataError, match="has not finished"):
        load_problems(str(stage))
    (stage / "_SUCCESS").write_text("{}")
    problems, _ = load_problems(str(stage))
    assert problems == [{"question": "q", "answer": "4", "source": "gsm8k"}]


def test_bad_sources_give_clear_errors(tmp_path):
    with pytest.raises(DataError, match="no dataset given"):
        load_problems([])
    with pytest.raises(DataError, match="not found"):
        load_problems(str(tmp_path / "missing.jsonl"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "q", "answer": "1"}\n{not json\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:2"):
        load_problems(str(bad))
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"question": "q"}) + "\n")
    with pytest.raises(DataError, match="no_answer=1"):
        load_problems(str(empty))


def test_dropped_rows_are_counted_and_max_rows(tmp_path):
    rows = [{"question": "q1", "answer": "1"}, {"question": "q2"}, {"answer": "3"}, {"question": "q4", "answer": "4"}]
    write_jsonl(tmp_path / "d.jsonl", rows)
    problems, dropped = load_problems(str(tmp_path / "d.jsonl"))
    assert len(problems) == 2 and dropped == {"no_answer": 1, "no_question": 1}
    assert len(load_problems(str(tmp_path / "d.jsonl"), max_rows=1)[0]) == 1


def test_real_gsm8k_answers_are_extracted():
    path = require_shared("benchmarks", "gsm8k", "test.jsonl")
    problems, dropped = load_problems(str(path), max_rows=50)
    assert len(problems) == 50 and not dropped
    assert all(p["answer"].replace(",", "").lstrip("-").replace(".", "").isdigit() for p in problems)
    assert all("####" in p["solution"] for p in problems)


def test_decontamination_drops_prompts_that_overlap_an_eval_set(tmp_path):
    problems = make_arithmetic_problems(300, seed=5)
    train, test = split_problems(problems, 30, seed=5)
    # plant two held-out questions in the training prompts, one of them with a different name
    planted = [dict(test[0]), {**test[1], "question": "Someone said: " + test[1]["question"]}]
    write_jsonl(tmp_path / "test.jsonl", test)
    kept, report = decontaminate(train + planted, [f"{tmp_path / 'test.jsonl'}:question"], cache_dir=tmp_path)
    kept_questions = {p["question"] for p in kept}
    assert test[0]["question"] not in kept_questions
    assert planted[1]["question"] not in kept_questions
    assert report["dropped"] >= 2 and report["dropped"] == len(train) + 2 - len(kept)
    assert sum(report["by_benchmark"].values()) == report["dropped"]
    assert report["dropped"] < len(train) // 4  # templates alone do not make a prompt contaminated


def test_decontamination_against_real_benchmark_text(tmp_path):
    path = require_shared("benchmarks", "gsm8k", "test.jsonl")
    gsm8k, _ = load_problems(str(path), max_rows=200)  # a slice keeps the index build fast
    write_jsonl(tmp_path / "gsm8k_slice.jsonl", [{"question": p["question"]} for p in gsm8k])
    clean = make_arithmetic_problems(20, seed=1)
    reworded = [{**p, "question": "Solve this. " + p["question"].replace("?", " ?")} for p in gsm8k[:5]]
    kept, report = decontaminate(clean + reworded, [str(tmp_path / "gsm8k_slice.jsonl")], cache_dir=tmp_path)
    assert report["dropped"] == 5 and kept == clean


def test_no_benchmarks_keeps_everything():
    problems = make_arithmetic_problems(5, seed=0)
    assert decontaminate(problems, [])[0] == problems


def test_chat_formatting():
    assert build_messages("1+1?", "{question}\nPut the answer in \\boxed{}.", "Be brief.") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "1+1?\nPut the answer in \\boxed{}."},  # braces in templates are left alone
    ]
    with pytest.raises(DataError, match="must contain"):
        build_messages("q", "no placeholder")
    dataset = grpo_dataset([{"question": "q", "answer": "1"}])
    assert dataset[0] == {"prompt": [{"role": "user", "content": "q"}], "answer": "1"}
    sft = sft_dataset([{"question": "q", "solution": "s"}, {"messages": [{"role": "user", "content": "a"}]}])
    assert len(sft) == 1 and sft[0]["messages"][-1] == {"role": "assistant", "content": "s"}
    with pytest.raises(DataError, match="no SFT rows"):
        sft_dataset([{"question": "q"}])


def test_write_jsonl_gz_roundtrip(tmp_path):
    write_jsonl(tmp_path / "x.jsonl.gz", [{"a": "é"}])
    with gzip.open(tmp_path / "x.jsonl.gz", "rt", encoding="utf-8") as handle:
        assert json.loads(handle.readline()) == {"a": "é"}
