"""`deepmath compare`: several finished runs in one table (markdown + JSON) and one plot against training steps."""

import json
import shutil

import pytest

from deepmath.config import ConfigError
from tests.stage_folder import assert_stage_stats
from tests.train.methods_micro import micro_recipe


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two real micro Online RFT runs (seeds 0 and 1, evaluated every step) and a GRPO run's metrics of the
    format before `eval_curve` existed (only before/after)."""
    from deepmath.train.online_rft import run_online_rft

    base = tmp_path_factory.mktemp("compare")
    folders = []
    for seed in (0, 1):
        out = base / f"online_rft_seed{seed}"
        run_online_rft(micro_recipe("online-rft", out, seed=seed, max_steps=2, eval_every=1, save_strategy="no"))
        folders.append(out)
    old = base / "grpo_old"
    old.mkdir()
    metrics = json.loads((folders[0] / "metrics.json").read_text())
    after = {**metrics["eval_after"], "pass@1": 0.9}
    old_metrics = {"eval_before": metrics["eval_before"], "eval_after": after, "train": {"steps": 5}, "rewards": {}}
    (old / "metrics.json").write_text(json.dumps(old_metrics))
    (old / "_SUCCESS").write_text("{}")
    return base, folders, old


def test_compare_groups_runs_by_label_in_a_table_and_a_plot(runs, tmp_path):
    from deepmath.train.compare import CompareConfig, run_compare

    _, (a, b), old = runs
    out = tmp_path / "cmp"
    cfg = CompareConfig(runs=[str(a), str(b), str(old)], labels=["online-rft", "online-rft", "grpo"], output=str(out))
    stats = run_compare(cfg)
    assert (stats["rows_in"], stats["rows_out"], stats["unit"], stats["labels"]) == (3, 3, "runs", 2)
    assert_stage_stats(out, "compare", "runs")
    result = json.loads((out / "compare.json").read_text())
    groups = {g["label"]: g for g in result["groups"]}
    p1 = [json.loads((f / "metrics.json").read_text())["eval_after"]["pass@1"] for f in (a, b)]
    online = groups["online-rft"]["after"]["pass@1"]
    assert online["n"] == 2 and online["mean"] == pytest.approx(sum(p1) / 2)
    assert (online["min"], online["max"]) == (min(p1), max(p1))
    assert groups["grpo"]["after"]["pass@1"]["mean"] == 0.9 and groups["grpo"]["methods"] == ["grpo"]
    curves = {row["run"]: [p["step"] for p in row["curve"]] for row in result["runs"]}
    assert curves[str(a)] == [0, 1, 2] and curves[str(old)] == [0, 5]  # old format: its two ends
    table = (out / "compare.md").read_text()
    assert "| online-rft | 2 | 8 | 2 |" in table and "| grpo | 1 |" in table and "0.900" in table
    assert (out / "compare.png").stat().st_size > 0 and (out / "_SUCCESS").exists()
    assert "compare.png" in (out / "README.md").read_text()


def test_compare_bad_input_fails_clearly(runs, tmp_path):
    from deepmath.train.compare import CompareConfig, run_compare

    _, (a, _), _ = runs
    with pytest.raises(ConfigError, match="not a folder"):
        run_compare(CompareConfig(runs=[str(tmp_path / "missing")], output=str(tmp_path / "o1")))
    unfinished = tmp_path / "unfinished"
    shutil.copytree(a, unfinished)
    (unfinished / "_SUCCESS").unlink()
    with pytest.raises(ConfigError, match="not a finished training run"):
        run_compare(CompareConfig(runs=[str(unfinished)], output=str(tmp_path / "o2")))
    other_k = tmp_path / "other_k"
    shutil.copytree(a, other_k)
    metrics = json.loads((other_k / "metrics.json").read_text())
    metrics["eval_after"]["k"] = 16
    (other_k / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(ConfigError, match="evaluated differently"):
        run_compare(CompareConfig(runs=[str(a), str(other_k)], output=str(tmp_path / "o3")))
    broken = tmp_path / "broken"
    shutil.copytree(a, broken)
    (broken / "metrics.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        run_compare(CompareConfig(runs=[str(broken)], output=str(tmp_path / "o4")))
    for name in ("o1", "o2", "o3", "o4"):
        assert not (tmp_path / name).exists()  # nothing written for a refused comparison


def test_compare_cli(runs, tmp_path, capsys):
    from deepmath.cli import main

    _, (a, b), _ = runs
    assert main(["compare", str(a), str(b), "--output", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "compare.md").exists()
    assert main(["compare", str(a), str(b), "--labels", "x", "--output", str(tmp_path / "d")]) == 2
    assert "1 labels for 2 runs" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "nope"), "--output", str(tmp_path / "e")]) == 2
