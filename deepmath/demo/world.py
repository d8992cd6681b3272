"""The demo crawl: which sites exist, which pages they hold, and which pages are copies or quote the benchmark.

`plan_pages(cfg, benchmark_questions)` returns every HTML page of the crawl with its ground truth:

- math sites (lessons, forum threads, notes) in every math markup; topics the seeds do not cover (geometry,
  probability) live on the same sites as covered ones, so domain discovery in mining iteration 2 can find them
- everyday sites (cooking, travel, sports, gardening, technology, movies, pets, personal finance, fitness)
- a mixed-topic blog, `dailyblog.example`, whose `/math/` section is math among `/recipes/`, `/travel/`, `/life/`
- pages quoting a benchmark question word for word (what decontamination must find)
- near-duplicate copies (other boilerplate, a few words changed, another URL), in clusters of 2 to 6 pages
- a few pages crawled twice under the same URL (what ingest's URL dedup drops)
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field, replace

from deepmath.demo.html import Site
from deepmath.demo.textgen import Block, math_article, math_thread, nonmath_article

__all__ = ["MATH_SITES", "MIXED_SITE", "NONMATH_SITES", "SEED_TOPICS", "PlannedPage", "make_seeds", "plan_pages"]

# Seeds cover these topics only; geometry and probability pages must be found through the classifier's
# generalisation and, in iteration 2, through domain discovery (DeepSeekMath 2.1).
SEED_TOPICS = ("algebra", "calculus", "number theory")

MATH_SITES = [
    Site(
        "mathforum.example",
        "math",
        ("algebra", "calculus", "geometry", "probability", "number theory"),
        ("mathjax-delim",),
        "/thread/{id}/{slug}",
        "thread",
        "Math Forum",
    ),
    Site(
        "calc-notes.example",
        "math",
        ("calculus", "algebra", "probability"),
        ("mathjax-script",),
        "/lessons/{topic}/{slug}.html",
        name="Calc Notes",
    ),
    Site("geometry-lab.example", "math", ("geometry", "algebra"), ("katex",), "/topics/{slug}", name="Geometry Lab"),
    Site("stats-corner.example", "math", ("probability", "number theory"), ("mathml",), "/articles/{year}/{slug}"),
    Site("numbers-club.example", "math", ("number theory", "algebra"), ("img-alt",), "/p/{id}", name="Numbers Club"),
    Site(
        "proof-notes.example",
        "math",
        ("algebra", "calculus", "geometry", "probability", "number theory"),
        ("katex", "mathml"),
        "/notes/{topic}/{slug}",
        name="Proof Notes",
    ),
]
QUOTE_SITE = Site(
    "homework-helpers.example",
    "math",
    ("algebra", "probability", "number theory"),
    ("mathjax-delim",),
    "/questions/{id}/{slug}",
    "thread",
    "Homework Helpers",
)
MIXED_SITE = Site(
    "dailyblog.example",
    "mixed",
    ("math", "cooking", "travel", "fitness"),
    ("mathjax-delim",),
    "/{section}/{year}/{slug}",
    name="The Daily Blog",
)
_MIXED_SECTIONS = {"math": "math", "cooking": "recipes", "travel": "travel", "fitness": "life"}
NONMATH_SITES = [
    Site("tastykitchen.example", "nonmath", ("cooking",), path="/recipes/{slug}"),
    Site("wanderlust-journal.example", "nonmath", ("travel",), path="/{year}/{slug}"),
    Site("scoreboard-daily.example", "nonmath", ("sports",), path="/news/{id}-{slug}"),
    Site("greenthumb.example", "nonmath", ("gardening",), path="/guides/{slug}"),
    Site("gadget-review.example", "nonmath", ("technology",), path="/reviews/{slug}"),
    Site("filmcritic.example", "nonmath", ("movies",), path="/review/{id}/{slug}"),
    Site("pawsandclaws.example", "nonmath", ("pets",), path="/blog/{slug}"),
    Site("budgetwise.example", "nonmath", ("finance",), path="/money/{slug}"),
    Site("fitlife.example", "nonmath", ("fitness",), path="/{year}/{slug}"),
    Site("weekend-notes.example", "nonmath", ("cooking", "travel", "pets", "movies"), path="/posts/{id}"),
]
_MIRRORS = ["content-mirror.example", "archive-copy.example", "syndicated-news.example", "pagecache.example"]
_SWAPS = {
    "the": "this",
    "a": "one",
    "and": "plus",
    "is": "was",
    "we": "you",
    "very": "really",
    "to": "towards",
    "in": "within",
    "of": "from",
    "it": "that",
    "for": "over",
    "with": "using",
    "on": "upon",
}


@dataclass
class PlannedPage:
    """One HTML page of the crawl and its ground truth."""

    url: str
    site: Site
    title: str
    blocks: list[Block]
    label: str  # math | nonmath
    topic: str
    kind: str  # page | quote | near_duplicate | url_repeat
    markup: str = ""
    variant: int = 0
    related: list[str] = field(default_factory=list)
    source: str = ""  # near_duplicate / url_repeat: URL of the original; quote: benchmark question id


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def _url(site: Site, rng: random.Random, title: str, topic: str, number: int, section: str = "") -> str:
    path = site.path.format(
        slug=_slug(title), id=1000 + number, topic=_slug(topic), year=rng.randint(2012, 2024), section=section
    )
    return f"https://{site.domain}{path}"


def _related(rng: random.Random, label: str) -> list[str]:
    if label == "nonmath":
        return [nonmath_article(rng, rng.choice(["cooking", "travel", "movies"]))[0] for _ in range(3)]
    return [f"More on {rng.choice(['limits', 'primes', 'triangles', 'dice', 'series', 'roots'])}" for _ in range(3)]


def _page(rng: random.Random, site: Site, topic: str, number: int, plain_words: bool = False) -> PlannedPage:
    section = ""
    if site.kind == "mixed":
        section = _MIXED_SECTIONS[topic]
        if topic == "math":  # the blog's math section: lessons on school topics
            title, blocks = math_article(rng, rng.choice(["algebra", "probability", "geometry"]))
        else:
            title, blocks = nonmath_article(rng, topic)
    elif site.kind == "nonmath":
        title, blocks = nonmath_article(rng, topic)
    elif site.style == "thread":
        title, blocks = math_thread(rng, topic)
    else:
        title, blocks = math_article(rng, topic, plain_words=plain_words)
    label = "nonmath" if site.kind == "nonmath" or (site.kind == "mixed" and topic != "math") else "math"
    url = _url(site, rng, f"{title} {number}", topic, number, section)
    markup = rng.choice(site.markups) if site.markups else ""
    return PlannedPage(
        url, site, title, blocks, label, topic, "page", markup, rng.randint(0, 999), _related(rng, label)
    )


def _near_copy(rng: random.Random, page: PlannedPage, number: int) -> PlannedPage:
    """Same text with a few words swapped, other boilerplate and another URL (a mirror or a print view)."""
    blocks = [Block(b.kind, list(b.parts)) for b in page.blocks]
    texts = [
        (i, j)
        for i, b in enumerate(blocks)
        if b.kind == "p"
        for j, part in enumerate(b.parts)
        if isinstance(part, str) and len(part.split()) > 8
    ]
    for i, j in rng.sample(texts, min(len(texts), rng.randint(1, 3))):  # one swapped word per chosen paragraph
        words = blocks[i].parts[j].split(" ")
        spots = [k for k, w in enumerate(words) if w.lower() in _SWAPS]
        if spots:
            k = rng.choice(spots)
            words[k] = _SWAPS[words[k].lower()]
        blocks[i].parts[j] = " ".join(words)
    if rng.random() < 0.5:
        url = page.url.replace(page.site.domain, rng.choice(_MIRRORS)).rstrip("/") + f"-{number}"
    else:
        url = f"{page.url.rstrip('/')}/print-{number}"
    return replace(
        page,
        url=url,
        blocks=blocks,
        kind="near_duplicate",
        variant=page.variant + 1 + number,
        source=page.url,
        related=list(reversed(page.related)),
    )


def plan_pages(cfg, benchmark: list[dict], rng: random.Random) -> list[PlannedPage]:
    """All HTML pages of the crawl, in crawl order (shuffled); the same cfg and rng state give the same list."""
    n = cfg.n_pages
    n_quote = min(cfg.n_quoting_pages, len(benchmark), n // 10)
    n_dup = round(n * cfg.duplicate_fraction)
    n_repeat = max(1, n // 200)
    n_mixed = round(n * cfg.mixed_fraction)
    n_math = round(n * cfg.math_fraction)
    n_nonmath = n - n_quote - n_dup - n_repeat - n_mixed - n_math
    pages: list[PlannedPage] = []
    for _i in range(n_math):
        site = rng.choice(MATH_SITES)
        # one math page in six leans on words: the seeds' formula-heavy style misses some of them at first
        pages.append(_page(rng, site, rng.choice(site.topics), len(pages), plain_words=rng.random() < 1 / 6))
    for _ in range(n_mixed):
        topic = "math" if rng.random() < 0.25 else rng.choice(["cooking", "travel", "fitness"])
        pages.append(_page(rng, MIXED_SITE, topic, len(pages)))
    for _ in range(n_nonmath):
        site = rng.choice(NONMATH_SITES)
        pages.append(_page(rng, site, rng.choice(site.topics), len(pages)))
    for item in rng.sample(benchmark, n_quote):
        title, blocks = math_thread(rng, rng.choice(QUOTE_SITE.topics), question=item["question"])
        url = _url(QUOTE_SITE, rng, title, "", len(pages))
        pages.append(
            PlannedPage(
                url,
                QUOTE_SITE,
                title,
                blocks,
                "math",
                "quote",
                "quote",
                QUOTE_SITE.markups[0],
                rng.randint(0, 999),
                [],
                source=item["id"],
            )
        )
    originals = list(pages)
    copies: list[PlannedPage] = []
    while len(copies) < n_dup:
        # mostly math pages, in clusters of 2..6 (a popular page is copied more often)
        pool = [p for p in originals if p.label == "math"] if rng.random() < 0.7 else originals
        source = rng.choice(pool)
        for _ in range(min(n_dup - len(copies), rng.choice([1, 1, 1, 1, 2, 2, 3, 5]))):
            copies.append(_near_copy(rng, source, len(pages) + len(copies)))
    pages += copies
    repeats = [replace(p, kind="url_repeat", source=p.url) for p in rng.sample(originals, n_repeat)]
    pages += repeats
    rng.shuffle(pages)
    return pages


def make_seeds(n: int, rng: random.Random) -> list[dict]:
    """Seed math documents (the OpenWebMath stand-in) as already-extracted text with LaTeX math."""
    from deepmath.demo.textgen import plain_text

    seeds = []
    for i in range(n):
        topic = SEED_TOPICS[i % len(SEED_TOPICS)]
        title, blocks = math_article(rng, topic)
        url = f"https://openmath-seeds.example/{_slug(topic)}/{_slug(title)}-{i}"
        seeds.append({"id": f"seed-{i}", "text": plain_text(title, blocks), "metadata": {"url": url, "topic": topic}})
    return seeds
