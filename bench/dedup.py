"""Benchmark: `deepmath dedup` vs the documented datasketch MinHashLSH loop vs datatrove's MinhashDedup stages.

    /tmp/venv/bin/python bench/dedup.py [--pages 20000] [--workers 1 2] [--workdir /tmp/dedup_bench]

All three run in this one invocation on the same files and are timed from reading the input to writing the kept
pages (gzipped JSONL through the same datatrove writer): `deepmath dedup` as the whole command in a subprocess
(Python start-up, imports, six pipelines, plots and card included); the datasketch loop as documented
(`MinHash(num_perm=128).update_batch(shingles)`, then `MinHashLSH(threshold=0.8, num_perm=128)` query, insert if
no match, no verification); datatrove's four MinhashDedup stages with its defaults (14 buckets x 8 hashes, xxhash64)
on its LocalPipelineExecutor, with a str.split word tokenizer (its English default needs spaCy). The sharded methods
run with each --workers value. Wall time is what the issue asks for; CPU time (user + system of the process and its
children, single-process runs only) is also shown because a shared machine's load distorts wall time. Prints a
markdown table.

The corpus is `deepmath.dedup.planted.build_corpus` (construction and metrics in that module's docstring) over the
real text in ../shared/data/webtext (dolma Common Crawl pages, cc_net pages, StackMathQA question+answer pairs;
nothing is stored in the repository): distinct bases, each with far roots and families of near (Jaccard 0.86-0.99),
exact-after-restyle, mid (0.55-0.8) and far (0.15-0.45) copies; exact within-family Jaccard from an oracle tokeniser
independent of deepmath's shingler, plus every cross-base pair a method put in a cluster. The datasketch loop
shingles `re.findall(r"\\w+", text.lower())` words, as a user of it would.
Metrics (`deepmath.dedup.planted.score`): a group is a connected component of pages joined by Jaccard >= 0.85
edges; recall = share of groups with at most one surviving page. A unique page has Jaccard <= 0.5 to every other
page; false removals = share of unique pages removed. Families lost = bases none of whose pages survive.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from deepmath.dedup.planted import PlantedPage, build_corpus, read_texts, score

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "webtext"
_SIMPLE_WORD = re.compile(r"\w+")


def write_corpus(docs: list[PlantedPage], folder: Path, files: int = 8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(files):
        with gzip.open(folder / f"part-{k:02d}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for doc in docs[k::files]:
                handle.write(json.dumps({"id": doc.id, "text": doc.text}) + "\n")


def _read_jsonl_folder(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle]
    return rows


def _cpu() -> float:
    self, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return self.ru_utime + self.ru_stime + children.ru_utime + children.ru_stime


def run_deepmath(inputs: Path, out: Path, workers: int) -> tuple[float, dict[str, str | None]]:
    start = time.perf_counter()
    command = [sys.executable, "-m", "deepmath", "dedup", str(inputs), "--output", str(out), "--workers", str(workers)]
    subprocess.run([*command, "--overwrite"], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    return seconds, _deepmath_removed(out / "_work")


def _deepmath_removed(work: Path) -> dict[str, str | None]:
    """{removed id: kept id} from the stage's cluster files (removed pages are written only with --write-removed)."""
    import numpy as np

    removed = {}
    for path in sorted((work / "clusters").glob("*.npz")):
        ids = [json.loads(line) for line in (work / "ids" / f"{path.stem}.jsonl").open(encoding="utf-8")]
        with np.load(path) as npz:
            for position, reason, cluster in zip(npz["position"], npz["reason"], npz["cluster"]):
                if reason:
                    removed[ids[position]] = str(cluster)
    return removed


def run_datasketch(inputs: Path, out: Path) -> tuple[float, dict[str, str | None]]:
    """The loop from datasketch's documentation, with the same input reading and output writing as the stages."""
    from datasketch import MinHash, MinHashLSH

    from deepmath.io.documents import document_writer, iter_documents

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    removed: dict[str, str | None] = {}
    loop = 0.0
    with document_writer(out) as writer:
        for doc in iter_documents(str(inputs)):
            tick = time.perf_counter()
            words = _SIMPLE_WORD.findall(doc.text.lower())  # what a user of the documented loop would write
            shingles = {" ".join(words[i : i + 5]) for i in range(max(1, len(words) - 4))}
            m = MinHash(num_perm=128)
            m.update_batch([s.encode("utf-8") for s in shingles])
            found = lsh.query(m)
            if not found:
                lsh.insert(doc.id, m)
            loop += time.perf_counter() - tick
            if found:
                removed[doc.id] = found[0]
                continue
            writer.write(doc, 0)
    print(f"datasketch: {loop:.1f}s of the time is the loop itself (shingles, MinHash, LSH)", file=sys.stderr)
    return time.perf_counter() - start, removed


def _split_tokenizer():
    """datatrove's English word tokenizer needs spaCy (not installed); str.split after its own simplify_text (lower
    case, punctuation removed) gives the same words for this corpus and is faster than spaCy."""
    from datatrove.utils.word_tokenizers import WordTokenizer

    class SplitTokenizer(WordTokenizer):
        def word_tokenize(self, text: str) -> list[str]:
            return text.split()

        def sent_tokenize(self, text: str) -> list[str]:
            return text.split("\n")

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]

    return SplitTokenizer()


