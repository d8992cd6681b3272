"""Planted near-duplicate corpora: families of real pages with known Jaccard, to check a dedup method or its settings.

    from deepmath.dedup.api import find_duplicates
    from deepmath.dedup.planted import build_corpus, read_texts, score

    corpus = build_corpus(read_texts("my_pages/"), pages=5000, seed=0)
    removed = find_duplicates(corpus.texts, corpus.ids)   # any method: {removed id: kept id} or a set of ids
    print(score(removed, corpus.truth))                 # recall, false removals, families lost

How the corpus is built (deterministic for the same texts, pages and seed; `bench/dedup.py` and `tests/dedup` use it):
1. Bases: texts with at least `min_words` words; a text near an earlier base (word 5-gram Jaccard > 0.3, found with
   a low-threshold datasketch LSH pass and checked exactly) is left out, so bases share little text.
2. Each base gets roots: itself plus up to two "far" rewrites (Jaccard 0.15-0.45 to the base); each root gets a
   family: near copies (word edits: replace/insert/delete spread over the text, targeting Jaccard 0.86-0.99),
   exact copies after normalisation (case and punctuation changes), "mid" copies (0.55-0.8) and far copies
   (0.15-0.45). Family sizes are scaled so the corpus has about `pages` pages (at least ~6 a base).
3. Ground truth: the exact Jaccard of every pair of pages derived from one base. Cross-base pairs are assumed far
   apart (the bases are distinct); `score` adds the Jaccard of any cross-base pair a method put in one cluster.

Metrics (`score`): a group is a connected component of pages joined by Jaccard >= 0.85 edges; recall = share of
groups with at most one surviving page. A unique page has Jaccard <= 0.5 to every other page; false removals =
share of unique pages removed. Families lost = bases none of whose pages survive.

The oracle tokeniser is deliberately not deepmath.dedup.shingles: words are lower-cased runs of letters, digits and
combining marks, each CJK character a word, matched with the `regex` module, so the ground truth cannot share a bug
with the shingler under test. Shingles are Python `hash()`es of the joined 5-grams: exact sets within one process
(a 64-bit collision changes nothing measurable), not stable across processes and never MinHash input.

Edits are made to whitespace tokens, the estimate counts oracle words: on LaTeX-heavy text (tokens such as `&` or
`\\\\` hold no word) far copies land a median 0.15 above their target (StackMathQA), on prose mostly within 0.1;
scores use the measured Jaccard.
"""

from __future__ import annotations

import random
import re
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import regex

__all__ = [
    "BANDS",
    "GroundTruth",
    "PlantedCorpus",
    "PlantedPage",
    "build_corpus",
    "distinct_texts",
    "ground_truth",
    "jaccard",
    "mutate",
    "oracle_shingles",
    "oracle_words",
    "read_texts",
    "restyle",
    "score",
]

SHINGLE = 5
# the Jaccard to its root that each kind of copy aims at (mutate's estimate; the ground truth measures the real one)
BANDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"near": (0.86, 0.99), "exact": (1.0, 1.0), "mid": (0.55, 0.8), "far": (0.15, 0.45), "far_root": (0.15, 0.45)}
)
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# words: runs of letters, digits and combining marks (Indic vowel signs are inside words); each CJK ideograph or kana
# is a word of its own (those scripts have no spaces). V1 for the set difference `--`.
_WORD = regex.compile("[" + _CJK + "]|[[\\p{L}\\p{N}\\p{M}]--[" + _CJK + "]]+", flags=regex.V1)


def oracle_words(text: str) -> list[str]:
    """The oracle's words of `text` (lower-cased; independent of deepmath's shingler)."""
    return _WORD.findall(text.lower())


def oracle_shingles(text: str, n: int = SHINGLE) -> set[int]:
    """Hashes of the word `n`-grams of `text`; a text shorter than `n` words is one shingle (none when empty)."""
    w = oracle_words(text)
    if len(w) < n:
        return {hash(" ".join(w))} if w else set()
    return {hash(" ".join(w[i : i + n])) for i in range(len(w) - n + 1)}


def jaccard(a: set, b: set) -> float:
    """Jaccard of two sets; two empty sets are identical (1.0)."""
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _natural_key(path: Path) -> list[str | int]:
    # "9.jsonl" before "10.jsonl"; str and int parts alternate, so keys always compare
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.as_posix())]


