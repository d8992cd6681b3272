"""Benchmark: pool scoring of `deepmath mine` vs raw fastText batch prediction on the same texts, in one run.

    /tmp/venv/bin/python bench/mining.py [--repeat 5] [--copies 4] [--dim 256]

The model is trained here the way `deepmath mine` trains it on a small pool (DeepSeekMath hyperparameters, the
small-training-set rule: 25 epochs, min count 1, 100K buckets): 400 StackMathQA pages vs 400 Common Crawl pages from
../shared/data/webtext. The scored texts are all 1,704 webtext pages (math and not), repeated `--copies` times.
Every row runs in this process on one core and is timed in CPU seconds (`time.process_time`, robust to other
jobs on the machine), best of `--repeat` alternating passes:

- fastText predict (normalised texts): `model.predict(texts, k=2)` on the strings our scorer hands to fastText,
  normalised beforehand and not timed: the pure fastText cost, the anchor of the overhead column.
- fastText predict (raw texts): the same call on the raw texts with newlines replaced (no LaTeX tokens).
- deepmath MathScorer step: our datatrove step on in-memory Documents (normalisation + batch predict + writing
  `metadata.math_score`), i.e. everything our scoring adds on top of fastText.
- deepmath scoring pipeline: DocumentReader (JSONL.gz) + MathScorer + ScoreRecorder on datatrove's local executor,
  one task, including reading and parsing the files (information: reading is not fastText's job).

Overhead = CPU time of the row / CPU time of the anchor - 1. A second table shows what the normalisation buys: a
model trained and scored on raw texts (newlines replaced) vs on normalised texts, same 800 training pages, AUC on
the 904 held-out pages. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WEBTEXT = ROOT.parent / "shared" / "data" / "webtext"


def load_texts() -> tuple[list[str], list[str]]:
    math, other = [], []
    for path in sorted((WEBTEXT / "stackmathqa100k").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            math.append(f"{row['Q']}\n\n{row['A']}")
    for path in sorted((WEBTEXT / "dolma_cc_2019_30").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            other += [json.loads(line)["text"] for line in handle]
    for path in sorted((WEBTEXT / "dolma_ccnet_head").glob("*.jsonl")):
        other += [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    return math, other


def split(math: list[str], other: list[str]) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """400 + 400 training pages, the rest held out."""
    rng = random.Random(0)
    m, o = rng.sample(range(len(math)), len(math)), rng.sample(range(len(other)), len(other))
    train = [(math[i], True) for i in m[:400]] + [(other[i], False) for i in o[:400]]
    rest = [(math[i], True) for i in m[400:]] + [(other[i], False) for i in o[400:]]
    rng.shuffle(train)
    return train, rest


def train_model(train: list[tuple[str, bool]], dim: int, path: Path, prepare):
    from deepmath.mine.classifier import FastTextParams, effective_params, train_classifier

    lines = [f"__label__{'math' if is_math else 'other'} {prepare(text)}" for text, is_math in train]
    path.with_suffix(".txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    params, _ = effective_params(FastTextParams(dim=dim), len(lines), 10_000)
    model, _ = train_classifier(path.with_suffix(".txt"), params)
    model.save_model(str(path))
    return model, params


def raw_text(text: str) -> str:
    """What a plain fastText filter feeds the model (datatrove's FastTextClassifierFilter: newlines replaced)."""
    return text.replace("\n", " ")


def held_out_quality(model, rest: list[tuple[str, bool]], prepare) -> tuple[float, float]:
    """(AUC, precision at the number of math pages) on the pages not used for training."""
    import numpy as np

    from deepmath.mine.classifier import predict_math, roc_auc

    labels = np.array([is_math for _, is_math in rest])
    scores = predict_math(model, [prepare(text) for text, _ in rest])
    top = np.argsort(-scores, kind="stable")[: labels.sum()]
    return roc_auc(labels, scores), float(labels[top].mean())


def cpu_best(fn, repeat: int) -> tuple[float, float]:
    """(best CPU seconds, wall seconds of that pass)."""
    best = (float("inf"), 0.0)
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        best = min(best, (cpu, wall))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=4, help="score each page this many times per pass")
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=512)
    args = parser.parse_args()

    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor

    from deepmath.io.documents import DocumentReader
    from deepmath.mine.normalize import normalize_text
    from deepmath.mine.steps import MathScorer, ScoreRecorder

    workdir = Path(tempfile.mkdtemp(prefix="mining_bench_"))
    try:
        math, other = load_texts()
        train, rest = split(math, other)
        model, params = train_model(train, args.dim, workdir / "model.bin", normalize_text)
        raw_model, _ = train_model(train, args.dim, workdir / "raw_model.bin", raw_text)
        quality = {
            "normalised (deepmath)": held_out_quality(model, rest, normalize_text),
            "raw, newlines replaced": held_out_quality(raw_model, rest, raw_text),
        }
        texts = (math + other) * args.copies
        n = len(texts)
        chars = sum(map(len, texts)) / n
        normalized = [normalize_text(t) for t in texts]
        raw = [raw_text(t) for t in texts]
        with gzip.open(workdir / "pool.jsonl.gz", "wt", encoding="utf-8") as handle:
            for i, text in enumerate(texts):
                handle.write(json.dumps({"id": str(i), "text": text}) + "\n")
        # the index ScoreRecorder checks counts against: one task, n pages
        index = workdir / "index"
        index.mkdir()
        (index / "index.json").write_text(json.dumps({"tasks": 1, "counts": [n]}))

        scorer = MathScorer(str(workdir / "model.bin"), batch_size=args.batch_size)
        scorer._model = model

        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]  # the reader's work, done once

        def ours_step():
            for _ in scorer.run(iter(docs)):
                pass

        def ours_pipeline():
            shutil.rmtree(workdir / "logs", ignore_errors=True)
            steps = [
                DocumentReader(str(workdir / "pool.jsonl.gz")),
                MathScorer(str(workdir / "model.bin"), batch_size=args.batch_size),
                ScoreRecorder(str(workdir / "scores"), str(index)),
            ]
            LocalPipelineExecutor(steps, tasks=1, workers=1, logging_dir=str(workdir / "logs")).run()

        rows = {
            "fastText predict (normalised texts)": lambda: model.predict(normalized, k=2),
            "fastText predict (raw texts)": lambda: model.predict(raw, k=2),
            "deepmath MathScorer step": ours_step,
            "deepmath scoring pipeline (read + score + record)": ours_pipeline,
        }
        results = {name: (float("inf"), 0.0) for name in rows}
        for _ in range(args.repeat):  # alternate the rows so machine load hits them alike
            for name, fn in rows.items():
                results[name] = min(results[name], cpu_best(fn, 1))
        anchor = results["fastText predict (normalised texts)"][0]
        tokens = sum(len(t.split()) for t in normalized) / n
        raw_tokens = sum(len(t.split()) for t in raw) / n
        print(
            f"{n:,} pages ({chars:,.0f} chars, {raw_tokens:.0f} raw / {tokens:.0f} normalised fastText tokens per page), "
            f"model dim {params.dim}, word n-grams {params.word_ngrams}, bucket {params.bucket:,}, "
            f"best of {args.repeat}, CPU seconds on one core\n"
        )
        print("| scorer | pages/s/core | CPU s | overhead vs fastText predict |")
        print("|---|---:|---:|---:|")
        for name, (cpu, _) in results.items():
            print(f"| {name} | {n / cpu:,.0f} | {cpu:.2f} | {cpu / anchor - 1:+.0%} |")
        print(f"\nWhat the normalisation buys: the same 800 training pages, {len(rest):,} held-out pages\n")
        print("| training and scoring text | held-out AUC | precision at the number of math pages |")
        print("|---|---:|---:|")
        for name, (auc, precision) in quality.items():
            print(f"| {name} | {auc:.4f} | {precision:.3f} |")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
