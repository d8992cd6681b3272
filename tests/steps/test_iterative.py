"""`deepmath train iterative-rl`: two rounds end to end on CPU (tiny sizes), replay share, reference reset, resume."""

import json
import os

import pytest
import torch

from deepmath.config import ConfigError, from_dict
from deepmath.train.iterative import replay_rows, run_iterative_rl
from deepmath.train.iterative_config import IterativeRLRecipe
from tests.stage_folder import assert_stage_stats
from tests.steps.micro import MULTISTEP_GRPO, TINY


def _recipe(policy, out, **kw) -> IterativeRLRecipe:
    data = {
        "policy": policy,
        "output": str(out),
        "rounds": 2,
        "sample_questions": 20,
        "sample_max_new_tokens": 24,
        "label": {"rollouts": 2, "max_new_tokens": 24},
        "prm": {
            "model": "tiny",
            "max_steps": 2,
            "per_device_train_batch_size": 8,
            "save_strategy": "no",
            "use_cpu": True,
            **TINY,
        },
        "grpo": {**MULTISTEP_GRPO, "learning_rate": 1e-3},
        **kw,
    }
    return from_dict(IterativeRLRecipe, data)


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    from deepmath.train.config import SFTRecipe
    from deepmath.train.sft import run_sft

    out = tmp_path_factory.mktemp("iter") / "sft"
    cfg = from_dict(
        SFTRecipe,
        {
            "model": "tiny",
            "dataset": ["tiny-multistep"],
            "tiny_problems": 80,
            "tiny_test_problems": 10,
            **TINY,
            "output": str(out),
            "max_steps": 10,
            "learning_rate": 3e-3,
            "per_device_train_batch_size": 16,
            "max_length": 96,
            "eval_k": 0,
            "use_cpu": True,
            "save_strategy": "no",
            "bf16": False,
        },
    )
    run_sft(cfg)
    return str(out / "model")


@pytest.fixture(scope="module")
def two_rounds(policy, tmp_path_factory):
    """A full 2-round run; the GRPO trainers it builds are kept (to read their reference models)."""
    import deepmath.train.grpo as grpo

    out = tmp_path_factory.mktemp("iter") / "run"
    trainers = []
    original = grpo.build_trainer

    def keep(*args, **kwargs):
        trainer, tokenizer = original(*args, **kwargs)
        trainers.append(trainer)
        return trainer, tokenizer

    grpo.build_trainer = keep
    try:
        stats = run_iterative_rl(_recipe(policy, out))
    finally:
        grpo.build_trainer = original
    return out, stats, trainers


def test_replay_rows_take_the_exact_share_seeded_and_in_order():
    history = [{"i": i} for i in range(57)]
    chosen = replay_rows(history, 0.1, seed=3)
    assert len(chosen) == 6  # round(5.7)
    assert [r["i"] for r in chosen] == sorted(r["i"] for r in chosen)
    assert chosen == replay_rows(history, 0.1, seed=3) and chosen != replay_rows(history, 0.1, seed=4)
    assert replay_rows(history, 0.0, seed=3) == [] and len(replay_rows(history, 1.0, seed=3)) == 57


def test_every_round_is_a_folder_of_finished_stages(two_rounds):
    out, stats, _ = two_rounds
    for r in (1, 2):
        assert_stage_stats(out / f"round-{r}" / "samples", "iterative-samples", "solutions")
        assert_stage_stats(out / f"round-{r}" / "labels", "label-steps", "solutions")
        assert_stage_stats(out / f"round-{r}" / "prm", "train-prm", "solutions")
        assert (out / f"round-{r}" / "grpo" / "_SUCCESS").exists()
    assert_stage_stats(out / "round-2" / "replay", "iterative-replay", "solutions")
    assert not (out / "round-1" / "replay").exists()  # no history before round 1
    outer = assert_stage_stats(out, "train-iterative-rl", "solutions")
    labelled = [json.loads((out / f"round-{r}" / "labels" / "stats.json").read_text())["rows_out"] for r in (1, 2)]
    assert (outer["rows_in"], outer["rows_out"]) == (40, sum(labelled))  # 20 sampled per round; all labelled
    assert [x["round"] for x in stats["rounds"]] == [1, 2]
    assert stats["model"] == str(out / "round-2" / "grpo" / "model")
    samples = (out / "round-1" / "samples" / "data" / "solutions.jsonl").read_text().splitlines()
    assert samples and all("gold_steps" in json.loads(line) for line in samples)  # the tiny task's ground truth


