"""Field maps, format normalisation and weighting."""

import pytest

from deepmath.sftmix.compose import sample_source, target_size
from deepmath.sftmix.config import SourceConfig
from deepmath.sftmix.formats import Candidate, Skip, detect_language, extract_program, final_messages, normalise_row
from deepmath.sftmix.sources import get_path, map_fields, resolve_path

ROW = {"a": {"b": [10, {"c": "deep"}]}, "generated": ["ans = 1"], "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.b.0", 10),
        ("a.b.1.c", "deep"),
        ("a.b.-1.c", "deep"),
        ("generated.0", "ans = 1"),
        ("messages.0.content", "hi"),
        ("a.b.2", None),
        ("a.x", None),
        ("a.b.c", None),
        ("generated.0.x", None),
        ("missing", None),
    ],
)
def test_get_path(path, expected):
    assert get_path(ROW, path) == expected


def test_map_fields_and_resolve_path():
    assert map_fields(ROW, {"question": "a.b.1.c", "program": "nope"}) == {"question": "deep", "program": None}
    assert resolve_path("x/y.jsonl", "/data") == "/data/x/y.jsonl"
    assert resolve_path("/abs/y.jsonl", "/data") == "/abs/y.jsonl"
    assert resolve_path("hf:owner/ds:train", "/data") == "hf:owner/ds:train"


COT = SourceConfig(name="gsm", path="p", format="cot", fields={"question": "question", "solution": "answer"})
POT = SourceConfig(
    name="pot", path="p", format="pot", fields={"question": "question", "program": "code.0", "answer": "gt"}
)
TIR = SourceConfig(name="tora", path="p", format="tir", fields={"messages": "messages", "answer": "gt"})


