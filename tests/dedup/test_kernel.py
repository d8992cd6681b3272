"""The compiled kernel (deepmath/dedup/_kernel.c) gives the numpy path's shingle hashes, normalised-text hashes and
signatures bit for bit, hence datasketch's MinHash values; its verification gives the numpy loop's Jaccards and
edges. Every test here needs the extension (built by `pip install -e .` with a C compiler) and skips without it."""

import itertools
import os

import numpy as np
import pytest

from deepmath.dedup import kernel
from deepmath.dedup.planted import read_texts
from deepmath.dedup.shingles import shingle_hash32, shingles_of
from deepmath.dedup.signatures import Permutations
from deepmath.dedup.verify import jaccard_of_sets, sorted_unique
from tests.conftest import require_shared
from tests.dedup.test_shingles import EDGE_TEXTS

needs_kernel = pytest.mark.skipif(kernel._kernel is None, reason="the compiled dedup kernel is not built")


def test_kernel_is_built_where_required():
    """CI sets DEEPMATH_REQUIRE_KERNEL=1: there a failed (optional, so silent) build of the extension fails here
    instead of skipping every test below."""
    if os.environ.get("DEEPMATH_REQUIRE_KERNEL") != "1":
        pytest.skip("DEEPMATH_REQUIRE_KERNEL is not set")
    assert kernel._kernel is not None and kernel.KERNEL == "compiled"


# characters that take every branch of the kernel: multi-character folds expanded in C (™ ½ ´ № ﬁ ㈜ ﷺ), code
# points outside the BMP (emoji, math letters), CJK next to Latin, fullwidth forms, combining marks, Hangul, RTL
KERNEL_TEXTS = [
    "™" * 100 + " more than 64 added characters: this page goes to numpy",
    "x ½ y " * 40,
    "ﷺ ﷺ ﷺ ﷺ",
    "㈜ 회사 한국어 텍스트 그리고 ℃ and № 5",
    "e\u0301cole naïve coöperate ﬁnal ﬂow",
    "𝑥 + 𝑦 = 𝑧 😀🙂 𝔸𝔹 mixed 中文abc混合テキスト ｆｕｌｌｗｉｄｔｈ",
    "العربية كلمات مع 123 أرقام",
    "ΣΑΣ σίσυφος İstanbul Straße",
    "one two three four five six seven eight nine ten",
]


def _web_texts(n: int) -> list[str]:
    """The first n real pages of each web source the planted corpus uses (dolma CC, cc_net, StackMathQA)."""
    root = require_shared("webtext")
    texts = []
    for source in ("dolma_cc_2019_30", "dolma_ccnet_head", "stackmathqa100k"):
        texts += list(itertools.islice(read_texts(root / source), n))
    return texts


def _assert_same(texts: list[str], ngram: int, perms: Permutations) -> None:
    compiled, sigs_c = kernel.sketch(texts, ngram, perms, compiled=True)
    numpy_batch, sigs_n = kernel.sketch(texts, ngram, perms, compiled=False)
    assert sigs_c.dtype == sigs_n.dtype and np.array_equal(sigs_c, sigs_n)
    for field in ("hashes", "offsets", "exact", "n_words"):
        assert np.array_equal(getattr(compiled, field), getattr(numpy_batch, field)), field
    # as sets (sorted in the kernel, per page): the same signatures, and the sets shingle_sets makes of the hashes
    values, bounds = kernel.shingle_sets(numpy_batch.hashes, numpy_batch.offsets, compiled=False)
    for compiled_path in (True, False):
        as_sets, sigs = kernel.sketch(texts, ngram, perms, compiled=compiled_path, sets=True)
        assert np.array_equal(sigs, sigs_n), compiled_path
        assert np.array_equal(as_sets.hashes, values) and np.array_equal(as_sets.offsets, bounds), compiled_path
        assert np.array_equal(as_sets.exact, numpy_batch.exact) and np.array_equal(
            as_sets.n_words, numpy_batch.n_words
        )


@needs_kernel
@pytest.mark.parametrize(("scheme", "ngram"), [("affine32", 5), ("affine32", 1), ("affine32", 3), ("legacy", 5)])
def test_compiled_equals_numpy_on_real_text(scheme, ngram, simd_sort):
    texts = _web_texts(120) + EDGE_TEXTS + KERNEL_TEXTS
    perms = Permutations(128, 1, scheme)
    for start in range(0, len(texts), 97):  # several batches: the table fills in as characters are first seen
        _assert_same(texts[start : start + 97], ngram, perms)


