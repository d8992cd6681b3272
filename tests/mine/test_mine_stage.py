"""`deepmath mine` end to end: the labelled webtext pool (must-show), manual review, resume, bad inputs, CLI."""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from deepmath.cli import main
from deepmath.config import ConfigError, from_dict
from deepmath.io.inputs import resolve_inputs
from deepmath.mine.config import MineConfig
from deepmath.mine.stage import run_mine
from tests.conftest import require_shared
from tests.mine.labelled_pool import MIXED_DOMAIN, build_labelled_pool
from tests.mine.synthetic import write_synthetic
from tests.stage_folder import assert_stage_stats, stage_fragment

FAST = {"dim": 16, "threads": 1, "domain_min_pages": 5, "auto_min_pages": 5}


def read_selected(folder: Path) -> dict[str, dict]:
    docs = {}
    for path in sorted((folder / "data").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as handle:
            for line in handle:
                row = json.loads(line)
                docs[row["id"]] = row
    return docs


def f1(selected: set[str], truth: set[str]) -> float:
    tp = len(selected & truth)
    return 2 * tp / (len(selected) + len(truth)) if selected or truth else 1.0


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory):
    """Two auto-review iterations over StackMathQA math pages vs Common Crawl pages (dim 32 to keep it fast)."""
    webtext = require_shared("webtext")
    tmp = tmp_path_factory.mktemp("mine_labelled")
    pool = build_labelled_pool(webtext, tmp / "data")
    # the budget is the math pages' tokens: what a user with a known target size would ask for
    cfg = MineConfig(
        pool=pool.pool,
        seeds=[pool.seeds],
        output=str(tmp / "mine"),
        keep_tokens=pool.math_tokens,
        iterations=2,
        review="auto",
        dim=32,
        threads=1,
    )
    stats = run_mine(cfg)
    return pool, cfg, stats, tmp / "mine"


def test_labelled_pool_selects_math_pages(labelled_run):
    pool, _, stats, out = labelled_run
    docs = read_selected(out)
    truth = {i for i, m in pool.is_math.items() if m}
    score = f1(set(docs), truth)
    assert score >= 0.85, f"F1 {score:.3f}"
    assert stats["rows_in"] == len(pool.is_math)
    assert stats["rows_out"] == len(docs)
    assert stats["dropped"]["below_selection"] == len(pool.is_math) - len(docs)
    assert all(0.0 <= d["metadata"]["math_score"] <= 1.0 for d in docs.values())
    assert all(d["text"] and "url" in d["metadata"] for d in docs.values()), "documents keep text and metadata"
    # each iteration's own selection, scored against the labels (recorded for the card / README)
    for n in (1, 2):
        mask = np.load(out / f"iteration_{n}" / "selected.npy")
        ids = gzip.decompress((out / f"iteration_{n}" / "selected_ids.txt.gz").read_bytes()).decode().split()
        assert len(ids) == int(mask.sum())
        assert f1(set(ids), truth) >= 0.85


def test_domain_report_names_the_mixed_domain_and_its_math_path(labelled_run):
    _, _, _, out = labelled_run
    report = yaml.safe_load((out / "iteration_1" / "domains.yaml").read_text())
    domains = {d["domain"]: d for d in report["domains"]}
    assert MIXED_DOMAIN in domains, sorted(domains)
    paths = {p["path"]: p for p in domains[MIXED_DOMAIN]["paths"]}
    assert paths["/math"]["accept"] is True and paths["/math"]["collected_fraction"] >= 0.8
    assert paths["/travel"]["accept"] is False and paths["/food"]["accept"] is False
    assert paths["/"]["accept"] is False
    assert "mathoverflow.net" in domains and {p["path"] for p in domains["mathoverflow.net"]["paths"]} >= {
        "/questions"
    }
    metrics = json.loads((out / "iteration_2" / "metrics.json").read_text())
    assert "/math" in metrics["training"]["accepted_paths"][MIXED_DOMAIN]


