"""Benchmark: `deepmath dedup` vs rensa (documented loop and batch API), datasketch's documented MinHashLSH loop and
datatrove's MinhashDedup stages.

    python bench/dedup.py [--pages 20000] [--workers 1 2] [--repeat 3] [--workdir /tmp/dedup_bench] [--skip ...]

Every method runs in a process of its own, started from a small launcher process (so `os.wait4` gives that process
tree's own peak RSS: the largest resident set of the process or of any worker it reaped, i.e. of one worker), on
the same 8 gzipped JSONL files, and writes the kept pages as gzipped JSONL through the same datatrove writer.
`--repeat` rounds each run every method once, in the same order, so a load change on a shared machine hits all of
them; the table gives medians and the median of the per-round ratios to rensa's documented loop.
- `deepmath dedup`: the whole command, timed from the launcher (Python start-up, imports, six pipelines, plots and
  card included), with each --workers value. Its bytecode caches are written first (`compileall`, what a regular
  install or a first run does): where PYTHONDONTWRITEBYTECODE is set every command would otherwise compile
  deepmath's modules from source, ~20-40 ms that users do not pay.
- rensa's documented loop: `RMinHash(num_perm=128, seed=42).update(text.split())`, `RMinHashLSH(threshold=0.8,
  num_perm=128, num_bands=16)`, query, a candidate counts when `is_similar`, else insert. Also on word 5-grams
  (the shingles deepmath and the datasketch loop compare). rensa's batch API: `RMinHashDeduplicator(threshold=0.8,
  num_perm=128, use_lsh=True).add_pairs` over 4,096 (id, text.split()) pairs a call.
- datasketch's documented loop: `MinHash(num_perm=128).update_batch(shingles)`, `MinHashLSH(threshold=0.8,
  num_perm=128)` query, insert if no match, no verification.
- datatrove's four MinhashDedup stages with its defaults (14 buckets x 8 hashes, xxhash64) on its
  LocalPipelineExecutor, with a str.split word tokenizer (its English default needs spaCy), with each --workers.
The in-process methods (rensa, datasketch, datatrove) are timed inside their process from reading the input to
writing the last page (their interpreter start-up is not counted, deepmath's is), and so is their CPU time (user +
system of the process and its children; datatrove's parallel workers come from a forkserver that is not our child:
n/a); deepmath's CPU time is that of the whole command and its workers.

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
import itertools
import json
import multiprocessing
import os
import pickle
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from deepmath.dedup.planted import GroundTruth, PlantedPage, build_corpus, read_texts, score

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "webtext"
_SIMPLE_WORD = re.compile(r"\w+")


def write_corpus(docs: list[PlantedPage], folder: Path, files: int = 8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(files):
        with gzip.open(folder / f"part-{k:02d}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for doc in docs[k::files]:
                handle.write(json.dumps({"id": doc.id, "text": doc.text}) + "\n")


def _corpus(work: Path, pages: int, seed: int) -> tuple[list[PlantedPage], GroundTruth]:
    """The planted corpus and its input files, built once per (pages, seed) and cached in the work folder (building
    the ground truth of 200k pages takes minutes)."""
    cache = work / f"corpus-{pages}-{seed}.pkl"
    if cache.exists() and (work / "input").is_dir():
        with cache.open("rb") as handle:
            return pickle.load(handle)
    corpus = build_corpus(read_texts(SHARED), pages, seed)
    shutil.rmtree(work / "input", ignore_errors=True)
    write_corpus(corpus.pages, work / "input")
    for old in work.glob("corpus-*.pkl"):
        old.unlink()
    with cache.open("wb") as handle:
        pickle.dump((corpus.pages, corpus.truth), handle, protocol=pickle.HIGHEST_PROTOCOL)
    return corpus.pages, corpus.truth


def _read_jsonl_folder(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            rows += [json.loads(line) for line in handle]
    return rows


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
            shingles = set(_word_5grams(doc.text))  # what a user of the documented loop would write
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


def _word_5grams(text: str) -> list[str]:
    """The shingles a user of the documented loops would write: word 5-grams of `\\w+` words, lower-cased."""
    words = _SIMPLE_WORD.findall(text.lower())
    return [" ".join(words[i : i + 5]) for i in range(max(1, len(words) - 4))]


def run_rensa(inputs: Path, out: Path, shingles: bool = False) -> tuple[float, dict[str, str | None]]:
    """rensa's documented streaming loop: `RMinHash(num_perm=128, seed=42).update(text.split())`, then
    `RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)` query; a candidate counts when `is_similar` (its estimated
    Jaccard >= 0.8), else the page is inserted. Same reading and writing as the other methods. With `shingles`, the
    tokens are word 5-grams (what deepmath and the datasketch loop compare) instead of rensa's whitespace words."""
    from rensa import RMinHash, RMinHashLSH

    from deepmath.io.documents import document_writer, iter_documents

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    lsh = RMinHashLSH(threshold=0.8, num_perm=128, num_bands=16)
    kept: list = []
    kept_ids: list[str] = []
    removed: dict[str, str | None] = {}
    with document_writer(out) as writer:
        for doc in iter_documents(str(inputs)):
            m = RMinHash(num_perm=128, seed=42)
            m.update(_word_5grams(doc.text) if shingles else doc.text.split())
            found = next((key for key in lsh.query(m) if lsh.is_similar(m, kept[key])), None)
            if found is not None:
                removed[doc.id] = kept_ids[found]
                continue
            lsh.insert(len(kept), m)
            kept.append(m)
            kept_ids.append(doc.id)
            writer.write(doc, 0)
    return time.perf_counter() - start, removed


