"""A tiny synthetic pool written by the tests themselves (seconds to mine), for resume and review round-trips."""

from __future__ import annotations

import json
import random
from pathlib import Path

MATH = ["$x^2$", "\\frac{a}{b}", "theorem", "proof", "integral", "$\\sum_{i=1}^n i$", "lemma", "prime", "equation"]
MATH += ["derivative", "\\int_0^1", "matrix", "eigenvalue", "$n \\geq 2$", "polynomial", "\\sqrt{2}", "converges"]
OTHER = ["travel", "hotel", "recipe", "football", "music", "garden", "weather", "city", "movie", "shopping", "beach"]
OTHER += ["dinner", "concert", "flight", "museum", "coffee", "festival"]
COMMON = ["the", "a", "and", "of", "to", "is", "in", "we", "this", "for", "with", "that"]


def page(rng: random.Random, vocabulary: list[str], words: int = 60) -> str:
    return " ".join(rng.choice(vocabulary) if rng.random() < 0.6 else rng.choice(COMMON) for _ in range(words))


def write_synthetic(out: Path, seed: int = 0) -> dict:
    """seeds.jsonl (40 math pages), pool/{a,b}.jsonl (math site, news site, mixed.test with /math and /travel, and
    one row without text), negatives.jsonl (60 non-math pages). Returns {pool id: is math}."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    seeds = [{"id": f"seed-{i}", "text": page(rng, MATH)} for i in range(40)]
    (out / "seeds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in seeds))
    pool = []
    for i in range(30):
        pool.append(
            {"id": f"m{i}", "text": page(rng, MATH), "url": f"https://mathsite.test/questions/{i}", "math": True}
        )
    for i in range(50):
        pool.append({"id": f"o{i}", "text": page(rng, OTHER), "url": f"news.test/story/{i}", "math": False})
    for i in range(12):
        pool.append({"id": f"xm{i}", "text": page(rng, MATH), "url": f"https://mixed.test/math/{i}", "math": True})
    for i in range(24):
        pool.append(
            {"id": f"xo{i}", "text": page(rng, OTHER), "url": f"https://www.mixed.test/travel/{i}", "math": False}
        )
    rng.shuffle(pool)
    (out / "pool").mkdir(exist_ok=True)
    for name, part in (("a", pool[::2]), ("b", pool[1::2])):
        rows = "".join(json.dumps(r) + "\n" for r in part)
        if name == "a":
            rows += json.dumps({"id": "no-text", "body": "a row without a text field"}) + "\n"
        (out / "pool" / f"{name}.jsonl").write_text(rows)
    negatives = [{"id": f"neg-{i}", "text": page(rng, OTHER)} for i in range(60)]
    (out / "negatives.jsonl").write_text("".join(json.dumps(r) + "\n" for r in negatives))
    return {r["id"]: r["math"] for r in pool}
