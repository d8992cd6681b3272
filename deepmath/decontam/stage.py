"""`deepmath decontam INPUT --output DIR --benchmarks LIST`: remove benchmark contamination, report every hit.

    deepmath decontam corpus/dedup --output corpus/decontam --benchmarks gsm8k,math,cmath,agieval_math
    deepmath decontam docs.jsonl --output out --benchmarks standard,/data/my_eval.jsonl:question+answer --mode segment

0. The inputs are resolved before anything else (a missing input fails before the benchmarks load).
1. One process loads the benchmarks and builds the hashed n-gram index (or reuses the cached one, keyed by the
   benchmark contents and the rule) into `--cache-dir` (default `OUTPUT/_index`).
2. A first datatrove pass (`survey`) counts, per benchmark n-gram, the documents it alone would flag and the documents
   holding its shape (numbers masked); those reaching `--common-docs` are phrases of this corpus, no evidence alone.
   A second pass scans the documents, one task per input file, on the local/Ray/Slurm executor; each task
   loads the index file and writes its hits to `_work/hits/`. Dropped documents go to `removed/` (`--keep-removed`).
3. The hits become `contamination.json`, `contamination.md`, `plots/contamination.png` and the card's counts.

The rule is DeepSeekMath's (any benchmark 10-gram; benchmark texts of 3..9 tokens matched whole), made precise by
default so that generic n-grams are no evidence alone; `--no-precise` applies it literally. See `matcher.py`.
Registry names (`gsm8k`, `math`, ...) load from the Hugging Face Hub, or, when it cannot be reached, from local
files under `$DEEPMATH_BENCHMARKS_DIR` (default `../shared/data/benchmarks` relative to the current directory and
to the repository); `--benchmarks-source local` skips the Hub. See `benchmarks.py`.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

from deepmath.cards import Card, stats_counts
from deepmath.decontam.config import DecontamConfig
from deepmath.executors import run_pipeline
from deepmath.io.inputs import resolve_inputs
from deepmath.stage import StageResult, StageRun, StageStats, default_tasks, drops_by_reason, run_stage

__all__ = ["run_decontam"]

logger = logging.getLogger(__name__)

FIELDS = {
    "id": "the input document's id",
    "text": "the document (segment mode: without its contaminated paragraphs)",
    "metadata.decontam": "segment mode: paragraphs removed and the benchmarks that hit",
    "metadata.*": "everything the input carried (url, domain, scores, ...)",
}


def run_decontam(cfg: DecontamConfig) -> dict:
    resolve_inputs(cfg.input)  # a missing input fails here, before the benchmarks are loaded or the hub probed
    return run_stage("decontam", cfg, lambda run: _decontam(cfg, run))


def _index(cfg: DecontamConfig, run: StageRun):
    """Build or reuse the index; make sure it is in a file every task can read."""
    from deepmath.decontam.matcher import ContaminationMatcher

    cache = Path(cfg.cache_dir).expanduser() if cfg.cache_dir else run.output / "_index"
    matcher = ContaminationMatcher.from_benchmarks(
        cfg.benchmarks, rule=cfg.rule(), cache_dir=cache, source=cfg.benchmarks_source
    )
    if matcher.index_path is None:
        matcher.index_path = matcher.index.save(run.output / "_index" / f"decontam-{matcher.index.key}.npz")
    return matcher


def _survey(cfg: DecontamConfig, run: StageRun, matcher, index_path: str, tasks: int):
    """First pass: count, per n-gram, the documents it alone would flag; save the counts for the filter.

    Returns (path of the counts, number of keys that reach `common_docs`), or (False, 0) when the pass was only
    submitted (Slurm)."""
    import io

    import numpy as np

    from deepmath.decontam.steps import ContaminationSurvey, corpus_common_counts
    from deepmath.io.atomic import atomic_write_bytes
    from deepmath.io.documents import DocumentReader

    folder = run.output / "_work" / "survey"
    steps = [DocumentReader(cfg.input, text_key=cfg.text_key), ContaminationSurvey(index_path, str(folder.resolve()))]
    if not run_pipeline(steps, cfg, run.logs("survey"), tasks, job_name="decontam-survey"):
        return False, 0
    docs, shapes = corpus_common_counts(folder, len(matcher.index.keys), len(matcher.shape_values))
    path = run.output / "_work" / "corpus_counts.npz"
    buffer = io.BytesIO()
    np.savez(buffer, docs=docs, shapes=shapes)
    atomic_write_bytes(path, buffer.getvalue())
    n_common = matcher.mark_common(docs, shapes, cfg.common_docs)
    if n_common:
        logger.info(
            "decontam: %d benchmark n-grams are phrases of this corpus (in >= %d documents): no evidence alone",
            n_common,
            cfg.common_docs,
        )
    return str(path.resolve()), n_common


def _decontam(cfg: DecontamConfig, run: StageRun) -> StageResult:
    from deepmath.decontam.report import build_report, plot_report, read_hits, write_report
    from deepmath.decontam.steps import ContaminationFilter
    from deepmath.io.documents import DocumentReader, document_writer

    matcher = _index(cfg, run)
    files = [f for source in resolve_inputs(cfg.input) for f in source.files]
    tasks = default_tasks(cfg, max(1, len(files)))
    hits_folder = run.output / "_work" / "hits"
    index_path = str(Path(matcher.index_path).resolve())  # absolute: Slurm and Ray tasks may start elsewhere
    common_path, n_common = (
        _survey(cfg, run, matcher, index_path, tasks) if cfg.precise and cfg.common_docs else (None, 0)
    )
    if common_path is False:
        return StageResult(None, complete=False, message="survey submitted; re-run when it has finished")
    removed = document_writer(run.output, "jsonl", subfolder="removed") if cfg.keep_removed else None
    pipeline = [
        DocumentReader(cfg.input, text_key=cfg.text_key),
        ContaminationFilter(
            index_path,
            cfg.mode,
            str(hits_folder.resolve()),
            exclusion_writer=removed,
            common_path=common_path,
            common_docs=cfg.common_docs,
        ),
        document_writer(run.output, cfg.output_format),
    ]
    done = run_pipeline(pipeline, cfg, run.logs("decontam"), tasks, job_name="decontam")
    if not done:
        return StageResult(None, complete=False, message="scan submitted; re-run when it has finished")
    steps = run.step_stats("decontam")
    counters: dict[str, float] = {}
    for step in steps:
        for key, value in step["counters"].items():
            counters[key] = counters.get(key, 0) + value
    dropped = drops_by_reason(steps)
    documents_in = int(counters.get("documents", 0))
    documents_out = int(
        sum(step["counters"].get("forwarded", 0) for step in steps if "decontamination" in step["name"])
    )
    rule = asdict(cfg.rule())
    report = build_report(
        read_hits(hits_folder),
        matcher.index.benchmarks,
        rule,
        extra={"mode": cfg.mode, "documents_in": documents_in, "documents_out": documents_out},
    )
    write_report(run.output, report, cfg.report_hits)
    plot = plot_report(run.output, report)
    per_benchmark = {
        name: {"items": e["items"], "items_hit": e["items_hit"], "documents_hit": e["documents_hit"]}
        for name, e in report["benchmarks"].items()
    }
    stats = StageStats(
        rows_in=documents_in,
        rows_out=documents_out,
        unit="documents",
        dropped=dropped,
        plots=[plot],
        extra={
            "documents_hit": report["documents_hit"],
            "documents_changed": int(counters.get("documents_changed", 0)),
            "paragraphs_removed": int(counters.get("paragraphs_removed", 0)),
            "benchmarks": per_benchmark,
            "index": {"path": str(matcher.index_path), **matcher.index.summary()},
            "corpus_common_ngrams": n_common,
        },
    )
    counts: dict = stats_counts(stats)
    for name, entry in per_benchmark.items():
        counts[f"{name}: items hit / documents hit"] = f"{entry['items_hit']:,} / {entry['documents_hit']:,}"
    from deepmath.decontam.report import markdown_summary

    card = Card(
        title="deepmath decontam",
        stage="decontam",
        summary=(
            "Documents with benchmark contamination removed "
            + ("(whole documents)" if cfg.mode == "drop" else "(contaminated paragraphs cut out)")
            + f": DeepSeekMath's rule (any {cfg.ngram}-gram of a benchmark text; short texts matched whole) after "
            "NFKC, case folding and punctuation/whitespace collapsing"
            + (
                f", made precise: generic n-grams (numbers, variables, LaTeX, stopwords, shared by more than "
                f"{cfg.common_items} benchmark items, or phrases of this corpus found in {cfg.common_docs}+ documents) "
                f"are not evidence alone; texts of {cfg.min_tokens}..{cfg.whole_max} "
                "tokens with a word in them are matched whole."
                if cfg.precise
                else f", applied literally (texts of {cfg.min_tokens}..{cfg.ngram - 1} tokens matched whole)."
            )
            + " Every hit is listed in `contamination.json`."
        ),
        n_rows=documents_out,
        fields=FIELDS,
        counts=counts,
        dropped=dropped,
        sections={"Contamination by benchmark": markdown_summary(report, max_hits=0)},
        images=[plot],
        parameters={k: v for k, v in vars(cfg).items() if not k.startswith("slurm")},
        lineage=list(cfg.input),
        tags=["decontamination"],
    )
    return StageResult(stats, card)
