"""The run report: every section from a fake run, visible notes for what is missing or broken, resume behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deepmath.config import ConfigError
from deepmath.demo.config import ReportConfig
from deepmath.demo.report import collect_stages, run_report
from tests.demo.fake_run import make_fake_run
from tests.stage_folder import assert_stage_stats

SECTIONS = [
    "Stages",
    "Funnel",
    "Against the ground truth",  # demo-data's fragment: stage fragments follow pipeline order
    "Mining",
    "Deduplication",
    "Decontamination",
    "SFT mix",
    "Pretraining",
    "Training",
    "Evaluation",
    "Data cards",
]


def _report(run: Path, **kwargs) -> dict:
    return run_report(ReportConfig(run_dir=str(run), **kwargs))


def test_full_run_report(tmp_path):
    run = make_fake_run(tmp_path / "run")
    stats = _report(run)
    page = (run / "report" / "report.html").read_text()
    markdown = (run / "report" / "report.md").read_text()
    assert stats["sections"] == SECTIONS and stats["missing"] == []
    for section in SECTIONS:
        assert "<h2 id=" in page and f">{section}</h2>" in page
        assert f"## {section}" in markdown
    # 2 histograms + funnel + ground truth + cluster sizes + composition + pretraining curve + ablation + SFT loss
    # + reward curve + eval plot
    assert page.count('src="data:image/png;base64,') == stats["images"] == 11
    assert "<script" not in page
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown):
        assert (run / "report" / link).is_file(), link
    for name in stats["plots"]:
        assert (run / "report" / name).is_file()
    # the ground truth: 4 of 6 pages mined, all math; dedup dropped the copy, decontam the quote
    assert "kept 100% of the ingested math pages; 100% of what it kept is math" in markdown
    assert "removed 1 of 1 near-duplicate copies" in markdown
    assert "removed 1 of 1 pages quoting the benchmark" in markdown
    assert "| pass@1 | 0.2 | 0.35 | 0.15 |" in markdown
    assert "`/math`" in markdown  # the discovered path of the mixed-topic domain
    assert "| demo | 20 | 1 | 1 |" in markdown and "Tom has 3 apples and buys 4 more" in markdown  # contamination
    assert "| demo_cot | 10 | 1 | 1 | 0 | 8 | 80.0% |" in markdown  # SFT composition
    folder = run / "report"
    assert {"stats.json", "README.md", "config.yaml", "_SUCCESS"} <= {p.name for p in folder.iterdir()}
    assert assert_stage_stats(folder, "report", "stage folders")["rows_in"] == 11
    assert "| corpus | 75.0% | 3,072 | 75.0% | 0.5 |" in markdown  # the mixture consumed
    assert "| mined | 2.1000 ± 0.1414 |" in markdown and "lower in every seed: yes" in markdown  # the ablation


def test_a_partial_run_reports_only_its_stages(tmp_path):
    """Fragments come from the stages present: an ingest-only run has no mining section and lacks nothing."""
    run = make_fake_run(tmp_path / "run", stages=("ingest",))
    stats = _report(run)
    markdown = (run / "report" / "report.md").read_text()
    assert stats["sections"] == ["Stages", "Funnel", "Data cards"]
    assert "## Mining" not in markdown and stats["missing"] == []
    assert "Against the ground truth" not in stats["sections"]  # no demo-data: nothing to compare with
    # a stage that is there but lacks what its fragment reads is listed as missing
    (run / "mine").mkdir()
    (run / "mine" / "stats.json").write_text('{"stage": "mine", "documents_out": 3}')
    stats = _report(run, overwrite=True)
    assert "Mining" in stats["sections"]
    assert any("iteration_N" in item for item in stats["missing"])


def test_broken_inputs_become_notes(tmp_path):
    run = make_fake_run(tmp_path / "run")
    (run / "dedup" / "stats.json").write_text("{not json")
    (run / "decontam" / "contamination.json").write_text("[1, 2")
    (run / "mine" / "iteration_2" / "score_histogram.png").write_bytes(b"GIF89a not a png")
    (run / "train-grpo" / "reward_curve.png").unlink()
    (run / "sft-mix" / "_SUCCESS").unlink()
    stats = _report(run)
    markdown = (run / "report" / "report.md").read_text()
    assert "dedup: stats.json unreadable" in markdown
    assert any(m.startswith("decontam: JSONDecodeError") for m in stats["missing"])
    assert "not a PNG image: `score_histogram.png`" in markdown
    assert "train-grpo/reward_curve.png" in stats["missing"]
    assert "| sft-mix | sft-mix | incomplete |" in markdown


def test_an_old_run_folder_reads_like_a_new_one(tmp_path):
    """stats.json of an older deepmath (documents_in/out, no unit): the same stages table and funnel."""
    run = make_fake_run(tmp_path / "run")
    _report(run)
    new = (run / "report" / "report.md").read_text()
    assert "| dedup | dedup | complete | 4 | 3 | documents |" in new
    for name in ("demo-data", "ingest", "mine", "dedup", "decontam"):
        path = run / name / "stats.json"
        stats = json.loads(path.read_text())
        stats["documents_in"], stats["documents_out"] = stats.pop("rows_in"), stats.pop("rows_out")
        del stats["unit"]
        path.write_text(json.dumps(stats))
    _report(run, overwrite=True)
    old = (run / "report" / "report.md").read_text()

    def section(text, title):
        return text.split(f"## {title}")[1].split("\n## ")[0]

    for title in ("Stages", "Funnel", "Against the ground truth"):
        assert section(old, title) == section(new, title), title


def test_report_is_skipped_until_a_stage_finishes_again(tmp_path):
    run = make_fake_run(tmp_path / "run")
    first = _report(run)
    stamp = (run / "report" / "report.html").stat().st_mtime_ns
    assert _report(run) == first
    assert (run / "report" / "report.html").stat().st_mtime_ns == stamp
    (run / "eval" / "_SUCCESS").write_text(json.dumps({"config_hash": "eval", "finished": 2.0}))
    (run / "eval" / "stats.json").write_text(json.dumps({"stage": "eval", "rows_in": 5, "rows_out": 5, "pass@1": 0.9}))
    _report(run)
    assert "| pass@1 | 0.9 |" in (run / "report" / "report.md").read_text()


def test_collect_stages_orders_by_pipeline(tmp_path):
    run = make_fake_run(tmp_path / "run", stages=("eval", "ingest", "dedup"))
    (run / "notes").mkdir()  # not a stage folder
    assert [s.name for s in collect_stages(run)] == ["ingest", "dedup", "eval"]


def test_config_and_cli_errors(tmp_path, capsys):
    from deepmath.cli import main

    with pytest.raises(ValueError, match="--run-dir"):
        ReportConfig()
    assert ReportConfig(output=str(tmp_path / "r" / "report")).run_dir == str(tmp_path / "r")
    assert ReportConfig(run_dir="runs/a").output == str(Path("runs/a") / "report")
    with pytest.raises(ConfigError, match="run folder not found"):
        _report(tmp_path / "nope")
    assert main(["report"]) == 2
    assert "--run-dir" in capsys.readouterr().err


def test_old_report_targets_still_resolve_for_one_release():
    """A plugin's `report="deepmath.demo.report_sections:section_training"` keeps working, with a warning."""
    from deepmath.demo import report_sections
    from deepmath.train.report import section_training

    with pytest.warns(DeprecationWarning, match="moved to deepmath.train.report"):
        assert report_sections.section_training is section_training
    with pytest.raises(AttributeError):
        report_sections.section_nowhere  # noqa: B018
