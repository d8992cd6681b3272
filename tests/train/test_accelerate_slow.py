"""`accelerate launch --num_processes 2` (gloo, CPU) of grpo_tiny.yaml, shrunk to a few steps: completes, writes
each stage file once (rank 0), evaluates once; a second launch finds the finished stages, and a launch into an
interrupted run resumes from its last checkpoint.

accelerate's `--cpu` runs several CPU processes only through MPI (`--mpirun_hostfile`); without it, one process.
`--multi_gpu` launches through torchrun instead, and on a machine without CUDA the processes use gloo on the CPU
(`use_cpu: true` in the recipe): two real ranks, which the test checks before anything else."""

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

SHRINK = {
    "tiny_problems": 200,
    "tiny_test_problems": 10,
    "tiny_hidden_size": 32,
    "tiny_layers": 2,
    "tiny_heads": 2,
    "tiny_vocab_size": 300,
    "num_generations": 4,
    "per_device_train_batch_size": 8,  # x 2 processes = 16 completions = 4 prompts per step
    "max_completion_length": 12,
    "max_steps": 2,
    "save_steps": 1,
    "logging_steps": 1,
    "eval_k": 2,
    "eval_max_new_tokens": 12,
}


def _launch(recipe: Path, out: Path, log: Path) -> subprocess.CompletedProcess:
    accelerate = shutil.which("accelerate") or str(Path(sys.executable).with_name("accelerate"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [
        accelerate,
        "launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
    ]
    command += ["--dynamo_backend", "no", str(ROOT / "tests/train/rank_driver.py"), str(log)]
    command += ["train", "grpo", str(recipe), "--output", str(out)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=1500, cwd=out.parent)


@pytest.mark.slow
def test_two_process_accelerate_launch_writes_once_evaluates_once_and_resumes(tmp_path):
    recipe = yaml.safe_load((ROOT / "pipelines/grpo_tiny.yaml").read_text())
    recipe.update(SHRINK)
    recipe["sft"].update({"max_steps": 4, "save_steps": 2, "logging_steps": 2, "per_device_train_batch_size": 8})
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out, log = tmp_path / "run", tmp_path / "writes.jsonl"

    result = _launch(path, out, log)
    assert result.returncode == 0, result.stderr[-3000:]
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    starts = [c for c in calls if c["call"] == "start"]
    assert sorted(c["rank"] for c in starts) == [0, 1] and {c["world"] for c in starts} == {"2"}
    calls = [c for c in calls if c["call"] != "start"]
    follower_files = [c for c in calls if c["rank"] != 0 and c["call"] != "evaluate_model"]
    assert follower_files == []  # rank 1 wrote no stage file, card, metrics or evaluation
    stage_files = Counter(
        (Path(c["path"]).parent.name, Path(c["path"]).name)
        for c in calls
        if Path(c["path"]).name in ("config.yaml", "stats.json", "_SUCCESS", "README.md", "metrics.json")
    )
    for folder in ("run", "sft"):  # the GRPO stage and its SFT stage
        for name in ("config.yaml", "stats.json", "_SUCCESS", "README.md", "metrics.json"):
            assert stage_files[(folder, name)] == 1, (folder, name, stage_files)
    evaluations = [c for c in calls if c["call"] == "evaluate_model"]
    assert [c["rank"] for c in evaluations] == [0, 0]  # before and after, once each, on the main process
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["eval_before"]["k"] == 2 and metrics["eval_after"]["problems"] == 10
    stats = json.loads((out / "stats.json").read_text())
    assert stats["eval_after"]["k"] == 2
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text())
    assert state["global_step"] == 2

    # a second launch resumes: the finished stage is found and nothing is written or evaluated again
    log.unlink()
    result = _launch(path, out, log)
    assert result.returncode == 0, result.stderr[-3000:]
    again = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted(c["rank"] for c in again) == [0, 1] and {c["call"] for c in again} == {"start"}
    assert json.loads((out / "stats.json").read_text()) == stats

    # an interrupted run (no _SUCCESS, no final model, no eval_after yet) resumes from its last checkpoint
    log.unlink()
    for done in (out / "_SUCCESS", out / "eval_after.json"):
        done.unlink()
    shutil.rmtree(out / "model")
    result = _launch(path, out, log)
    assert result.returncode == 0, result.stderr[-3000:]
    calls = [json.loads(line) for line in log.read_text().splitlines() if '"start"' not in line]
    assert [c for c in calls if c["rank"] != 0 and c["call"] != "evaluate_model"] == []
    assert [c["rank"] for c in calls if c["call"] == "evaluate_model"] == [0]  # eval_after only, once
    resumed = json.loads((out / "stats.json").read_text())
    assert resumed["resumed_from"].endswith("checkpoint-2") and (out / "_SUCCESS").exists()
    assert (out / "model" / "config.json").exists()
