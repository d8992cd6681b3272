"""Rank safety of `run_stage`: in a multi-process launch only rank 0 claims, locks and writes the stage files."""

import json
import multiprocessing
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from deepmath.config import ConfigError
from deepmath.stage import StageResult, StageStats, run_stage


@dataclass
class _Cfg:
    output: str
    overwrite: bool = False


def _as_follower(monkeypatch, decisions):
    """Rank 1 of 2, with the broadcasts of rank 0 replayed from `decisions` (no process group needed)."""
    import deepmath.distributed as distributed

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    replies = iter(decisions)
    monkeypatch.setattr(distributed, "share", lambda value=None: next(replies))
    monkeypatch.setattr(distributed, "barrier", lambda: None)


def test_a_follower_runs_the_body_but_writes_no_stage_file(tmp_path, monkeypatch):
    out = tmp_path / "out"
    calls = []
    _as_follower(monkeypatch, [("run", str(out)), {"stage": "toy", "rows": 3}])

    def body(run):
        calls.append(run.output)
        return StageResult(stats=StageStats(3, 3, extra={"rows": 3}))

    stats = run_stage("toy", _Cfg(str(out)), body)
    assert calls == [out]
    assert stats == {"stage": "toy", "rows": 3}  # the main process's stats, shared
    assert not out.exists()  # no claim, no lock, no config.yaml / stats.json / README.md / _SUCCESS


def test_a_follower_skips_a_finished_stage_and_reports_the_main_error(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _as_follower(monkeypatch, [("finished", ""), {"stage": "toy"}])
    assert run_stage("toy", _Cfg(str(out)), lambda run: pytest.fail("body ran")) == {"stage": "toy"}

    _as_follower(monkeypatch, [("error", "toy: an output folder is required (--output DIR)")])
    with pytest.raises(ConfigError, match="main process stopped: toy: an output folder is required"):
        run_stage("toy", _Cfg(str(out)), lambda run: pytest.fail("body ran"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, port: int, out: str, log: str) -> None:
    """One process of a real 2-process gloo launch: records what it wrote via the stage contract."""
    import os

    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1"})
    os.environ["MASTER_PORT"] = str(port)
    import torch.distributed as dist

    import deepmath.stage as stage

    dist.init_process_group("gloo", rank=rank, world_size=2)
    writes = []
    real_json, real_save = stage.atomic_write_json, stage.save_config
    stage.atomic_write_json = lambda path, data: (writes.append(Path(path).name), real_json(path, data))
    stage.save_config = lambda cfg, path: (writes.append(Path(path).name), real_save(cfg, path))

    def body(run):
        (run.output / f"part-{rank}.txt").write_text(str(rank))
        return StageResult(stats=StageStats(0, 0, extra={"rank_that_wrote_stats": rank}))

    stats = stage.run_stage("toy", _Cfg(str(out)), body)
    with open(log, "a") as handle:
        handle.write(json.dumps({"rank": rank, "writes": writes, "stats": stats}) + "\n")
    dist.destroy_process_group()


def _launch(out: Path, log: Path) -> list[dict]:
    port = _free_port()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_rank_main, args=(r, port, str(out), str(log))) for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    log.unlink()
    return sorted(lines, key=lambda x: x["rank"])


def test_two_gloo_processes_write_each_stage_file_once_and_resume(tmp_path):
    out, log = tmp_path / "out", tmp_path / "log.jsonl"
    main, follower = _launch(out, log)
    assert sorted(main["writes"]) == sorted(["config.yaml", "_config_hash.json", "stats.json", "_SUCCESS"])
    assert follower["writes"] == []
    assert follower["stats"] == main["stats"] and main["stats"]["rank_that_wrote_stats"] == 0
    assert (out / "part-0.txt").exists() and (out / "part-1.txt").exists()  # both ranks ran the body

    (out / "part-1.txt").unlink()
    main, follower = _launch(out, log)  # finished: both ranks skip the body, nothing is written
    assert main["writes"] == [] and follower["writes"] == []
    assert not (out / "part-1.txt").exists() and follower["stats"]["rank_that_wrote_stats"] == 0


def test_a_follower_does_not_evaluate_but_reads_the_main_process_result(tmp_path, monkeypatch):
    import threading
    from types import SimpleNamespace

    import deepmath.evaluate.run as evaluate_run
    from deepmath.train.runs import cached_evaluation

    _as_follower(monkeypatch, [False])  # rank 0 says: no cached result yet
    monkeypatch.setattr(evaluate_run, "evaluate_model", lambda *a, **k: pytest.fail("a follower evaluated"))
    cfg = SimpleNamespace(eval_k=2)
    result = {"pass@1": 0.5, "k": 2}
    writer = threading.Timer(0.5, lambda: (tmp_path / "eval_before.json").write_text(json.dumps(result)))
    writer.start()
    assert cached_evaluation(cfg, "model", [{"question": "q", "answer": "1"}], tmp_path, "before") == result
    writer.join()