@needs_kernel
def test_compiled_equals_datasketch():
    datasketch = pytest.importorskip("datasketch")
    texts = _web_texts(10) + EDGE_TEXTS + KERNEL_TEXTS
    for scheme in ("affine32", "legacy"):
        _, sigs = kernel.sketch(texts, 5, Permutations(128, 1, scheme), compiled=True)
        for i, text in enumerate(texts):
            m = datasketch.MinHash(num_perm=128, seed=1, hashfunc=shingle_hash32, scheme=scheme)
            m.update_batch(shingles_of(text))
            assert np.array_equal(sigs[i], m.hashvalues), (scheme, i, text[:60])


@needs_kernel
def test_page_goes_through_numpy_when_a_character_is_unresolved(caplog):
    """A code point outside the BMP that nothing resolved yet sends its page to numpy; the results still match."""
    from deepmath.text.chars import SLOW_BIT, SPACE, fold_table

    unseen = "\U0001f9a0"  # an emoji (maybe resolved by an earlier test: marked unresolved again below)
    texts = [f"an unseen {unseen} emoji next to words one two three", "plain words one two three four five"]
    fold_table()[ord(unseen)] = SPACE | SLOW_BIT  # what a fresh process has
    with caplog.at_level("DEBUG", logger="deepmath.dedup.kernel"):
        _assert_same(texts, 5, Permutations(64))
    assert "1 document(s) of 2 through the numpy path" in caplog.text
    assert not fold_table()[ord(unseen)] & SLOW_BIT  # resolved by the numpy path for the next pages


@needs_kernel
def test_kernel_rejects_bad_arguments():
    perms = Permutations(16)
    with pytest.raises(ValueError, match="ngram"):
        kernel.sketch(["a b c"], 0, perms, compiled=True)
    with pytest.raises(TypeError, match="not a str"):
        kernel.sketch(["a", b"bytes"], 5, perms, compiled=True)


def _verify_numpy(pairs, sets, threshold):
    """MinhashVerify._exact's loop over pairs already in checking order, on in-memory sets."""
    parent: dict[int, int] = {}

    def find(x):
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    status, jaccard = np.zeros(len(pairs), np.uint8), np.zeros(len(pairs), np.float32)
    for k, (a, b) in enumerate(pairs.tolist()):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        j = jaccard_of_sets(sorted_unique(sets[a]), sorted_unique(sets[b]))
        status[k], jaccard[k] = 1, j
        if j >= threshold:
            parent[ra] = rb
            status[k] = 2
    return status, jaccard


@needs_kernel
@pytest.mark.parametrize(
    ("cache_bytes", "stored_as_sets"), [(1 << 28, False), (0, False), (0, True)]
)  # cache 0: emptied before every check; stored as sets: read in place, as the signature step stores them
def test_compiled_verification_equals_numpy(cache_bytes, stored_as_sets):
    """Near copies (shared shingles), unrelated pages, empty pages and repeats, spread over two shards."""
    rng = np.random.default_rng(5)
    base = [rng.integers(0, 2**32, rng.integers(50, 700), dtype=np.uint32) for _ in range(12)]
    docs = []
    for b in base:
        for _ in range(4):
            copy = b.copy()
            edit = rng.random(len(copy)) < rng.uniform(0.0, 0.12)
            copy[edit] = rng.integers(0, 2**32, int(edit.sum()), dtype=np.uint32)
            docs.append(np.concatenate([copy, copy[: rng.integers(0, 20)]]))  # repeats, as pages have
    docs += [np.zeros(0, np.uint32), np.zeros(0, np.uint32), rng.integers(0, 50, 30, dtype=np.uint32)]
    if stored_as_sets:
        docs = [np.unique(d) for d in docs]
    shard = np.arange(len(docs)) % 2
    position = np.arange(len(docs)) // 2
    shingles, offsets = [], []
    for s in (0, 1):
        mine = [docs[i] for i in np.flatnonzero(shard == s)]
        shingles.append(np.concatenate(mine))
        offsets.append(np.concatenate([[0], np.cumsum([len(d) for d in mine])]).astype(np.int64))
    pairs = np.array([(a, b) for a in range(len(docs)) for b in range(a + 1, len(docs))], dtype=np.int64)
    pairs = pairs[rng.permutation(len(pairs))]
    for threshold in (0.5, 0.8):
        status, jaccard = kernel.verify_ordered(pairs, shard, position, shingles, offsets, threshold, cache_bytes)
        want_status, want_jaccard = _verify_numpy(pairs, docs, threshold)
        assert np.array_equal(status, want_status)
        assert np.array_equal(jaccard, want_jaccard)
        assert (status == 2).sum() > 5 and (status == 0).sum() > 5  # accepted and skipped pairs both occur