def test_round_two_replays_the_exact_share_of_round_one_labels(two_rounds):
    from deepmath.steps.labels import read_labels

    out, _, _ = two_rounds
    old = read_labels(out / "round-1" / "labels")
    replayed = read_labels(out / "round-2" / "replay")
    assert len(replayed) == round(0.1 * len(old)) > 0
    assert all(row in old for row in replayed)
    stats = json.loads((out / "round-2" / "replay" / "stats.json").read_text())
    assert (stats["rows_in"], stats["rows_out"]) == (len(old), len(replayed))
    prm_config = (out / "round-2" / "prm" / "config.yaml").read_text()
    import yaml

    prm = yaml.safe_load(prm_config)
    assert prm["labels"] == [str(out / "round-2" / "labels"), str(out / "round-2" / "replay")]
    assert prm["model"] == str(out / "round-1" / "prm" / "model")  # the PRM keeps training


def test_round_two_policy_and_reference_are_round_one_final_policy(two_rounds, policy):
    from transformers import AutoModelForCausalLM

    out, _, trainers = two_rounds
    assert len(trainers) == 2
    round_one = AutoModelForCausalLM.from_pretrained(out / "round-1" / "grpo" / "model").state_dict()
    start = AutoModelForCausalLM.from_pretrained(policy).state_dict()
    assert any(not torch.equal(round_one[k], start[k]) for k in round_one)  # round 1 did move the policy
    for trainer, expected in ((trainers[0], start), (trainers[1], round_one)):
        reference = trainer.ref_model.state_dict()
        assert all(torch.equal(reference[k].cpu(), expected[k]) for k in expected)


def test_a_rerun_after_a_kill_in_round_two_redoes_only_round_two(two_rounds, policy):
    import shutil

    out, _, _ = two_rounds
    before = {p: p.stat().st_mtime_ns for p in out.glob("round-1/*/_SUCCESS")}
    (out / "_SUCCESS").unlink()  # as if killed during round 2's GRPO: its folder holds no finished model
    shutil.rmtree(out / "round-2" / "grpo")
    stats = run_iterative_rl(_recipe(policy, out))
    assert {p: p.stat().st_mtime_ns for p in out.glob("round-1/*/_SUCCESS")} == before
    assert (out / "round-2" / "grpo" / "_SUCCESS").exists() and (out / "_SUCCESS").exists()
    assert stats["model"] == str(out / "round-2" / "grpo" / "model")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"grpo": {"dataset": ["tiny-multistep"], "model": "x"}}, "set by each round"),
        ({"label": {"rolouts": 2}}, "rolouts"),
        ({"prm": {"learning_rate": [1]}}, "learning_rate"),
        ({"replay_fraction": 1.5}, "replay_fraction"),
        ({"grpo": {}}, "grpo.dataset"),
    ],
)
def test_bad_recipes_are_one_line_config_errors(tmp_path, change, message):
    data = {"policy": "p", "output": str(tmp_path), "grpo": {"dataset": ["tiny-multistep"]}, **change}
    with pytest.raises(ConfigError, match=message):
        from_dict(IterativeRLRecipe, data)


def test_a_missing_policy_or_prm_folder_is_a_one_line_error_before_any_work(tmp_path, policy):
    with pytest.raises(ConfigError, match="is not a model folder"):
        run_iterative_rl(_recipe(str(tmp_path / "nope"), tmp_path / "a"))
    with pytest.raises(ConfigError, match="initial_prm"):
        run_iterative_rl(_recipe(policy, tmp_path / "b", initial_prm=str(tmp_path / "nope")))
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # nothing left behind


@pytest.mark.slow
def test_sigkill_in_round_two_then_rerun_skips_round_one(policy, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    import yaml

    cfg = _recipe(policy, tmp_path / "run")
    recipe = tmp_path / "iter.yaml"
    fields = {k: getattr(cfg, k) for k in ("policy", "rounds", "sample_questions", "sample_max_new_tokens")}
    fields.update(
        grpo={**cfg.grpo, "max_steps": 30, "save_strategy": "steps", "save_steps": 1}, prm=cfg.prm, label=cfg.label
    )
    recipe.write_text(yaml.safe_dump(fields))
    command = [
        sys.executable,
        "-m",
        "deepmath",
        "train",
        "iterative-rl",
        str(recipe),
        "--output",
        str(tmp_path / "run"),
    ]
    child = subprocess.Popen(command, start_new_session=True, env=os.environ.copy())
    checkpoint = tmp_path / "run" / "round-2" / "grpo"
    deadline = time.time() + 600
    while not list(checkpoint.glob("checkpoint-*")) and time.time() < deadline and child.poll() is None:
        time.sleep(0.5)
    assert child.poll() is None, "finished before it could be killed"
    os.killpg(child.pid, signal.SIGKILL)
    child.wait()
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "run").glob("round-1/*/_SUCCESS")}
    assert len(before) == 4 and not (checkpoint / "_SUCCESS").exists()
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    assert done.returncode == 0, done.stderr[-2000:]
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "run").glob("round-1/*/_SUCCESS")} == before
    assert (checkpoint / "_SUCCESS").exists()
    log = json.loads((checkpoint / "stats.json").read_text())
    assert log["resumed_from"]  # round 2's GRPO went on from its checkpoint
