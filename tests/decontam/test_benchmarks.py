import gzip
import json

import pytest

from deepmath.config import ConfigError
from deepmath.decontam import benchmarks as bm
from deepmath.decontam.benchmarks import BENCHMARKS, BenchmarkError, expand_specs, load_benchmark, load_benchmarks
from tests.conftest import require_shared


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def offline(monkeypatch):
    """No Hub probe: registry names resolve to the shared local files."""
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_SOURCE", "local")


@pytest.mark.parametrize(
    ("row", "expected_fields", "expected_texts"),
    [
        ({"problem": "P", "solution": "S", "level": "Level 1"}, ["problem", "solution"], ("P", "S")),
        ({"question": "Q", "answer": "A #### 3"}, ["question", "answer"], ("Q", "A #### 3")),
        ({"question": "Q", "golden": "18", "grade": 1}, ["question", "golden"], ("Q", "18")),
        (
            {"informal_statement": "I", "informal_proof": "Pr", "header": "h"},
            ["informal_statement", "informal_proof"],
            ("I", "Pr"),
        ),
        (
            {"messages": [{"role": "user", "content": "U"}, {"role": "assistant", "content": ""}], "answer": "7"},
            ["messages", "answer"],
            ("U", "7"),
        ),
        (
            {"question": "Q", "solution": ["S1", "S2"], "final_answer": ["4"]},
            ["question", "solution", "final_answer"],
            ("Q", "S1", "S2", "4"),
        ),
        ({"problem": "Same", "question": "Same"}, ["problem", "question"], ("Same",)),  # duplicates once
    ],
)
def test_fields_are_auto_detected(tmp_path, row, expected_fields, expected_texts):
    path = _jsonl(tmp_path / "bench.jsonl", [row, row])
    bench = load_benchmark(str(path))
    assert bench.fields == expected_fields
    assert bench.items[0].texts == expected_texts
    assert len(bench.items) == 2


def test_field_override_and_join(tmp_path):
    path = _jsonl(tmp_path / "svamp.jsonl", [{"Body": "There are 8 apples.", "Question": "How many?", "ID": "c-1"}])
    bench = load_benchmark(f"{path}:Body&Question")
    assert bench.items[0].texts == ("There are 8 apples. How many?",)
    assert bench.items[0].item_id == "c-1"
    assert load_benchmark(f"{path}:Question").items[0].texts == ("How many?",)


def test_override_field_missing_names_file_and_line(tmp_path):
    path = _jsonl(tmp_path / "b.jsonl", [{"q": "a", "x": 1}, {"x": 2}])
    with pytest.raises(BenchmarkError, match=r"b\.jsonl:1: field 'nope' not found"):
        load_benchmark(f"{path}:nope")


@pytest.mark.parametrize(
    ("content", "suffix", "pattern"),
    [
        ('{"question": "ok"}\n{"question": "broken\n', ".jsonl", r"bad\.jsonl:2: not valid JSON"),
        ('{"question": "ok"}\n\n[1, 2]\n', ".jsonl", r"bad\.jsonl:3: expected a JSON object"),
        ('[{"question": "ok"},\n {"question": \n', ".json", r"bad\.json:3: not valid JSON"),
        ('[{"question": "ok"}, "text"]', ".json", r"bad\.json: element 2: expected a JSON object"),
        ("", ".jsonl", r"bad\.jsonl: benchmark file has no rows"),
        ('{"title": "t", "n": 1}\n', ".jsonl", r"bad\.jsonl: no question/answer field found among \['n', 'title'\]"),
        ("not parquet", ".parquet", r"bad\.parquet: not a readable Parquet file"),
    ],
)
def test_malformed_files_name_file_and_line(tmp_path, content, suffix, pattern):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(BenchmarkError, match=pattern):
        load_benchmark(str(path))


