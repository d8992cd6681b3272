"""`deepmath dedup INPUT --output DIR`: exact + MinHash near-duplicate removal with verified candidate pairs.

    deepmath dedup corpus/mine --output corpus/dedup [--workers 2] [--keep score --score-field math_score]

`--workers` defaults to the cores available with the local executor (datatrove's default; each task holds only its
shard or split, see Memory below) and to 1 on Slurm and Ray, where it caps the cluster's concurrency.

Six datatrove pipelines (each resumes task by task; see steps.py for the files and the memory each needs):
signatures per input shard -> exact-duplicate groups -> band buckets (candidate pairs) -> verification of every
candidate pair (exact Jaccard by default) -> connected components and the page each cluster keeps -> filter.
Kept pages go to `OUTPUT/data/` with `metadata.dedup_cluster_id` (the kept page's id) and `dedup_cluster_size`;
with `--write-removed`, removed ones go to `OUTPUT/removed/` with `duplicate_of` and `dedup_reason` (exact | near).
`OUTPUT/_work/` keeps the signatures (datasketch-compatible), band keys, pairs, edges and clusters; it must be on a
filesystem every worker sees (a shared one on Slurm or a multi-node Ray cluster).

Where we depart from DeepSeekMath and the usual tools: the paper only says it ran MinHash dedup. datasketch's
documented loop and datatrove remove every LSH candidate, so false candidates remove unique pages, and datasketch's
default bands x rows for 0.8 (9 x 13) make a pair at Jaccard 0.85 a candidate only 69% of the time. We pick
recall-heavy bands with datasketch's optimiser (16 x 8: 99.4% at 0.85) and verify every candidate's exact Jaccard
before anything is removed. `first` means first in reading order (task by task; the input file order when each task
reads one file, the default for up to 64 files).

Speed: shingle hashing, each page's sorted shingle set (an AVX-512 merge sort where the CPU has it), MinHash, band
buckets and verification (set intersections 8 values at a time where the CPU has AVX2) run in a small C extension
(`_kernel.c`, built by `pip install`, optional: without a compiler the numpy path gives the same signatures, slower);
stats.json says which ran (`kernel: compiled|numpy`). The signature pass takes its input in lists of 256 pages
(`DocumentReader(batch_size=...)`); with several workers the tasks run in `deepmath.fork_pool` (workers forked once;
the filter runs on the signature pass's workers) and the card's plots are drawn in a `PlotWorker` forked after the
signature pass. With the local executor the buckets and verify steps use the cores the workers had, as threads
(`--workers` of them, shared among the `--splits` tasks): buckets band by band, verification by groups of whole
connected components of the candidate graph (the same pairs checked, the same edges: `kernel.component_groups`).
bench/README.md has the figures against rensa, datasketch and datatrove. Memory, measured (bench/README.md; peak RSS
of one process, one worker, so the main process also ran the single-task steps): see MEMORY_NOTE. A sharded task
(signatures, filter) holds only its shard's arrays (steps.py); `--splits N` divides the single-task steps' keys and
pairs by N. The input is read and parsed once: the signature pass stores each page's output JSON in `_work/rows/` and
the filter adds the dedup fields to those bytes (Parquet output reads the input again). A JSONL line that already is
its document's JSON (only `text`, `id` and a last `metadata` object: `io.documents.plain_line`) is stored as it was
read, so an output line keeps its input's key order and escapes; other rows are written as the standard writer writes
them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from pathlib import Path

import numpy as np

from deepmath.cards import Card
from deepmath.config import ConfigError
from deepmath.dedup.config import DedupConfig
from deepmath.executors import run_pipeline
from deepmath.io.atomic import atomic_write_json
from deepmath.io.inputs import resolve_inputs
from deepmath.stage import StageResult, StageRun, StageStats, default_tasks, drops_by_reason, run_stage

__all__ = ["MEMORY_NOTE", "run_dedup"]

# measured with bench/dedup.py (peak RSS of the whole command, one process holds one shard or split at a time)
MEMORY_NOTE = (
    "Measured with bench/dedup.py on planted web text, one worker (the main process then also runs the single-task "
    "buckets, verify and clusters steps over the whole corpus): 128 MB at 19k pages, 689 MB at 176k pages, i.e. "
    "~60 MB plus ~3.6 GB per million pages (two workers, whose threads also verify at once: 116 MB and 688 MB); by "
    "our accounting (not measured step by step) about two thirds of the growth are file-backed pages of the "
    "memory-mapped shingle sets (~2 KB a page) and signatures (512 B a page), which the kernel can drop; `--splits N` "
    "divides the buckets and verify steps' keys and pairs by N."
)

logger = logging.getLogger(__name__)

FIELDS = {
    "id": "the input document's id (unchanged)",
    "text": "the input text (unchanged)",
    "metadata.dedup_cluster_id": "id of the page its duplicate cluster kept (its own id when it has no duplicate)",
    "metadata.dedup_cluster_size": "pages in its cluster (1: no duplicate)",
    "removed/: metadata.duplicate_of": "id of the kept page a removed page duplicates",
    "removed/: metadata.dedup_reason": "exact (same normalised text) or near (verified Jaccard >= threshold)",
}


def run_dedup(cfg: DedupConfig) -> dict:
    resolve_inputs(cfg.input)  # a missing input fails here, before the output folder is made
    return run_stage("dedup", cfg, lambda run: _dedup(cfg, run))


def _check_layout(work: Path, layout: dict) -> None:
    """Document numbers depend on the task count and the input files: a resumed run must use the same ones."""
    path = work / "layout.json"
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != layout:
            raise ConfigError(
                f"dedup: {work.parent} was started with {previous.get('tasks')} task(s) over "
                f"{len(previous.get('inputs', []))} input file(s); resume with the same --tasks and inputs, "
                "or use --overwrite"
            )
    else:
        atomic_write_json(path, layout)


def _dedup(cfg: DedupConfig, run: StageRun) -> StageResult:
    # the card's two plots are drawn with Pillow (plots.py): matplotlib's import alone cost ~0.7 s of CPU
    from deepmath.dedup.plots import candidate_jaccard_plot, cluster_size_plot, warm_up

    return _dedup_with(cfg, run, candidate_jaccard_plot, cluster_size_plot, warm_up)


def _dedup_with(cfg: DedupConfig, run: StageRun, jaccard_plot, size_plot, warm_plots) -> StageResult:
    from deepmath.dedup.kernel import KERNEL, release_scratch, warm_up
    from deepmath.dedup.signatures import candidate_probability, lsh_params
    from deepmath.dedup.steps import (
        ExactDuplicates,
        MinhashBuckets,
        MinhashClusters,
        MinhashFilter,
        MinhashSignature,
        MinhashVerify,
        kept_writer,
    )
    from deepmath.fork_pool import shared_workers
    from deepmath.io.documents import DocumentReader
    from deepmath.plot_worker import PlotWorker

    sources = resolve_inputs(cfg.input)
    files = [f for s in sources for f in s.files]
    tasks = default_tasks(cfg, len(files) + sum(1 for s in sources if s.is_hf))
    params = lsh_params(
        cfg.threshold, cfg.num_perm, cfg.false_positive_weight, cfg.false_negative_weight, cfg.bands, cfg.rows
    )
    work = run.output / "_work"
    work.mkdir(parents=True, exist_ok=True)
    _check_layout(work, {"tasks": tasks, "inputs": files + [s.spec for s in sources if s.is_hf]})
    logger.debug(
        "dedup: %d input file(s) in %d task(s); LSH %d bands x %d rows (P[candidate] at J=%.2f: %.3f)",
        len(files),
        tasks,
        params.bands,
        params.rows,
        min(0.99, cfg.threshold + 0.05),
        params.recall(min(0.99, cfg.threshold + 0.05)),
    )

    logger.debug("dedup: shingle hashing + MinHash kernel: %s", KERNEL)
    warm_up()  # the character table, built here once: forked workers inherit it

    def reader(batch_size: int = 0, lines: bool = False):
        return DocumentReader(cfg.input, text_key=cfg.text_key, id_key=cfg.id_key, batch_size=batch_size, lines=lines)

    signature = MinhashSignature(
        str(work),
        cfg.ngram,
        cfg.num_perm,
        cfg.seed,
        cfg.scheme,
        params.bands,
        params.rows,
        store_shingles=cfg.verify == "exact",
        score_field=cfg.score_field if cfg.keep == "score" else "",
        exact=cfg.exact,
        keep_rows=cfg.output_format == "jsonl",
    )
    splits = cfg.splits
    # the buckets and verify steps run as `splits` tasks (one, by default, in this process): with the local executor
    # they share the cores the workers had, as threads
    threads = max(1, cfg.workers // splits) if cfg.executor == "local" else 1
    plan = [
        ("signatures", [reader(signature.batch_size, lines=signature.keep_rows), signature], tasks),
        ("exact", [ExactDuplicates(str(work), tasks, enabled=cfg.exact)], splits),
        ("buckets", [MinhashBuckets(str(work), tasks, params.bands, threads)], splits),
        (
            "verify",
            [MinhashVerify(str(work), tasks, cfg.threshold, cfg.verify, cfg.num_perm, cfg.scheme, threads)],
            splits,
        ),
        ("clusters", [MinhashClusters(str(work), tasks, cfg.keep)], 1),
    ]
    exclusion = kept_writer(run.output, cfg.output_format, subfolder="removed") if cfg.write_removed else None
    if cfg.output_format == "jsonl":  # the rows the signature pass serialised: the input is not read again
        writer = kept_writer(run.output, cfg.output_format)
        filter_steps = [MinhashFilter(str(work), exclusion, writer=writer, reader=reader())]
    else:
        filter_steps = [reader(), MinhashFilter(str(work), exclusion), kept_writer(run.output, cfg.output_format)]
    plan.append(("filter", filter_steps, tasks))
    drawing, drawer = {}, None
    # the filter's tasks run on the signature pass's workers (forked once; see fork_pool.shared_workers)
    with shared_workers(), contextlib.ExitStack() as cleanup:
        for name, steps, n_tasks in plan:
            start = time.perf_counter()
            if not run_pipeline(steps, cfg, run.logs(name), n_tasks, job_name=f"dedup-{name}"):
                return StageResult(None, complete=False, message=f"{name} submitted; re-run when it has finished")
            logger.debug("dedup: %s (%d task(s)) done in %.1fs", name, n_tasks, time.perf_counter() - start)
            if name == "signatures":
                # the plots are drawn in a side process forked now: its Pillow import and the first chart run on
                # the core the single-task steps leave idle (it is not alive while the signature workers fork)
                drawer = PlotWorker(enabled=cfg.executor == "local" and cfg.workers > 1, warm_up=warm_plots)
                cleanup.callback(drawer.close, wait=False)
            elif name == "verify":
                jaccard = _candidate_jaccard(work)
                drawing[name] = drawer.submit(
                    jaccard_plot, run.output, jaccard, cfg.threshold, cfg.verify, params.bands, params.rows
                )
            elif name == "clusters":
                drawing[name] = drawer.submit(size_plot, run.output, _cluster_summary(work)["cluster_sizes"])
        plots = [drawing[name].result() for name in ("clusters", "verify")]
    result = _result(cfg, run, params, tasks, candidate_probability, plots)
    # the shingle hashes (4 bytes per shingle) are only needed to verify pairs, the serialised rows (the input's size,
    # uncompressed) only by the filter; signatures, bands and clusters stay
    shutil.rmtree(work / "shingles", ignore_errors=True)
    shutil.rmtree(work / "rows", ignore_errors=True)
    release_scratch()  # this process's work arrays: with one worker it ran the signature tasks itself
    return result


def _candidate_jaccard(work: Path) -> np.ndarray:
    from deepmath.io.npz import read_npz

    jaccard = [read_npz(p)["jaccard"] for p in sorted((work / "edges").glob("*.npz"))]
    return np.concatenate(jaccard) if jaccard else np.zeros(0, np.float32)


def _cluster_summary(work: Path) -> dict:
    summary = json.loads((work / "clusters" / "summary.json").read_text())
    summary["cluster_sizes"] = {int(k): v for k, v in summary["cluster_sizes"].items()}
    return summary


def _result(
    cfg: DedupConfig, run: StageRun, params, tasks: int, candidate_probability, plots: list[str]
) -> StageResult:
    work = run.output / "_work"
    summary = _cluster_summary(work)
    signature = run.counters("signatures")
    verify = run.counters("verify")
    final = run.step_stats("filter")
    if cfg.output_format == "jsonl":  # the filter wrote the rows the signature pass read: the reader's skips are there
        final = run.step_stats("signatures") + final
    kept = int(run.counters("filter").get("kept", 0))
    dropped = drops_by_reason(final)
    sizes = summary["cluster_sizes"]
    curve = {
        f"{j:.2f}": round(candidate_probability(j, params.bands, params.rows), 4)
        for j in (0.5, 0.7, 0.8, 0.85, 0.9, 0.95)
    }
    stats = {
        "rows_in": int(signature.get("documents", 0)),
        "rows_out": kept,
        "unit": "documents",
        "dropped": dropped,
        "removed_exact": summary["removed_exact"],
        "removed_near": summary["removed_near"],
        "clusters": summary["clusters"],
        "documents_in_clusters": summary["documents_in_clusters"],
        "cluster_sizes": sizes,
        "documents_without_words": int(signature.get("documents_without_words", 0)),
        "documents_without_score": int(signature.get("documents_without_score", 0)),
        "candidate_pairs": int(verify.get("candidate_pairs", 0)),
        "checked_pairs": int(verify.get("checked_pairs", 0)),
        "verified_pairs": int(verify.get("verified_pairs", 0)),
        "lsh": {"bands": params.bands, "rows": params.rows, "candidate_probability": curve},
        "tasks": tasks,
        "workers": cfg.workers,
        "peak_rss_mb": _peak_rss_mb(),
        "kernel": _kernel_name(),
        "plots": plots,
    }
    counts = {k: v for k, v in stats.items() if isinstance(v, int) and k not in ("tasks", "workers", "peak_rss_mb")}
    resources = (
        f"{cfg.workers} worker(s) (`--workers`; by default the cores available to the local executor, like "
        f"datatrove's default), {tasks} task(s) per sharded pipeline. Peak memory of one process (the largest "
        f"resident set of this process and of the workers it ran): {stats['peak_rss_mb']:,} MB for "
        f"{stats['rows_in']:,} pages. " + MEMORY_NOTE + f" Shingle hashes and signatures: {stats['kernel']} "
        "path (`compiled`: the C extension built at install; `numpy`: the fallback, same signatures, slower)."
    )
    histogram = "\n".join(
        ["| cluster size | clusters |", "| ---: | ---: |"] + [f"| {k} | {v:,} |" for k, v in sorted(sizes.items())]
    )
    lsh = "\n".join(
        [
            f"{cfg.num_perm} permutations ({cfg.scheme}), {params.bands} bands x {params.rows} rows, "
            f"word {cfg.ngram}-grams; candidates verified: {cfg.verify}.",
            "",
            "| Jaccard | P[candidate pair] |",
            "| ---: | ---: |",
        ]
        + [f"| {j} | {p} |" for j, p in curve.items()]
    )
    card = Card(
        title="deepmath dedup",
        stage="dedup",
        summary=(
            "Pages with exact (same normalised text) or near duplicates (Jaccard of word "
            f"{cfg.ngram}-gram sets >= {cfg.threshold}, every LSH candidate pair verified) removed; each duplicate "
            f"cluster keeps one page ({cfg.keep})."
        ),
        n_rows=kept,
        fields=FIELDS,
        counts=counts,
        dropped=dropped,
        parameters={k: v for k, v in vars(cfg).items() if not k.startswith("slurm") and k != "ray_address"},
        lineage=list(cfg.input),
        tags=["deduplication", "minhash"],
        sections={"Cluster sizes": histogram, "LSH": lsh, "Resources": resources},
        images=plots,
    )
    return StageResult(StageStats.from_dict(stats), card)


def _kernel_name() -> str:
    """Which path computed the shingle hashes and signatures: "compiled" (the C extension) or "numpy"."""
    from deepmath.dedup.kernel import KERNEL

    return KERNEL


def _peak_rss_mb() -> int:
    """The largest resident set of this process and of its reaped children (the forked workers), in MB."""
    import resource

    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return round(peak / 1024)  # Linux reports KB
