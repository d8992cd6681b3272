"""Nothing a user owns is lost: output folders are required, owned, locked, and cleared only when ours."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from deepmath.cli import main
from deepmath.config import ConfigError
from deepmath.outputs import OWNER_MARKER, OutputLock, check_output, has_progress
from deepmath.stage import StageResult, StageStats, run_stage

ROOT = Path(__file__).resolve().parents[2]


def _corpus(path: Path, n: int = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as handle:
        for i in range(n):
            handle.write(json.dumps({"id": f"d{i}", "text": f"page {i} about the integral of x^{i} dx"}) + "\n")
    return path


def _user_folder(path: Path) -> dict[Path, bytes]:
    """A folder like a user's checkout: a file and a .git folder; returns its files and their bytes."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "README.md").write_text("my own readme\n")
    (path / ".git").mkdir()
    (path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}


@pytest.mark.parametrize("extra", [[], ["--overwrite"]], ids=["plain", "overwrite"])
def test_a_stage_without_output_touches_nothing(tmp_path, monkeypatch, capsys, extra):
    corpus = _corpus(tmp_path / "in" / "c.jsonl.gz")
    work = tmp_path / "checkout"
    before = _user_folder(work)
    monkeypatch.chdir(work)
    assert main(["dedup", str(corpus), *extra]) == 2
    err = capsys.readouterr().err
    assert "an output folder is required" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("output", [".", "..", "~"])
def test_the_working_directory_a_parent_or_home_is_refused(tmp_path, monkeypatch, output):
    work = tmp_path / "a" / "b"
    before = _user_folder(work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(work))
    corpus = _corpus(tmp_path / "in" / "c.jsonl.gz")
    assert main(["dedup", str(corpus), "--output", output, "--overwrite"]) == 2
    assert {p: p.read_bytes() for p in work.rglob("*") if p.is_file()} == before


def test_a_repository_root_is_refused_even_from_elsewhere(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    before = _user_folder(repo)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="repository root"):
        check_output("dedup", repo)
    assert {p: p.read_bytes() for p in repo.rglob("*") if p.is_file()} == before


def test_overwrite_refuses_a_folder_deepmath_did_not_make(tmp_path, capsys):
    corpus = _corpus(tmp_path / "in" / "c.jsonl.gz")
    mine = tmp_path / "photos"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"\xff\xd8 not really")
    assert main(["dedup", str(corpus), "--output", str(mine), "--overwrite"]) == 2
    assert "did not write" in capsys.readouterr().err
    assert (mine / "holiday.jpg").read_bytes() == b"\xff\xd8 not really"