@needs_kernel
def test_verification_rejects_out_of_range_nodes():
    shingles, offsets = [np.arange(10, dtype=np.uint32)], [np.array([0, 5, 10], np.int64)]
    with pytest.raises(ValueError, match="out of range"):
        kernel.verify_ordered(np.array([[0, 1]]), np.array([0, 0]), np.array([0, 2]), shingles, offsets, 0.8)
    with pytest.raises(ValueError, match="out of range"):
        kernel.verify_ordered(np.array([[0, 3]]), np.array([0, 0]), np.array([0, 1]), shingles, offsets, 0.8)


@needs_kernel
def test_set_intersections_of_every_size_and_overlap():
    """The compiled count compares 8 values at a time and finishes with a merge: sets of 0 to 40 values from a
    small range (so blocks overlap in every way), each pair checked (threshold above 1: nothing joins)."""
    rng = np.random.default_rng(11)
    docs = [np.unique(rng.integers(0, 60, rng.integers(0, 41), dtype=np.uint32)) for _ in range(70)]
    docs += [
        np.arange(0, 64, 2, dtype=np.uint32),
        np.arange(1, 65, 2, dtype=np.uint32),
        np.arange(64, dtype=np.uint32),
    ]
    position = np.arange(len(docs))
    offsets = [np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)]
    pairs = np.array([(a, b) for a in range(len(docs)) for b in range(a + 1, len(docs))], dtype=np.int64)
    status, jaccard = kernel.verify_ordered(
        pairs, np.zeros(len(docs), np.int64), position, [np.concatenate(docs)], offsets, 1.01
    )
    want_status, want_jaccard = _verify_numpy(pairs, docs, 1.01)
    assert np.array_equal(status, want_status) and (status == 1).all()
    assert np.array_equal(jaccard, want_jaccard)


@pytest.fixture(params=[True, False], ids=["simd", "scalar"])
def simd_sort(request):
    """Sets sorted by the AVX-512 merge sort (where the CPU has it) and by the scalar bucket sort."""
    previous = kernel._kernel.simd_sort(request.param)
    yield request.param
    kernel._kernel.simd_sort(previous)


@needs_kernel
@pytest.mark.parametrize("values", ["repeats", "uniform", "mixed", "maximal"])
def test_shingle_sets_compiled_equals_numpy(values, simd_sort):
    """Each page's set, whatever the spread: crowded buckets (repeats, values with equal top bits) take the radix
    path, uniform hashes the one-pass bucket + insertion path; sizes on both sides of the small-set cut-off and of
    whole 16-value registers; the largest value, which the AVX-512 path also pads with."""
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 3000, 48)
    counts[[0, 7]] = 0
    counts[[1, 2, 3]] = [1, 48, 49]
    counts[8:16] = [63, 64, 65, 79, 80, 81, 4096, 4097]
    total = int(counts.sum())
    uniform = rng.integers(0, 1 << 32, total, dtype=np.uint32)
    repeats = rng.integers(0, 1000, total, dtype=np.uint32)  # many repeats, all in the first bucket
    maximal = np.where(rng.random(total) < 0.05, np.uint32(2**32 - 1), uniform)
    hashes = {
        "repeats": repeats,
        "uniform": uniform,
        "mixed": np.where(rng.random(total) < 0.3, repeats, uniform),
        "maximal": maximal,
    }[values]
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    values, bounds = kernel.shingle_sets(hashes, offsets, compiled=True)
    want_values, want_bounds = kernel.shingle_sets(hashes, offsets, compiled=False)
    assert np.array_equal(values, want_values) and np.array_equal(bounds, want_bounds)
    for i in range(len(counts)):
        assert np.array_equal(values[bounds[i] : bounds[i + 1]], np.unique(hashes[offsets[i] : offsets[i + 1]]))


@needs_kernel
@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_estimates_equal_numpy(dtype):
    from deepmath.dedup.verify import estimated_jaccard

    rng = np.random.default_rng(11)
    shards = [rng.integers(0, 4, (n, 64)).astype(dtype) for n in (30, 0, 17)]  # small values: many equal slots
    left = (rng.choice([0, 2], 200), rng.integers(0, 17, 200))
    right = (rng.choice([0, 2], 200), rng.integers(0, 17, 200))
    got = kernel.estimate_pairs(left, right, shards, 64)
    want = estimated_jaccard(
        np.stack([shards[s][p] for s, p in zip(*left)]), np.stack([shards[s][p] for s, p in zip(*right)])
    )
    assert got.dtype == want.dtype and np.array_equal(got, want)
    with pytest.raises(ValueError, match="out of range"):
        kernel.estimate_pairs((np.array([1]), np.array([0])), (np.array([0]), np.array([0])), shards, 64)


