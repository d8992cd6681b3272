"""A labelled mining pool built from ../shared/data/webtext (texts stay there; only ids/urls are invented here).

Math pages: StackMathQA Q+A rows with their real Stack Exchange URLs (mathoverflow.net, stats/physics.SE).
Non-math pages: dolma Common Crawl pages (real URLs, some without a scheme) and cc_net pages (with titles).
A mixed-topic domain, `mixedblog.example`, holds math pages under `/math/` and non-math pages under `/travel/` and
`/food/`, built from the same real texts (taken out of their own sources, so every text appears once).
Seeds are a random subset of the Stack Exchange math pages; the pool is everything else, split over three files
(JSONL, JSONL.gz, Parquet).
"""

from __future__ import annotations

import gzip
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

MIXED_DOMAIN = "mixedblog.example"


@dataclass
class LabelledPool:
    pool: list[str]
    seeds: str
    is_math: dict[str, bool] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    @property
    def math_tokens(self) -> int:
        return sum(t for i, t in self.tokens.items() if self.is_math[i])


def _math_rows(webtext: Path) -> list[dict]:
    rows = []
    for path in sorted((webtext / "stackmathqa100k").glob("*.jsonl"), key=lambda p: int(p.stem)):
        for number, line in enumerate(path.open(encoding="utf-8")):
            row = json.loads(line)
            meta = row["meta"]
            url = f"{meta['url']}/answer/{meta.get('answer_id', number)}"
            title = row["Q"].strip().split("\n", 1)[0][:80]
            rows.append(
                {"id": f"smqa-{path.stem}-{number}", "text": f"{row['Q']}\n\n{row['A']}", "url": url, "title": title}
            )
    return rows


def _other_rows(webtext: Path) -> list[dict]:
    rows = []
    for path in sorted((webtext / "dolma_cc_2019_30").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                rows.append({"id": f"dolma-{row['id']}", "text": row["text"], "url": row["metadata"]["url"]})
    for path in sorted((webtext / "dolma_ccnet_head").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            meta = row["metadata"]
            rows.append(
                {"id": f"ccnet-{row['id']}", "text": row["text"], "url": meta["url"], "title": meta.get("title", "")}
            )
    return rows


def build_labelled_pool(
    webtext: Path, out: Path, n_seeds: int = 400, mixed_math: int = 60, mixed_other: int = 120, seed: int = 0
) -> LabelledPool:
    rng = random.Random(seed)
    math_rows, other_rows = _math_rows(webtext), _other_rows(webtext)
    rng.shuffle(math_rows)
    rng.shuffle(other_rows)
    seeds, mixed_m, pool_math = (
        math_rows[:n_seeds],
        math_rows[n_seeds : n_seeds + mixed_math],
        math_rows[n_seeds + mixed_math :],
    )
    mixed_o, pool_other = other_rows[:mixed_other], other_rows[mixed_other:]
    for i, row in enumerate(mixed_m):
        path = f"/math/post-{i}"
        row.update(url=f"https://{MIXED_DOMAIN}{path}", domain=MIXED_DOMAIN, url_path=path)
    for i, row in enumerate(mixed_o):
        path = f"/{'travel' if i % 2 else 'food'}/post-{i}"
        row.update(url=f"https://{MIXED_DOMAIN}{path}", domain=MIXED_DOMAIN, url_path=path, title=f"post {i}")
    labelled = [(r, True) for r in pool_math + mixed_m] + [(r, False) for r in pool_other + mixed_o]
    rng.shuffle(labelled)
    out.mkdir(parents=True, exist_ok=True)
    seeds_path = out / "seeds.jsonl"
    seeds_path.write_text("".join(json.dumps(r) + "\n" for r in seeds), encoding="utf-8")
    thirds = [labelled[i::3] for i in range(3)]
    (out / "pool").mkdir(exist_ok=True)
    (out / "pool" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r, _ in thirds[0]), encoding="utf-8")
    with gzip.open(out / "pool" / "b.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(r) + "\n" for r, _ in thirds[1]))
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [dict(r) for r, _ in thirds[2]]
    keys = sorted({k for r in rows for k in r})
    table = pa.table({k: [r.get(k) for r in rows] for k in keys})
    pq.write_table(table, out / "pool" / "c.parquet")
    return LabelledPool(
        pool=[str(out / "pool")],
        seeds=str(seeds_path),
        is_math={r["id"]: m for r, m in labelled},
        tokens=model_tokens([r for r, _ in labelled]),
    )


def model_tokens(rows: list[dict]) -> dict[str, int]:
    """Tokens of each row in the budget's default unit (the bundled DeepSeek tokenizer)."""
    from deepmath.mine.tokens import token_counter

    counts = token_counter("tokenizer", "deepseek").count([r["text"] for r in rows])
    return {r["id"]: int(n) for r, n in zip(rows, counts)}