def test_an_output_that_is_a_file_is_a_one_line_error(tmp_path, capsys):
    corpus = _corpus(tmp_path / "in" / "c.jsonl.gz")
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert main(["dedup", str(corpus), "--output", str(target)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is a file" in err[0]


def test_overwrite_never_deletes_an_input(tmp_path):
    out = tmp_path / "out"
    calls = []

    def body(run):
        calls.append(run.output)
        (run.output / "data").mkdir(exist_ok=True)
        (run.output / "data" / "x.jsonl").write_text("{}\n")
        return StageResult(StageStats(rows_in=1, rows_out=1))

    class Cfg:
        pass

    from dataclasses import dataclass

    @dataclass
    class Config:
        input: str
        output: str
        overwrite: bool = False

    run_stage("toy", Config(input="elsewhere", output=str(out)), body)
    inner = str(out / "data" / "x.jsonl")
    with pytest.raises(ConfigError, match="would delete the input"):
        run_stage("toy", Config(input=inner, output=str(out), overwrite=True), body)
    assert Path(inner).exists()


def test_a_failed_run_does_not_block_the_corrected_one(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["dedup", str(tmp_path / "missing.jsonl.gz"), "--output", str(out)]) == 2
    assert not out.exists(), "a run that failed before doing any work leaves nothing behind"
    corpus = _corpus(tmp_path / "in" / "c.jsonl.gz")
    assert main(["dedup", str(corpus), "--output", str(out)]) == 0
    assert (out / "_SUCCESS").exists() and (out / OWNER_MARKER).exists()


def test_progress_is_data_checkpoints_or_finished_tasks(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    for name in ("config.yaml", "_config_hash.json", ".lock", OWNER_MARKER):
        (out / name).write_text("x")
    (out / "_logs" / "main" / "completions").mkdir(parents=True)
    (out / "data").mkdir()
    assert not has_progress(out)
    (out / "_logs" / "main" / "completions" / "00000").write_text("")
    assert has_progress(out)


def test_a_second_run_on_the_same_folder_refuses_with_the_owner_pid(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
                import sys, time
                from pathlib import Path
                from deepmath.outputs import OutputLock
                with OutputLock("dedup", Path({str(out)!r})):
                    print("locked", flush=True)
                    time.sleep(60)
            """),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=f"pid {holder.pid}"), OutputLock("dedup", out):
            pass
    finally:
        holder.kill()
        holder.wait()
    # the holder died without unlocking: its stale lock is taken over
    with OutputLock("dedup", out) as lock:
        assert (out / ".lock").read_text().strip() == str(os.getpid())
        assert lock is not None


_ORPHAN_SCRIPT = """
import os, sys, time
from pathlib import Path
from datatrove.pipeline.base import PipelineStep
from deepmath.executors import ExecutorConfig, run_pipeline

class Sleep(PipelineStep):
    name = "sleep"
    def __init__(self, folder):
        super().__init__()
        self.folder = folder
    def run(self, data=None, rank=0, world_size=1):
        Path(self.folder, f"{rank}.pid").write_text(str(os.getpid()))
        time.sleep(120)
        yield from []

folder = sys.argv[1]
run_pipeline([Sleep(folder)], ExecutorConfig(workers=2), Path(folder) / "logs", tasks=2)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead (it only waits for its reaper)
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="parent-death signals are Linux-only")
def test_kill_9_of_the_main_process_leaves_no_worker(tmp_path):
    main_process = subprocess.Popen([sys.executable, "-c", _ORPHAN_SCRIPT, str(tmp_path)], cwd=ROOT)
    try:
        deadline = time.time() + 60
        while len(list(tmp_path.glob("*.pid"))) < 2 and time.time() < deadline:
            time.sleep(0.1)
        pids = [int(p.read_text()) for p in tmp_path.glob("*.pid")]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
        os.kill(main_process.pid, signal.SIGKILL)
        main_process.wait()
        deadline = time.time() + 20
        while any(_alive(pid) for pid in pids) and time.time() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in pids if _alive(pid)], "workers outlived the killed main process"
    finally:
        main_process.kill()
        for pid_file in tmp_path.glob("*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)


def test_user_mistakes_are_one_line_with_exit_code_2(tmp_path):
    cases = [
        ["dedup", str(tmp_path / "nope" / "x.jsonl.gz"), "--output", str(tmp_path / "o1")],
        ["dedup", str(tmp_path / "empty_dir"), "--output", str(tmp_path / "o2")],
        ["dedup", str(tmp_path / "*.none"), "--output", str(tmp_path / "o3")],
        ["run", str(ROOT / "pipelines" / "demo.yaml"), "--only", "mien", "--output", str(tmp_path / "o4")],
        ["train", "grop", "x.yaml"],
        ["dedup", "--workers", "-3", str(tmp_path), "--output", str(tmp_path / "o5")],
    ]
    (tmp_path / "empty_dir").mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for argv in cases:
        done = subprocess.run(
            [sys.executable, "-m", "deepmath", *argv], capture_output=True, text=True, env=env, timeout=120
        )
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        assert done.returncode == 2, (argv, done.stderr)
        assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in done.stderr, (argv, done.stderr)
    assert not (tmp_path / "o4").exists(), "--only was checked before anything ran"


def test_only_with_a_typo_names_the_close_stage(capsys, tmp_path):
    assert main(["run", str(ROOT / "pipelines" / "demo.yaml"), "--only", "mien", "--output", str(tmp_path)]) == 2
    assert "did you mean: mine" in capsys.readouterr().err


def test_folders_of_an_earlier_version_are_recognised_as_ours(tmp_path):
    from deepmath.outputs import is_owned

    run = tmp_path / "demo_output"
    (run / "ingest").mkdir(parents=True)
    assert not is_owned(run)
    (run / "ingest" / "config.yaml").write_text("{}\n")
    (run / "ingest" / "_SUCCESS").write_text("{}")
    assert is_owned(run / "ingest") and is_owned(run), "a run folder of stage folders, written before the marker"
    assert check_output("run demo", run) == run
