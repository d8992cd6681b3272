"""A planted near-duplicate corpus built from real web and math text, with every pairwise Jaccard known.

Bases are real pages from ../shared/data/webtext that share little text with each other. Each base becomes a family:
the base, near copies (word edits spread over the text, Jaccard 0.86-0.99 to the base), copies that differ only in
case and punctuation, mid copies (0.55-0.8) and far rewrites (0.15-0.45). The oracle Jaccard uses its own
tokenisation (lower-cased runs of letters and digits, each CJK character a word; 5-grams), a regex independent of
deepmath.dedup's vectorised code.
"""

from __future__ import annotations

import gzip
import json
import random
from collections import defaultdict
from dataclasses import dataclass, field

import regex

from tests.conftest import require_shared

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# words: runs of letters, digits and combining marks (Indic vowel signs are inside words); each CJK ideograph or kana
# is a word of its own (those scripts have no spaces)
_WORD = regex.compile("[" + _CJK + "]|(?:(?![" + _CJK + "])[\\p{L}\\p{N}\\p{M}])+")


def oracle_set(text: str, n: int = 5) -> frozenset[str]:
    words = _WORD.findall(text.lower())
    if len(words) < n:
        return frozenset([" ".join(words)] if words else [])
    return frozenset(" ".join(words[i : i + n]) for i in range(len(words) - n + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def real_texts(limit: int) -> list[str]:
    """Real pages with at least 60 words: StackMathQA question+answer pairs first, then dolma Common Crawl pages."""
    texts = []
    for path in sorted(require_shared("webtext", "stackmathqa100k").glob("*.jsonl"), key=lambda p: int(p.stem)):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            texts.append(f"{row['Q']}\n\n{row['A']}")
    dolma = next(require_shared("webtext", "dolma_cc_2019_30").glob("*.jsonl.gz"))
    with gzip.open(dolma, "rt", encoding="utf-8") as handle:
        texts += [json.loads(line)["text"] for line in handle]
    texts = [t for t in texts if len(_WORD.findall(t)) >= 60]
    return _distinct(texts, limit)


def _distinct(texts: list[str], limit: int, max_jaccard: float = 0.3) -> list[str]:
    """Texts whose oracle Jaccard to every earlier kept text is at most `max_jaccard` (shared-shingle index)."""
    index: dict[str, list[int]] = defaultdict(list)
    kept: list[str] = []
    sets: list[frozenset] = []
    for text in texts:
        s = oracle_set(text)
        overlap: dict[int, int] = defaultdict(int)
        for shingle in s:
            for k in index.get(shingle, ()):
                overlap[k] += 1
        if any(c / (len(s) + len(sets[k]) - c) > max_jaccard for k, c in overlap.items()):
            continue
        for shingle in s:
            index[shingle].append(len(kept))
        kept.append(text)
        sets.append(s)
        if len(kept) >= limit:
            break
    return kept


def mutate(text: str, target: float, rng: random.Random, vocab: list[str], n: int = 5) -> str:
    """Word edits (60% replace, 20% delete, 20% insert) at random positions, aiming at 5-gram Jaccard `target`:
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


@dataclass
class Planted:
    ids: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    family: dict[str, int] = field(default_factory=dict)
    max_jaccard: dict[str, float] = field(default_factory=dict)
    groups: list[list[str]] = field(default_factory=list)  # connected by Jaccard >= 0.85 edges, 2+ pages

    @property
    def unique(self) -> list[str]:
        return [i for i, j in self.max_jaccard.items() if j <= 0.5]

    def check(self, removed: set[str]) -> dict:
        """Recall over groups (at most one survivor), false removals among unique pages, families with no survivor."""
        recalled = sum(1 for g in self.groups if sum(1 for x in g if x not in removed) <= 1)
        unique = self.unique
        survivors = {self.family[i] for i in self.ids if i not in removed}
        return {
            "groups": len(self.groups),
            "recall": recalled / max(1, len(self.groups)),
            "unique": len(unique),
            "false_removals": sum(1 for i in unique if i in removed) / max(1, len(unique)),
            "families_lost": len(set(self.family.values()) - survivors),
        }


def build(n_bases: int = 150, seed: int = 0) -> Planted:
    rng = random.Random(seed)
    bases = real_texts(n_bases)
    vocab = sorted({w for t in bases for w in t.split() if w.isalpha() and len(w) > 3})
    rows: list[tuple[int, str]] = []
    for b, base in enumerate(bases):
        kind = rng.random()
        family = [base]
        if kind < 0.4:  # unique page with far rewrites only
            family += [mutate(base, rng.uniform(0.1, 0.4), rng, vocab) for _ in range(rng.randint(1, 3))]
        elif kind < 0.8:
            family += [mutate(base, rng.uniform(0.86, 0.99), rng, vocab) for _ in range(rng.randint(1, 6))]
            family += [restyle(base, rng) for _ in range(rng.randint(0, 2))]
            family += [mutate(base, rng.uniform(0.15, 0.45), rng, vocab) for _ in range(rng.randint(0, 1))]
        else:
            family += [mutate(base, rng.uniform(0.86, 0.99), rng, vocab) for _ in range(rng.randint(1, 3))]
            family += [mutate(base, rng.uniform(0.55, 0.8), rng, vocab) for _ in range(rng.randint(1, 2))]
        rows += [(b, text) for text in family]
    rng.shuffle(rows)
    planted = Planted()
    sets = {}
    for k, (b, text) in enumerate(rows):
        doc_id = f"doc{k:05d}"
        planted.ids.append(doc_id)
        planted.texts.append(text)
        planted.family[doc_id] = b
        sets[doc_id] = oracle_set(text)
    members: dict[int, list[str]] = defaultdict(list)
    for doc_id, b in planted.family.items():
        members[b].append(doc_id)
    planted.max_jaccard = dict.fromkeys(planted.ids, 0.0)
    parent = {i: i for i in planted.ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    linked = set()
    for family in members.values():
        for i, a in enumerate(family):
            for b in family[i + 1 :]:
                j = jaccard(sets[a], sets[b])
                planted.max_jaccard[a] = max(planted.max_jaccard[a], j)
                planted.max_jaccard[b] = max(planted.max_jaccard[b], j)
                if j >= 0.85:
                    parent[find(a)] = find(b)
                    linked.update((a, b))
    groups: dict[str, list[str]] = defaultdict(list)
    for doc_id in linked:
        groups[find(doc_id)].append(doc_id)
    planted.groups = sorted(groups.values())
    return planted
