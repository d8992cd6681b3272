import json
from dataclasses import dataclass

import pytest

from deepmath.cards import Card
from deepmath.config import ConfigError
from deepmath.stage import CorpusStageConfig, StageResult, drops_by_reason, run_stage
from deepmath.stats import StageStats, check_stats, normalize_stats


@dataclass
class ToyConfig(CorpusStageConfig):
    value: int = 1


def _body(calls):
    def body(run):
        calls.append(run.output)
        (run.data_dir).mkdir(parents=True, exist_ok=True)
        (run.data_dir / "00000.jsonl").write_text(json.dumps({"id": "a", "text": "x"}) + "\n")
        card = Card(title="toy", stage="toy", summary="A toy.", n_rows=1, dropped={"too_short": 2})
        stats = StageStats(3, 1, unit="documents", dropped={"too_short": 2}, extra={"shards": 1})
        return StageResult(stats, card)

    return body


def test_stage_writes_contract_files_and_skips_when_done(tmp_path):
    cfg = ToyConfig(output=str(tmp_path / "out"), value=2)
    calls = []
    stats = run_stage("toy", cfg, _body(calls))
    out = tmp_path / "out"
    for name in ("config.yaml", "stats.json", "README.md", "_SUCCESS"):
        assert (out / name).exists(), name
    assert stats["rows_out"] == 1
    written = json.loads((out / "stats.json").read_text())
    assert list(written)[:6] == ["stage", "rows_in", "rows_out", "unit", "dropped", "plots"]
    assert written["shards"] == 1 and list(written)[-1] == "seconds" and check_stats(written) == []
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
    run_stage("toy", cfg, lambda run: StageResult(None, complete=False, message="review first"))
    assert not (tmp_path / "o" / "_SUCCESS").exists()
    assert json.loads((tmp_path / "o" / "stats.json").read_text())["complete"] is False
    calls = []
    run_stage("toy", cfg, _body(calls))
    assert calls, "an unfinished stage runs again"


def test_a_plain_dict_is_converted_with_a_deprecation_warning(tmp_path):
    """Plugins written before StageStats return dicts, old vocabulary included: one release of grace."""

    def body(run):
        return StageResult({"documents_in": 3, "documents_out": 2, "dropped": {"short": 1}, "shards": 4})

    with pytest.warns(DeprecationWarning, match="StageStats"):
        stats = run_stage("toy", ToyConfig(output=str(tmp_path / "o")), body)
    assert (stats["rows_in"], stats["rows_out"], stats["unit"], stats["shards"]) == (3, 2, "documents", 4)
    assert "documents_in" not in stats and check_stats(stats) == []


@pytest.mark.parametrize(
    ("stats", "message"),
    [
        ({"rows_in": "3", "rows_out": 1}, "rows_in must be a count"),
        ({"rows_in": 3, "rows_out": -1}, "rows_out must be a count"),
        ({"rows_in": 3, "rows_out": True}, "rows_out must be a count"),
        ({"rows_in": 3}, "lack rows_out"),
        ({"rows_in": 3, "rows_out": 1, "dropped": {"short": 1.5}}, "dropped must map"),
        ({"rows_in": 3, "rows_out": 1, "plots": "a.png"}, "plots must be a list"),
        ({"rows_in": 3, "rows_out": 1, "unit": "Documents!"}, "unit must be"),
    ],
)
def test_a_plain_dict_of_the_wrong_shape_is_refused(stats, message):
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match=message):
        StageResult(stats)


def test_stage_stats_check_their_types_and_reserved_keys():
    with pytest.raises(ValueError, match="may not hold documents_out, rows_in"):
        StageStats(1, 1, extra={"rows_in": 2, "documents_out": 1})
    stats = StageStats(2, 1)
    stats.rows_out = 1.0  # changed after construction: caught where it is written
    with pytest.raises(TypeError, match="rows_out"):
        stats.to_json()
    with pytest.raises(TypeError, match="must report its StageStats"):
        StageResult(None)


def test_old_stats_are_read_through_one_alias():
    old = {"stage": "dedup", "documents_in": 5, "documents_out": 3, "dropped": {}, "seconds": 1.0}
    new = normalize_stats(old)
    assert (new["rows_in"], new["rows_out"], new["unit"]) == (5, 3, "documents") and "documents_in" not in new
    assert old["documents_in"] == 5, "the input is not changed"
    assert normalize_stats({"rows_in": 1, "rows_out": 1, "documents_in": 9})["rows_in"] == 1, "new names win"
    assert check_stats(old) == [
        "missing 'rows_in'",
        "missing 'rows_out'",
        "missing 'unit'",
        "missing 'plots'",
        "old key 'documents_in'",
        "old key 'documents_out'",
    ]
    assert check_stats({**new, "plots": []}) == []


def test_a_finished_old_run_folder_resumes_with_the_new_names(tmp_path):
    """A folder finished by an older deepmath (documents_in/out) is skipped, and what the recipe gets back is
    in the common vocabulary."""
    cfg = ToyConfig(output=str(tmp_path / "o"))
    run_stage("toy", cfg, _body([]))
    path = tmp_path / "o" / "stats.json"
    written = json.loads(path.read_text())
    old = {"stage": "toy", "documents_in": 3, "documents_out": 1, "dropped": written["dropped"], "seconds": 0.1}
    path.write_text(json.dumps(old))
    calls = []
    again = run_stage("toy", cfg, _body(calls))
    assert calls == [] and (again["rows_in"], again["rows_out"], again["unit"]) == (3, 1, "documents")


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
