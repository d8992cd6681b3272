"""The demo world generator: real WARC files, every math markup, planted copies/quotes/flaws, determinism, errors."""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import random
import re
from itertools import combinations
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from deepmath.config import ConfigError
from deepmath.demo.config import DemoDataConfig
from deepmath.demo.generate import run_demo_data
from deepmath.demo.html import MARKUPS
from deepmath.demo.report import render_fragment
from deepmath.registry import get_stage
from tests.stage_folder import assert_stage_stats, stage_fragment

SMALL = dict(n_pages=240, warc_files=2, n_seeds=24, n_benchmark=20, n_quoting_pages=8, n_cot=60, n_pot=30, n_rl=40)


def small_config(output: Path, **overrides) -> DemoDataConfig:
    return DemoDataConfig(output=str(output), **{**SMALL, **overrides})


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "world"
    run_demo_data(small_config(out))
    return out


def _rows(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _records(world: Path) -> list:
    records = []
    for path in sorted((world / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                body = record.content_stream().read()
                records.append((path.name, record.rec_type, record.rec_headers, record.http_headers, body))
    return records


def test_stage_folder_contract(world):
    stats = assert_stage_stats(world, "demo-data", "documents")
    assert (world / "_SUCCESS").exists() and (world / "config.yaml").exists()
    card = (world / "README.md").read_text()
    assert card.startswith("---") and "deepmath demo world" in card and "flaws.json" in card
    assert stats["rows_out"] == SMALL["n_pages"] == len(_rows(world / "labels.jsonl.gz"))


def test_warc_files_are_real_crawls(world):
    records = _records(world)
    files = {name for name, *_ in records}
    assert len(files) == SMALL["warc_files"]
    firsts = {}
    for name, rec_type, *_ in records:
        firsts.setdefault(name, rec_type)
    assert set(firsts.values()) == {"warcinfo"}
    requests = {h.get_header("WARC-Concurrent-To"): h for _, t, h, _, _ in records if t == "request"}
    responses = [(h, http, body) for _, t, h, http, body in records if t == "response"]
    ids = [h.get_header("WARC-Record-ID") for h, _, _ in responses]
    assert len(ids) == len(set(ids))
    assert set(requests) == set(ids), "every response has its request, linked by WARC-Concurrent-To"
    statuses = {http.get_statuscode() for _, http, _ in responses}
    assert {"200", "404", "301"} <= statuses
    types = {http.get_header("Content-Type").split(";")[0] for _, http, _ in responses}
    assert {"text/html", "text/plain", "image/png"} <= types
    labels = {row["record_id"]: row for row in _rows(world / "labels.jsonl.gz")}
    html_ids = [
        h.get_header("WARC-Record-ID")
        for h, http, body in responses
        if http.get_statuscode() == "200" and http.get_header("Content-Type").startswith("text/html")
    ]
    assert set(html_ids) == set(labels)
    for h, _http, body in responses:
        if h.get_header("WARC-Record-ID") in labels:
            assert labels[h.get_header("WARC-Record-ID")]["url"] == h.get_header("WARC-Target-URI")
            body.decode("utf-8")


def test_every_math_markup_is_used(world):
    signatures = {
        "mathjax-script": 'type="math/tex',
        "mathjax-delim": "\\(",
        "katex": 'annotation encoding="application/x-tex"',
        "mathml": '<math xmlns="http://www.w3.org/1998/Math/MathML"',
        "img-alt": "latex.codecogs.com",
    }
    labels = {row["record_id"]: row for row in _rows(world / "labels.jsonl.gz")}
    seen = set()
    for _, rec_type, headers, _, body in _records(world):
        row = labels.get(headers.get_header("WARC-Record-ID"))
        if rec_type != "response" or row is None:
            continue
        page = body.decode("utf-8")
        if row["label"] == "math":
            assert signatures[row["markup"]] in page, (row["url"], row["markup"])
            seen.add(row["markup"])
        else:
            assert not any(sig in page for sig in signatures.values()), row["url"]
    assert seen == set(MARKUPS)


def test_mixed_domain_keeps_math_under_its_math_section(world):
    rows = [r for r in _rows(world / "labels.jsonl.gz") if r["domain"] == "dailyblog.example" and r["kind"] == "page"]
    math = [r for r in rows if r["label"] == "math"]
    other = [r for r in rows if r["label"] == "nonmath"]
    assert math and other
    assert all("/math/" in r["url"] for r in math)
    assert not any("/math/" in r["url"] for r in other)


def test_quoting_pages_quote_a_benchmark_question(world):
    benchmark = {row["id"]: row for row in _rows(world / "benchmarks" / "demo" / "test.jsonl")}
    quotes = [r for r in _rows(world / "labels.jsonl.gz") if r["kind"] == "quote"]
    assert len(quotes) == SMALL["n_quoting_pages"]
    pages = {h.get_header("WARC-Target-URI"): body for _, t, h, _, body in _records(world) if t == "response"}
    for row in quotes:
        question = benchmark[row["source"]]["question"]
        assert html.escape(question, quote=False) in pages[row["url"]].decode("utf-8")


def test_copies_are_near_duplicates_and_other_pages_are_not():
    from deepmath.demo.benchmark import make_problem_sets
    from deepmath.demo.textgen import plain_text
    from deepmath.demo.world import plan_pages

    cfg = DemoDataConfig(output="unused", n_pages=400)
    problems = make_problem_sets(cfg, random.Random(1))
    pages = plan_pages(cfg, problems.benchmark, random.Random(2))

    def shingles(page) -> set:
        words = re.findall(r"\w+", plain_text(page.title, page.blocks).lower())
        return {" ".join(words[i : i + 5]) for i in range(len(words) - 4)}

    def jaccard(a: set, b: set) -> float:
        return len(a & b) / len(a | b)

    by_url = {p.url: p for p in pages if p.kind in ("page", "quote")}
    copies = [p for p in pages if p.kind == "near_duplicate"]
    assert len(copies) == round(400 * cfg.duplicate_fraction)
    sizes = {}
    for copy in copies:
        sizes[copy.source] = sizes.get(copy.source, 1) + 1
        assert copy.url != copy.source
        assert jaccard(shingles(copy), shingles(by_url[copy.source])) >= 0.7
    assert max(sizes.values()) >= 3, "some pages are copied more than once (clusters bigger than pairs)"
    originals = [p for p in by_url.values() if p.kind == "page"][:80]
    worst = max(jaccard(shingles(a), shingles(b)) for a, b in combinations(originals, 2))
    assert worst < 0.5


def test_seeds_cover_only_seed_topics(world):
    from deepmath.demo.world import SEED_TOPICS

    seeds = _rows(world / "seeds" / "seeds.jsonl")
    assert len(seeds) == SMALL["n_seeds"]
    assert len({s["id"] for s in seeds}) == len(seeds)
    for seed in seeds:
        assert seed["metadata"]["url"].startswith("https://") and seed["metadata"]["topic"] in SEED_TOPICS
        assert "$" in seed["text"]


def _boxed(solution: str) -> str:
    return re.search(r"\\boxed\{(-?\d+)\}", solution).group(1)


def test_sft_sources_hold_exactly_the_planted_flaws(world):
    flaws = json.loads((world / "flaws.json").read_text())
    benchmark = {r["question"] for r in _rows(world / "benchmarks" / "demo" / "test.jsonl")}
    cot = _rows(world / "sft" / "cot.jsonl")
    pot = _rows(world / "sft" / "pot.jsonl")
    rl = _rows(world / "rl" / "train.jsonl")
    assert (len(cot), len(pot), len(rl)) == (SMALL["n_cot"], SMALL["n_pot"], SMALL["n_rl"])
    for row in cot:
        assert (_boxed(row["solution"]) != row["answer"]) == (row["id"] in flaws["wrong_cot"]), row
        assert (row["question"] in benchmark) == (row["id"] in flaws["contaminated_cot"]), row
    failed = 0
    for row in pot:
        scope: dict = {}
        try:
            exec(row["program"], {}, scope)  # our own generated arithmetic, not untrusted input
        except ZeroDivisionError:
            failed += 1
            assert row["id"] in flaws["wrong_pot"]
            continue
        assert (str(scope["ans"]) != row["answer"]) == (row["id"] in flaws["wrong_pot"]), row
        assert (row["question"] in benchmark) == (row["id"] in flaws["contaminated_pot"]), row
    assert failed >= 1
    assert not benchmark & {r["question"] for r in rl}


def test_training_problems_are_not_template_copies_of_the_benchmark(world):
    from deepmath.decontam.matcher import ContaminationMatcher

    matcher = ContaminationMatcher.from_benchmarks([str(world / "benchmarks" / "demo" / "test.jsonl")], ngram=10)
    flaws = json.loads((world / "flaws.json").read_text())
    planted = set(flaws["contaminated_cot"]) | set(flaws["contaminated_pot"])
    rows = (
        _rows(world / "sft" / "cot.jsonl") + _rows(world / "sft" / "pot.jsonl") + _rows(world / "rl" / "train.jsonl")
    )
    flagged = {r["id"] for r in rows if matcher.is_contaminated(r["question"] + "\n" + r.get("solution", ""))}
    assert flagged == planted


def test_same_seed_same_bytes_other_seed_other_world(tmp_path, world):
    again = tmp_path / "again"
    run_demo_data(small_config(again))
    other = tmp_path / "other"
    run_demo_data(small_config(other, seed=1))

    def digest(folder: Path) -> dict:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("stats.json", "_SUCCESS", "config.yaml")  # these hold times, paths
        }

    assert digest(again) == digest(world)
    differing = {k for k, v in digest(other).items() if digest(world).get(k) != v}
    assert any(k.startswith("warc/") for k in differing) and "seeds/seeds.jsonl" in differing


def test_rerun_skips_and_other_config_is_refused(tmp_path):
    out = tmp_path / "world"
    first = run_demo_data(small_config(out))
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert run_demo_data(small_config(out)) == first
    assert stamps == {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="different config"):
        run_demo_data(small_config(out, seed=3))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_pages": 10}, "n_pages must be at least 50"),
        ({"warc_files": 0}, "warc_files must be at least 1"),
        ({"math_fraction": 1.5}, "math_fraction must be in"),
        ({"math_fraction": 0.5, "mixed_fraction": 0.3, "duplicate_fraction": 0.2}, "leave room"),
        ({"n_cot": 0}, "n_cot must be at least 1"),
        ({"n_quoting_pages": -1}, "cannot be negative"),
    ],
)
def test_bad_config_is_a_clear_error(overrides, message):
    with pytest.raises(ValueError, match=message):
        DemoDataConfig(output="x", **overrides)