def test_gsm8k_cot_row():
    row = {"question": "Q?", "answer": "She sold 48/2 = <<48/2=24>>24 clips.\n#### 72"}
    c = normalise_row(COT, "train.jsonl:1", map_fields(row, COT.fields))
    assert isinstance(c, Candidate) and c.gold == "72" and c.question == "Q?" and c.language == "en"
    messages = final_messages(c, system_prompt="Reason step by step.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[-1]["content"] == "She sold 48/2 = 24 clips.\nThe answer is $\\boxed{72}$."


def test_cot_with_boxed_solution_is_kept_and_without_marker_gets_a_box():
    c = normalise_row(COT, "1", {"question": "Q", "solution": "So $x=\\boxed{\\frac{1}{2}}$."})
    assert c.gold == "1/2" and final_messages(c)[-1]["content"] == "So $x=\\boxed{\\frac{1}{2}}$."
    src = SourceConfig(name="x", path="p", format="cot", fields={"question": "q", "solution": "s", "answer": "a"})
    c = normalise_row(src, "1", {"question": "Q", "solution": "We get 5.", "answer": 5.0})
    assert c.gold == "5" and final_messages(c)[-1]["content"].endswith("The answer is $\\boxed{5}$.")


def test_pot_rows_from_fenced_and_plain_programs():
    fenced = "```python\nprint(2 + 3)\n```\n```output\n5\n```\nSo $\\boxed{5}$."
    c = normalise_row(POT, "1", map_fields({"question": "Q", "code": [fenced], "gt": "5"}, POT.fields))
    assert c.program == "print(2 + 3)" and c.gold == "5"
    c.result = "5"
    content = final_messages(c)[-1]["content"]
    assert content.startswith("```python\nprint(2 + 3)\n```\n```output\n5\n```") and content.endswith("$\\boxed{5}$.")
    assert extract_program("ans = 1\n") == "ans = 1"


def test_tir_rows_fold_tool_turns_and_keep_boxes():
    messages = [
        {"role": "system", "content": "old system"},
        {"role": "user", "content": "Find x."},
        {"role": "assistant", "content": "```python\nprint(2)\n```"},
        {"role": "tool", "content": "2"},
        {"role": "assistant", "content": "So $x = \\boxed{2}$."},
    ]
    c = normalise_row(TIR, "1", {"messages": messages, "answer": "2"})
    assert c.question == "Find x." and c.text.endswith("\\boxed{2}$.")
    turns = final_messages(c)
    assert [t["role"] for t in turns] == ["user", "assistant"] and "```output\n2\n```" in turns[1]["content"]


@pytest.mark.parametrize(
    ("source", "mapped", "reason"),
    [
        (POT, {"question": None, "program": "ans=1", "answer": "1"}, "no_question"),  # PoT's prompt-only first line
        (POT, {"question": "Q", "program": None, "answer": "1"}, "no_program"),
        (POT, {"question": "Q", "program": "  ", "answer": "1"}, "no_program"),
        (POT, {"question": "Q", "program": "ans=1", "answer": None}, "no_answer"),
        (COT, {"question": "Q", "solution": None}, "no_solution"),
        (COT, {"question": "Q", "solution": "no answer in here"}, "no_answer"),
        (TIR, {"messages": "not a list", "answer": "1"}, "bad_messages"),
        (TIR, {"messages": [{"role": "assistant", "content": "x"}], "answer": "1"}, "bad_messages"),
        (
            TIR,
            {"messages": [{"role": "user", "content": "x"}, {"role": "wizard", "content": "y"}], "answer": "1"},
            "bad_messages",
        ),
        (TIR, {"messages": [{"role": "user", "content": "x"}], "answer": "1"}, "bad_messages"),
    ],
)
def test_bad_rows_are_counted_skips(source, mapped, reason):
    result = normalise_row(source, "1", mapped)
    assert isinstance(result, Skip) and result.reason == reason


def test_detect_language():
    assert detect_language("小明有5个苹果，吃了2个，还剩几个？") == "zh"
    assert detect_language("Natalia sold 48 clips, how many 个?") == "en"
    assert detect_language("") == "en"


@pytest.mark.parametrize(
    ("kept", "weight", "cap", "expected"),
    [(10, 1.0, -1, 10), (10, 0.5, -1, 5), (10, 2.5, -1, 25), (10, 1.0, 3, 3), (0, 2.0, -1, 0), (10, 0.0, -1, 0)],
)
def test_weights_and_caps(kept, weight, cap, expected):
    rows = list(range(kept))
    chosen = sample_source(rows, weight, cap, seed=0, name="s")
    assert len(chosen) == expected == target_size(kept, weight, cap)
    assert set(chosen) <= set(rows)
    if weight >= 1 and cap < 0:
        assert set(chosen) == set(rows)  # upweighting repeats every row


def test_sampling_is_seeded_per_source():
    rows = list(range(100))
    assert sample_source(rows, 0.3, -1, 1, "a") == sample_source(rows, 0.3, -1, 1, "a")
    assert sample_source(rows, 0.3, -1, 1, "a") != sample_source(rows, 0.3, -1, 2, "a")
    assert sample_source(rows, 0.3, -1, 1, "a") != sample_source(rows, 0.3, -1, 1, "b")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5.000000000000002", "5"),
        ("3.999999999999999", "4"),
        ("0.30000000000000004", "0.3"),
        ("2.6666666666666665", "2.66666666667"),
        ("1.5e-10", "1.5e-10"),
        ("80000.0", "80000"),
        ("123456789012345678", "123456789012345678"),  # ints stay exact
        ("[1, 2]", "[1, 2]"),
        ("sqrt(2)/2", "sqrt(2)/2"),
        ("inf", "inf"),
    ],
)
def test_program_value_rounds_float_noise_only(value, expected):
    from deepmath.sftmix.verify import program_value

    assert program_value(value) == expected


def test_source_rows_from_parquet_and_the_hub(tmp_path, monkeypatch):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    from deepmath.sftmix.sources import iter_source_rows

    pq.write_table(
        pa.Table.from_pylist([{"q": f"question {i}", "key": f"k{i % 2}"} for i in range(5)]), tmp_path / "x.parquet"
    )
    source = SourceConfig(name="p", path="x.parquet", format="cot", fields={"question": "q", "solution": "q"}, limit=3)
    assert [i for i, _ in iter_source_rows(source, str(tmp_path))] == ["x.parquet:1", "x.parquet:2", "x.parquet:3"]
    source.fields["id"] = "key"
    assert [i for i, _ in iter_source_rows(source, str(tmp_path))] == ["k0", "k1", "k0"]

    calls = []

    def fake_load_dataset(name, config=None, split=None):
        calls.append((name, config, split))
        return [{"q": "hub question"}]

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    hub = SourceConfig(name="h", path="hf:owner/math:train", format="cot", fields={"question": "q", "solution": "q"})
    assert list(iter_source_rows(hub, str(tmp_path))) == [("owner/math:train:0", {"q": "hub question"})]
    assert calls == [("owner/math", None, "train")]