def run_datatrove(inputs: Path, out: Path, workers: int) -> tuple[float, dict[str, str | None]]:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupFilter,
        MinhashDedupSignature,
    )
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    shutil.rmtree(out, ignore_errors=True)
    config = MinhashConfig()
    tasks = len(list(inputs.glob("*.jsonl.gz")))
    start = time.perf_counter()

    def execute(pipeline, name, n_tasks):
        LocalPipelineExecutor(
            pipeline, tasks=n_tasks, workers=min(workers, n_tasks), logging_dir=str(out / "logs" / name)
        ).run()

    signature = MinhashDedupSignature(str(out / "sigs"), config=config, language=_split_tokenizer())
    execute([JsonlReader(str(inputs)), signature], "sigs", tasks)
    execute(
        [MinhashDedupBuckets(str(out / "sigs"), str(out / "buckets"), config=config)], "buckets", config.num_buckets
    )
    execute(
        [MinhashDedupCluster(str(out / "buckets"), str(out / "remove"), config=config, save_cluster_id=True)],
        "clusters",
        1,
    )
    execute(
        [
            JsonlReader(str(inputs)),
            MinhashDedupFilter(
                str(out / "remove"), exclusion_writer=JsonlWriter(str(out / "removed")), load_cluster_ids=True
            ),
            JsonlWriter(str(out / "data")),
        ],
        "filter",
        tasks,
    )
    seconds = time.perf_counter() - start
    kept_by_cluster = {
        r["metadata"]["minhash_cluster_id"]: r["id"]
        for r in _read_jsonl_folder(out / "data")
        if r["metadata"].get("minhash_cluster_id", -1) != -1
    }
    removed = {
        r["id"]: kept_by_cluster.get(r["metadata"]["minhash_cluster_id"]) for r in _read_jsonl_folder(out / "removed")
    }
    return seconds, removed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="run the sharded methods with each")
    parser.add_argument("--workdir", default="/tmp/dedup_bench")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip", nargs="*", default=[], help="methods to skip: deepmath datasketch datatrove")
    args = parser.parse_args(argv)
    work = Path(args.workdir)
    start = time.perf_counter()
    corpus = build_corpus(read_texts(SHARED), args.pages, args.seed)
    docs, truth = corpus.pages, corpus.truth
    write_corpus(docs, work / "input")
    unique = len(truth.unique)
    print(
        f"corpus: {len(docs)} pages, {sum(len(d.text) for d in docs) / 1e6:.1f} M characters, "
        f"{len(truth.groups)} groups joined by J>=0.85 ({sum(len(g) for g in truth.groups)} pages), "
        f"{unique} unique pages (J<=0.5 to all); built in {time.perf_counter() - start:.0f}s",
        file=sys.stderr,
    )
    methods = {
        "datasketch documented loop": ("datasketch", lambda: run_datasketch(work / "input", work / "datasketch"))
    }
    for w in args.workers:
        methods[f"deepmath dedup (whole command), workers={w}"] = (
            "deepmath",
            lambda w=w: run_deepmath(work / "input", work / f"deepmath{w}", w),
        )
        methods[f"datatrove MinhashDedup (4 stages), workers={w}"] = (
            "datatrove",
            lambda w=w: run_datatrove(work / "input", work / f"datatrove{w}", w),
        )
    runs = {}
    for name, (key, method) in methods.items():
        if key in args.skip:
            continue
        cpu = _cpu()
        seconds, removed = method()
        runs[name] = (seconds, _cpu() - cpu, removed)
        print(f"{name}: {seconds:.1f}s wall, {runs[name][1]:.1f}s CPU", file=sys.stderr)
    anchor = runs.get("datasketch documented loop", (None,))[0]
    anchor_cpu = runs.get("datasketch documented loop", (None, None))[1]
    load = os.getloadavg()[0]
    lines = [
        f"{len(docs):,} pages ({sum(len(d.text) for d in docs) / 1e6:.0f} M characters), "
        f"{len(truth.groups):,} groups, {unique:,} unique pages; {os.cpu_count()} cores, load average {load:.1f}",
        "",
        "| method | wall s | pages/s | speed-up (wall) | CPU s | speed-up (CPU) | recall (groups J>=0.85) "
        "| false removals (J<=0.5) | families lost | removed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (seconds, cpu_seconds, removed) in runs.items():
        m = score(removed, truth)
        speed = f"{anchor / seconds:.1f}x" if anchor else "-"
        # datatrove's own executor starts its workers from a forkserver, which is not our child: their CPU time is
        # not counted; `deepmath dedup` forks its workers, which its process reaps, so theirs is
        uncounted = name.startswith("datatrove") and not name.endswith("workers=1")
        speed_cpu = f"{anchor_cpu / cpu_seconds:.1f}x" if anchor_cpu and not uncounted else "-"
        cpu_text = "n/a" if uncounted else f"{cpu_seconds:.1f}"
        lines.append(
            f"| {name} | {seconds:.1f} | {len(docs) / seconds:,.0f} | {speed} | {cpu_text} | {speed_cpu} "
            f"| {100 * m['recall']:.2f}% | "
            f"{100 * m['false_removals']:.2f}% ({m['false_count']}) | {m['families_lost']} | {m['removed']:,} |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