def run_rensa_batch(inputs: Path, out: Path, batch: int = 4096) -> tuple[float, dict[str, str | None]]:
    """rensa's documented batch API: `RMinHashDeduplicator(threshold=0.8, num_perm=128, use_lsh=True).add_pairs`
    over (id, text.split()) pairs, 4,096 pages a call (it keeps its index across calls); it says which pages to keep,
    not which page a removed one duplicates."""
    from rensa import RMinHashDeduplicator

    from deepmath.io.documents import document_writer, iter_documents

    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    dedup = RMinHashDeduplicator(threshold=0.8, num_perm=128, use_lsh=True)
    removed: dict[str, str | None] = {}
    with document_writer(out) as writer:
        docs = iter_documents(str(inputs))
        while chunk := list(itertools.islice(docs, batch)):
            keep = dedup.add_pairs((doc.id, doc.text.split()) for doc in chunk)
            for doc, flag in zip(chunk, keep):
                if flag:
                    writer.write(doc, 0)
                else:
                    removed[doc.id] = None
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


IN_PROCESS = {
    "datasketch": lambda inputs, out, workers: run_datasketch(inputs, out),
    "rensa": lambda inputs, out, workers: run_rensa(inputs, out),
    "rensa-5gram": lambda inputs, out, workers: run_rensa(inputs, out, shingles=True),
    "rensa-batch": lambda inputs, out, workers: run_rensa_batch(inputs, out),
    "datatrove": run_datatrove,
}


def _child(method: str, inputs: Path, out: Path, workers: int) -> None:
    """One method in a process of its own (so its peak RSS is its own): time and removed ids to out/result.json."""
    import resource

    def cpu() -> float:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    start = cpu()
    seconds, removed = IN_PROCESS[method](inputs, out, workers)
    used = cpu() - start  # the timed part only, like `seconds` (a little more: imports inside the method)
    out.mkdir(parents=True, exist_ok=True)
    (out / "result.json").write_text(json.dumps({"seconds": seconds, "cpu": used, "removed": removed}))