def test_gzip_and_parquet_files(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    with gzip.open(tmp_path / "g.jsonl.gz", "wt") as handle:
        handle.write(json.dumps({"problem": "gz problem"}) + "\n")
    assert load_benchmark(str(tmp_path / "g.jsonl.gz")).items[0].texts == ("gz problem",)
    pq.write_table(pa.table({"question": ["pq question"], "answer": ["4"]}), tmp_path / "p.parquet")
    assert load_benchmark(str(tmp_path / "p.parquet")).items[0].texts == ("pq question", "4")


def test_rows_without_text_are_counted(tmp_path):
    path = _jsonl(tmp_path / "b.jsonl", [{"question": "real"}, {"question": "   "}, {"question": None}])
    bench = load_benchmark(str(path))
    assert len(bench.items) == 1 and bench.skipped_rows == 2


def test_unknown_names_and_missing_files():
    with pytest.raises(BenchmarkError, match="did you mean: gsm8k"):
        load_benchmark("gsm8kk")
    with pytest.raises(BenchmarkError, match="benchmark file not found"):
        load_benchmark("/no/such/file.jsonl")
    assert issubclass(BenchmarkError, ConfigError)  # the CLI prints it as one line


def test_groups_expand_in_order_without_duplicates():
    assert expand_specs("gsm8k,deepseekmath") == ["gsm8k", "math", "cmath", "agieval_math"]
    with pytest.raises(BenchmarkError):
        expand_specs([])


def test_names_are_unique(tmp_path):
    (tmp_path / "a").mkdir()
    a = _jsonl(tmp_path / "a" / "test.jsonl", [{"question": "x"}])
    loaded = load_benchmarks([str(a), f"{a}:question", f"mine={a}"])
    assert [b.name for b in loaded] == ["a", "a#2", "mine"]


def test_local_fallback_when_hub_is_unreachable(monkeypatch, tmp_path):
    folder = tmp_path / "benchmarks" / "gsm8k"
    folder.mkdir(parents=True)
    _jsonl(folder / "test.jsonl", [{"question": "local q", "answer": "local a"}])
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(tmp_path / "benchmarks"))
    monkeypatch.delenv("DEEPMATH_BENCHMARKS_SOURCE", raising=False)
    monkeypatch.setattr(bm, "_hub_reachable", lambda: False)
    bench = load_benchmark("gsm8k")
    assert bench.origin == [str(folder / "test.jsonl")]
    assert bench.items[0].texts == ("local q", "local a")


def test_hub_failure_falls_back_to_local(monkeypatch, tmp_path):
    folder = tmp_path / "b" / "aime25"
    folder.mkdir(parents=True)
    _jsonl(folder / "test.jsonl", [{"problem": "p", "answer": "70"}])
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(tmp_path / "b"))
    monkeypatch.setattr(bm, "_hub_reachable", lambda: True)

    def broken_hub(spec):
        raise ConnectionError("no network")

    monkeypatch.setattr(bm, "_load_hf", broken_hub)
    assert load_benchmark("aime25", source="auto").items[0].texts == ("p", "70")
    with pytest.raises(BenchmarkError, match="could not load math-ai/aime25 from the Hub"):
        load_benchmark("aime25", source="hf")


def test_registry_name_without_local_files_explains(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(tmp_path))
    monkeypatch.setattr(bm, "benchmark_dirs", lambda: [tmp_path])
    with pytest.raises(BenchmarkError, match="set DEEPMATH_BENCHMARKS_DIR"):
        load_benchmark("gsm8k", source="local")


def test_every_registry_benchmark_loads_from_shared_data(offline, monkeypatch):
    root = require_shared("benchmarks")
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(root))
    for name in BENCHMARKS:
        bench = load_benchmark(name)
        assert bench.items, name
        assert all(item.texts for item in bench.items), name
    agieval = load_benchmark("agieval_math")
    assert len(agieval.items) == 351 + 118
    assert agieval.items[0].item_id.startswith("gaokao_math_qa/")
    mgsm = load_benchmark("mgsm_zh")
    assert "珍妮特" in mgsm.items[0].texts[0]
