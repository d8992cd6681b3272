"""Ingest of hostile inputs: gzip bombs and lying Content-Lengths are counted skips with bounded memory, and every
other page is kept. The 3 GB bomb runs under `ulimit -v 8000000` in a subprocess (slow); the same paths run with
small caps in the default suite."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepmath.cli import main
from tests.ingest.hostile_fixtures import write_bomb_record_warc, write_lying_length_warc, write_zero_bomb
from tests.ingest.warc_fixtures import write_math_warc

REPO = Path(__file__).resolve().parents[2]


def _urls(out: Path) -> set[str]:
    urls = set()
    for path in (out / "data").glob("*.jsonl.gz"):
        with gzip.open(path, "rt") as handle:
            urls.update(json.loads(line)["metadata"]["url"] for line in handle)
    return urls


def _inputs(tmp: Path, bomb_bytes: int, claimed: int) -> list[str]:
    return [
        str(write_math_warc(tmp / "math.warc.gz")),
        str(write_bomb_record_warc(tmp / "bomb-record.warc.gz", bomb_bytes)),
        str(write_zero_bomb(tmp / "zeros.warc.gz", bomb_bytes)),
        str(write_lying_length_warc(tmp / "liar.warc", claimed)),
    ]


def _check(out: Path, reference: set[str]) -> None:
    stats = json.loads((out / "stats.json").read_text())
    dropped = stats["dropped"]
    assert dropped.get("record_too_large") == 1, dropped  # the bomb record: the rest of its file is skipped
    assert dropped.get("header_too_long") == 1, dropped  # zeros without a single newline: not a WARC
    assert dropped.get("record_bad_length") == 1, dropped  # the liar, without its neighbour
    urls = _urls(out)
    assert reference <= urls  # every page of the normal file
    assert {"https://first.example/", "https://last.example/", "https://before-bomb.example/"} <= urls
    assert not any("liar" in u or u == "https://bomb.example/" for u in urls)
    assert (out / "_SUCCESS").exists()


@pytest.fixture(scope="module")
def reference_urls(tmp_path_factory) -> set[str]:
    tmp = tmp_path_factory.mktemp("ref")
    assert main(["ingest", str(write_math_warc(tmp / "math.warc.gz")), "--output", str(tmp / "out")]) == 0
    return _urls(tmp / "out")


def test_bombs_and_liars_are_counted_skips_small_caps(tmp_path, reference_urls, caplog):
    inputs = _inputs(tmp_path, bomb_bytes=40_000_000, claimed=4 * 2**30)
    out = tmp_path / "out"
    code = main(
        ["ingest", *inputs, "--output", str(out), "--max-page-bytes", "200000", "--max-record-bytes", "8000000"]
    )
    assert code == 0
    _check(out, reference_urls)
    assert max(len(r.getMessage()) for r in caplog.records) < 2000  # no bomb "first line" copied into a message


def test_lying_length_keeps_the_neighbour_records(tmp_path):
    from deepmath.ingest.warc import iter_warc_records

    counts: dict[str, int] = {}
    path = write_lying_length_warc(tmp_path / "liar.warc", claimed=900)  # inside the file: swallows the next one
    urls = [r.url for r in iter_warc_records(str(path), 10**6, lambda k, n=1: counts.__setitem__(k, n))]
    assert urls == ["https://first.example/", "https://last.example/"]
    assert counts == {"skipped_record_bad_length": 1}


@pytest.mark.slow
def test_three_gb_bomb_and_four_gb_length_under_ulimit(tmp_path, reference_urls):
    """The issue's case: a 3 GB gzip bomb and a 4 GB Content-Length, with 8 GB of address space."""
    inputs = _inputs(tmp_path, bomb_bytes=3 * 10**9, claimed=4 * 2**30)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    command = f"ulimit -v 8000000 && exec {sys.executable} -m deepmath ingest {' '.join(inputs)} --output {out}"
    result = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    _check(out, reference_urls)
