"""`deepmath ingest` end to end: real Common Crawl samples, every math markup, broken files, executors, resume."""

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepmath.cli import main
from tests.conftest import require_shared
from tests.ingest.warc_fixtures import (
    write_giant_warc,
    write_many_warcs,
    write_math_warc,
    write_not_warc,
    write_truncated_warc,
)


def read_output(folder: Path) -> dict[str, dict]:
    docs = {}
    for path in sorted((folder / "data").glob("*.jsonl.gz")):
        with gzip.open(path, "rt") as handle:
            for line in handle:
                row = json.loads(line)
                assert row["id"] not in docs, f"duplicate id {row['id']}"
                docs[row["id"]] = row
    return docs


def by_url(docs: dict) -> dict[str, str]:
    return {d["metadata"].get("url"): d["text"] for d in docs.values()}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """One ingest over the real CC samples, fixture pages, a truncated gzip, a non-WARC file and a giant page."""
    cc = require_shared("commoncrawl")
    tmp = tmp_path_factory.mktemp("ingest")
    math_warc = write_math_warc(tmp / "math.warc.gz")
    write_truncated_warc(math_warc, tmp / "truncated.warc.gz")
    write_not_warc(tmp / "notawarc.warc.gz")
    write_giant_warc(tmp / "giant.warc.gz", size=300_000)
    inputs = [
        str(cc / "resiliparse" / "warcfile.warc.gz"),
        str(cc / "whirlwind" / "whirlwind.warc.gz"),
        str(cc / "whirlwind" / "whirlwind.warc.wet.gz"),
        str(math_warc),
        str(tmp / "truncated.warc.gz"),
        str(tmp / "notawarc.warc.gz"),
        str(tmp / "giant.warc.gz"),
    ]
    out = tmp / "out"
    code = main(["ingest", *inputs, "--output", str(out), "--max-page-bytes", "200000"])
    return code, out, read_output(out), json.loads((out / "stats.json").read_text())


def test_exit_zero_and_contract_files(ingested):
    code, out, docs, stats = ingested
    assert code == 0
    for name in ("README.md", "config.yaml", "stats.json", "_SUCCESS"):
        assert (out / name).exists()
    assert stats["rows_out"] == len(docs) > 10


def test_every_formula_survives_as_latex(ingested):
    _, _, docs, _ = ingested
    pages = by_url(docs)
    assert "\\frac{a}{1-r}" in pages["https://mathpages.example/series/geometric"]
    katex = pages["https://katex.example/algebra/quadratic"]
    assert katex.count("ax^2+bx+c=0") == 1, katex
    mathml = pages["https://mathml.example/formula"]
    assert "\\frac" in mathml and "\\sqrt" in mathml
    assert "b^2-4ac" in pages["https://blog.example/math/discriminant"]
    assert "Café crème" in pages["https://latin.example/cafe"], "declared charset decoded"


def test_broken_inputs_are_counted_not_fatal(ingested):
    _, _, docs, stats = ingested
    dropped = stats["dropped"]
    assert dropped.get("file_truncated", 0) >= 1
    assert dropped.get("file_not_warc", 0) >= 1
    assert dropped.get("page_too_large", 0) == 1
    assert dropped.get("non_html", 0) >= 1
    assert dropped.get("http_status", 0) >= 1
    assert "https://small.example/page" in by_url(docs), "the file with the giant page is still read"
    record_drops = sum(v for k, v in dropped.items() if not k.startswith("file_"))
    assert stats["rows_in"] - stats["rows_out"] == record_drops, "the funnel adds up"


