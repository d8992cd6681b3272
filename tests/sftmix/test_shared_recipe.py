"""pipelines/sft_mix_shared.yaml over ../shared/data: GSM8K train (CoT), ToRA (TIR), PoT outputs made on GSM8K test."""

import json
import re
from pathlib import Path

import pytest
import yaml

from deepmath.config import from_dict
from deepmath.sftmix.config import SftMixConfig
from deepmath.sftmix.stage import run_sft_mix
from tests.conftest import require_shared

RECIPE = Path(__file__).resolve().parents[2] / "pipelines" / "sft_mix_shared.yaml"


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _recipe(output, **overrides) -> SftMixConfig:
    data = yaml.safe_load(RECIPE.read_text())
    data.update(data_root=str(require_shared()), output=str(output), **overrides)
    return from_dict(SftMixConfig, data, where="sft-mix")


def _check_mix(out: Path, stats: dict) -> list[dict]:
    import datasets

    gsm8k_test = require_shared("benchmarks", "gsm8k", "test.jsonl")
    test_questions = {
        _key(json.loads(line)["question"]) for line in gsm8k_test.read_text().splitlines() if line.strip()
    }
    hf = datasets.load_from_disk(str(out / "hf"))
    rows = hf.to_list()
    assert len(rows) == stats["rows_out"]
    assert not [r["question"] for r in rows if _key(r["question"]) in test_questions]
    for row in rows:
        assert (
            row["messages"]
            and row["messages"][-1]["role"] == "assistant"
            and "\\boxed{" in row["messages"][-1]["content"]
        )
    comp = stats["composition"]
    for name in ("pot_gsm8k_test", "tora70b_gsm8k_test"):  # produced on GSM8K test questions: all must go, unrun
        assert comp[name]["final"] == 0 and comp[name]["programs_run"] == 0
        assert comp[name]["contaminated"] + sum(comp[name]["skipped"].values()) == comp[name]["in"]
    assert comp["pot_gsm8k_test"]["skipped"] == {"no_question": 2}  # the prompt-only lines
    assert comp["tora_tir"]["kept"] >= 15
    return rows


def test_shared_recipe_subset(tmp_path):
    """Default run: 1,500 GSM8K train rows, every ToRA and PoT row, decontaminated against GSM8K test only."""
    cfg = _recipe(tmp_path / "mix", benchmarks=["benchmarks/gsm8k/test.jsonl"])
    cfg.sources[0].limit = 1500
    stats = run_sft_mix(cfg)
    rows = _check_mix(tmp_path / "mix", stats)
    assert stats["composition"]["gsm8k_train"]["in"] == 1500
    assert stats["composition"]["gsm8k_train"]["kept"] >= 1500 * 7000 // 7473
    assert {r["source"] for r in rows} == {"gsm8k_train", "tora_tir"}


@pytest.mark.slow
def test_shared_recipe_full(tmp_path):
    """The recipe as written (GSM8K + MATH test benchmarks; building the MATH index takes minutes when not cached)."""
    stats = run_sft_mix(_recipe(tmp_path / "mix"))
    _check_mix(tmp_path / "mix", stats)
    assert stats["composition"]["gsm8k_train"]["kept"] >= 7000
    assert run_sft_mix(_recipe(tmp_path / "mix")) == stats  # re-running resumes: nothing to redo
