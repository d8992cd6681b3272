"""A quiet console by default: deepmath's own lines; datatrove's task blocks only in log files (or with -v)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _corpus(folder: Path, files: int = 3) -> Path:
    folder.mkdir(parents=True)
    for f in range(files):
        with gzip.open(folder / f"part{f}.jsonl.gz", "wt") as handle:
            for i in range(20):
                text = f"document {f}-{i}: the derivative of x^{i} is {i} x^{i - 1}, shown step by step."
                handle.write(json.dumps({"id": f"{f}-{i}", "text": text}) + "\n")
    return folder


def _run(*argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "deepmath", *argv], capture_output=True, text=True, env=env, timeout=300
    )


def test_a_corpus_stage_prints_a_few_lines_and_logs_the_rest(tmp_path):
    corpus = _corpus(tmp_path / "in")
    quiet = _run("dedup", str(corpus), "--output", str(tmp_path / "quiet"), "--workers", "2")
    assert quiet.returncode == 0, quiet.stderr
    lines = [line for line in quiet.stderr.splitlines() if line.strip()]
    assert "Stats" not in quiet.stderr and "Launching pipeline" not in quiet.stderr
    assert len(lines) <= 2, quiet.stderr  # "dedup: done -> OUT" (+ at most one warning)
    logs = list((tmp_path / "quiet" / "_logs").rglob("task_*.log"))
    assert logs and any("Stats" in p.read_text() or "PIPELINE" in p.read_text() for p in logs)
    verbose = _run("-v", "dedup", str(corpus), "--output", str(tmp_path / "verbose"), "--workers", "2")
    assert verbose.returncode == 0
    assert "Launching pipeline" in verbose.stderr, "-v shows datatrove's task output"


def test_tasks_in_forkserver_workers_are_quiet_too(tmp_path, monkeypatch):
    """With another thread running, workers start from a forkserver (a fresh interpreter): still quiet."""
    code = (
        "import threading, time, sys\n"
        "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()\n"
        "from deepmath.cli import main\n"
        f"sys.exit(main(['dedup', {str(_corpus(tmp_path / 'in'))!r}, '--output', {str(tmp_path / 'o')!r},"
        " '--workers', '2']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "Launching pipeline" not in done.stderr and "Stats" not in done.stderr, done.stderr
    assert threading.main_thread().is_alive()
