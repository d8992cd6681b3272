"""The planted-corpus builder itself: bands, ground truth against a brute-force pair check, score, bad inputs."""

import gzip
import json
import random
import subprocess
import sys
from collections import defaultdict
from itertools import islice

import pytest

from deepmath.dedup.planted import (
    BANDS,
    build_corpus,
    ground_truth,
    jaccard,
    mutate,
    oracle_shingles,
    oracle_words,
    read_texts,
    restyle,
    score,
)
from tests.conftest import require_shared
from tests.dedup.planted import planted as planted_corpus

LONG = " ".join(f"word{i} of a sentence that is long enough" for i in range(20))


@pytest.fixture(scope="module")
def planted():
    return planted_corpus(max_bases=250, pages=1800, seed=0)  # the corpus test_api.py uses (built once)


@pytest.fixture(scope="module")
def tiny():
    return planted_corpus(max_bases=8, seed=3)


def _band_shares(corpus) -> dict[str, float]:
    """Per kind of copy: the share whose Jaccard to its root is within 0.1 of the kind's band; checks the links."""
    pages = {p.id: p for p in corpus.pages}
    assert list(pages) == [f"p{i:06d}" for i in range(len(pages))]
    inside = defaultdict(list)
    for p in corpus.pages:
        root = pages[p.root]
        assert root.base == p.base
        if p.kind == "base":
            assert p.root == p.id and p.target is None
            continue
        assert root.kind == "base" if p.kind == "far_root" else root.kind in ("base", "far_root")
        low, high = BANDS[p.kind]
        assert low <= p.target <= high, p
        inside[p.kind].append(low - 0.1 <= corpus.truth.jaccard(p.id, p.root) <= high + 0.1)
    assert set(inside) == set(BANDS), "every kind of copy is planted"
    return {kind: sum(flags) / len(flags) for kind, flags in inside.items()}


def test_pages_hit_their_target_band_on_prose():
    shares = _band_shares(planted_corpus(max_bases=40, seed=0, source="dolma_cc_2019_30"))
    assert all(share >= 0.9 for share in shares.values()), shares


def test_pages_hit_their_target_band_on_math(planted):
    """Edits to LaTeX tokens with no oracle word (`&`, `\\\\`) leave shingles intact, so far copies of math text
    land above their band (the ground truth measures them); near, exact and mid copies still land in theirs."""
    shares = _band_shares(planted)
    assert all(shares[kind] >= 0.9 for kind in ("near", "exact", "mid")), shares


def test_mutate_hits_its_target():
    """On text whose every token is one oracle word and every 5-gram is new, J = u / (2 - u) is close."""
    text = " ".join(f"w{i}" for i in range(3000))
    vocab = [f"v{i}" for i in range(3000)]
    rng = random.Random(0)
    for target in (0.2, 0.4, 0.6, 0.8, 0.9, 0.95):
        j = jaccard(oracle_shingles(text), oracle_shingles(mutate(text, target, rng, vocab)))
        assert abs(j - target) <= 0.03, (target, j)
    assert oracle_words(restyle(text, rng)) == oracle_words(text)


def _brute_force(ids, texts):
    """All pairs, string 5-gram sets, every family mixed: {(a, b): Jaccard} for a < b."""
    sets = {}
    for i, text in zip(ids, texts):
        w = oracle_words(text)
        sets[i] = {" ".join(w[k : k + 5]) for k in range(len(w) - 4)} if len(w) >= 5 else {" ".join(w)}
    return {(a, b): len(sets[a] & sets[b]) / len(sets[a] | sets[b]) for a in ids for b in ids if a < b}


def test_ground_truth_matches_a_brute_force_pair_check(tiny):
    truth, ids = tiny.truth, tiny.ids
    pairs = _brute_force(ids, tiny.texts)
    for (a, b), j in pairs.items():
        assert truth.jaccard(a, b) == truth.jaccard(b, a) == pytest.approx(j, abs=1e-12)
        if truth.base[a] != truth.base[b]:
            assert j <= 0.5, (a, b, j)  # why the truth may skip cross-family pairs: the bases are distinct
    best = dict.fromkeys(ids, 0.0)
    neighbours = defaultdict(set)
    for (a, b), j in pairs.items():
        best[a], best[b] = max(best[a], j), max(best[b], j)
        if j >= 0.85:
            neighbours[a].add(b)
            neighbours[b].add(a)
    assert truth.max_jaccard == pytest.approx(best)
    assert sorted(truth.unique) == sorted(i for i in ids if best[i] <= 0.5)
    components, seen = [], set()
    for start in neighbours:
        if start not in seen:
            stack, component = [start], set()
            while stack:
                node = stack.pop()
                if node not in component:
                    component.add(node)
                    stack.extend(neighbours[node])
            seen |= component
            components.append(sorted(component))
    assert truth.groups == sorted(components) and len(components) >= 3