def _measure(method: str, inputs: Path, out: Path, workers: int) -> dict:
    """Run one method in a child process: wall seconds, CPU seconds and peak RSS of that process tree (os.wait4:
    the largest RSS of the child and the workers it reaped, i.e. of one worker), and its removed pages."""
    if method == "deepmath":
        # the previous round's output is removed before the clock starts, as the in-process methods do
        shutil.rmtree(out, ignore_errors=True)
        command = [sys.executable, "-m", "deepmath", "dedup", str(inputs), "--output", str(out)]
        command += ["--workers", str(workers), "--overwrite"]
    else:
        command = [sys.executable, __file__, "--child", method, str(inputs), str(out), str(workers)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{method} failed ({child.returncode}):\n{stderr.decode(errors='replace')[-3000:]}")
    if method == "deepmath":
        removed = _deepmath_removed(out / "_work")
    else:
        result = json.loads((out / "result.json").read_text())
        wall, removed = result["seconds"], result["removed"]
    return {
        "wall": wall,
        "cpu": result["cpu"] if method != "deepmath" else usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "removed": removed,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=20000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="run the sharded methods with each")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; each runs every method once, interleaved")
    parser.add_argument("--workdir", default="/tmp/dedup_bench")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="methods to skip: deepmath rensa rensa-batch rensa-5gram datasketch datatrove",
    )
    parser.add_argument(
        "--once", nargs="*", default=[], help="methods to run in the first round only (the slow anchors)"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        method, inputs, out, workers = args.child
        _child(method, Path(inputs), Path(out), int(workers))
        return
    work = Path(args.workdir)
    # every run is started by a process spawned now, while this one is small: Linux counts the RSS a child had
    # before exec (a fork of this process, which will hold the corpus and its ground truth) in its peak RSS
    with multiprocessing.get_context("spawn").Pool(1) as launcher:
        _bench(args, work, launcher)


def _compile_bytecode() -> None:
    """deepmath's bytecode caches, as `pip install` (regular) or the first import writes them (see the docstring)."""
    import compileall

    import deepmath

    compileall.compile_dir(Path(deepmath.__file__).parent, quiet=1)


def _bench(args, work: Path, launcher) -> None:
    start = time.perf_counter()
    _compile_bytecode()
    docs, truth = _corpus(work, args.pages, args.seed)
    unique = len(truth.unique)
    print(
        f"corpus: {len(docs)} pages, {sum(len(d.text) for d in docs) / 1e6:.1f} M characters, "
        f"{len(truth.groups)} groups joined by J>=0.85 ({sum(len(g) for g in truth.groups)} pages), "
        f"{unique} unique pages (J<=0.5 to all); ready in {time.perf_counter() - start:.0f}s",
        file=sys.stderr,
    )
    methods = {
        "rensa documented loop (RMinHash + RMinHashLSH)": ("rensa", 1),
        "rensa batch API (RMinHashDeduplicator.add_pairs)": ("rensa-batch", 1),
        "rensa loop on word 5-grams (as the datasketch loop)": ("rensa-5gram", 1),
        "datasketch documented loop": ("datasketch", 1),
    }
    for w in args.workers:
        methods[f"deepmath dedup (whole command), workers={w}"] = ("deepmath", w)
    for w in args.workers:
        methods[f"datatrove MinhashDedup (4 stages), workers={w}"] = ("datatrove", w)
    methods = {name: spec for name, spec in methods.items() if spec[0] not in args.skip}
    runs: dict[str, list[dict]] = {name: [] for name in methods}
    loads = []
    for round_ in range(args.repeat):
        loads.append(os.getloadavg()[0])
        for name, (method, workers) in methods.items():
            if round_ and method in args.once:
                continue
            run = launcher.apply(_measure, (method, work / "input", work / f"{method}{workers}", workers))
            runs[name].append(run)
            print(
                f"round {round_ + 1}: {name}: {run['wall']:.2f}s wall, {run['cpu']:.2f}s CPU, "
                f"{run['rss_mb']:.0f} MB peak RSS",
                file=sys.stderr,
            )
    print(_table(runs, docs, truth, loads))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _table(runs: dict[str, list[dict]], docs: list[PlantedPage], truth: GroundTruth, loads: list[float]) -> str:
    anchor_name = next((n for n in runs if n.startswith("rensa documented")), None)
    anchor = runs.get(anchor_name, [])
    lines = [
        f"{len(docs):,} pages ({sum(len(d.text) for d in docs) / 1e6:.0f} M characters), "
        f"{len(truth.groups):,} groups, {len(truth.unique):,} unique pages; {os.cpu_count()} cores; "
        f"{len(loads)} interleaved rounds, load average (1 min) at their starts: "
        + ", ".join(f"{x:.1f}" for x in loads),
        "",
        "| method | runs | wall s (median) | pages/s | x rensa loop, wall (median of rounds) | CPU s | x rensa loop, CPU "
        "| peak RSS MB | recall (groups J>=0.85) | false removals (J<=0.5) | families lost | removed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, rounds in runs.items():
        wall = _median([r["wall"] for r in rounds])
        ratio = _median([a["wall"] / r["wall"] for a, r in zip(anchor, rounds)]) if anchor else float("nan")
        cpu_ratio = _median([a["cpu"] / r["cpu"] for a, r in zip(anchor, rounds)]) if anchor else float("nan")
        # datatrove's executor starts parallel workers from a forkserver that is not our child: CPU not counted
        uncounted = name.startswith("datatrove") and not name.endswith("workers=1")
        cpu = "n/a" if uncounted else f"{_median([r['cpu'] for r in rounds]):.1f}"
        m = score(rounds[-1]["removed"], truth)
        lines.append(
            f"| {name} | {len(rounds)} | {wall:.2f} | {len(docs) / wall:,.0f} | {ratio:.2f}x | {cpu} "
            f"| {'-' if uncounted else f'{cpu_ratio:.2f}x'} "
            f"| {max(r['rss_mb'] for r in rounds):,.0f} | {100 * m['recall']:.2f}% | "
            f"{100 * m['false_removals']:.2f}% ({m['false_count']}) | {m['families_lost']} | {m['removed']:,} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
