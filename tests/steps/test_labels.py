"""`deepmath label-steps`: rollouts from each prefix graded with `rewards`; hard/soft labels; resume; agreement."""

import json

import pytest

from deepmath.evaluate.generation import ScriptedGenerator
from deepmath.steps.config import LabelStepsConfig
from deepmath.steps.labels import _grader, label_solutions, read_labels, run_label_steps
from tests.stage_folder import assert_stage_stats


def _cfg(tmp_path, **kw):
    base = dict(
        input="tiny",
        completer="deepmath.steps.simulated:noisy_completer",
        output=str(tmp_path / "labels"),
        rollouts=4,
        tiny_problems=40,
        batch_solutions=16,
    )
    base.update(kw)
    return LabelStepsConfig(**base)


def test_labels_follow_the_rollouts(tmp_path):
    """A scripted completer: right continuations after step 1, wrong after step 2 -> hard 1, 0, soft exact."""
    cfg = _cfg(tmp_path, rollouts=3)
    row = {"question": "Q1 what?", "answer": "7", "solution": "3 + 4 = 7.\n7 - 0 = 7.\nThe answer is \\boxed{7}."}

    def script(prompt):
        return "The answer is \\boxed{7}." if prompt.prefix.count("\n") == 1 else "The answer is \\boxed{8}."

    completer = ScriptedGenerator(script)
    [out] = label_solutions([row], completer, cfg, _grader("math_accuracy"))
    assert out["steps"] == ["3 + 4 = 7.", "7 - 0 = 7.", "The answer is \\boxed{7}."]
    assert out["hard"] == [1, 0, 1] and out["soft"] == [1.0, 0.0, 1.0]
    assert out["rollouts"] == [3, 3, 1]
    assert completer.prompts[0].endswith("3 + 4 = 7.\n") and completer.prompts[1].endswith("7 - 0 = 7.\n")


def test_marker_splits_steps(tmp_path):
    cfg = _cfg(tmp_path, rollouts=1, marker=" ки ")
    row = {"question": "Q2?", "answer": "2", "solution": "1 + 1 = 2. ки The answer is \\boxed{2}."}
    [out] = label_solutions([row], ScriptedGenerator(lambda p: "\\boxed{3}"), cfg, _grader("math_accuracy"))
    assert out["steps"] == ["1 + 1 = 2.", "The answer is \\boxed{2}."] and out["hard"] == [0, 1]


def test_stage_agrees_with_ground_truth_above_chance_and_resumes(tmp_path):
    cfg = _cfg(tmp_path)
    stats = run_label_steps(cfg)
    assert stats["solutions"] == 40 and stats["steps"] > 80
    assert assert_stage_stats(cfg.output, "label-steps", "solutions")["rows_out"] == 40
    # from an off-track prefix only a second slip that cancels the first reaches the gold answer: rare
    assert stats["hard_false_positive_rate"] < 0.1
    assert stats["hard_agreement"] > stats["chance_agreement"]
    out = tmp_path / "labels"
    assert (out / "_SUCCESS").exists() and "agree with the ground-truth" in (out / "README.md").read_text()
    # kill after the first shard: remove the rest and the marker; the re-run labels only what is missing
    shards = sorted((out / "data").glob("labels-*.jsonl"))
    first = shards[0].read_text()
    for path in shards[1:]:
        path.unlink()
    (out / "_SUCCESS").unlink()
    again = run_label_steps(cfg)
    assert again["resumed_shards"] == 1 and shards[0].read_text() == first
    assert len(read_labels(out)) == 40


def test_bad_input_is_one_line_error(tmp_path):
    from deepmath.problems import DataError

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "answer": "1"}) + "\n")
    with pytest.raises(DataError, match="lacks solution"):
        run_label_steps(_cfg(tmp_path, input=str(bad)))
    with pytest.raises(ValueError, match="completer is required"):
        LabelStepsConfig(input="tiny")


def test_unknown_completer_is_one_line_error(tmp_path):
    from deepmath.config import ConfigError

    with pytest.raises(ConfigError, match="neither a model folder"):
        run_label_steps(_cfg(tmp_path, completer=str(tmp_path / "nope")))
    with pytest.raises(ConfigError, match="cannot be imported"):
        run_label_steps(_cfg(tmp_path, completer="deepmath.nothing:here"))
    assert not (tmp_path / "labels" / "_SUCCESS").exists()
