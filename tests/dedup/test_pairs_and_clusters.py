"""Band buckets -> candidate pairs, Jaccard verification, clusters and keep policies."""

import itertools

import numpy as np
import pytest

from deepmath.dedup.buckets import ALL_PAIRS_UP_TO, bucket_pairs, unique_pairs
from deepmath.dedup.clusters import choose_kept, connected_clusters, exact_duplicate_pairs
from deepmath.dedup.verify import estimated_jaccard, exact_jaccard, jaccard_of_sets


def pairs_set(pairs):
    return {tuple(p) for p in pairs.tolist()}


# the compiled kernel's buckets (when built) and numpy's must give the same pairs
PATHS = pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])


@PATHS
def test_small_buckets_give_all_pairs(compiled):
    keys = np.array([5, 9, 5, 5, 7, 9], dtype=np.uint64)
    ids = np.array([10, 11, 12, 13, 14, 15])
    assert pairs_set(bucket_pairs(keys, ids, compiled=compiled)) == {(10, 12), (10, 13), (12, 13), (11, 15)}


@PATHS
def test_large_bucket_gives_star_and_chain(compiled):
    size = ALL_PAIRS_UP_TO + 8
    keys = np.zeros(size, dtype=np.uint64)
    ids = np.arange(100, 100 + size)[::-1].copy()  # order of arrival does not matter
    got = pairs_set(bucket_pairs(keys, ids, compiled=compiled))
    star = {(100, 100 + k) for k in range(1, size)}
    chain = {(100 + k - 1, 100 + k) for k in range(1, size)}
    assert got == star | chain
    assert all(a < b for a, b in got)


@PATHS
@pytest.mark.parametrize("distinct", [3, 40, 5000])
@pytest.mark.parametrize("spread", ["mixed", "top bits", "low bits"])
def test_buckets_give_the_pairs_of_the_definition(distinct, spread, compiled):
    """Any mix of bucket sizes, ids in any order: all pairs of a small bucket, star and chain over a large one's
    ids in ascending order, each pair as (smaller, larger). Keys that differ in every bit, or only in the top or
    the low bits (the compiled radix sort skips the passes where all keys agree)."""
    rng = np.random.default_rng(distinct)
    keys = rng.integers(0, distinct, 3000).astype(np.uint64)
    if spread == "mixed":
        keys *= np.uint64(0x9E3779B97F4A7C15)
    elif spread == "top bits":
        keys <<= np.uint64(51)
    ids = rng.permutation(10_000)[:3000].astype(np.int64)
    expected = set()
    for key in np.unique(keys):
        members = sorted(ids[keys == key].tolist())
        if len(members) <= ALL_PAIRS_UP_TO:
            expected |= {(a, b) for i, a in enumerate(members) for b in members[i + 1 :]}
        else:
            expected |= {(members[0], m) for m in members[1:]} | set(itertools.pairwise(members))
    pairs = bucket_pairs(keys, ids, compiled=compiled)
    assert pairs_set(pairs) == expected and len(pairs) == len(expected)
    assert pairs.tolist() == sorted(pairs.tolist())
    raw = bucket_pairs(keys, ids, unique=False, compiled=compiled)
    assert pairs_set(raw) == expected and (raw[:, 0] < raw[:, 1]).all()


def test_unique_pairs_and_empty():
    pairs = np.array([[3, 4], [1, 2], [3, 4], [1, 2], [1, 5]])
    assert unique_pairs(pairs).tolist() == [[1, 2], [1, 5], [3, 4]]
    assert bucket_pairs(np.zeros(1, np.uint64), np.array([1])).shape == (0, 2)
    assert unique_pairs(np.zeros((0, 2), np.int64)).shape == (0, 2)


def test_jaccard():
    a, b = np.array([1, 2, 3, 4]), np.array([3, 4, 5])
    assert jaccard_of_sets(a, b) == pytest.approx(2 / 5)
    assert jaccard_of_sets(a, np.array([], dtype=int)) == 0.0
    docs = {0: np.array([4, 1, 1, 2, 3]), 1: np.array([5, 3, 4, 4]), 2: np.array([9])}
    got = exact_jaccard(np.array([[0, 1], [0, 2]]), docs.__getitem__)
    assert got.tolist() == pytest.approx([2 / 5, 0.0])
    sigs = np.array([[1, 2, 3, 4], [1, 2, 0, 4]], dtype=np.uint32)
    assert estimated_jaccard(sigs[:1], sigs[1:]).tolist() == [0.75]


def test_connected_clusters_long_chain():
    """A path of 2000 nodes given in random order is one cluster (pointer jumping must converge)."""
    rng = np.random.default_rng(0)
    nodes = rng.permutation(2000) * 7
    edges = np.stack([nodes[:-1], nodes[1:]], axis=1)[rng.permutation(1999)]
    edges = np.concatenate([edges, [[100_000, 100_001]]])
    got_nodes, labels = connected_clusters(edges)
    assert len(got_nodes) == 2002
    assert len(set(labels[got_nodes < 100_000].tolist())) == 1
    assert labels[got_nodes == 100_000][0] == labels[got_nodes == 100_001][0] != labels[0]
    assert connected_clusters(np.zeros((0, 2), np.int64))[0].shape == (0,)


@pytest.mark.parametrize(
    ("keep", "expected"),
    [("first", [10, 10, 10, 40, 40]), ("longest", [20, 20, 20, 40, 40]), ("score", [30, 30, 30, 50, 50])],
)
def test_keep_policies(keep, expected):
    nodes = np.array([10, 20, 30, 40, 50])
    labels = np.array([0, 0, 0, 1, 1])
    lengths = np.array([5, 9, 9, 3, 3])
    scores = np.array([0.1, np.nan, 0.7, np.nan, 0.2])
    kept = choose_kept(labels, nodes, keep, lengths, scores)
    assert nodes[kept].tolist() == expected


def test_keep_errors():
    with pytest.raises(ValueError, match="keep must be"):
        choose_kept(np.array([0]), np.array([1]), "shortest")
    with pytest.raises(ValueError, match="scores"):
        choose_kept(np.array([0]), np.array([1]), "score")


def test_exact_duplicate_pairs():
    hashes = np.array([[1, 2], [3, 4], [1, 2], [1, 3], [1, 2]], dtype=np.uint64)
    ids = np.array([50, 60, 20, 70, 80])
    assert sorted(exact_duplicate_pairs(hashes, ids).tolist()) == [[50, 20], [80, 20]]


@pytest.mark.parametrize("position_bits", [3, 12, 30, 39])  # 30 and 39: too wide to pack, the lexsort path
def test_unique_pairs_packed_or_not_equal_numpy(position_bits):
    from deepmath.dedup.buckets import pair_codec, unique_pairs

    rng = np.random.default_rng(position_bits)
    numbers = (rng.integers(0, 6, 4000) << 40) | rng.integers(0, 1 << position_bits, 4000)
    pairs = numbers[rng.integers(0, len(numbers), (3000, 2))]
    pairs = np.sort(pairs, axis=1)
    pairs = np.concatenate([pairs, pairs[:500]])  # repeats
    assert (pair_codec(numbers) is None) == (position_bits + 3 > 31)
    assert np.array_equal(unique_pairs(pairs), np.unique(pairs, axis=0))
