"""`deepmath train prm`: loss only at step markers, held-out step metrics computed from the saved model, resume."""

import json

import pytest
import torch

from deepmath.steps.config import LabelStepsConfig
from deepmath.steps.labels import run_label_steps
from deepmath.train.prm import ProcessRewardModel, bce_at_steps, encode_steps, evaluate_prm, step_metrics
from deepmath.train.prm_config import PRMRecipe
from tests.stage_folder import assert_stage_stats


@pytest.fixture(scope="module")
def labels(tmp_path_factory):
    out = tmp_path_factory.mktemp("prm") / "labels"
    run_label_steps(
        LabelStepsConfig(
            input="tiny",
            completer="deepmath.steps.simulated:noisy_completer",
            output=str(out),
            rollouts=4,
            tiny_problems=60,
            batch_solutions=60,
        )
    )
    return str(out)


def _recipe(labels, out, **kw):
    data = dict(
        labels=[labels],
        output=str(out),
        model="tiny",
        max_steps=6,
        per_device_train_batch_size=8,
        learning_rate=3e-3,
        tiny_hidden_size=32,
        tiny_layers=1,
        tiny_heads=2,
        save_strategy="no",
        use_cpu=True,
        logging_steps=2,
    )
    data.update(kw)
    return PRMRecipe(**data)


def test_step_metrics_by_hand():
    m = step_metrics([0.9, 0.2, 0.7, 0.4], [1, 0, 0, 1])
    assert (m["accuracy"], m["precision"], m["recall"], m["f1"]) == (0.5, 0.5, 0.5, 0.5)
    assert m["chance_accuracy"] == 0.5


def test_loss_reads_only_step_positions():
    logits = torch.zeros(1, 5, 1, requires_grad=True)
    labels = torch.tensor([[-100.0, 1.0, -100.0, 0.0, -100.0]])
    loss = bce_at_steps(type("Out", (), {"logits": logits})(), labels)
    loss.backward()
    assert loss.item() == pytest.approx(torch.log(torch.tensor(2.0)).item())
    assert logits.grad[0, :, 0].nonzero().flatten().tolist() == [1, 3]


def test_train_prm_reports_held_out_step_metrics_and_resumes(labels, tmp_path):
    from deepmath.train.prm import _split, load_label_rows

    cfg = _recipe(labels, tmp_path / "prm")
    stats = run_prm_(cfg)
    out = tmp_path / "prm"
    metrics = json.loads((out / "metrics.json").read_text())
    held = metrics["vs_ground_truth"]
    assert stats["held_out_solutions"] == 12 and held["steps"] > 24
    prm_stats = assert_stage_stats(out, "train-prm", "solutions")
    assert prm_stats["rows_in"] == prm_stats["rows_out"] + 12
    assert 0.0 <= held["accuracy"] <= 1.0 and "F1" in (out / "README.md").read_text()
    # the reported numbers are those of the saved model on the held-out solutions, recomputed here
    _, test_rows = _split(load_label_rows([labels]), cfg.held_out, cfg.seed)
    assert evaluate_prm(str(out / "model"), test_rows, cfg) == {
        k: metrics[k] for k in ("vs_hard_labels", "vs_ground_truth")
    }
    scores = ProcessRewardModel(str(out / "model")).score([test_rows[0]["question"]], [test_rows[0]["steps"]])
    assert len(scores[0]) == len(test_rows[0]["steps"]) and all(0 < s < 1 for s in scores[0])
    assert run_prm_(cfg)["held_out_solutions"] == 12  # finished: read back, not retrained
    assert (out / "_SUCCESS").exists()


def test_encode_steps_marks_the_marker_token():
    from deepmath.train.tiny import build_tokenizer

    tokenizer = build_tokenizer(["1 + 1 = 2.\nThe answer is 2."], vocab_size=300)
    ids, positions = encode_steps(tokenizer, "Q: ", ["1 + 1 = 2.", "The answer is 2."], "\n", 64)
    assert len(positions) == 2 and positions[-1] == len(ids) - 1
    assert tokenizer.decode(ids[positions[0] : positions[0] + 1]) == "\n"
    ids, positions = encode_steps(tokenizer, "Q: ", ["1 + 1 = 2.", "The answer is 2."], "\n", 12)
    assert len(ids) == 12 and len(positions) == 1  # the step cut off is not scored


def test_bad_recipes_are_one_line_errors(tmp_path):
    from deepmath.problems import DataError

    with pytest.raises(ValueError, match="labels is required"):
        PRMRecipe(output=str(tmp_path / "x"))
    with pytest.raises(ValueError, match="hard or soft"):
        PRMRecipe(labels=["x"], label_type="both", output=str(tmp_path / "x"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no labels"):
        run_prm_(_recipe(str(tmp_path / "empty"), tmp_path / "y"))


def run_prm_(cfg):
    from deepmath.train.prm import run_prm

    return run_prm(cfg)


def test_step_metrics_auc_is_the_share_of_good_bad_pairs_ranked_right():
    # pairs (good, bad): (0.35, 0.1) right, (0.35, 0.4) wrong, (0.8, 0.1) right, (0.8, 0.4) right -> 3/4
    assert step_metrics([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])["auc"] == 0.75
    assert step_metrics([0.5, 0.5], [0, 1])["auc"] == 0.5  # a tie counts half
    assert step_metrics([0.9, 0.2], [0, 1])["auc"] == 0.0
    assert step_metrics([0.9, 0.2], [1, 1])["auc"] is None  # one class only: undefined
