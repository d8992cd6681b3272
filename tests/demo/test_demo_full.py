"""The README's main command, end to end: `deepmath run pipelines/demo.yaml`, then again (minutes: `slow`).

The first run keeps the console quiet (under 100 lines on stderr at default verbosity); the second run must skip
every stage: each says it is complete, and no file changes.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from deepmath.stats import check_stats

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _tree(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "_logs" not in p.relative_to(folder).parts
    }


def _run(out: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "deepmath", "run", str(ROOT / "pipelines" / "demo.yaml"), "--output", str(out)],
        capture_output=True,  # bytes: text mode would turn a progress bar's carriage returns into new lines
        cwd=str(ROOT),
        check=False,
    )
    result.stdout, result.stderr = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, result.stderr[-4000:]
    assert "report:" in result.stdout  # the one-screen summary ends with the report's path
    return result


def test_demo_runs_then_resumes_without_changes(tmp_path):
    out = tmp_path / "demo"
    first = _run(out)
    # newline-ended lines: a progress bar redraws itself with carriage returns on one line
    lines = [line for line in first.stderr.split("\n") if line.strip()]
    assert len(lines) < 100, "\n".join(lines[:120])
    before = _tree(out)
    second = _run(out)
    assert _tree(out) == before
    assert second.stderr.count("already complete") == 12, second.stderr

    assert (out / "report" / "report.html").exists() and (out / "report" / "report.md").exists()
    report = json.loads((out / "report" / "stats.json").read_text())
    assert report["missing"] == [], report["missing"]
    stages = [d for d in out.iterdir() if (d / "stats.json").exists()]
    assert len(stages) == 12  # + pretrain, pretrain-ablation
    units = {}
    for folder in stages:
        assert (folder / "_SUCCESS").exists(), folder
        assert (folder / "README.md").read_text().startswith("---"), folder  # a card in every stage folder
        stats = json.loads((folder / "stats.json").read_text())
        assert check_stats(stats) == [], (folder.name, check_stats(stats))  # one vocabulary, the right types
        units[stats["stage"]] = stats["unit"]
    assert {s for s, unit in units.items() if unit == "documents"} == {
        "demo-data",
        "ingest",
        "mine",
        "dedup",
        "decontam",
    }
    assert sum((d / "data").is_dir() for d in stages) >= 4
