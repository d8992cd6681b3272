"""Inputs that are not regular files, symlink loops and mistyped paths: counted skips or clear errors, never hangs
(each risky call runs in a subprocess bounded by a timeout) and never a hub lookup for a local-looking path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepmath.cli import main
from deepmath.io.inputs import InputError, resolve_inputs

REPO = Path(__file__).resolve().parents[2]


def _run(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env)


def _folder_with_pipe_and_loop(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.jsonl").write_text(json.dumps({"id": "a", "text": "hello"}) + "\n")
    (folder / "b.jsonl").write_text(json.dumps({"id": "b", "text": "world"}) + "\n")
    os.mkfifo(folder / "pipe.jsonl")  # nobody ever writes: opening it would block forever
    os.symlink("..", folder / "sub" / "loop")  # in/sub/loop/sub/loop/... never ends for a recursive glob
    os.symlink(folder / "sub", folder / "sub" / "loop2")
    return folder


@pytest.mark.parametrize("spec", ["{folder}", "{folder}/**/*.jsonl", "{folder}/*.jsonl"])
def test_pipes_and_symlink_loops_are_skipped_never_hang(tmp_path, spec):
    folder = _folder_with_pipe_and_loop(tmp_path)
    code = (
        "from deepmath.io.documents import DocumentReader\n"
        f"reader = DocumentReader({spec.format(folder=folder)!r})\n"
        "docs = sorted(d.id for d in reader.run(None, 0, 1))\n"
        "stats = reader.stats.stats\n"
        "links = stats['skipped_symlinked_folder'].total if 'skipped_symlinked_folder' in stats else 0\n"
        "print(docs, stats['skipped_not_regular_file'].total, links)\n"
    )
    result = _run(code, timeout=60)  # a hang fails here with TimeoutExpired
    assert result.returncode == 0, result.stderr[-2000:]
    recursive = "*.jsonl" not in spec or "**" in spec
    expected = "['a', 'b']" if recursive else "['b']"
    assert result.stdout.strip() == f"{expected} 1 {2 if recursive else 0}"  # loop and loop2: counted, not followed


def test_ingest_counts_a_named_pipe_and_a_symlink_loop(tmp_path):
    from tests.ingest.warc_fixtures import write_math_warc

    folder = tmp_path / "in"
    folder.mkdir()
    write_math_warc(folder / "a.warc.gz")
    os.mkfifo(folder / "pipe.warc.gz")
    os.symlink(folder, folder / "loop")
    out = tmp_path / "out"
    code = (
        f"from deepmath.cli import main; raise SystemExit(main(['ingest', {str(folder)!r}, '--output', {str(out)!r}]))"
    )
    result = _run(code, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    stats = json.loads((out / "stats.json").read_text())
    assert stats["dropped"]["not_regular_file"] == 1 and stats["rows_out"] > 3
    assert stats["dropped"]["symlinked_folder"] == 1


@pytest.mark.parametrize(
    "spec", ["in/does_not_exist.warc.gz", "data/missing.jsonl", "./owner/name", "../owner/name", "/no/such/dir"]
)
def test_local_looking_paths_are_never_hub_ids(tmp_path, monkeypatch, spec):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="no such file or folder"):
        resolve_inputs(spec)


def test_existing_first_component_means_a_local_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    with pytest.raises(InputError, match="no such file or folder"):
        resolve_inputs("corpus/shard")
    assert resolve_inputs("owner/dataset")[0].is_hf  # nothing local named `owner`: a hub id


def test_empty_folder_and_unmatched_glob_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no readable files"):
        resolve_inputs(str(tmp_path / "empty"))
    with pytest.raises(InputError, match="matched no files"):
        resolve_inputs(str(tmp_path / "**" / "*.jsonl"))


@pytest.mark.parametrize("stage", ["ingest", "dedup", "decontam"])
def test_missing_input_fails_before_any_work(tmp_path, monkeypatch, stage):
    """A mistyped input is an InputError before the output folder exists (decontam: before the hub is probed)."""
    monkeypatch.chdir(tmp_path)
    import deepmath.decontam.benchmarks as benchmarks

    def no_hub(*args, **kwargs):
        raise AssertionError("benchmarks loaded before the inputs were checked")

    monkeypatch.setattr(benchmarks, "load_benchmarks", no_hub)
    try:  # the CLI may turn the InputError into its one-line message and exit code 2
        code = main([stage, "in/does_not_exist.jsonl", "--output", str(tmp_path / "out")])
    except InputError as err:
        assert "no such file or folder" in str(err)
        code = 2
    assert code == 2
    assert not (tmp_path / "out").exists()
