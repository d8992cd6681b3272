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

The corpus is built deterministically from real text in ../shared/data/webtext (dolma Common Crawl pages, cc_net
pages, StackMathQA question+answer pairs; nothing is stored in the repository):
1. Bases: every text with at least 50 words; bases that are near each other (a pair with word 5-gram Jaccard > 0.3,
   found with a low-threshold datasketch LSH pass and checked exactly) keep only the first.
2. Each base gets roots: itself plus up to two "far" rewrites (Jaccard 0.15-0.45 to the base); each root gets a
   family: near copies (word edits: replace/insert/delete spread over the text, targeting Jaccard 0.86-0.99),
   exact copies after normalisation (case and punctuation changes), "mid" copies (0.55-0.8) and far copies
   (0.15-0.45). Family sizes are scaled so the corpus has about --pages pages. Everything uses random.Random(seed).
3. Ground truth: exact Jaccard (5-gram sets of lower-cased words: runs of letters, digits and combining marks, each
   CJK character a word; the `regex` module, independent of deepmath's tokeniser) of every pair of pages derived
   from one base, plus every cross-base pair that any method put in a cluster. The datasketch loop shingles
   `re.findall(r"\\w+", text.lower())` words, as a user of it would.
Metrics: a group is a connected component of pages joined by Jaccard >= 0.85 edges; recall = share of groups with
at most one surviving page. A unique page has Jaccard <= 0.5 to every other page; false removals = share of unique
pages removed. Families lost = bases none of whose pages survive.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import regex

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "webtext"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# words: runs of letters, digits and combining marks (Indic vowel signs are inside words); each CJK ideograph or kana
# is a word of its own (those scripts have no spaces)
_SIMPLE_WORD = re.compile(r"\w+")
_WORD = regex.compile("[" + _CJK + "]|(?:(?![" + _CJK + "])[\\p{L}\\p{N}\\p{M}])+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _shingle_set(text: str, n: int = 5) -> set[int]:
    w = _words(text)
    if len(w) < n:
        return {hash(" ".join(w))} if w else set()
    return {hash(" ".join(w[i : i + n])) for i in range(len(w) - n + 1)}


def _jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def load_bases(min_words: int = 50) -> list[str]:
    texts = []
    with gzip.open(next((SHARED / "dolma_cc_2019_30").glob("*.jsonl.gz")), "rt") as handle:
        texts += [json.loads(line)["text"] for line in handle]
    for path in sorted((SHARED / "dolma_ccnet_head").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.open()]
    for path in sorted((SHARED / "stackmathqa100k").glob("*.jsonl"), key=lambda p: int(p.stem)):
        for line in path.open():
            row = json.loads(line)
            texts.append(f"{row['Q']}\n\n{row['A']}")
    texts = [t for t in texts if len(_words(t)) >= min_words]
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.3, num_perm=64)
    sets, bases = [], []
    for text in texts:
        s = _shingle_set(text)  # Python's hash(): fine for exact Jaccard in this process, not as MinHash input
        w = _words(text)
        m = MinHash(num_perm=64)
        m.update_batch([" ".join(w[i : i + 5]).encode() for i in range(max(1, len(w) - 4))])
        if any(_jaccard(s, sets[j]) > 0.3 for j in lsh.query(m)):
            continue
        lsh.insert(len(bases), m)
        sets.append(s)
        bases.append(text)
    return bases


def mutate(text: str, target: float, rng: random.Random, vocab: list[str], n: int = 5) -> str:
    """Word edits (60% replace, 20% delete, 20% insert) at random positions, aiming at 5-gram Jaccard `target`:
    editing a fraction q of the words leaves about u = (1 - q)^n of the shingles, and J = u / (2 - u)."""
    words = text.split()
    q = 1 - (2 * target / (1 + target)) ** (1 / n)
    edits = max(1, round(q * len(words)))
    positions = sorted(rng.sample(range(len(words)), min(edits, len(words))), reverse=True)
    for p in positions:
        kind = rng.random()
        if kind < 0.6:
            words[p] = rng.choice(vocab)
        elif kind < 0.8:
            del words[p]
        else:
            words.insert(p, rng.choice(vocab))
    return " ".join(words)


def restyle(text: str, rng: random.Random) -> str:
    """Same normalised text: case and punctuation changes only."""
    out = text.upper() if rng.random() < 0.5 else text
    return out.replace(".", " . ").replace(",", ";") + rng.choice(["", "!!", " ..."])


def _plan(n_bases: int, scale: float, seed: int) -> list[tuple[int, float | None, list[tuple[str, float]]]]:
    """(base, far target of the root or None for the base itself, variants) for every root; no text yet."""
    rng = random.Random(seed)
    plan = []
    for b in range(n_bases):
        for r in range(1 + rng.choice([0, 1, 1, 2])):
            kind, variants = rng.random(), []
            if kind < 0.35:  # a unique root with far rewrites
                variants += [("far", rng.uniform(0.15, 0.45)) for _ in range(rng.randint(0, round(2 * scale)))]
            elif kind < 0.8:
                variants += [
                    ("near", rng.uniform(0.86, 0.99)) for _ in range(rng.randint(2, max(2, round(8 * scale))))
                ]
                variants += [("exact", 1.0) for _ in range(rng.randint(0, 2))]
                variants += [("far", rng.uniform(0.15, 0.45)) for _ in range(rng.randint(0, 1))]
            else:
                variants += [
                    ("near", rng.uniform(0.86, 0.99)) for _ in range(rng.randint(1, max(1, round(4 * scale))))
                ]
                variants += [("mid", rng.uniform(0.55, 0.8)) for _ in range(rng.randint(1, max(1, round(3 * scale))))]
            plan.append((b, None if r == 0 else rng.uniform(0.15, 0.45), variants))
    return plan


def build_corpus(pages: int, seed: int = 0) -> tuple[list[dict], dict]:
    bases = load_bases()
    lo, hi = 0.05, 20.0
    for _ in range(30):  # family sizes scaled so the corpus has about `pages` pages
        scale = (lo * hi) ** 0.5
        total = sum(1 + len(v) for _, _, v in _plan(len(bases), scale, seed))
        lo, hi = (scale, hi) if total < pages else (lo, scale)
    plan = _plan(len(bases), scale, seed)
    rng = random.Random(seed + 1)
    vocab = sorted({w for t in bases[:200] for w in t.split() if w.isalpha()})
    docs = []
    for b, far, variants in plan:
        root = bases[b] if far is None else mutate(bases[b], far, rng, vocab)
        docs.append({"text": root, "base": b})
        for kind, target in variants:
            text = restyle(root, rng) if kind == "exact" else mutate(root, target, rng, vocab)
            docs.append({"text": text, "base": b})
    rng.shuffle(docs)
    for i, doc in enumerate(docs):
        doc["id"] = f"p{i:06d}"
    return docs, ground_truth(docs)


def ground_truth(docs: list[dict]) -> dict:
    sets = {d["id"]: _shingle_set(d["text"]) for d in docs}
    by_base = defaultdict(list)
    for d in docs:
        by_base[d["base"]].append(d["id"])
    max_j = dict.fromkeys(sets, 0.0)
    edges = []
    for ids in by_base.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                j = _jaccard(sets[a], sets[b])
                max_j[a], max_j[b] = max(max_j[a], j), max(max_j[b], j)
                if j >= 0.85:
                    edges.append((a, b))
    parent = {}

    def find(x):
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    groups = defaultdict(list)
    for node in {x for e in edges for x in e}:
        groups[find(node)].append(node)
    return {
        "sets": sets,
        "max_j": max_j,
        "groups": list(groups.values()),
        "base": {d["id"]: d["base"] for d in docs},
    }


def write_corpus(docs: list[dict], folder: Path, files: int = 8) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(files):
        with gzip.open(folder / f"part-{k:02d}.jsonl.gz", "wt", encoding="utf-8") as handle:
            for doc in docs[k::files]:
                handle.write(json.dumps({"id": doc["id"], "text": doc["text"]}) + "\n")


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


def evaluate(removed: dict[str, str | None], truth: dict) -> dict:
    sets, max_j = truth["sets"], dict(truth["max_j"])
    for a, b in removed.items():  # a cross-base pair a method acted on: its Jaccard counts too
        if b is not None and truth["base"][a] != truth["base"][b]:
            j = _jaccard(sets[a], sets[b])
            max_j[a], max_j[b] = max(max_j[a], j), max(max_j[b], j)
    groups = truth["groups"]
    recalled = sum(1 for g in groups if sum(1 for x in g if x not in removed) <= 1)
    unique = [x for x, j in max_j.items() if j <= 0.5]
    false = sum(1 for x in unique if x in removed)
    surviving_bases = {truth["base"][x] for x in sets if x not in removed}
    return {
        "recall": recalled / max(1, len(groups)),
        "false_removals": false / max(1, len(unique)),
        "false_count": false,
        "families_lost": len(set(truth["base"].values()) - surviving_bases),
        "removed": len(removed),
    }


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
    docs, truth = build_corpus(args.pages, args.seed)
    write_corpus(docs, work / "input")
    unique = sum(1 for j in truth["max_j"].values() if j <= 0.5)
    print(
        f"corpus: {len(docs)} pages, {sum(len(d['text']) for d in docs) / 1e6:.1f} M characters, "
        f"{len(truth['groups'])} groups joined by J>=0.85 ({sum(len(g) for g in truth['groups'])} pages), "
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
        f"{len(docs):,} pages ({sum(len(d['text']) for d in docs) / 1e6:.0f} M characters), "
        f"{len(truth['groups']):,} groups, {unique:,} unique pages; {os.cpu_count()} cores, load average {load:.1f}",
        "",
        "| method | wall s | pages/s | speed-up (wall) | CPU s | speed-up (CPU) | recall (groups J>=0.85) "
        "| false removals (J<=0.5) | families lost | removed |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, (seconds, cpu_seconds, removed) in runs.items():
        m = evaluate(removed, truth)
        speed = f"{anchor / seconds:.1f}x" if anchor else "-"
        parallel = "workers=" in name and not name.endswith("workers=1")
        speed_cpu = f"{anchor_cpu / cpu_seconds:.1f}x" if anchor_cpu and not parallel else "-"
        cpu_text = "n/a" if parallel else f"{cpu_seconds:.1f}"  # forkserver workers are not our children
        lines.append(
            f"| {name} | {seconds:.1f} | {len(docs) / seconds:,.0f} | {speed} | {cpu_text} | {speed_cpu} "
            f"| {100 * m['recall']:.2f}% | "
            f"{100 * m['false_removals']:.2f}% ({m['false_count']}) | {m['families_lost']} | {m['removed']:,} |"
        )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
