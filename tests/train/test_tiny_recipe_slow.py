"""The full tiny recipe (minutes on 2 CPU cores): GRPO must raise held-out pass@1 and maj@k by >= 0.10."""

import json
import time
from pathlib import Path

import pytest

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"


@pytest.mark.slow
def test_grpo_tiny_recipe_improves_the_held_out_split(tmp_path):
    from deepmath.cli import main

    out = tmp_path / "grpo_tiny"
    start = time.time()
    assert main(["train", "grpo", str(PIPELINES / "grpo_tiny.yaml"), "--output", str(out)]) == 0
    minutes = (time.time() - start) / 60
    metrics = json.loads((out / "metrics.json").read_text())
    before, after = metrics["eval_before"], metrics["eval_after"]
    print(f"tiny recipe: {minutes:.1f} min; before {before}; after {after}")
    assert after["pass@1"] - before["pass@1"] >= 0.10
    assert after["maj@k"] - before["maj@k"] >= 0.10
    assert (out / "reward_curve.png").exists() and (out / "_SUCCESS").exists()