def test_labelled_run_layout_metrics_and_card(labelled_run):
    _, cfg, stats, out = labelled_run
    for n in (1, 2):
        folder = out / f"iteration_{n}"
        for name in ("model.bin", "scores.npy", "selected.npy", "domains.yaml", "score_histogram.png", "metrics.json"):
            assert (folder / name).exists(), f"iteration_{n}/{name}"
        metrics = json.loads((folder / "metrics.json").read_text())
        for key in ("precision", "recall", "auc"):
            assert 0.0 <= metrics["holdout"][key] <= 1.0
        assert metrics["training"]["small_train_rule"] is True
        assert metrics["selection"]["tokens"] >= cfg.keep_tokens
    metrics2 = json.loads((out / "iteration_2" / "metrics.json").read_text())
    assert metrics2["overlap_with_previous"] is not None and metrics2["training"]["negatives_source"].startswith(
        "pool"
    )
    assert stats["plots"] == ["iteration_1/score_histogram.png", "iteration_2/score_histogram.png"]
    assert all((out / p).read_bytes()[:4] == b"\x89PNG" for p in stats["plots"])
    assert [s["iteration"] for s in stats["iterations"]] == [1, 2]
    assert (out / "_SUCCESS").exists() and (out / "config.yaml").exists()
    assert not (out / "selected").exists(), "the documents are the stage's own data/"
    card = (out / "README.md").read_text()
    assert "## Iterations" in card and f"`{MIXED_DOMAIN}` `/math`" in card and "data/*" in card
    # other stages take DIR as input: its data/ shards are the selection, nothing of the iterations is read
    (source,) = resolve_inputs(str(out))
    assert source.files and all("/data/" in f for f in source.files)
    assert sum(len(gzip.decompress(Path(f).read_bytes()).splitlines()) for f in source.files) == stats["rows_out"]
    # a finished run is skipped
    assert run_mine(cfg)["rows_out"] == stats["rows_out"]
    assert assert_stage_stats(out, "mine", "documents") == json.loads(json.dumps(stats))


def test_report_fragment_reads_the_stage_folder(labelled_run, tmp_path):
    """mine's section of the run report, from the folder the stage wrote: every iteration, its histogram and the
    discovered math path."""
    _, _, stats, out = labelled_run
    markdown, missing = stage_fragment("mine", out, tmp_path)
    assert missing == [] and "## Mining" in markdown and "mine: 2 iteration(s)" in markdown
    assert "### mine: iteration 1" in markdown and "### mine: iteration 2" in markdown
    assert markdown.count("![") == len(stats["plots"]) == 2
    assert MIXED_DOMAIN in markdown and "`/math`" in markdown


def _synthetic_cfg(tmp_path, **overrides) -> tuple[MineConfig, dict]:
    truth = write_synthetic(tmp_path / "data")
    fields = dict(
        pool=[str(tmp_path / "data" / "pool")],
        seeds=[str(tmp_path / "data" / "seeds.jsonl")],
        output=str(tmp_path / "mine"),
        keep_fraction=0.35,
        **FAST,
    )
    fields.update(overrides)
    return MineConfig(**fields), truth


def test_manual_review_stops_and_a_rerun_picks_up_the_edits(tmp_path):
    cfg, truth = _synthetic_cfg(tmp_path, review="manual", iterations=2, keep_fraction=0.2)
    out = Path(cfg.output)
    stats = run_mine(cfg)
    assert stats["status"] == "awaiting_review"
    assert not (out / "_SUCCESS").exists() and not (out / "data").exists()
    domains_file = out / "iteration_1" / "domains.yaml"
    report = yaml.safe_load(domains_file.read_text())
    assert report["reviewed"] is False
    assert all(p["accept"] is None for d in report["domains"] for p in d["paths"])
    mixed = next(d for d in report["domains"] if d["domain"] == "mixed.test")
    assert {p["path"] for p in mixed["paths"]} >= {"/math", "/travel"}

    # re-running without a review stops again and redoes nothing
    model_mtime = (out / "iteration_1" / "model.bin").stat().st_mtime_ns
    assert run_mine(cfg)["status"] == "awaiting_review"
    assert (out / "iteration_1" / "model.bin").stat().st_mtime_ns == model_mtime

    # accept mixed.test/math and mathsite.test/questions, reject everything else
    accepted = {("mixed.test", "/math"), ("mathsite.test", "/questions")}
    for domain in report["domains"]:
        for entry in domain["paths"]:
            entry["accept"] = (domain["domain"], entry["path"]) in accepted
    domains_file.write_text(yaml.safe_dump(report))
    collected = np.load(out / "iteration_1" / "selected.npy")
    index_rows = [
        json.loads(line)
        for p in sorted((out / "pool_index").glob("*.jsonl.gz"))
        for line in gzip.decompress(p.read_bytes()).decode().splitlines()
    ]
    expected_new = sum(
        1
        for row, was_collected in zip(index_rows, collected)
        if not was_collected and (row["domain"], row["path"].rsplit("/", 1)[0]) in accepted
    )
    stats = run_mine(cfg)
    assert stats["status"] == "done" and (out / "_SUCCESS").exists()
    metrics = json.loads((out / "iteration_2" / "metrics.json").read_text())
    assert metrics["training"]["accepted_paths"] == {"mixed.test": ["/math"], "mathsite.test": ["/questions"]}
    assert metrics["training"]["seeds_from_domains"] == expected_new > 0
    assert (out / "iteration_1" / "model.bin").stat().st_mtime_ns == model_mtime, "iteration 1 was not redone"
    selected = read_selected(out)
    assert sum(truth[i] for i in selected) >= 0.8 * len(selected)