def test_cli_errors(tmp_path, capsys):
    from deepmath.cli import main

    assert main(["demo-data", str(tmp_path / "w"), "--n-pages", "3"]) == 2
    assert "n_pages must be at least 50" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["demo-data"])
    assert "OUTPUT" in capsys.readouterr().err


def test_ingest_reads_the_world(world, tmp_path):
    """The crawl goes through `deepmath ingest` with math kept and only the planted junk dropped."""
    from deepmath.ingest.config import IngestConfig
    from deepmath.ingest.stage import run_ingest

    stats = run_ingest(IngestConfig(input=[str(world / "warc")], output=str(tmp_path / "ingest")))
    labels = _rows(world / "labels.jsonl.gz")
    repeats = sum(r["kind"] == "url_repeat" for r in labels)
    assert stats["rows_out"] == len(labels) - repeats
    assert stats["dropped"].get("duplicate_url") == repeats
    by_url = {r["url"]: r for r in labels}
    math_with_formula = 0
    for path in sorted((tmp_path / "ingest" / "data").glob("*.jsonl.gz")):
        for doc in _rows(path):
            row = by_url[doc["metadata"]["url"]]
            if row["label"] == "math":
                math_with_formula += "$" in doc["text"] or "\\(" in doc["text"]
    assert math_with_formula >= 0.95 * sum(r["label"] == "math" and r["kind"] != "url_repeat" for r in labels)
    assert_stage_stats(tmp_path / "ingest", "ingest", "documents")
    # demo-data's report fragment on these two real folders: every ingested page is found in the ground truth
    markdown, missing = stage_fragment("demo-data", world, tmp_path / "report")
    assert missing == ["finished corpus stage outputs (ingest, mine, dedup, decontam ...) to compare"]
    markdown, missing = render_fragment(
        get_stage("demo-data").report, [world, tmp_path / "ingest"], tmp_path / "report"
    )
    assert missing == [] and "## Against the ground truth" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| ingest |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    math = len({r["url"] for r in labels if r["label"] == "math"})
    assert cells[1] == f"{stats['rows_out']:,}" and cells[2] == f"{math:,}" and cells[-1] == "0", row
