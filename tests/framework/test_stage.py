import json
from dataclasses import dataclass

import pytest

from deepmath.cards import Card
from deepmath.config import ConfigError
from deepmath.stage import CorpusStageConfig, StageResult, drops_by_reason, run_stage


@dataclass
class ToyConfig(CorpusStageConfig):
    value: int = 1


def _body(calls):
    def body(run):
        calls.append(run.output)
        (run.data_dir).mkdir(parents=True, exist_ok=True)
        (run.data_dir / "00000.jsonl").write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
        card = Card(title="toy", stage="toy", summary="A toy.", n_rows=1, dropped={"too_short": 2})
        return StageResult({"documents_in": 3, "documents_out": 1, "dropped": {"too_short": 2}}, card)

    return body


def test_stage_writes_contract_files_and_skips_when_done(tmp_path):
    cfg = ToyConfig(output=str(tmp_path / "out"), value=2)
    calls = []
    stats = run_stage("toy", cfg, _body(calls))
    out = tmp_path / "out"
    for name in ("config.yaml", "stats.json", "README.md", "_SUCCESS"):
        assert (out / name).exists(), name
    assert stats["documents_out"] == 1
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and "size_categories" in card and "| too_short | 2 |" in card
    run_stage("toy", cfg, _body(calls))
    assert len(calls) == 1, "a finished stage with the same config is skipped"
    run_stage("toy", ToyConfig(output=cfg.output, value=2, workers=4), _body(calls))
    assert len(calls) == 1, "executor settings do not change outputs"


def test_different_config_is_refused_unless_overwrite(tmp_path):
    calls = []
    run_stage("toy", ToyConfig(output=str(tmp_path / "o"), value=1), _body(calls))
    with pytest.raises(ConfigError, match="different config"):
        run_stage("toy", ToyConfig(output=str(tmp_path / "o"), value=2), _body(calls))
    run_stage("toy", ToyConfig(output=str(tmp_path / "o"), value=2, overwrite=True), _body(calls))
    assert len(calls) == 2


def test_incomplete_result_writes_no_marker(tmp_path):
    cfg = ToyConfig(output=str(tmp_path / "o"))
    run_stage("toy", cfg, lambda run: StageResult({"documents_in": 0}, complete=False, message="review first"))
    assert not (tmp_path / "o" / "_SUCCESS").exists()
    calls = []
    run_stage("toy", cfg, _body(calls))
    assert calls, "an unfinished stage runs again"


def test_drops_by_reason_sums_steps():
    steps = [
        {"name": "a", "counters": {"dropped_short": 2, "forwarded": 5, "skipped_file_truncated": 1}},
        {"name": "b", "counters": {"dropped_short": 3}},
    ]
    assert drops_by_reason(steps) == {"short": 5, "file_truncated": 1}


def test_atomic_writes_replace_whole_files_with_normal_permissions(tmp_path):
    import os
    import stat

    from deepmath.io.atomic import atomic_write_json, atomic_write_text

    path = tmp_path / "card.md"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second")
    assert path.read_text() == "second"
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o044, "readable by group/others like open() would make it"
    atomic_write_json(tmp_path / "s.json", {"a": 1})
    assert json.loads((tmp_path / "s.json").read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_atomic_write_png_leaves_a_whole_png_and_no_temporary_file(tmp_path):
    from matplotlib.figure import Figure

    from deepmath.io.atomic import atomic_write_png

    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    path = atomic_write_png(tmp_path / "plots" / "curve.png", fig)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    assert [p.name for p in path.parent.iterdir()] == ["curve.png"]