def test_resume_redoes_only_the_unfinished_iteration(tmp_path):
    cfg, _ = _synthetic_cfg(tmp_path, iterations=2, stop_overlap=1.0)
    out = Path(cfg.output)
    first = run_mine(cfg)
    assert first["final_iteration"] == 2
    model1 = (out / "iteration_1" / "model.bin").stat().st_mtime_ns
    selected_before = set(read_selected(out))
    # simulate a run killed during iteration 2: its marker, the final output and the stage marker are gone
    (out / "iteration_2" / "metrics.json").unlink()
    (out / "_SUCCESS").unlink()
    shutil.rmtree(out / "data")
    shutil.rmtree(out / "_logs" / "selected")
    second = run_mine(cfg)
    assert (out / "iteration_1" / "model.bin").stat().st_mtime_ns == model1
    assert second["rows_out"] == first["rows_out"]
    assert set(read_selected(out)) == selected_before


def test_external_negatives_and_threshold(tmp_path):
    cfg, truth = _synthetic_cfg(
        tmp_path,
        negatives=[str(tmp_path / "data" / "negatives.jsonl")],
        keep_fraction=None,
        threshold=0.5,
        iterations=1,
    )
    stats = run_mine(cfg)
    metrics = json.loads((Path(cfg.output) / "iteration_1" / "metrics.json").read_text())
    assert metrics["training"]["negatives_source"] == "--negatives"
    assert metrics["training"]["negatives"] == 40  # negatives_ratio 1.0 x 40 seeds
    selected = read_selected(Path(cfg.output))
    assert stats["rows_out"] == len(selected) > 0
    assert all(d["metadata"]["math_score"] >= 0.5 for d in selected.values())
    assert f1(set(selected), {i for i, m in truth.items() if m}) >= 0.9


def test_cli(tmp_path):
    write_synthetic(tmp_path / "data")
    code = main(
        [
            "mine",
            "--pool",
            str(tmp_path / "data" / "pool"),
            "--seeds",
            str(tmp_path / "data" / "seeds.jsonl"),
            "--output",
            str(tmp_path / "out"),
            "--keep-tokens",
            "1500",
            "--iterations",
            "1",
            "--dim",
            "16",
            "--threads",
            "1",
        ]
    )
    assert code == 0
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["rows_out"] > 0 and stats["selected_tokens"] >= 1500
    assert stats["rows_in"] == 116, "the row without text is not a pool page"
    assert stats["dropped"] == {"below_selection": 116 - stats["rows_out"], "no_text": 1}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of keep_tokens, keep_fraction, threshold"),
        ({"keep_tokens": 10, "threshold": 0.5}, "exactly one"),
        ({"keep_fraction": 1.5}, "keep_fraction must be in"),
        ({"threshold": 0.5, "review": "maybe"}, "not one of"),
        ({"threshold": 0.5, "domain_key": "tld"}, "not one of"),
        ({"threshold": 0.5, "stop_overlap": 0}, "stop_overlap"),
        ({"threshold": 0.5, "iterations": 0}, "iterations must be at least 1"),
        ({"threshold": 0.5, "seeds": []}, "needs --seeds"),
        ({"threshold": 0.5, "language_quotas": ["zh=0.3"]}, "need a token budget"),
        ({"keep_fraction": 0.5, "language_quotas": ["zh:0.3"]}, "not LANG=SHARE"),
        ({"keep_fraction": 0.5, "language_quotas": ["zh=1.5"]}, r"share of 'zh' must be in \[0, 1\]"),
        ({"keep_fraction": 0.5, "token_unit": "bytes"}, "not one of"),
    ],
)
def test_config_errors(fields, message):
    data = {"pool": ["p"], "seeds": ["s"], "output": "o", **fields}
    with pytest.raises(ConfigError, match=message):
        from_dict(MineConfig, data)


