"""The shared benchmark registry: every entry loads from ../shared/data with the row count it declares, user entries
are added by YAML, bad entries fail with one line naming file and entry."""

import gzip
import json

import pytest

from deepmath.benchmarks import BENCHMARKS, GROUPS, BenchmarkError, get_benchmark, load_benchmark, load_problems
from deepmath.benchmarks.registry import load_registry
from tests.conftest import require_shared


def _count_rows(path: str) -> int:
    """Rows of a file counted independently of the loader (non-empty JSONL lines, JSON array elements)."""
    if path.endswith(".json"):
        return len(json.loads(open(path, encoding="utf-8").read()))
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


@pytest.fixture
def shared_benchmarks(monkeypatch):
    root = require_shared("benchmarks")
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(root))
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_SOURCE", "local")
    return root


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_every_benchmark_loads_with_its_row_count(shared_benchmarks, name):
    entry = BENCHMARKS[name]
    files = entry.split_files("test")
    assert files, f"{name}: local test files {entry.local} missing"
    in_files = sum(_count_rows(path) for path in files)
    assert in_files == entry.rows, f"{name}: registry says {entry.rows} rows, the files hold {in_files}"
    # decontamination view: one item per row that has text
    texts = load_benchmark(name)
    assert len(texts.items) + texts.skipped_rows == in_files
    # evaluation view: every row is a problem or a counted drop
    if entry.evaluable:
        problems, dropped = load_problems(name)
        assert len(problems) + sum(dropped.values()) == in_files
        assert all(p["question"] and p["answer"] for p in problems)
        assert len({p["id"] for p in problems}) == len(problems)
    else:
        with pytest.raises(BenchmarkError, match="decontamination only"):
            load_problems(name)
    for split in entry.splits:
        assert entry.split_files(split), f"{name}: split {split} files missing"


def test_evaluation_fields_on_known_rows(shared_benchmarks):
    problems, _ = load_problems("mgsm_zh")
    assert problems[0]["question"].startswith("珍妮特的鸭子") and problems[0]["answer"] == "18"
    assert get_benchmark("mgsm_zh").language == "zh" and get_benchmark("gsm8k").language == "en"
    mmlu, _ = load_problems("mmlu_stem")
    assert "\nA. " in mmlu[0]["question"] and mmlu[0]["answer"] in "ABCD"  # index 2 -> "C" with options listed
    agieval, _ = load_problems("agieval_math")
    assert len(agieval) == 351 + 118 and agieval[0]["id"].startswith("gaokao_math_qa/")
    train, _ = load_problems("gsm8k", split="train")
    assert len(train) == 7473 and "####" in train[0]["solution"]


def test_groups_and_all():
    assert GROUPS["deepseekmath"] == ("gsm8k", "math", "cmath", "agieval_math")
    assert "gaokao_math_qa" not in GROUPS["all"] and "gsm8k" in GROUPS["all"]  # parts are left out of `all`


def test_decontam_module_is_the_shared_loader():
    import deepmath.benchmarks.loading as loading
    import deepmath.decontam.benchmarks as decontam_benchmarks

    assert decontam_benchmarks is loading and decontam_benchmarks.BENCHMARKS is BENCHMARKS


def test_user_entry_by_yaml(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "mine").mkdir(parents=True)
    (data / "mine" / "test.jsonl").write_text(
        "\n".join(json.dumps({"q": f"What is {i}+1?", "a": str(i + 1)}) for i in range(3)) + "\n"
    )
    registry = tmp_path / "mine.yaml"
    registry.write_text(
        "benchmarks:\n  mine:\n    description: my set\n    question_field: q\n    answer_field: a\n"
        "    text_fields: [q]\n    splits: {test: [mine/test.jsonl]}\n    rows: 3\n"
        "groups:\n  my_group: [mine, gsm8k]\n"
    )
    from deepmath.benchmarks.registry import REGISTRY_FILE

    entries, groups = load_registry([REGISTRY_FILE, registry])
    assert groups["my_group"] == ("mine", "gsm8k") and "mine" in groups["all"]
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(data))
    problems, dropped = load_problems(entries["mine"])
    assert [p["answer"] for p in problems] == ["1", "2", "3"] and not dropped


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("benchmarks:\n  x: {text_fields: [q], splits: {test: [a]}, langauge: en}\n", "unknown key 'langauge'"),
        ("benchmarks:\n  x: {text_fields: [q], splits: {test: [a]}, language: fr}\n", "language must be one of"),
        ("benchmarks:\n  x: {splits: {test: [a]}}\n", "'text_fields'"),
        ("benchmarks:\n  x: {text_fields: [q]}\n", "needs local"),
        ("benchmarks:\n  x: {text_fields: [q], splits: {test: [a]}, rows: -1}\n", "'rows' must be"),
        ("benchmarks:\n  x: {text_fields: [q], splits: {test: [a]}}\ngroups:\n  g: [x, nope]\n", "unknown benchmark"),
        ("benchmarks: [1, 2]\n", "expected 'benchmarks:'"),
        ("benchmarks:\n  x: {text_fields: [q], splits: {test: [a]}\n", "cannot read"),
    ],
)
def test_bad_registry_entries_fail_with_the_file_and_entry(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(BenchmarkError, match=message):
        load_registry([path])


def test_missing_split_and_unknown_name_errors(tmp_path, monkeypatch):
    monkeypatch.setattr("deepmath.benchmarks.registry.benchmark_dirs", lambda: [tmp_path])
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_SOURCE", "local")
    with pytest.raises(BenchmarkError, match="no local files for split 'train'"):
        load_problems("math", split="train")
    with pytest.raises(BenchmarkError, match=r"unknown benchmark 'gsm8'.*gsm8k"):
        get_benchmark("gsm8")


def test_registry_env_var_adds_user_files(tmp_path):
    """DEEPMATH_BENCHMARK_REGISTRY is read when the registry loads (a fresh process here)."""
    import os
    import subprocess
    import sys

    registry = tmp_path / "extra.yaml"
    registry.write_text(
        "benchmarks:\n  my_eval:\n    language: zh\n    answer_field: a\n    text_fields: [q]\n"
        "    splits: {test: [my_eval/test.jsonl]}\n"
    )
    env = {**os.environ, "DEEPMATH_BENCHMARK_REGISTRY": str(registry)}
    code = "from deepmath.benchmarks import BENCHMARKS as B; print(B['my_eval'].language, 'my_eval' in B, len(B))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["zh", "True", str(len(BENCHMARKS) + 1)]
