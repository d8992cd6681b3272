"""Planted contamination: benchmark text inserted into real pages, disguised, for measuring recall.

    from deepmath.decontam.plant import plant_contamination
    planted = plant_contamination(pages, {"gsm8k": gsm8k_items, ...}, per_kind=100, seed=0)

Kinds: GSM8K test questions, MATH problems, 12-word spans of MATH and GSM8K solutions, short MATH problems (3..8
words, matched whole) and CMATH questions. Each planted text gets disguises drawn at random: case changes (upper,
lower, title), re-wrapped lines, curly quotes and apostrophes, full-width digits; it is inserted between two
paragraphs or inside one. Used by bench/decontam.py and the tests; nothing here runs at import.

Spans of 12 words that normalise to fewer than `ngram` tokens (`$x = 3$ and $y = 4$ so ...`) cannot contain a
10-gram, so no 10-gram rule can catch them; they are redrawn and counted (`PlantedSet.redrawn`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.decontam.benchmarks import BenchmarkItem
from deepmath.decontam.normalize import tokenize

__all__ = ["KINDS", "PlantedDoc", "PlantedSet", "plant_contamination", "web_pages"]

KINDS = ("gsm8k_question", "math_problem", "math_solution_span", "gsm8k_solution_span", "math_short", "cmath_question")
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@dataclass
class PlantedDoc:
    id: str
    text: str
    kind: str
    benchmark: str
    item_id: str
    planted: str  # the disguised text that was inserted
    disguises: list[str]
    page_id: str


@dataclass
class PlantedSet:
    docs: list[PlantedDoc] = field(default_factory=list)
    redrawn: int = 0  # solution spans redrawn because they had fewer than `ngram` tokens


def _is_cjk_char(ch: str) -> bool:
    return "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff"


def _disguise(text: str, rng: random.Random, cjk: bool) -> tuple[str, list[str]]:
    applied = []
    choices = ["case", "rewrap", "quotes"] + (["fullwidth"] if cjk else [])
    chosen = [c for c in choices if rng.random() < 0.5] or [rng.choice(choices)]
    for kind in chosen:
        before = text
        if kind == "case" and not cjk:
            text = rng.choice([str.upper, str.lower, str.title])(text)
        elif kind == "rewrap":
            if cjk:
                # break lines between two CJK characters (never inside a number)
                slots = [i for i in range(1, len(text)) if _is_cjk_char(text[i - 1]) and _is_cjk_char(text[i])]
                for pos in sorted(rng.sample(slots, k=min(3, len(slots))), reverse=True):
                    text = text[:pos] + "\n" + text[pos:]
            else:
                words = text.split()
                lines, width = [], rng.randint(4, 9)
                for i in range(0, len(words), width):
                    lines.append(" ".join(words[i : i + width]))
                text = "\n".join(lines)
        elif kind == "quotes":
            text = text.replace("'", "’").replace('"', "“")
            if cjk:
                text = text.replace(",", "，").replace("?", "？")
        elif kind == "fullwidth":
            text = text.translate(_FULLWIDTH)
        if text != before:
            applied.append(kind)
    return text, applied


def _insert(page: str, planted: str, rng: random.Random) -> str:
    paragraphs = page.split("\n\n")
    at = rng.randint(0, len(paragraphs))
    if rng.random() < 0.5 or not paragraphs:
        paragraphs.insert(at, planted)
        return "\n\n".join(paragraphs)
    target = min(at, len(paragraphs) - 1)
    paragraphs[target] = paragraphs[target].rstrip() + " " + planted
    return "\n\n".join(paragraphs)


def _span(text: str, rng: random.Random, words: int, ngram: int) -> str | None:
    parts = text.split()
    if len(parts) < words:
        return None
    start = rng.randint(0, len(parts) - words)
    span = " ".join(parts[start : start + words])
    return span if len(tokenize(span)) >= ngram else None


def plant_contamination(
    pages: list[tuple[str, str]],
    benchmarks: dict[str, list[BenchmarkItem]],
    per_kind: int = 100,
    seed: int = 0,
    ngram: int = 10,
) -> PlantedSet:
    """`per_kind` planted documents of each kind whose benchmark is given (`gsm8k`, `math`, `cmath`).

    `pages` are (id, text) of real web pages; `benchmarks` maps those names to items whose first text is the
    question and second (when present) the solution.
    """
    rng = random.Random(seed)
    out = PlantedSet()
    plans = {
        "gsm8k_question": ("gsm8k", "question"),
        "math_problem": ("math", "question"),
        "math_solution_span": ("math", "span"),
        "gsm8k_solution_span": ("gsm8k", "span"),
        "math_short": ("math", "short"),
        "cmath_question": ("cmath", "question"),
    }
    for kind, (bench, what) in plans.items():
        items = benchmarks.get(bench)
        if not items:
            continue
        if what == "short":
            pool = [it for it in items if 3 <= len(it.texts[0].split()) <= 8 and len(tokenize(it.texts[0])) >= 3]
        elif what == "question":
            pool = [it for it in items if len(it.texts[0].split()) > 8 or bench == "cmath"]
        else:
            pool = [it for it in items if len(it.texts) > 1 and len(it.texts[1].split()) >= 12]
        if not pool:
            continue
        made = 0
        while made < per_kind:
            item = rng.choice(pool)
            if what == "span":
                text = _span(item.texts[1], rng, 12, ngram)
                if text is None:
                    out.redrawn += 1
                    continue
            else:
                text = item.texts[0]
            planted, disguises = _disguise(text, rng, cjk=bench == "cmath")
            page_id, page = rng.choice(pages)
            doc_text = _insert(page, planted, rng)
            out.docs.append(
                PlantedDoc(f"planted/{kind}/{made}", doc_text, kind, bench, item.item_id, planted, disguises, page_id)
            )
            made += 1
    return out


def web_pages(folder: str | Path) -> list[tuple[str, str]]:
    """(id, text) of the real pages in `shared/data/webtext`: StackMathQA Q&A pages (question, blank line, answer)
    and Common Crawl text from dolma (`text`), in a stable order."""
    pages = []
    from deepmath.io.rows import iter_rows

    for path in sorted(Path(folder).rglob("*.jsonl*")):
        for number, row in iter_rows(str(path), strict=True):
            if "Q" in row and "A" in row:
                text = f"{row['Q']}\n\n{row['A']}"
            elif isinstance(row.get("text"), str):
                text = row["text"]
            else:
                continue
            pages.append((str(row.get("id") or f"{path.parent.name}/{path.name}:{number}"), text))
    return pages