def read_texts(folder: str | Path) -> Iterator[str]:
    """Texts of every `*.jsonl` / `*.jsonl.gz` file below `folder`, files in natural path order, read lazily.

    A row's text is its `text` field, or `Q` and `A` joined by a blank line (StackMathQA question/answer rows).

    Raises:
        FileNotFoundError: `folder` does not exist.
        ValueError: no JSONL file below `folder`, or (while iterating) a row that is not JSON or has no text.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"text folder not found: {folder}")
    files = sorted(
        (p for p in folder.rglob("*") if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz"))),
        key=lambda p: _natural_key(p.relative_to(folder)),
    )
    if not files:
        raise ValueError(f"no *.jsonl or *.jsonl.gz file below {folder}")
    return _iter_texts(files)


def _iter_texts(files: list[Path]) -> Iterator[str]:
    from deepmath.io.documents import iter_raw_rows  # imports datatrove: only when reading

    for path in files:
        for number, row in iter_raw_rows(str(path), strict=True):  # test fixtures: a bad row is an error
            if isinstance(row.get("text"), str):
                yield row["text"]
            elif isinstance(row.get("Q"), str) and isinstance(row.get("A"), str):
                yield f"{row['Q']}\n\n{row['A']}"
            else:
                raise ValueError(f"{path}:{number + 1}: row has no 'text' (or 'Q' and 'A') string field")


def distinct_texts(
    texts: Iterable[str], min_words: int = 50, max_jaccard: float = 0.3, limit: int | None = None
) -> list[str]:
    """Texts with at least `min_words` oracle words whose Jaccard to every earlier kept text is at most `max_jaccard`.

    Candidates come from a datasketch MinHashLSH pass at `max_jaccard` (64 permutations) and are checked exactly,
    so a near pair LSH misses can stay (rare at this low threshold). Stops after `limit` texts.
    """
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=max_jaccard, num_perm=64)
    sets: list[set[int]] = []
    bases: list[str] = []
    for text in texts:
        if limit is not None and len(bases) >= limit:
            break
        w = oracle_words(text)
        if len(w) < min_words:
            continue
        s = oracle_shingles(text)
        m = MinHash(num_perm=64)
        m.update_batch([" ".join(w[i : i + SHINGLE]).encode() for i in range(max(1, len(w) - SHINGLE + 1))])
        if any(jaccard(s, sets[j]) > max_jaccard for j in lsh.query(m)):
            continue
        lsh.insert(len(bases), m)
        sets.append(s)
        bases.append(text)
    return bases


def mutate(text: str, target: float, rng: random.Random, vocab: list[str], n: int = SHINGLE) -> str:
    """Word edits (60% replace, 20% delete, 20% insert) at random positions, aiming at `n`-gram Jaccard `target`:
    editing a fraction q of the words leaves about u = (1 - q)^n of the shingles, and J = u / (2 - u)."""
    words = text.split()
    q = 1 - (2 * target / (1 + target)) ** (1 / n)
    edits = max(1, round(q * len(words)))
    for p in sorted(rng.sample(range(len(words)), min(edits, len(words))), reverse=True):
        kind = rng.random()
        if kind < 0.6:
            words[p] = rng.choice(vocab)
        elif kind < 0.8:
            del words[p]
        else:
            words.insert(p, rng.choice(vocab))
    return " ".join(words)


def restyle(text: str, rng: random.Random) -> str:
    """The same normalised text: case and punctuation changes only."""
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
                variants += [("far", rng.uniform(*BANDS["far"])) for _ in range(rng.randint(0, round(2 * scale)))]
            elif kind < 0.8:
                variants += [
                    ("near", rng.uniform(*BANDS["near"])) for _ in range(rng.randint(2, max(2, round(8 * scale))))
                ]
                variants += [("exact", 1.0) for _ in range(rng.randint(0, 2))]
                variants += [("far", rng.uniform(*BANDS["far"])) for _ in range(rng.randint(0, 1))]
            else:
                variants += [
                    ("near", rng.uniform(*BANDS["near"])) for _ in range(rng.randint(1, max(1, round(4 * scale))))
                ]
                variants += [
                    ("mid", rng.uniform(*BANDS["mid"])) for _ in range(rng.randint(1, max(1, round(3 * scale))))
                ]
            plan.append((b, None if r == 0 else rng.uniform(*BANDS["far_root"]), variants))
    return plan


@dataclass(frozen=True)
class PlantedPage:
    """One page: `kind` is base, far_root (a far rewrite of the base that roots a family of its own), near, exact,
    mid or far; `root` is the id of the page it was derived from (itself for a base) and `target` the Jaccard to
    `root` that the edits aimed at (None for a base)."""

    id: str
    text: str
    base: int
    kind: str
    root: str
    target: float | None


@dataclass(frozen=True)
class GroundTruth:
    """Oracle shingles, family and highest within-family Jaccard of every page; groups joined by Jaccard >= `near`."""

    shingles: dict[str, array]  # sorted distinct oracle shingle hashes (int64) of each page
    base: dict[str, int]
    max_jaccard: dict[str, float]
    groups: list[list[str]]
    near: float = 0.85
    unique_at: float = 0.5

    def jaccard(self, a: str, b: str) -> float:
        """Oracle Jaccard of pages `a` and `b`."""
        return jaccard(set(self.shingles[a]), set(self.shingles[b]))

    @property
    def unique(self) -> list[str]:
        """Pages whose Jaccard to every other page of their family is at most `unique_at`."""
        return [x for x, j in self.max_jaccard.items() if j <= self.unique_at]


@dataclass(frozen=True)
class PlantedCorpus:
    """Pages in corpus order (ids p000000, p000001, ...) and their ground truth."""

    pages: list[PlantedPage]
    truth: GroundTruth

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.pages]

    @property
    def texts(self) -> list[str]:
        return [p.text for p in self.pages]


def build_corpus(
    texts: Iterable[str], pages: int, seed: int = 0, *, max_bases: int | None = None, min_words: int = 50
) -> PlantedCorpus:
    """Plant families of near, exact-after-normalisation, mid and far copies of distinct `texts` (module docstring).

    Takes the first `max_bases` distinct texts (all by default); `pages` scales the family sizes, so a corpus has
    at least about six pages a base whatever `pages` says.
    """
    if pages < 1:
        raise ValueError(f"pages must be at least 1, got {pages}")
    bases = distinct_texts(texts, min_words=min_words, limit=max_bases)
    if not bases:
        raise ValueError(f"no text has at least {min_words} words")
    lo, hi = 0.05, 20.0
    for _ in range(30):  # family sizes scaled so the corpus has about `pages` pages
        scale = (lo * hi) ** 0.5
        total = sum(1 + len(v) for _, _, v in _plan(len(bases), scale, seed))
        lo, hi = (scale, hi) if total < pages else (lo, scale)
    rng = random.Random(seed + 1)
    vocab = sorted({w for t in bases[:200] for w in t.split() if w.isalpha()})
    drafts: list[tuple[str, int, str, int, float | None]] = []  # text, base, kind, position of the root, target
    base_position: dict[int, int] = {}
    for b, far, variants in _plan(len(bases), scale, seed):
        root = len(drafts)
        if far is None:
            base_position[b] = root
            drafts.append((bases[b], b, "base", root, None))
        else:
            drafts.append((mutate(bases[b], far, rng, vocab), b, "far_root", base_position[b], far))
        for kind, target in variants:
            text = restyle(drafts[root][0], rng) if kind == "exact" else mutate(drafts[root][0], target, rng, vocab)
            drafts.append((text, b, kind, root, target))
    order = list(range(len(drafts)))
    rng.shuffle(order)  # the same permutation as shuffling the pages themselves
    position_id = {old: f"p{new:06d}" for new, old in enumerate(order)}
    planted = []
    for old in order:
        text, b, kind, root, target = drafts[old]
        planted.append(PlantedPage(position_id[old], text, b, kind, position_id[root], target))
    truth = ground_truth([p.id for p in planted], [p.text for p in planted], [p.base for p in planted])
    return PlantedCorpus(planted, truth)


def ground_truth(
    ids: Sequence[str], texts: Sequence[str], families: Sequence[int], *, near: float = 0.85, unique_at: float = 0.5
) -> GroundTruth:
    """Exact oracle Jaccard of every pair of pages in one family; groups are connected by Jaccard >= `near` edges.

    Pages of different families are not compared: their texts must share little (see `distinct_texts`).
    """
    if not len(ids) == len(texts) == len(families):
        raise ValueError(f"ids, texts and families differ in length: {len(ids)}, {len(texts)}, {len(families)}")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be distinct")
    import numpy as np

    # sorted 8-byte arrays, not sets: a set of Python ints costs ~10x more (200k pages: ~1 GB instead of ~10 GB)
    shingles = {i: array("q", sorted(oracle_shingles(t))) for i, t in zip(ids, texts)}
    members: dict[int, list[str]] = defaultdict(list)
    for i, b in zip(ids, families):
        members[b].append(i)
    max_j = dict.fromkeys(ids, 0.0)
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    linked = set()
    for family in members.values():
        if len(family) < 2:
            continue
        j = _family_jaccard([shingles[x] for x in family])
        np.fill_diagonal(j, 0.0)
        for x, best in zip(family, j.max(axis=1).tolist()):
            max_j[x] = best
        for k, m in zip(*np.nonzero(np.triu(j >= near, 1))):
            a, b = family[k], family[m]
            parent[find(a)] = find(b)
            linked.update((a, b))
    groups: dict[str, list[str]] = defaultdict(list)
    for i in linked:
        groups[find(i)].append(i)
    return GroundTruth(
        shingles=shingles,
        base=dict(zip(ids, families)),
        max_jaccard=max_j,
        groups=sorted(sorted(g) for g in groups.values()),
        near=near,
        unique_at=unique_at,
    )


def _family_jaccard(sets: list[array]):
    """(n, n) exact Jaccard of every pair of sorted distinct shingle arrays, as one sparse product (the pages x
    shingles incidence matrix times its transpose holds every intersection size); two empty sets are identical (1.0), like `jaccard`."""
    import numpy as np  # here, not at the top: the module is imported by light tools (see the import test)
    from scipy.sparse import csr_matrix

    sizes = np.array([len(x) for x in sets], dtype=np.int64)
    values = np.concatenate([np.frombuffer(x, dtype=np.int64) for x in sets])
    _, column = np.unique(values, return_inverse=True)
    row = np.repeat(np.arange(len(sets)), sizes)
    incidence = csr_matrix(
        (np.ones(len(values), np.float64), (row, column)), shape=(len(sets), int(column.max(initial=-1)) + 1)
    )
    common = (incidence @ incidence.T).toarray()
    union = sizes[:, None] + sizes[None, :] - common
    return np.where(union > 0, common / np.maximum(union, 1), 1.0)


def score(removed: Mapping[str, str | None] | Iterable[str], truth: GroundTruth) -> dict:
    """Recall over groups, false removals among unique pages and families lost for a dedup result.

    `removed` is {removed id: kept id (or None when unknown)} or just the removed ids. A removed page mapped to a
    kept page of another family makes that cross-base pair count: its Jaccard can make either page non-unique.
    """
    kept_by = dict(removed) if isinstance(removed, Mapping) else dict.fromkeys(removed)
    unknown = [x for x in (*kept_by, *(v for v in kept_by.values() if v is not None)) if x not in truth.base]
    if unknown:
        raise ValueError(f"{len(unknown)} ids are not pages of the corpus, e.g. {unknown[:3]}")
    max_j = dict(truth.max_jaccard)
    for a, b in kept_by.items():
        if b is not None and truth.base[a] != truth.base[b]:
            j = truth.jaccard(a, b)
            max_j[a], max_j[b] = max(max_j[a], j), max(max_j[b], j)
    recalled = sum(1 for g in truth.groups if sum(1 for x in g if x not in kept_by) <= 1)
    unique = [x for x, j in max_j.items() if j <= truth.unique_at]
    false = sum(1 for x in unique if x in kept_by)
    surviving = {truth.base[x] for x in truth.base if x not in kept_by}
    return {
        "groups": len(truth.groups),
        "recall": recalled / max(1, len(truth.groups)),
        "unique": len(unique),
        "false_removals": false / max(1, len(unique)),
        "false_count": false,
        "families_lost": len(set(truth.base.values()) - surviving),
        "removed": len(kept_by),
    }