@needs_kernel
def test_bucket_pairs_kernel_refuses_mismatched_buffers():
    with pytest.raises(ValueError, match="one id per key"):
        kernel._kernel.bucket_pairs(np.zeros(3, np.uint64), np.zeros(2, np.int64), 12)
    with pytest.raises(ValueError, match="keys: expected items of 8 bytes"):
        kernel._kernel.bucket_pairs(np.zeros(3, np.uint32), np.zeros(3, np.int64), 12)
    assert kernel._kernel.bucket_pairs(np.zeros(0, np.uint64), np.zeros(0, np.int64), 12) == b""


def _families(rng, families: int = 40, copies: int = 5):
    """Pages in families of near copies (and a few unrelated ones), as sorted sets over two shards; candidate pairs
    within each family, plus a few that join two families (so that components of several families occur)."""
    docs, family = [], []
    for f in range(families):
        base = rng.integers(0, 2**32, rng.integers(60, 400), dtype=np.uint32)
        for _ in range(copies):
            copy = base.copy()
            edit = rng.random(len(copy)) < rng.uniform(0.0, 0.15)
            copy[edit] = rng.integers(0, 2**32, int(edit.sum()), dtype=np.uint32)
            docs.append(np.unique(copy))
            family.append(f)
    family = np.array(family)
    pairs = [(a, b) for a in range(len(docs)) for b in range(a + 1, len(docs)) if family[a] == family[b]]
    pairs += [(f * copies, (f + 1) * copies + 1) for f in range(0, families - 1, 7)]
    pairs = np.array(pairs, dtype=np.int64)[rng.permutation(len(pairs))]
    shard, position = np.arange(len(docs)) % 2, np.arange(len(docs)) // 2
    shingles, offsets = [], []
    for s in (0, 1):
        mine = [docs[i] for i in np.flatnonzero(shard == s)]
        shingles.append(np.concatenate(mine))
        offsets.append(np.concatenate([[0], np.cumsum([len(d) for d in mine])]).astype(np.int64))
    return pairs, shard, position, shingles, offsets


@needs_kernel
def test_components_are_the_connected_components():
    rng = np.random.default_rng(2)
    n = 300
    edges = rng.integers(0, n, (250, 2)).astype(np.int64)
    labels = np.empty(n, np.int64)
    kernel._kernel.components(edges[:, 0].copy(), edges[:, 1].copy(), labels)
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges.tolist():
        parent[find(a)] = find(b)
    members: dict[int, list[int]] = {}
    for node in range(n):
        members.setdefault(find(node), []).append(node)
    for group in members.values():
        assert (labels[group] == min(group)).all()  # one label per component: its smallest node
    assert len(set(labels.tolist())) == len(members)
    with pytest.raises(ValueError, match="out of range"):
        kernel._kernel.components(np.array([0], np.int64), np.array([n], np.int64), labels)


@needs_kernel
@pytest.mark.parametrize("threads", [2, 3, 8])
def test_threaded_verification_equals_one_thread(threads, monkeypatch):
    """Verification split by connected components over threads checks the same pairs with the same result."""
    rng = np.random.default_rng(7)
    pairs, shard, position, shingles, offsets = _families(rng)
    want = kernel.verify_ordered(pairs, shard, position, shingles, offsets, 0.8)
    monkeypatch.setattr(kernel, "_MIN_PAIRS_PER_THREAD", 16)  # the test's few hundred pairs: split anyway
    groups = kernel.component_groups(pairs, len(shard), threads)
    assert len(groups) >= 2 and np.array_equal(np.sort(np.concatenate(groups)), np.arange(len(pairs)))
    labels = np.empty(len(shard), np.int64)
    kernel._kernel.components(pairs[:, 0].copy(), pairs[:, 1].copy(), labels)
    in_group = [set(labels[pairs[index, 0]].tolist()) for index in groups]
    assert sum(map(len, in_group)) == len(set().union(*in_group))  # no component is split across groups
    got = kernel.verify_ordered(pairs, shard, position, shingles, offsets, 0.8, threads=threads)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert (want[0] == 2).sum() > 20 and (want[0] == 0).sum() > 20 and (want[0] == 1).sum() > 5
    left, right = (shard[pairs[:, 0]], position[pairs[:, 0]]), (shard[pairs[:, 1]], position[pairs[:, 1]])
    sigs = [rng.integers(0, 3, (len(o) - 1, 32)).astype(np.uint32) for o in offsets]
    one = kernel.estimate_pairs(left, right, sigs, 32)
    assert np.array_equal(kernel.estimate_pairs(left, right, sigs, 32, threads=threads), one)


def test_in_threads_runs_every_job_and_raises_the_first_error():
    done = []
    kernel.in_threads([lambda i=i: done.append(i) for i in range(4)])
    assert sorted(done) == [0, 1, 2, 3]

    def fail() -> None:
        raise ValueError("job failed")

    with pytest.raises(ValueError, match="job failed"):
        kernel.in_threads([lambda: done.append(9), fail])
    assert 9 in done
