"""Every command the README shows runs as written (tiny inputs where it names a user's files).

The commands of the "What is inside" table run one after another in a scratch folder laid out as the README
assumes (`crawl/*.warc.gz`, `seeds/`, `pipelines/`, `../shared/data`); the Python blocks run as they are. The
corpus chain is in the default suite; the training chain (minutes on CPU) is `slow`. The first bash block is
what CI runs (`test_readme_ci.py`), the second is `tests/demo/test_demo_full.py`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _table_commands() -> dict[str, str]:
    """stage label -> its command, from the README's stage table."""
    commands = {}
    for label, command in re.findall(r"^\| ([^|]+?) \| `([^`]+)` \|", README, re.M):
        if command.startswith(("deepmath ", "python -m rewards")):
            commands[label.strip()] = command.replace("\\|", "|")  # a pipe escaped inside the table
    return commands


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def test_the_table_lists_every_stage_command():
    commands = _table_commands()
    expected = {"ingest", "mine", "dedup", "decontam", "sft-mix", "pretrain", "train", "train (paradigm)", "compare"}
    expected |= {"label-steps", "prm", "eval", "eval (benchmarks)", "eval (regrade)", "eval-lm", "rewards"}
    expected |= {"iterative-rl"}
    assert expected <= set(commands)


def _run(command: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    argv = shlex.split(command)
    if argv[0] == "deepmath":
        argv = [sys.executable, "-m", "deepmath", *argv[1:]]
    elif argv[:2] == ["python", "-m"]:
        argv = [sys.executable, *argv[1:]]
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DEEPMATH_BENCHMARKS_DIR": str(require_shared("benchmarks")),
        "DEEPMATH_CACHE_DIR": str(cwd / ".cache"),
    }
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A scratch folder shaped like the README's examples: a crawl, seeds, the recipes and ../shared/data."""
    shared = require_shared()
    top = tmp_path_factory.mktemp("readme")
    (top / "shared").symlink_to(shared.parent)
    work = top / "work"
    work.mkdir()
    (work / "pipelines").symlink_to(ROOT / "pipelines")
    world = top / "world"
    _run(f"deepmath demo-data {world} --n-pages 400 --n-seeds 120 --n-cot 50 --n-pot 10 --n-rl 40", top)
    (work / "crawl").mkdir()
    for warc in sorted((world / "warc").glob("*.warc.gz")):
        shutil.copy(warc, work / "crawl" / warc.name)
    shutil.copytree(world / "seeds", work / "seeds")
    return work


@pytest.fixture(scope="module")
def corpus_chain(workspace):
    commands = _table_commands()
    for label in ("ingest", "mine", "dedup", "decontam"):
        _run(commands[label], workspace)
    return workspace


def test_the_corpus_commands_run_as_written(corpus_chain):
    for stage in ("ingest", "mine", "dedup", "decontam"):
        assert (corpus_chain / "out" / stage / "_SUCCESS").exists(), stage
        assert list((corpus_chain / "out" / stage / "data").iterdir()), stage


def test_the_rewards_command_and_the_regrade_command_run_as_written(workspace):
    commands = _table_commands()
    done = _run(commands["rewards"], workspace)
    assert "True" in done.stdout or "correct" in done.stdout.lower()
    source = require_shared("answer_checking", "qwen_math_cot_100")
    outputs = next(p for p in sorted(source.iterdir()) if p.suffix == ".jsonl")
    shutil.copy(outputs, workspace / "outputs.jsonl")
    _run(commands["eval (regrade)"], workspace)
    assert (workspace / "out" / "regrade" / "metrics.json").exists()


def test_the_python_blocks_run_as_written():
    calls = []

    def grpo_trainer(*args, **kwargs):  # stands in for TRL's class: the block only shows where the rewards go
        calls.append(kwargs)

    for block in _blocks("python"):
        namespace = {"GRPOTrainer": grpo_trainer}
        exec(compile(block, "README.md", "exec"), namespace)
    assert calls and all(callable(f) for f in calls[0]["reward_funcs"])


def test_the_main_command_is_the_one_the_demo_test_runs():
    bash = _blocks("bash")
    assert len(bash) >= 2
    assert bash[1].strip() == ".venv/bin/deepmath run pipelines/demo.yaml"
    assert '"run", str(ROOT / "pipelines" / "demo.yaml")' in (ROOT / "tests/demo/test_demo_full.py").read_text()


@pytest.mark.slow
def test_the_training_and_eval_commands_run_as_written(corpus_chain):
    """sft-mix over ../shared/data, GRPO on the tiny recipe, then both eval forms on its model (minutes)."""
    commands = _table_commands()
    work = corpus_chain
    _run(commands["sft-mix"], work, timeout=1800)
    small_eval = " --eval-k 2 --eval-max-problems 4 --eval-max-new-tokens 8"  # compare needs an evaluation
    _run(commands["train"] + " --max-steps 4" + small_eval, work, timeout=1800)
    shutil.copy(work / "out" / "grpo" / "data" / "test.jsonl", work / "test.jsonl")
    _run(commands["eval"] + " --output out/eval --max-new-tokens 8", work)
    benchmarks = commands["eval (benchmarks)"].replace(" M ", " out/grpo/model ")
    _run(benchmarks + " --output out/bench --max-problems 2 --max-new-tokens 8", work)
    _run(commands["pretrain"] + " --max-tokens 8192", work, timeout=1800)
    _run(commands["eval-lm"] + " --output out/evallm --max-items 5", work)
    _run(commands["train (paradigm)"].replace("rft|online-rft|dpo", "rft") + " --max-steps 2" + small_eval, work)
    _run(commands["compare"], work)
    _run(commands["label-steps"] + " --tiny-problems 8 --rollouts 2", work)
    _run(commands["prm"] + " --num-train-epochs 1", work, timeout=1800)
    # the process-supervision recipe as written, shrunk to seconds per stage (same stages, two rounds)
    _run(commands["iterative-rl"].replace("pipelines/process_supervision_tiny.yaml", _small_ps_recipe(work)), work)
    for folder in ("sft", "grpo", "eval", "bench", "pt", "evallm", "rft", "compare", "labels", "prm"):
        assert (work / "out" / folder / "_SUCCESS").exists(), folder
    for folder in ("sft", "iterative-rl", "iterative-rl/round-2/grpo", "iterative-rl/round-2/prm"):
        assert (work / "out" / "ps" / folder / "_SUCCESS").exists(), folder


def _small_ps_recipe(work: Path) -> str:
    """pipelines/process_supervision_tiny.yaml with every budget cut to a few steps (the README command's shape)."""
    import yaml

    recipe = yaml.safe_load((ROOT / "pipelines" / "process_supervision_tiny.yaml").read_text())
    sft, iterative = recipe["stages"]
    small_eval = {"eval_k": 2, "eval_max_new_tokens": 8, "eval_batch_problems": 8}
    sft.update(tiny_problems=60, tiny_test_problems=8, max_steps=2, save_steps=1, **small_eval)
    iterative.update(sample_questions=8)
    iterative["label"].update(rollouts=2, max_new_tokens=16, batch_solutions=8)
    iterative["prm"].update(num_train_epochs=1)
    iterative["grpo"].update(tiny_problems=60, tiny_test_problems=8, max_steps=2, save_steps=1, **small_eval)
    iterative["grpo"].update(per_device_train_batch_size=16, max_completion_length=16)
    path = work / "ps_small.yaml"
    path.write_text(yaml.safe_dump(recipe))
    return path.name