def test_url_normalised_deduplicated_and_annotated(ingested):
    _, _, docs, stats = ingested
    urls = [d["metadata"]["url"] for d in docs.values()]
    # the same page in math.warc.gz (twice, once with tracking params) and truncated.warc.gz
    assert urls.count("https://mathpages.example/series/geometric") == 1
    assert stats["dropped"]["duplicate_url"] >= 1
    meta = next(d["metadata"] for d in docs.values() if d["metadata"]["url"].startswith("https://blog.example/math"))
    assert meta["domain"] == "blog.example" and meta["url_path"].startswith("/math")
    for key in ("language", "n_chars", "n_words", "alpha_fraction", "bad_char_fraction"):
        assert key in meta
    bad = [d for d in docs.values() if d["metadata"]["domain"] == ""]
    assert len(bad) == 1 and "moon" in bad[0]["text"], "an unparseable URL keeps the page, without domain"
    assert stats["unparseable_urls"] >= 1  # counted when read, before the duplicate copy is dropped


def test_real_common_crawl_pages(ingested):
    _, _, docs, _ = ingested
    html = [d for d in docs.values() if d["metadata"].get("source_format") == "html"]
    wiki = [d for d in html if "wikipedia.org" in d["metadata"]["url"]]
    assert len(wiki) == 1 and "Escopete" in wiki[0]["text"]
    assert len(html) >= 12
    # the WET copy of the Wikipedia page has the same URL as its WARC response, so URL dedup keeps one
    assert not [d for d in docs.values() if d["metadata"].get("source_format") == "text"]


def test_wet_conversion_records(tmp_path):
    wet = require_shared("commoncrawl", "whirlwind", "whirlwind.warc.wet.gz")
    assert main(["ingest", str(wet), "--output", str(tmp_path / "o")]) == 0
    (doc,) = read_output(tmp_path / "o").values()
    assert doc["metadata"]["source_format"] == "text" and "Escopete" in doc["text"]
    assert doc["metadata"]["domain"] == "wikipedia.org"


def test_strict_mode_fails_on_broken_file(tmp_path):
    write_not_warc(tmp_path / "bad.warc.gz")
    with pytest.raises(RuntimeError, match="not warc"):
        main(["ingest", str(tmp_path / "bad.warc.gz"), "--output", str(tmp_path / "o"), "--strict"])


def test_slurm_dry_run_writes_sbatch_script(tmp_path):
    warcs = write_many_warcs(tmp_path / "in", 2, 2)
    out = tmp_path / "o"
    args = ["ingest", *map(str, warcs), "--output", str(out), "--executor", "slurm", "--slurm-dry-run"]
    assert main([*args, "--slurm-partition", "cpu-long"]) == 0
    script = (out / "_logs" / "extract" / "launch_script.slurm").read_text()
    assert "#SBATCH --partition=cpu-long" in script and "#SBATCH --array=0-1" in script
    assert not (out / "_SUCCESS").exists()


def _ingest_cmd(inputs, out, *extra):
    return [sys.executable, "-m", "deepmath", "ingest", *map(str, inputs), "--output", str(out), *extra]


def test_killed_ingest_resumes_without_duplicates(tmp_path):
    warcs = write_many_warcs(tmp_path / "in", n_files=12, pages_per_file=60)
    reference = tmp_path / "reference"
    subprocess.run(_ingest_cmd(warcs, reference), check=True, capture_output=True)
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        _ingest_cmd(warcs, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    completions = out / "_logs" / "extract" / "completions"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if completions.exists() and len(list(completions.iterdir())) >= 3:
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert not (out / "_SUCCESS").exists(), "the run was killed before it finished"
    subprocess.run(_ingest_cmd(warcs, out), check=True, capture_output=True)
    assert read_output(out) == read_output(reference)


@pytest.mark.ray
def test_ray_executor_gives_the_same_documents(tmp_path):
    pytest.importorskip("ray", reason="the ray extra is not installed")
    warcs = write_many_warcs(tmp_path / "in", n_files=3, pages_per_file=5)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    assert main(["ingest", *map(str, warcs), "--output", str(local)]) == 0
    assert main(["ingest", *map(str, warcs), "--output", str(on_ray), "--executor", "ray", "--workers", "2"]) == 0
    assert read_output(on_ray) == read_output(local)
    assert len(read_output(local)) > 0
