"""`deepmath ingest INPUT... --output DIR`: Common Crawl (or any documents) in, math-preserving documents out.

    deepmath ingest 'crawl/*.warc.gz' s3://commoncrawl/crawl-data/.../x.warc.wet.gz --output corpus/ingest --workers 2

Two datatrove pipelines: (1) read + extract + annotate, one task per input file, writing `_work/extracted/` and the
URL hashes of each task; (2) after the global URL-duplicate table is built, drop duplicates into `data/`.
Both resume task by task; broken files are counted in `stats.json` (`dropped`) and the run exits 0 unless `strict`.
"""

from __future__ import annotations

import logging

from deepmath.cards import Card, stats_counts
from deepmath.executors import run_pipeline
from deepmath.ingest.config import IngestConfig
from deepmath.io.inputs import resolve_inputs
from deepmath.stage import StageResult, StageRun, StageStats, default_tasks, drops_by_reason, run_stage

__all__ = ["run_ingest"]

logger = logging.getLogger(__name__)

FIELDS = {
    "id": "WARC-Record-ID (or the input document's id)",
    "text": "main content; math as LaTeX ($...$ inline, $$...$$ display)",
    "metadata.url": "normalised URL",
    "metadata.domain": "registered domain",
    "metadata.url_path": "URL path",
    "metadata.title": "page title",
    "metadata.n_math": "formulas kept",
    "metadata.language": "language identified by py3langid (ISO 639-1; `und` without letters), with language_score",
    "metadata.n_chars / n_words / n_lines": "length counts",
    "metadata.alpha_fraction / bad_char_fraction": "character quality",
}


def run_ingest(cfg: IngestConfig) -> dict:
    from deepmath.ingest.warc import INGEST_SUFFIXES

    resolve_inputs(cfg.input, INGEST_SUFFIXES)  # a missing input fails here, before the output folder is made
    return run_stage("ingest", cfg, lambda run: _ingest(cfg, run))


def _ingest(cfg: IngestConfig, run: StageRun) -> StageResult:
    from deepmath.ingest.steps import (
        LanguageCounter,
        MathHtmlExtractor,
        UrlDuplicateFilter,
        UrlHashRecorder,
        find_duplicate_urls,
        language_counts,
    )
    from deepmath.ingest.warc import INGEST_SUFFIXES, CommonCrawlReader
    from deepmath.io.documents import DocumentReader, document_writer

    sources = resolve_inputs(cfg.input, INGEST_SUFFIXES)
    files = [f for source in sources for f in source.files]
    input_skips: dict[str, int] = {}
    for source in sources:
        for reason, n in source.skipped.items():
            input_skips[reason] = input_skips.get(reason, 0) + n
    tasks = default_tasks(cfg, len(files))
    limit = -1 if cfg.limit < 0 else -(-cfg.limit // tasks)
    work = run.output / "_work"
    extract = [
        CommonCrawlReader(
            files, cfg.max_page_bytes, limit, cfg.strict, cfg.text_key, cfg.max_record_bytes, input_skips=input_skips
        ),
        MathHtmlExtractor(cfg.max_page_bytes, cfg.min_chars, cfg.languages),
        UrlHashRecorder(str(work / "urls")),
        document_writer(work, "jsonl", subfolder="extracted"),
    ]
    done = run_pipeline(extract, cfg, run.logs("extract"), tasks, job_name="ingest-extract")
    if not done:
        return StageResult(None, complete=False, message="extraction submitted; re-run when it has finished")
    duplicates = find_duplicate_urls(work / "urls", work / "duplicate_urls.json", by_url=cfg.url_dedup)
    extracted = sorted(str(p) for p in (work / "extracted").glob("*.jsonl.gz"))
    finalize = [
        DocumentReader(extracted) if extracted else [],
        UrlDuplicateFilter(str(work / "duplicate_urls.json")),
        LanguageCounter(),
        document_writer(run.output, cfg.output_format),
    ]
    if extracted:
        run_pipeline(finalize, cfg, run.logs("finalize"), len(extracted), job_name="ingest-finalize")
    counters = run.counters("extract", "finalize")
    dropped = drops_by_reason(run.step_stats("extract") + run.step_stats("finalize"))
    documents_out = int(counters.get("forwarded", 0))
    stats = StageStats(
        # every response/conversion record read, including those skipped as non-HTML or by HTTP status
        rows_in=int(counters.get("records", 0)) + dropped.get("non_html", 0) + dropped.get("http_status", 0),
        rows_out=documents_out,
        unit="documents",
        dropped=dropped,
        extra={
            "files": len(files),
            "files_read": int(counters.get("files_read", 0)),
            "records": int(counters.get("records", 0)),
            "unparseable_urls": int(counters.get("unparseable_url", 0)),
            "duplicate_urls": sum(reason == "duplicate_url" for reason, _ in duplicates.values()),
            "languages": language_counts(run.counters("finalize")),
        },
    )
    card = Card(
        title="deepmath ingest",
        stage="ingest",
        summary="Pages read from Common Crawl WARC/WET (or documents) with math kept as LaTeX: MathJax scripts and "
        "delimiters, KaTeX annotations, MathML converted to LaTeX, and LaTeX image alt text.",
        n_rows=documents_out,
        fields=FIELDS,
        counts=stats_counts(stats),
        dropped=dropped,
        parameters={k: v for k, v in vars(cfg).items() if not k.startswith("slurm")},
        lineage=list(cfg.input),
        tags=["common-crawl"],
        sections={"Languages": _languages_table(stats.extra["languages"], documents_out)},
    )
    return StageResult(stats, card)


def _languages_table(counts: dict[str, int], total: int) -> str:
    """Markdown table of documents per identified language (py3langid, `metadata.language`)."""
    if not counts:
        return "_no documents_"
    rows = ["| language | documents | share |", "| --- | ---: | ---: |"]
    rows += [f"| {code} | {n:,} | {n / max(total, 1):.1%} |" for code, n in counts.items()]
    return "\n".join(rows)
