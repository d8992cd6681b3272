"""A real kill: `deepmath train rft|online-rft|dpo` in a subprocess, SIGKILLed once a checkpoint exists, then re-run:
the re-run resumes from that checkpoint and finishes (about a minute per method on 2 cores)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.train.methods_micro import COMMON, ONLINE, SAMPLED

ROOT = Path(__file__).resolve().parents[2]
# the offline methods' sampler is scripted (a micro model is never right); the rest is the real CLI
SCRIPT = """
import sys
import deepmath.train.sampling as sampling
from tests.train.methods_micro import scripted_samples
from deepmath.cli import main
sampling._generate = scripted_samples
sys.exit(main(sys.argv[1:]))
"""


def _start(method, recipe, out):
    argv = [sys.executable, "-c", SCRIPT, "train", method, str(recipe), "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rft", "online-rft", "dpo"])
def test_killed_run_resumes_from_its_checkpoint(method, tmp_path):
    recipe = tmp_path / "recipe.yaml"
    extra = ONLINE if method == "online-rft" else SAMPLED
    recipe.write_text(yaml.safe_dump({**COMMON, **extra, "max_steps": 60, "save_steps": 1, "save_total_limit": 2}))
    out = tmp_path / "run"
    process = _start(method, recipe, out)
    deadline = time.time() + 600
    while not list(out.glob("checkpoint-*/trainer_state.json")) and time.time() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-2000:]
        time.sleep(0.2)
    time.sleep(0.5)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "_SUCCESS").exists() and not (out / "model").exists()

    process = _start(method, recipe, out)
    _, err = process.communicate(timeout=900)
    assert process.returncode == 0, err.decode()[-2000:]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["resumed_from"] and "checkpoint-" in stats["resumed_from"]
    assert (out / "_SUCCESS").exists() and (out / "model" / "config.json").exists()
