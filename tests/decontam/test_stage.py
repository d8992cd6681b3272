import gzip
import json

import pytest

from deepmath.cli import main
from deepmath.decontam.config import DecontamConfig
from deepmath.decontam.stage import run_decontam
from tests.stage_folder import assert_stage_stats, stage_fragment

QUESTION = "A baker made 48 muffins on Monday and sold 3 dozen before lunch. How many muffins were left at noon?"
SOLUTION = "The baker sold 3 * 12 = 36 muffins, so 48 - 36 = 12 muffins were left over at noon that day."
ZH = "小红有十二支铅笔，送给同学五支，她还剩多少支铅笔？"
CLEAN = ["Cats sleep for most of the day and hunt at night.", "The river floods every spring after the snow melts."]


def _write(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def world(tmp_path):
    bench = _write(
        tmp_path / "mybench.jsonl",
        [{"id": "q1", "question": QUESTION, "answer": SOLUTION}, {"id": "z1", "question": ZH, "answer": "7"}],
    )
    docs = [
        {"id": "clean-0", "text": CLEAN[0], "url": "https://a.example/0"},
        {
            "id": "q-copy",
            "text": f"{CLEAN[1]}\n\nHomework: {QUESTION.upper()}\n\nSee you.",
            "url": "https://b.example/q",
        },
        {"id": "sol-copy", "text": f"Intro\n\n{SOLUTION.replace('*', 'x')}", "url": "https://c.example/s"},
        {
            "id": "zh-copy",
            "text": "练习\n\n小红有十二支铅笔，\n送给同学五支，她还剩多少支铅笔？",
            "url": "https://d.example/z",
        },
        {"id": "clean-1", "text": CLEAN[1]},
    ]
    inputs = _write(tmp_path / "docs.jsonl", docs)
    return tmp_path, bench, inputs


def _read(folder):
    rows = []
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as handle:
            rows += [json.loads(line) for line in handle]
    return rows


def test_drop_mode_end_to_end(world):
    tmp, bench, inputs = world
    out = tmp / "out"
    code = main(
        ["decontam", str(inputs), "--output", str(out), "--benchmarks", f"{bench}", "--cache-dir", str(tmp / "cache")]
    )
    assert code == 0
    kept = {r["id"] for r in _read(out / "data")}
    assert kept == {"clean-0", "clean-1"}
    removed = {r["id"]: r for r in _read(out / "removed")}
    assert set(removed) == {"q-copy", "sol-copy", "zh-copy"}
    assert removed["q-copy"]["metadata"]["contamination"] == ["mybench/q1"]
    stats = assert_stage_stats(out, "decontam", "documents")
    assert stats["rows_in"] == 5 and stats["rows_out"] == 2
    assert stats["dropped"] == {"contaminated:mybench": 3}
    assert stats["benchmarks"]["mybench"] == {"items": 2, "items_hit": 2, "documents_hit": 3}
    assert stats["plots"] == ["plots/contamination.png"] and (out / "plots" / "contamination.png").exists()
    # the stage's section of the run report, from this folder
    markdown, missing = stage_fragment("decontam", out, tmp / "report")
    assert missing == [] and "## Decontamination" in markdown and "out: 3 document(s) hit" in markdown
    assert "| mybench | 2 | 2 | 3 |" in markdown and markdown.count("![") == 1
    assert (
        "| mybench | q1 | https://b.example/q | ngram |" in markdown
        and "| mybench | z1 | https://d.example/z |" in markdown
    )
    report = json.loads((out / "contamination.json").read_text())
    hits = report["benchmarks"]["mybench"]["hits"]
    by_doc = {h["doc_id"]: h for h in hits}
    assert by_doc["q-copy"]["item_id"] == "q1" and by_doc["q-copy"]["url"] == "https://b.example/q"
    assert by_doc["q-copy"]["matched_text"] == QUESTION.upper().rstrip("?")
    assert by_doc["zh-copy"]["item_id"] == "z1"
    markdown = (out / "contamination.md").read_text()
    assert "| mybench | 2 | 2 | 3 |" in markdown and "https://b.example/q" in markdown
    card = (out / "README.md").read_text()
    assert "items hit / documents hit" in card and "contaminated:mybench" in card
    assert list((tmp / "cache").glob("decontam-*.npz"))
    # a finished output is not redone
    assert (
        run_decontam(
            DecontamConfig(input=[str(inputs)], output=str(out), benchmarks=[str(bench)], cache_dir=str(tmp / "cache"))
        )["rows_out"]
        == 2
    )


def test_segment_mode_keeps_the_rest(world):
    tmp, bench, inputs = world
    out = tmp / "seg"
    cfg = DecontamConfig(
        input=[str(inputs)], output=str(out), benchmarks=[str(bench)], mode="segment", keep_removed=False
    )
    stats = run_decontam(cfg)
    docs = {r["id"]: r for r in _read(out / "data")}
    assert docs["q-copy"]["text"] == f"{CLEAN[1]}\n\nSee you."
    assert docs["q-copy"]["metadata"]["decontam"] == {"removed_paragraphs": 1, "benchmarks": ["mybench"]}
    assert docs["sol-copy"]["text"] == "Intro"
    assert docs["zh-copy"]["text"] == "练习"
    assert docs["clean-0"]["text"] == CLEAN[0] and "decontam" not in docs["clean-0"]["metadata"]
    assert stats["documents_changed"] == 3 and stats["rows_out"] == 5 and stats["dropped"] == {}
    assert not (out / "removed").exists()
    assert (out / "_index").is_dir()  # default cache: OUTPUT/_index


def test_fully_contaminated_document_is_dropped_in_segment_mode(tmp_path):
    bench = _write(tmp_path / "b.jsonl", [{"question": QUESTION}])
    inputs = _write(tmp_path / "d.jsonl", [{"id": "only", "text": QUESTION}, {"id": "ok", "text": CLEAN[0]}])
    stats = run_decontam(
        DecontamConfig(input=[str(inputs)], output=str(tmp_path / "o"), benchmarks=[str(bench)], mode="segment")
    )
    assert stats["dropped"] == {"contaminated:b": 1} and stats["rows_out"] == 1


def test_malformed_benchmark_file_is_a_clear_cli_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine"}\n{"question": oops}\n')
    inputs = _write(tmp_path / "d.jsonl", [{"id": "x", "text": "hello"}])
    code = main(["decontam", str(inputs), "--output", str(tmp_path / "o"), "--benchmarks", str(bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{bad}:2: not valid JSON" in err


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "cut"}, "mode must be drop or segment"),
        ({"input": []}, "at least one input"),
        ({"benchmarks": []}, "at least one benchmark"),
        ({"min_tokens": 12}, "min_tokens"),
        ({"benchmarks_source": "web"}, "benchmarks_source"),
    ],
)
def test_config_validation(kwargs, message):
    base = {"input": ["x.jsonl"], "output": "o"}
    with pytest.raises(ValueError, match=message):
        DecontamConfig(**{**base, **kwargs})
