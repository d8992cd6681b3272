"""Must-show: a mined corpus beats random pool pages of the same size, read as held-out MATH bits per byte.

    nice -n 10 python bench/pretrain_ablation.py [--out /tmp/pt_ablation] [--tokens 150000] [--seeds 0 1 2]

Real text from ../shared/data/webtext: 400 StackMathQA pages are the mining seeds; the pool is the other 587
StackMathQA pages (math) and the 717 dolma Common Crawl pages (the rest), written as JSONL with their URLs. Steps,
each a deepmath command run here as a subprocess (their folders stay under --out):

1. `deepmath decontam POOL --benchmarks gsm8k,math`: benchmark test texts removed from the pool, so held out;
2. `deepmath mine --pool DECONTAM --seeds SEEDS --keep-fraction F`: fastText mining of the pool;
3. a random sample of pool pages with the same number of bytes as the mined set (seeded);
4. `deepmath pretrain-ablation`: the tiny model, same budget (`--tokens`) and seeds, on mined vs random pages;
   bits per byte on 500 MATH test texts (problem + solution) and 500 GSM8K test texts (question + answer).

Prints the ablation table (also in OUT/ablation/ablation.md) and the mining precision against the page labels.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WEBTEXT = ROOT.parent / "shared" / "data" / "webtext"


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def build_pool(out: Path, n_seeds: int = 400) -> dict[str, bool]:
    """seeds.jsonl and pool.jsonl under `out`; returns {id: is_math} of the pool."""
    math_rows, other_rows = [], []
    for path in sorted((WEBTEXT / "stackmathqa100k").glob("*.jsonl"), key=lambda p: int(p.stem)):
        for number, line in enumerate(path.open(encoding="utf-8")):
            row = json.loads(line)
            url = f"{row['meta']['url']}/answer/{row['meta'].get('answer_id', number)}"
            math_rows.append({"id": f"smqa-{path.stem}-{number}", "text": f"{row['Q']}\n\n{row['A']}", "url": url})
    for path in sorted((WEBTEXT / "dolma_cc_2019_30").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                other_rows.append({"id": f"dolma-{row['id']}", "text": row["text"], "url": row["metadata"]["url"]})
    rng = random.Random(0)
    rng.shuffle(math_rows)
    seeds, pool = math_rows[:n_seeds], math_rows[n_seeds:] + other_rows
    rng.shuffle(pool)
    _write_jsonl(out / "seeds.jsonl", seeds)
    _write_jsonl(out / "pool.jsonl", pool)
    return {row["id"]: row["id"].startswith("smqa-") for row in pool}


def _read_docs(folder: Path) -> list[dict]:
    docs = []
    for path in sorted((folder / "data").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            docs += [d for d in map(json.loads, filter(str.strip, handle)) if d.get("text")]
    return docs


def deepmath(*args: str) -> None:
    command = [sys.executable, "-m", "deepmath.cli", *args]
    print("$ deepmath " + " ".join(args), flush=True)
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/pt_ablation")
    parser.add_argument("--tokens", type=int, default=204800, help="pretraining budget per run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--keep-fraction", type=float, default=0.3)
    parser.add_argument("--eval-items", type=int, default=500)
    parser.add_argument("--name", default="ablation", help="folder of the ablation under --out")
    args = parser.parse_args()
    out = Path(args.out)
    os.environ.setdefault("DEEPMATH_BENCHMARKS_SOURCE", "local")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.time()
    labels = build_pool(out)
    deepmath("decontam", str(out / "pool.jsonl"), "--output", str(out / "decontam"), "--benchmarks", "gsm8k,math")
    deepmath(
        "mine",
        "--pool",
        str(out / "decontam"),
        "--seeds",
        str(out / "seeds.jsonl"),
        "--keep-fraction",
        str(args.keep_fraction),
        "--iterations",
        "1",
        "--output",
        str(out / "mine"),
    )
    mined = _read_docs(out / "mine" / "selected")
    pool = _read_docs(out / "decontam")
    mined_bytes = sum(len(d["text"].encode()) for d in mined)
    rng = random.Random(1)
    order = rng.sample(range(len(pool)), len(pool))
    sample, size = [], 0
    for i in order:
        if size >= mined_bytes:
            break
        sample.append(pool[i])
        size += len(pool[i]["text"].encode())
    _write_jsonl(out / "random_pool" / "pages.jsonl", [{"id": d["id"], "text": d["text"]} for d in sample])
    precision = sum(labels.get(d["id"], False) for d in mined) / max(1, len(mined))
    sample_math = sum(labels.get(d["id"], False) for d in sample) / max(1, len(sample))
    print(
        f"pool {len(pool)} pages; mined {len(mined)} pages, {mined_bytes:,} bytes, {precision:.1%} math; "
        f"random sample {len(sample)} pages, {size:,} bytes, {sample_math:.1%} math",
        flush=True,
    )
    recipe = {
        "corpora": [
            {"name": "mined", "path": str(out / "mine" / "selected")},
            {"name": "random_pool", "path": str(out / "random_pool" / "pages.jsonl")},
        ],
        "recipe": str(ROOT / "pipelines" / "pretrain_tiny.yaml"),
        # a smaller, faster model than pretrain_tiny.yaml's, so the budget buys more optimizer steps on 2 cores
        "pretrain": {
            "max_tokens": args.tokens,
            "max_epochs": 1.0,
            "max_length": 128,
            "per_device_train_batch_size": 8,
            "learning_rate": 5e-3,
            "warmup_steps": 10,
            "tiny_hidden_size": 64,
            "tiny_layers": 2,
            "tiny_heads": 2,
            "save_strategy": "no",
            "logging_steps": 10,
        },
        "seeds": args.seeds,
        "benchmarks": ["math", "gsm8k"],
        "eval_max_items": args.eval_items,
    }
    import yaml

    (out / f"{args.name}.yaml").write_text(yaml.safe_dump(recipe, sort_keys=False))
    deepmath("pretrain-ablation", str(out / f"{args.name}.yaml"), "--output", str(out / args.name))
    print((out / args.name / "ablation.md").read_text())
    print(f"total {time.time() - started:.0f}s")


if __name__ == "__main__":
    main()
