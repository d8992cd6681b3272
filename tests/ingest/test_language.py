"""Language identification at ingest (py3langid, model in the wheel): real pages, edge cases, the filter, counts."""

import json

import pytest

from deepmath.cli import main
from deepmath.ingest.language import identify_language
from deepmath.ingest.quality import text_stats
from tests.conftest import require_shared
from tests.ingest.test_ingest_stage import read_output


def test_real_texts_in_several_languages():
    benchmarks = require_shared("benchmarks")
    cmath = json.loads((benchmarks / "cmath" / "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    gsm8k = json.loads((benchmarks / "gsm8k" / "test.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert identify_language(cmath["question"])[0] == "zh"
    language, score = identify_language(gsm8k["question"])
    assert language == "en" and 0.5 < score <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "12 + 34 = 46", "$$ 1 + 2 $$ {} ^ _"])
def test_no_letters_is_undetermined(text):
    assert identify_language(text) == ("und", 0.0)


def test_text_stats_carries_the_identified_language():
    stats = text_stats("设函数 f(x)=x^2，求 f(3) 的值。这是一道简单的数学题。")
    assert stats["language"] == "zh" and 0 < stats["language_score"] <= 1


def test_ingest_language_filter_and_counts(tmp_path):
    """The real Common Crawl WARC sample: mostly Chinese pages, one Russian, one Dutch, two German."""
    warc = require_shared("commoncrawl", "resiliparse", "warcfile.warc.gz")
    assert main(["ingest", str(warc), "--output", str(tmp_path / "all")]) == 0
    stats = json.loads((tmp_path / "all" / "stats.json").read_text())
    counts = stats["languages"]
    assert sum(counts.values()) == stats["rows_out"]
    assert counts["zh"] >= 8 and {"ru", "nl", "de"} <= set(counts)
    card = (tmp_path / "all" / "README.md").read_text()
    assert "## Languages" in card and f"| zh | {counts['zh']} |" in card

    assert main(["ingest", str(warc), "--output", str(tmp_path / "zh"), "--languages", "zh"]) == 0
    docs = read_output(tmp_path / "zh")
    filtered = json.loads((tmp_path / "zh" / "stats.json").read_text())
    assert docs and all(d["metadata"]["language"] == "zh" for d in docs.values())
    assert filtered["languages"] == {"zh": counts["zh"]}
    assert filtered["dropped"]["language"] == stats["rows_out"] - counts["zh"]
