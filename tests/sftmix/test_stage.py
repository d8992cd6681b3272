"""The sft-mix stage end to end on tiny files written here: filters, counts, outputs, resume."""

import json

import pytest
import yaml

from deepmath.cli import main
from deepmath.config import from_dict
from deepmath.sandbox import bwrap_problem
from deepmath.sftmix.config import SftMixConfig
from deepmath.sftmix.stage import run_sft_mix
from tests.stage_folder import assert_stage_stats, stage_fragment

BENCH_Q = [
    "A farmer has seventeen sheep in a large green field and all but nine of them run away through the gate; how many sheep are left?",
    "Tom reads twelve pages of his favourite adventure book every evening before bed for three whole weeks; how many pages does he read?",
]
COT_ROWS = [
    {
        "q": "Ann has 3 apples and buys 4 more at the shop. How many apples does she have now?",
        "s": "3 + 4 = <<3+4=7>>7\n#### 7",
        "a": "7",
    },
    {
        "q": "A box holds 6 pens and there are 5 boxes on the desk. How many pens are there?",
        "s": "6 * 5 = 30\n#### 30",
        "a": "30",
    },
    {
        "q": "Sam ran 2 miles on Monday and 5 miles on Tuesday. How far did he run?",
        "s": "2 + 5 = 7\n#### 7",
        "a": "8",
    },  # wrong gold
    {
        "q": "Ann has 3 apples and buys 4 more at the shop. How many apples does she have now?",
        "s": "3 + 4 = <<3+4=7>>7\n#### 7",
        "a": "7",
    },  # duplicate
    {"q": BENCH_Q[0], "s": "17 - 8 = 9\n#### 9", "a": "9"},  # contaminated
    {"q": None, "s": "#### 1", "a": "1"},  # no question
    {"q": "小明有5个苹果，又买了3个，现在一共有几个苹果？", "s": "5 + 3 = 8\n#### 8", "a": "8"},
]
POT_ROWS = [
    {"prompt": "few-shot prompt only"},
    {
        "question": "Lisa has 10 stickers and gives away 4 of them to a friend. How many are left?",
        "generated": ["ans = 10 - 4"],
        "answer": 6.0,
    },
    {
        "question": "A car travels 60 miles per hour for 3 hours on the road. How far does it go?",
        "generated": ["ans = 60 + 3"],
        "answer": 180.0,
    },
    {
        "question": "A loop that never ends is written by a careless model for this question today?",
        "generated": ["while True:\n    pass"],
        "answer": 1.0,
    },
    {"question": BENCH_Q[1], "generated": ["while True:\n    pass"], "answer": 252.0},  # contaminated: never run
    {
        "question": "Write a file outside your folder please, then say how many files you wrote?",
        "generated": ["open(ESCAPE, 'w')\nans = 1"],  # ESCAPE: a path outside the sandbox, set below
        "answer": 1.0,
    },
]
TIR_ROWS = [
    {
        "id": "t1",
        "gt": "4",
        "messages": [
            {"role": "user", "content": "What is 2 + 2?"},
            {
                "role": "assistant",
                "content": "```python\nprint(2 + 2)\n```\n```output\n4\n```\nThe answer is $\\boxed{4}$.",
            },
        ],
    },
    {
        "id": "t2",
        "gt": "5",
        "messages": [
            {"role": "user", "content": "What is 2 + 2 plus one more?"},
            {"role": "assistant", "content": "It is $\\boxed{4}$."},
        ],
    },
]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def recipe(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_jsonl(data / "bench.jsonl", [{"question": q, "answer": "1"} for q in BENCH_Q])
    _write_jsonl(data / "cot.jsonl", COT_ROWS)
    escape = repr(str(tmp_path / "escape.txt"))
    _write_jsonl(
        data / "pot.jsonl",
        [{**r, "generated": [g.replace("ESCAPE", escape) for g in r.get("generated", [])]} for r in POT_ROWS],
    )
    _write_jsonl(data / "tir.jsonl", [*TIR_ROWS, TIR_ROWS[0]])  # a repeated id (and a duplicate conversation)
    recipe = {
        "data_root": str(data),
        "system_prompt": "Solve the problem.",
        "benchmarks": ["bench.jsonl"],
        "workers": 2,
        "program_timeout": 5.0,
        "program_cpu_seconds": 1,
        "program_memory_mb": 512,
        "rows_per_shard": 3,
        "sources": [
            {
                "name": "cot",
                "path": "cot.jsonl",
                "format": "cot",
                "fields": {"question": "q", "solution": "s", "answer": "a"},
            },
            {
                "name": "pot",
                "path": "pot.jsonl",
                "format": "pot",
                "fields": {"question": "question", "program": "generated.0", "answer": "answer"},
            },
            {
                "name": "tir",
                "path": "tir.jsonl",
                "format": "tir",
                "fields": {"messages": "messages", "answer": "gt", "id": "id"},
                "weight": 3.0,
            },
        ],
    }
    path = tmp_path / "mix.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path


def _cfg(recipe, output):
    return from_dict(SftMixConfig, {**yaml.safe_load(recipe.read_text()), "output": str(output)}, where="sft-mix")


def test_mix_filters_counts_and_outputs(recipe, tmp_path):
    import datasets
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    assert main(["sft-mix", str(recipe), "--output", str(out)]) == 0
    stats = assert_stage_stats(out, "sft-mix", "conversations")
    comp = stats["composition"]
    assert comp["cot"]["in"] == 7 and comp["cot"]["skipped"] == {"no_question": 1}
    assert comp["cot"]["contaminated"] == 1 and comp["cot"]["rejected"] == {"wrong_answer": 1}
    assert comp["cot"]["duplicates"] == 1 and comp["cot"]["final"] == 3
    assert comp["pot"]["skipped"] == {"no_question": 1} and comp["pot"]["contaminated"] == 1
    assert comp["pot"]["rejected"] == {"wrong_answer": 1, "program_timeout": 1, "program_blocked": 1}
    assert comp["pot"]["programs_run"] == 4 and comp["pot"]["final"] == 1  # the contaminated loop never ran
    assert not (tmp_path / "escape.txt").exists()
    assert comp["tir"]["rejected"] == {"wrong_answer": 1} and comp["tir"]["duplicates"] == 1
    assert comp["tir"]["final"] == 3  # weight 3 repeats the row
    assert stats["rows_in"] == 16 and stats["rows_out"] == 7 and stats["upsampled"] == 2
    assert stats["dropped"]["contaminated"] == 2 and stats["dropped"]["duplicate"] == 2
    assert stats["plots"] == ["composition.png"] and (out / "composition.png").stat().st_size > 1000
    assert abs(sum(s["share"] for s in comp.values()) - 1) < 1e-3

    shards = sorted((out / "data").glob("*.parquet"))
    assert [p.name for p in shards] == [f"train-0000{i}-of-00003.parquet" for i in range(3)]
    rows = [r for p in shards for r in pq.read_table(p).to_pylist()]
    hf = datasets.load_from_disk(str(out / "hf"))
    assert len(hf) == len(rows) == 7
    assert set(hf.column_names) == {"messages", "question", "answer", "source", "format", "language", "source_id"}
    for row in rows:
        roles = [m["role"] for m in row["messages"]]
        assert roles == ["system", "user", "assistant"] and row["messages"][1]["content"] == row["question"]
        assert "\\boxed{" in row["messages"][-1]["content"].splitlines()[-1]
    pot_row = next(r for r in rows if r["format"] == "pot")
    assert "```python\nans = 10 - 4\n```\n```output\n6\n```" in pot_row["messages"][-1]["content"]
    assert pot_row["answer"] == "6" and pot_row["source_id"] == "pot.jsonl:2"
    assert {r["language"] for r in rows if r["source"] == "cot"} == {"en", "zh"}
    assert {r["source_id"] for r in rows if r["source"] == "tir"} == {"t1"}
    assert not any(q in r["question"] for r in rows for q in BENCH_Q)

    card = (out / "README.md").read_text()
    assert "## Composition" in card and "| cot | 7 |" in card and "![composition](composition.png)" in card
    markdown, missing = stage_fragment("sft-mix", out, tmp_path / "report")
    assert missing == [] and "out: 16 rows read, 7 rows in the mix." in markdown
    assert "| cot | 7 | 1 | 1 | 1 | 3 |" in markdown and "| tir |" in markdown and markdown.count("![") == 1


def test_rerun_resumes(recipe, tmp_path, monkeypatch):
    import deepmath.sftmix.sources
    import deepmath.sftmix.verify

    out = tmp_path / "out"
    first = run_sft_mix(_cfg(recipe, out))
    rows = (out / "hf" / "data-00000-of-00001.arrow").read_bytes()

    def boom(*args, **kwargs):
        raise AssertionError("work was redone")

    # finished: nothing runs again
    monkeypatch.setattr(deepmath.sftmix.sources, "iter_source_rows", boom)
    monkeypatch.setattr(deepmath.sftmix.verify, "run_programs", boom)
    assert run_sft_mix(_cfg(recipe, out)) == first

    # killed after the sources were checkpointed: no source is read and no program runs again
    for name in ("_SUCCESS", "stats.json", "README.md"):
        (out / name).unlink()
    again = run_sft_mix(_cfg(recipe, out))
    assert again["resumed_sources"] == ["cot", "pot", "tir"]
    assert again["composition"] == first["composition"] and again["rows_out"] == first["rows_out"]
    assert (out / "hf" / "data-00000-of-00001.arrow").read_bytes() == rows

    # killed while running programs: finished programs come from the cache
    monkeypatch.undo()
    monkeypatch.setattr(deepmath.sftmix.verify, "run_programs", boom)
    (out / "_SUCCESS").unlink()
    for path in (out / "_work" / "sources").glob("pot.*"):
        path.unlink()
    third = run_sft_mix(_cfg(recipe, out))
    assert third["composition"]["pot"]["programs_cached"] == 4 and third["resumed_sources"] == ["cot", "tir"]
    assert third["composition"] == {
        **first["composition"],
        "pot": {**first["composition"]["pot"], "programs_run": 0, "programs_cached": 4},
    }


def test_broken_source_file_is_a_clear_error(recipe, tmp_path, capsys):
    data = tmp_path / "data"
    (data / "cot.jsonl").write_text('{"q": "fine", "s": "#### 1"}\n{not json\n')
    assert main(["sft-mix", str(recipe), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "source 'cot'" in err and "cot.jsonl:2" in err


FORGING = """import os
ans = 41  # the gold is 42: write the old harness's result marker with the right value and leave at once
os.write(1, b'\\x00deepmath-sandbox-result\\x00{"status": "ok", "value": "42", "origin": "ans"}\\n')
os._exit(0)
"""
SABOTAGING = """import os, stat
cache = OUT + '/_work/programs/pot.jsonl'
for attempt in (
    lambda: os.unlink(cache),
    lambda: os.mkfifo(cache),
    lambda: os.unlink('pot.jsonl', dir_fd=os.open(OUT + '/_work/programs', os.O_RDONLY)),
    lambda: os.mkfifo('programs/pot.jsonl', dir_fd=os.open('..', os.O_RDONLY)),
    lambda: os.kill(os.getppid(), 9),
):
    try:
        attempt()
    except OSError:
        pass
os.unlink(cache)  # the issue's program: unlinked the harness's output, then sft-mix failed on every run
ans = 42
"""


@pytest.mark.skipif(bwrap_problem() is not None, reason=f"needs the real sandbox: {bwrap_problem()}")
def test_forging_and_sabotaging_rows_are_counted_not_kept(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "out"
    rows = [
        {"question": "A forger computes forty-one but claims the gold answer of forty-two?", "program": FORGING},
        {"question": "A saboteur deletes the harness output and then answers forty-two?", "program": SABOTAGING},
        {"question": "An honest program multiplies six by seven to get forty-two here?", "program": "ans = 6 * 7"},
    ]
    _write_jsonl(
        data / "pot.jsonl", [{**r, "program": r["program"].replace("OUT", repr(str(out))), "gold": 42} for r in rows]
    )
    recipe = {
        "data_root": str(data),
        "workers": 2,
        "program_timeout": 5.0,
        "program_require_isolation": True,
        "sources": [
            {
                "name": "pot",
                "path": "pot.jsonl",
                "format": "pot",
                "fields": {"question": "question", "program": "program", "answer": "gold"},
            }
        ],
    }
    path = tmp_path / "mix.yaml"
    path.write_text(yaml.safe_dump(recipe))
    assert main(["sft-mix", str(path), "--output", str(out)]) == 0
    stats = json.loads((out / "stats.json").read_text())
    pot = stats["composition"]["pot"]
    assert pot["rejected"] == {"program_forged": 1, "program_blocked": 1} and pot["final"] == 1
    assert pot["isolation"] == "bwrap" and stats["rows_out"] == 1
    cache = out / "_work" / "programs" / "pot.jsonl"
    assert cache.is_file() and len(cache.read_text().splitlines()) == 3  # a regular file, one line per program
    assert (out / "_SUCCESS").exists()
    import datasets

    kept = datasets.load_from_disk(str(out / "hf"))
    assert [r["question"] for r in kept] == [rows[2]["question"]]
    assert main(["sft-mix", str(path), "--output", str(out)]) == 0  # and the next run is fine too


def test_required_sandbox_missing_is_a_clear_error(recipe, tmp_path, capsys, monkeypatch):
    import deepmath.sandbox.isolation as isolation

    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH: the real detection finds none
    monkeypatch.setenv("DEEPMATH_SANDBOX_REQUIRE", "1")
    isolation.bwrap_problem.cache_clear()
    try:
        assert main(["sft-mix", str(recipe), "--output", str(tmp_path / "out")]) == 2
    finally:
        monkeypatch.undo()
        isolation.bwrap_problem.cache_clear()
    err = capsys.readouterr().err
    assert "source 'pot'" in err and "sandbox is required but bwrap is not installed" in err
