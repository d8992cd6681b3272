"""Benchmark: deepmath's contamination matcher vs datatrove's `NGramsDecontFilter`, same documents, one run.

Documents (read from ../shared/data, never copied here): the real web pages of `webtext/` (987 StackMathQA Q&A
pages, 717 Common Crawl pages from dolma), untouched, plus the same pages with planted contamination
(`deepmath.decontam.plant`): GSM8K test questions, MATH problems, 12-word spans of MATH and GSM8K solutions, short
(3..8 word) MATH problems and CMATH questions, disguised by case changes, re-wrapped lines, curly quotes and
full-width digits. Benchmarks: the GSM8K, MATH and CMATH test files of `benchmarks/` (questions and solutions).

Methods, all with n = 10:
- deepmath, precise rule (the default) and literal rule (`MatchRule(precise=False)`: DeepSeekMath's rule as written);
- datatrove `NGramsDecontFilter` with `NGramsDecontConfig(n_grams=10)`, its index written the way its indexer's
  `compute_hashes` does for each benchmark text (the indexer itself needs lighteval to run). datatrove's English
  word tokenizer needs spaCy; when spaCy is missing it runs with `str.split` after datatrove's own `simplify_text`
  (lowercase, punctuation removed, numbers -> 0), which only makes it faster.

Throughput is one process on one core, the same document list for every method (best of `--repeat`).
Recall = planted documents flagged; "clean flagged" = untouched pages removed. `--clean-benchmarks standard` adds a
row of clean pages flagged against the 12 benchmarks of the `standard` group.

Run: `python bench/decontam.py [--data ../shared/data] [--per-kind 300] [--seed 0] [--repeat 1]
[--clean-benchmarks standard]`
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

logger = logging.getLogger("bench.decontam")

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _datatrove_filter(texts_by_bench: dict[str, list[str]], folder: Path):
    """An NGramsDecontFilter over an index of every benchmark text (label n-grams, as compute_hashes makes them)."""
    import numpy as np
    from datatrove.pipeline.decont.n_grams import NGramsDecontConfig, NGramsDecontFilter
    from datatrove.utils.hashing import create_hash_func
    from datatrove.utils.text import ngrams, simplify_text
    from datatrove.utils.word_tokenizers import WordTokenizer, load_word_tokenizer

    class SplitTokenizer(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    try:
        import spacy  # noqa: F401

        language, tokenizer_name = "en", "spaCy (datatrove default)"
    except ImportError:
        language, tokenizer_name = SplitTokenizer(), "str.split (spaCy not installed)"
    config = NGramsDecontConfig(n_grams=10)
    tokenizer = load_word_tokenizer(language)
    hash_func = create_hash_func(config.hash_config)
    start = time.perf_counter()
    for name, texts in texts_by_bench.items():
        hashes = set()
        for text in texts:
            tokens = tokenizer.word_tokenize(simplify_text(text, config.norm_config))
            hashes.update(hash_func(" ".join(gram)) for gram in ngrams(tokens, config.n_grams))
        np.array(sorted(hashes), dtype=config.hash_config.np_descr).tofile(folder / f"{name}.index.hashes")
    build = time.perf_counter() - start
    step = NGramsDecontFilter(str(folder), config=config, language=language)
    return step, build, tokenizer_name


def _time(flag, texts: list[str], repeat: int) -> tuple[list[bool], float]:
    best, flags = float("inf"), []
    for _ in range(repeat):
        start = time.perf_counter()
        flags = [flag(t) for t in texts]
        best = min(best, time.perf_counter() - start)
    return flags, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--per-kind", type=int, default=300, help="planted documents per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--clean-benchmarks", default="", help="also count clean pages flagged against these")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("DEEPMATH_BENCHMARKS_SOURCE", "local")
    os.environ.setdefault("DEEPMATH_BENCHMARKS_DIR", str(Path(args.data) / "benchmarks"))

    from datatrove.data import Document

    from deepmath.decontam.benchmarks import load_benchmarks
    from deepmath.decontam.index import MatchRule
    from deepmath.decontam.matcher import ContaminationMatcher
    from deepmath.decontam.plant import KINDS, plant_contamination, web_pages

    root = Path(args.data)
    specs = [str(root / "benchmarks" / name / "test.jsonl") for name in ("gsm8k", "math", "cmath")]
    loaded = load_benchmarks(specs)
    pages = web_pages(root / "webtext")
    planted = plant_contamination(pages, {b.name: b.items for b in loaded}, per_kind=args.per_kind, seed=args.seed)
    texts = [t for _, t in pages] + [d.text for d in planted.docs]
    n_clean = len(pages)
    chars = sum(map(len, texts))
    print(
        f"documents: {n_clean} untouched pages + {len(planted.docs)} planted ({planted.redrawn} spans redrawn: "
        f"fewer than 10 tokens); {chars / 1e6:.1f} M characters\n"
    )

    rows, per_kind = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, rule in (
            ("deepmath (precise, default)", MatchRule()),
            ("deepmath (literal)", MatchRule(precise=False)),
        ):
            start = time.perf_counter()
            matcher = ContaminationMatcher.from_benchmarks(specs, rule=rule, cache_dir=Path(tmp) / "cache")
            build = time.perf_counter() - start
            flags, seconds = _time(matcher.is_contaminated, texts, args.repeat)
            attributed = sum(
                any(m.item_id == d.item_id and m.benchmark == d.benchmark for m in matcher.matches(d.text))
                for d in planted.docs
            )
            rows.append((label, build, seconds, flags, f"{attributed / len(planted.docs):.2%}"))
        dt_folder = Path(tmp) / "datatrove"
        dt_folder.mkdir()
        step, build, tokenizer_name = _datatrove_filter(
            {b.name: [t for it in b.items for t in it.texts] for b in loaded}, dt_folder
        )
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]

        def dt_flag(doc):
            return step.filter(doc) is not True

        step.filter(Document(text="warm up: loads the index", id="w"))
        flags, seconds = _time(dt_flag, docs, args.repeat)
        rows.append((f"datatrove NGramsDecontFilter ({tokenizer_name})", build, seconds, flags, "n/a"))

    print(
        "| method | index build s | docs/s/core | MB/s/core | recall (planted flagged) | right item named | "
        "clean pages flagged |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, build, seconds, flags, attributed in rows:
        recall = sum(flags[n_clean:]) / len(planted.docs)
        false = sum(flags[:n_clean])
        print(
            f"| {label} | {build:.1f} | {len(texts) / seconds:,.0f} | {chars / seconds / 1e6:.2f} | {recall:.2%} | "
            f"{attributed} | {false}/{n_clean} ({false / n_clean:.2%}) |"
        )
        per_kind[label] = {k: [f for f, d in zip(flags[n_clean:], planted.docs) if d.kind == k] for k in KINDS}

    print("\n| planted kind | " + " | ".join(label for label, *_ in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for kind in KINDS:
        cells = []
        for label, *_ in rows:
            got = per_kind[label][kind]
            cells.append(f"{sum(got)}/{len(got)}")
        print(f"| {kind} | " + " | ".join(cells) + " |")

    if args.clean_benchmarks:
        print(f"\nclean pages flagged against `{args.clean_benchmarks}`:\n")
        print("| method | clean pages flagged |")
        print("|---|---:|")
        wide = load_benchmarks(args.clean_benchmarks)
        clean = [t for _, t in pages]
        with tempfile.TemporaryDirectory() as tmp:
            for label, rule in (
                ("deepmath (precise, default)", MatchRule()),
                ("deepmath (literal)", MatchRule(precise=False)),
            ):
                matcher = ContaminationMatcher.from_benchmarks(args.clean_benchmarks, rule=rule, cache_dir=Path(tmp))
                false = sum(map(matcher.is_contaminated, clean))
                print(f"| {label} | {false}/{n_clean} ({false / n_clean:.2%}) |")
            folder = Path(tmp) / "datatrove"
            folder.mkdir()
            step, _, tokenizer_name = _datatrove_filter(
                {b.name: [t for it in b.items for t in it.texts] for b in wide}, folder
            )
            false = sum(step.filter(Document(text=t, id=str(i))) is not True for i, t in enumerate(clean))
            print(f"| datatrove NGramsDecontFilter ({tokenizer_name}) | {false}/{n_clean} ({false / n_clean:.2%}) |")


if __name__ == "__main__":
    main()
