"""Bits per byte (`deepmath eval-lm`), the corpus-quality ablation stage and its report section."""

import json
import math
from pathlib import Path

import pytest

from deepmath.config import ConfigError, from_dict
from tests.stage_folder import assert_stage_stats
from tests.train.test_pretrain import WORDS, _corpus


def test_windows_score_every_token_once():
    from deepmath.evaluate.lm import _windows

    ids = list(range(23))
    for length in (2, 3, 5, 8, 30):
        windows = _windows(ids, length)
        assert all(len(w) <= length for w in windows)
        predicted = [t for w in windows for t in w[1:]]
        assert predicted == ids[1:]  # each token after the document start predicted exactly once, in order


def test_bits_per_byte_is_the_models_nll_over_utf8_bytes(micro_model):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from deepmath.evaluate.lm import bits_per_byte

    model = AutoModelForCausalLM.from_pretrained(micro_model)
    tokenizer = AutoTokenizer.from_pretrained(micro_model)
    texts = ["Tom has 12 apples and buys 3 more: 12 + 3 = 15.", "Ünïcode ✓ costs more bytes than characters."]
    result = bits_per_byte(model, tokenizer, texts, max_length=256, batch_size=2)
    nll = 0.0
    for text in texts:
        ids = [tokenizer.bos_token_id, *tokenizer(text, add_special_tokens=False)["input_ids"]]
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0, :-1]
        nll += torch.nn.functional.cross_entropy(logits, torch.tensor(ids[1:]), reduction="sum").item()
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    assert result["bytes"] == n_bytes > sum(map(len, texts))
    assert result["nll_nats"] == pytest.approx(nll, rel=1e-4)
    assert result["bits_per_byte"] == pytest.approx(nll / math.log(2) / n_bytes, rel=1e-4)
    # short windows still score every token (with less context)
    windowed = bits_per_byte(model, tokenizer, texts, max_length=6, batch_size=3)
    assert windowed["tokens"] == result["tokens"] and windowed["bits_per_byte"] > 0


def _benchmark_file(path: Path, n: int = 12) -> str:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            handle.write(json.dumps({"problem": f"Solve x + {i} = {2 * i}.", "solution": f"x = {i}, \\boxed{{{i}}}"}))
            handle.write("\n")
    return str(path)


def test_eval_lm_cli_writes_metrics_and_rejects_a_non_model(tmp_path, micro_model, capsys):
    from deepmath.cli import main

    bench = _benchmark_file(tmp_path / "bench.jsonl")
    out = tmp_path / "eval"
    assert main(["eval-lm", "--model", micro_model, "--benchmarks", bench, "--output", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    (name,) = metrics
    assert metrics[name]["items"] == 12 and metrics[name]["bits_per_byte"] > 0
    assert assert_stage_stats(out, "eval-lm", "texts")["rows_out"] == 12
    assert (out / "_SUCCESS").exists() and (out / "README.md").exists()
    assert main(["eval-lm", "--model", str(tmp_path), "--benchmarks", bench, "--output", str(tmp_path / "x")]) == 2
    assert "no config.json" in capsys.readouterr().err
    assert main(["eval-lm", "--model", micro_model, "--benchmarks", "gsm9k", "--output", str(tmp_path / "y")]) == 2


def test_ablation_table_gaps_and_spread():
    from deepmath.train.ablation import ablation_markdown, ablation_table

    runs = [
        {"corpus": "mined", "seed": s, "bits_per_byte": {"math": m, "gsm8k": g}}
        for s, m, g in [(0, 2.0, 3.0), (1, 2.1, 3.2), (2, 2.2, 3.1)]
    ] + [
        {"corpus": "random", "seed": s, "bits_per_byte": {"math": m, "gsm8k": g}}
        for s, m, g in [(0, 2.5, 3.1), (1, 2.6, 3.1), (2, 2.7, 3.0)]
    ]
    table = ablation_table(runs, ["mined", "random"])
    assert table["results"]["mined"]["math"]["mean"] == pytest.approx(2.1)
    assert table["results"]["mined"]["math"]["std"] == pytest.approx(0.1)
    math_gap, gsm_gap = table["gaps"]["random"]["math"], table["gaps"]["random"]["gsm8k"]
    assert math_gap["mean"] == pytest.approx(0.5) and math_gap["std"] == pytest.approx(0.0, abs=1e-9)
    assert math_gap["reference_lower_every_seed"] and math_gap["gap_exceeds_seed_spread"]
    assert not gsm_gap["reference_lower_every_seed"] and not gsm_gap["gap_exceeds_seed_spread"]
    markdown = ablation_markdown(table, "mined")
    assert "| mined | 2.1000 ± 0.1000" in markdown and "math: +0.5000" in markdown


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"corpora": ["a.jsonl"]}, "at least two corpora"),
        ({"corpora": ["x/a.jsonl", "y/a.jsonl"]}, "share a name"),
        ({"seeds": [1, 1]}, "seeds repeat"),
        ({"seeds": []}, "seeds is empty"),
        ({"pretrain": {"max_tokens": 1024, "sources": ["a"]}}, "set per run"),
        ({"pretrain": {"max_tokens": 1024, "learning_rat": 1}}, "unknown key 'learning_rat'"),
    ],
)
def test_bad_ablation_configs(fields, message):
    from deepmath.train.ablation_config import AblationConfig

    base = {"corpora": ["a.jsonl", "b.jsonl"], "pretrain": {"model": "tiny", "max_tokens": 1024}}
    with pytest.raises(ConfigError, match=message):
        from_dict(AblationConfig, {**base, **fields})