def test_score_counts_a_hand_made_result(planted):
    truth = planted.truth
    removed = set()
    for k, group in enumerate(truth.groups):
        if k % 3 == 0:  # recalled: one survivor
            removed.update(group[1:])
        elif k % 3 == 1:  # missed: two survivors
            removed.update(group[2:])
    lost = sorted(set(truth.base.values()))[:2]
    removed.update(i for i, b in truth.base.items() if b in lost)  # two whole families (their unique pages too)
    removed.update(truth.unique[::40])
    survivors = {g[0]: sum(x not in removed for x in g) for g in truth.groups}
    families = {b for i, b in truth.base.items() if i not in removed}
    result = score(removed, truth)
    assert result["recall"] == sum(n <= 1 for n in survivors.values()) / len(truth.groups)
    assert 0 < result["recall"] < 1
    assert result["false_count"] == len(set(truth.unique) & removed) > 2
    assert result["false_removals"] == result["false_count"] / len(truth.unique)
    assert result["families_lost"] == len(set(truth.base.values()) - families) == 2
    assert result["removed"] == len(removed)
    assert score(dict.fromkeys(removed), truth) == result  # no kept ids: the same as a set


def test_a_cross_family_pair_a_method_joins_counts():
    text = LONG + " and some more words"
    truth = ground_truth(["a", "b", "c"], [text, text.upper(), "other " * 30 + LONG[:40]], [0, 1, 2])
    assert sorted(truth.unique) == ["a", "b", "c"] and truth.groups == []  # families are not compared
    assert score({"b"}, truth)["false_count"] == 1
    joined = score({"b": "a"}, truth)  # the method says b duplicates a: their Jaccard (1.0) makes neither unique
    assert joined["false_count"] == 0 and joined["unique"] == 1


def test_same_seed_same_corpus():
    texts = list(islice(read_texts(require_shared("webtext", "stackmathqa100k")), 60))
    one, two = build_corpus(texts, 1, seed=5, max_bases=6), build_corpus(texts, 1, seed=5, max_bases=6)
    assert one.texts == two.texts and [p.root for p in one.pages] == [p.root for p in two.pages]
    assert build_corpus(texts, 1, seed=6, max_bases=6).texts != one.texts


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World! x² = 3.5", ["hello", "world", "x²", "3", "5"]),
        ("珍妮特的鸭子", ["珍", "妮", "特", "的", "鸭", "子"]),
        ("नमस्ते दुनिया", ["नमस्ते", "दुनिया"]),  # vowel signs stay inside the word
        ("ab中cd", ["ab", "中", "cd"]),
    ],
)
def test_oracle_words(text, words):
    assert oracle_words(text) == words


def test_light_imports_and_independent_oracle():
    code = (
        "import sys, deepmath.dedup.planted; "
        "print([m for m in ('datatrove', 'datasketch', 'numpy', 'deepmath.dedup.shingles') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_read_texts(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "10.jsonl").write_text('{"text": "ten"}\n')
    (tmp_path / "sub" / "9.jsonl").write_text('{"Q": "q?", "A": "a."}\n\n')
    with gzip.open(tmp_path / "a.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps({"text": "first"}) + "\n")
    (tmp_path / "notes.txt").write_text("not read")
    assert list(read_texts(tmp_path)) == ["first", "q?\n\na.", "ten"]


@pytest.mark.parametrize(
    ("content", "message"),
    [('{"text": "ok"}\n{not json\n', r"bad\.jsonl:2: not valid JSON"), ('{"body": "x"}\n', "no 'text'")],
)
def test_read_texts_bad_rows(tmp_path, content, message):
    (tmp_path / "bad.jsonl").write_text(content)
    with pytest.raises(ValueError, match=message):
        list(read_texts(tmp_path))


def test_bad_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read_texts(tmp_path / "missing")
    with pytest.raises(ValueError, match=r"no \*\.jsonl"):
        read_texts(tmp_path)
    with pytest.raises(ValueError, match="pages"):
        build_corpus([LONG], 0)
    with pytest.raises(ValueError, match="at least 50 words"):
        build_corpus(["too short"], 10)
    with pytest.raises(ValueError, match="length"):
        ground_truth(["a"], ["x", "y"], [0])
    with pytest.raises(ValueError, match="distinct"):
        ground_truth(["a", "a"], ["x", "y"], [0, 1])
    truth = ground_truth(["a", "b"], ["x y", "x y"], [0, 0])
    with pytest.raises(ValueError, match="not pages"):
        score({"a": "zzz"}, truth)
    with pytest.raises(ValueError, match="not pages"):
        score(["nope"], truth)