def test_bad_inputs_are_clear_errors(tmp_path):
    write_synthetic(tmp_path / "data")
    pool, seeds = str(tmp_path / "data" / "pool"), str(tmp_path / "data" / "seeds.jsonl")
    with pytest.raises(ConfigError, match="--pool: input not found"):
        run_mine(
            MineConfig(pool=[str(tmp_path / "missing")], seeds=[seeds], output=str(tmp_path / "a"), threshold=0.5)
        )
    no_text = tmp_path / "no_text.jsonl"
    no_text.write_text('{"id": "x", "body": "no text field"}\n')
    with pytest.raises(ConfigError, match="--seeds: no documents with text"):
        run_mine(MineConfig(pool=[pool], seeds=[str(no_text)], output=str(tmp_path / "b"), threshold=0.5, **FAST))
    with pytest.raises(ConfigError, match="--pool: no documents with text"):
        run_mine(MineConfig(pool=[str(no_text)], seeds=[seeds], output=str(tmp_path / "c"), threshold=0.5, **FAST))


def test_malformed_review_file_is_a_clear_error(tmp_path):
    cfg, _ = _synthetic_cfg(tmp_path, review="manual", iterations=2)
    run_mine(cfg)
    (Path(cfg.output) / "iteration_1" / "domains.yaml").write_text(
        "domains:\n- domain: a\n  paths:\n  - path: /x\n    accept: 3\n"
    )
    with pytest.raises(ConfigError, match="accept must be true, false or null"):
        run_mine(cfg)


def test_seeds_stream_from_a_hugging_face_dataset_and_are_capped(tmp_path):
    """`--seeds owner/name` goes through `datasets.load_dataset(..., streaming=True)`; here a local dataset folder."""
    pytest.importorskip("datasets")
    write_synthetic(tmp_path / "data")
    hf = tmp_path / "hfseeds"
    hf.mkdir()
    shutil.copy(tmp_path / "data" / "seeds.jsonl", hf / "train.jsonl")
    cfg = MineConfig(
        pool=[str(tmp_path / "data" / "pool")],
        seeds=[f"hf:{hf}:train"],
        output=str(tmp_path / "mine"),
        keep_fraction=0.3,
        iterations=1,
        max_seeds=25,
        **FAST,
    )
    run_mine(cfg)
    metrics = json.loads((tmp_path / "mine" / "iteration_1" / "metrics.json").read_text())
    assert metrics["training"]["seeds"] == 25
    assert metrics["training"]["negatives"] == 25


def test_cli_language_options_parse():
    from deepmath.cli import build_stage_config
    from deepmath.registry import get_stage

    argv = ["--pool", "p", "--seeds", "s", "--output", "o", "--keep-tokens", "100"]
    argv += ["--language-quotas", "zh=0.3,en=0.9", "--languages", "en,zh", "--token-unit", "words"]
    cfg = build_stage_config("mine", get_stage("mine"), argv)
    assert cfg.quotas == {"zh": 0.3, "en": 0.9} and cfg.languages == ["en", "zh"] and cfg.token_unit == "words"


def test_unknown_tokenizer_is_a_clear_error(tmp_path):
    write_synthetic(tmp_path / "data")
    cfg = MineConfig(
        pool=[str(tmp_path / "data" / "pool")],
        seeds=[str(tmp_path / "data" / "seeds.jsonl")],
        output=str(tmp_path / "mine"),
        threshold=0.5,
        tokenizer=str(tmp_path / "no_such_folder"),
        **FAST,
    )
    with pytest.raises(ConfigError, match=r"mine --tokenizer: tokenizer .*no_such_folder: no such file or folder"):
        run_mine(cfg)