def test_ablation_stage_and_report_section(tmp_path):
    from deepmath.demo.config import ReportConfig
    from deepmath.demo.report import run_report
    from deepmath.train.ablation import run_ablation
    from deepmath.train.ablation_config import AblationConfig

    algebra = _corpus(tmp_path / "algebra.jsonl", "algebra", 200, 1)
    travel = _corpus(tmp_path / "travel.jsonl", "travel", 200, 2)
    held_out = tmp_path / "held_out.jsonl"
    with held_out.open("w") as handle:
        for i in range(6):
            handle.write(json.dumps({"problem": " ".join(WORDS["algebra"][i:] + WORDS["algebra"][:i])}) + "\n")
    run_dir = tmp_path / "run"
    pretrain = {
        "model": "tiny",
        "max_tokens": 64 * 4 * 6,
        "max_length": 64,
        "per_device_train_batch_size": 4,
        "learning_rate": 3e-3,
        "use_cpu": True,
        "torch_threads": 1,
        "logging_steps": 2,
        "save_strategy": "no",
        "disable_tqdm": True,
        "tiny_hidden_size": 32,
        "tiny_layers": 2,
        "tiny_heads": 2,
        "tiny_vocab_size": 300,
    }
    cfg = from_dict(
        AblationConfig,
        {
            "corpora": [{"name": "algebra", "path": algebra}, {"name": "travel", "path": travel}],
            "pretrain": pretrain,
            "seeds": [0, 1],
            "benchmarks": [str(held_out)],
            "eval_max_items": 0,
            "output": str(run_dir / "pretrain-ablation"),
        },
    )
    stats = run_ablation(cfg)
    out = run_dir / "pretrain-ablation"
    assert assert_stage_stats(out, "pretrain-ablation", "runs")["rows_out"] == 4
    table = json.loads((out / "ablation.json").read_text())
    assert len(table["runs"]) == 4 and {r["tokens_seen"] for r in table["runs"]} == {64 * 4 * 6}
    # the same initial model for both corpora of a seed: one base per seed, shared tokenizer
    assert sorted(p.name for p in (out / "base").iterdir()) == ["seed-0", "seed-1"]
    bench = table["benchmarks"][0]
    assert stats["bits_per_byte"]["algebra"][bench] < stats["bits_per_byte"]["travel"][bench]  # in-domain wins
    assert table["gaps"]["travel"][bench]["reference_lower_every_seed"]
    assert (out / "ablation.png").exists() and "| algebra |" in (out / "ablation.md").read_text()

    run_report(ReportConfig(run_dir=str(run_dir), output=str(run_dir / "report")))
    report = (run_dir / "report" / "report.md").read_text()
    assert "## Pretraining" in report and "corpus-quality ablation" in report
    assert "algebra" in report and "ablation.png" in report
