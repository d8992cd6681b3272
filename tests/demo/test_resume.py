"""Killing `deepmath run pipelines/demo.yaml` in the middle of a stage and re-running gives the same outputs.

The recipe's first stages (demo-data, ingest, mine, dedup) on a small world: one uninterrupted run, and one run
that is SIGKILLed twice (during ingest, once a first extraction task finished; during mining, once iteration 1
finished) and then re-run to the end. Every document shard must hold the same ids and texts in both.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # four runs of the first stages: about a minute on 2 idle cores

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("demo-data", "ingest", "mine", "dedup")
SMALL_WORLD = {
    "n_pages": 400,
    "warc_files": 4,
    "n_seeds": 80,
    "n_benchmark": 20,
    "n_quoting_pages": 10,
    "n_cot": 40,
    "n_pot": 20,
    "n_rl": 20,
}


def _recipe(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "pipelines" / "demo.yaml").read_text())
    stages = [dict(s) for s in data["stages"] if s["stage"] in STAGES]
    assert [s["stage"] for s in stages] == list(STAGES)
    stages[0].update(SMALL_WORLD)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump({"name": "resume", "stages": stages}))
    return path


def _start(recipe: Path, out: Path, log: Path) -> subprocess.Popen:
    handle = open(log, "ab")  # noqa: SIM115 - closed by the caller through proc.stderr
    return subprocess.Popen(
        [sys.executable, "-m", "deepmath", "run", str(recipe), "--output", str(out)],
        stdout=handle,
        stderr=handle,
        start_new_session=True,
        cwd=str(ROOT),
    )


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 300) -> bool:
    """SIGKILL the run's whole process group (it and its workers) once `ready()`; False if it ended first."""
    deadline = time.time() + timeout
    while proc.poll() is None and time.time() < deadline:
        if ready():
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.02)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail("the run did not reach the kill point in time")
    return False


def _documents(folder: Path) -> list[tuple[str, str]]:
    docs = []
    for path in sorted(folder.rglob("*.jsonl.gz")):
        if "_logs" in path.parts or "_work" in path.parts:
            continue
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            docs += [(row["id"], row["text"]) for row in map(json.loads, handle)]
    return sorted(docs)


def test_killed_run_resumes_to_the_same_outputs(tmp_path):
    recipe = _recipe(tmp_path)
    log = tmp_path / "runs.log"
    reference = tmp_path / "reference"
    assert _start(recipe, reference, log).wait() == 0, log.read_text()[-3000:]

    out = tmp_path / "killed"
    extract_done = out / "ingest" / "_logs" / "extract" / "completions"
    killed = _kill_when(_start(recipe, out, log), lambda: extract_done.is_dir() and any(extract_done.iterdir()))
    assert killed and not (out / "ingest" / "_SUCCESS").exists(), "the kill landed during ingest"
    iteration_done = out / "mine" / "iteration_1" / "metrics.json"
    killed = _kill_when(_start(recipe, out, log), iteration_done.exists)
    assert killed and (out / "ingest" / "_SUCCESS").exists() and not (out / "mine" / "_SUCCESS").exists()
    assert _start(recipe, out, log).wait() == 0, log.read_text()[-3000:]

    for stage in STAGES:
        assert (out / stage / "_SUCCESS").exists()
    for folder in ("ingest", "mine", "dedup"):
        expected = _documents(reference / folder)
        assert expected, folder
        assert _documents(out / folder) == expected, folder
    for path in sorted((reference / "demo-data").rglob("*")):
        if path.is_file() and path.suffix in (".gz", ".jsonl"):
            assert path.read_bytes() == (out / path.relative_to(reference)).read_bytes(), path
