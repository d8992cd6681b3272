"""Generic phrases of the corpus are no evidence alone: the issue's case, "the sum of the interior angles of a polygon
with", against real MATH problems. The demo corpus says it on dozens of pages (a template); MATH test item 3940's
solution says it once. Planted quotes of real problems are still caught. The slow test runs the whole path: the demo
corpus with real GSM8K/MATH quotes planted into it, ingested and decontaminated against the real benchmarks."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import pytest

from deepmath.cli import main
from deepmath.decontam.matcher import ContaminationMatcher
from tests.conftest import require_shared

PHRASE = "the sum of the interior angles of a polygon with"


def _template_pages(n: int, seed: int = 0) -> list[str]:
    """Pages written like the demo generator's formulas (deepmath/demo/formulas.py), numbers varying per page."""
    rng = random.Random(seed)
    pages = []
    for i in range(n):
        sides = rng.randint(3, 12)
        r1, r2 = rng.choice([(7, -5), (-7, 5), (7, 5), (3, 4), (-2, 6), (5, 7)])
        roots = " and ".join(f"x = {r}" for r in sorted({r1, r2}))
        factors = "".join(f"(x {'-' if r >= 0 else '+'} {abs(r)})" for r in (r1, r2))
        pages.append(
            f"Lecture notes {i}: polygons and quadratics.\n\n"
            f"The value ({sides} - 2) * 180 = {(sides - 2) * 180} {PHRASE} {sides} sides, which we use below.\n\n"
            f"The equation x^2 {-(r1 + r2):+d}x {r1 * r2:+d} = 0 factors as {factors}, so the solutions are {roots}.\n\n"
            "Try the exercises at the end of the chapter before reading the answers."
        )
    return pages


@pytest.fixture(scope="module")
def math_subset(tmp_path_factory):
    """300 real MATH test problems, among them item 3940 (the polygon phrase) and 332 (`(x-7)(x-5)`)."""
    rows = [json.loads(line) for line in require_shared("benchmarks", "math", "test.jsonl").open(encoding="utf-8")]
    assert PHRASE in rows[3940]["solution"].lower()
    keep = sorted({*range(0, 5000, 17), 3940, 332})
    path = tmp_path_factory.mktemp("bench") / "math_subset.jsonl"
    path.write_text(
        "".join(json.dumps({"problem": rows[i]["problem"], "solution": rows[i]["solution"]}) + "\n" for i in keep),
        encoding="utf-8",
    )
    matcher = ContaminationMatcher.from_benchmarks([str(path)], cache_dir=tmp_path_factory.mktemp("index"))
    return matcher, {i: rows[i] for i in keep}


def test_template_phrase_alone_flags_pages_without_a_survey(math_subset):
    """The failure the issue reports: one generic phrase of a MATH solution removes many pages."""
    matcher, _ = math_subset
    pages = _template_pages(40)
    flagged = [p for p in pages if matcher.is_contaminated(p)]
    assert len(flagged) >= 30
    assert any(m.matched_text.lower() == PHRASE for m in matcher.matches(flagged[0]))


def test_phrases_of_the_corpus_are_no_evidence_and_quotes_are_caught(math_subset):
    matcher, rows = math_subset
    pages = _template_pages(40)
    polygon = rows[3940]
    quotes = {
        "problem": pages[0] + "\n\n" + polygon["problem"],
        "solution sentence": pages[1] + "\n\n" + polygon["solution"].split(".")[0] + ".",
        "solution span": pages[2] + "\n\nWe can factor the right-hand side as $(x-7)(x-5)$, so the solutions are "
        "$x=7$ and $x=5$.  Substituting either of these back into $y=12-x$, we find",
        "other problem": pages[3] + "\n\n" + rows[17]["problem"],
    }
    corpus = pages + list(quotes.values())
    docs, shapes = matcher.survey(corpus)
    assert matcher.mark_common(docs, shapes, min_docs=5) >= 1
    try:
        assert [p for p in pages if matcher.is_contaminated(p)] == []
        for (name, text), page in zip(quotes.items(), pages):
            matches = matcher.matches(text)
            assert matches, name
            assert any(m.span[0] >= len(page) for m in matches), name  # the quote is what is caught
    finally:
        matcher.mark_common(docs, shapes, min_docs=0)  # the fixture's matcher goes back to the plain index
    assert len([p for p in pages if matcher.is_contaminated(p)]) >= 30


def _read_ids(folder: Path) -> set[str]:
    ids = set()
    for path in folder.glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            ids.update(json.loads(line)["id"] for line in handle)
    return ids


@pytest.mark.slow
def test_demo_corpus_against_real_gsm8k_and_math(tmp_path, monkeypatch):
    """Decontaminating the demo corpus (with real GSM8K/MATH quotes planted by `plant_contamination`) against the
    real benchmarks removes exactly the planted pages; without the corpus survey it removes dozens of clean ones."""
    from deepmath.decontam.benchmarks import load_benchmarks
    from deepmath.decontam.plant import plant_contamination

    root = require_shared("benchmarks")
    monkeypatch.setenv("DEEPMATH_BENCHMARKS_DIR", str(root))
    assert main(["demo-data", str(tmp_path / "demo")]) == 0
    assert main(["ingest", str(tmp_path / "demo" / "warc"), "--output", str(tmp_path / "ingest")]) == 0
    pages = []
    for path in sorted((tmp_path / "ingest" / "data").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            pages.extend((row["id"], row["text"]) for row in map(json.loads, handle))
    specs = [str(root / "gsm8k" / "test.jsonl"), str(root / "math" / "test.jsonl")]
    items = {b.name: b.items for b in load_benchmarks(specs)}
    planted = plant_contamination(pages, items, per_kind=6, seed=0)
    assert len(planted.docs) == 30
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in pages)
        + "".join(json.dumps({"id": d.id, "text": d.text}) + "\n" for d in planted.docs),
        encoding="utf-8",
    )
    common = ["--benchmarks", "gsm8k,math", "--benchmarks-source", "local", "--cache-dir", str(tmp_path / "index")]
    assert main(["decontam", str(corpus), "--output", str(tmp_path / "out"), *common]) == 0
    removed = _read_ids(tmp_path / "out" / "removed")
    assert removed == {d.id for d in planted.docs}, sorted(removed ^ {d.id for d in planted.docs})[:10]
    # without the survey, the generic phrase removes clean demo pages again (the 76 of 930)
    assert main(["decontam", str(corpus), "--output", str(tmp_path / "literal"), "--common-docs", "0", *common]) == 0
    assert len(_read_ids(tmp_path / "literal" / "removed") - removed) >= 20
