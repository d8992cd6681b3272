"""Our batch signatures are datasketch's MinHash values bit for bit; LSH parameters are datasketch's optimiser's."""

import itertools

import numpy as np
import pytest

from deepmath.dedup.shingles import shingle_batch, shingle_hash32, shingles_of
from deepmath.dedup.signatures import (
    Permutations,
    band_keys,
    candidate_probability,
    legacy_mt19937,
    lsh_params,
    signatures,
)
from tests.dedup.test_shingles import EDGE_TEXTS, real_texts

datasketch = pytest.importorskip("datasketch")


@pytest.mark.parametrize(
    ("scheme", "num_perm", "seed"), [("affine32", 128, 1), ("affine32", 64, 7), ("legacy", 128, 1)]
)
def test_signatures_equal_datasketch(scheme, num_perm, seed):
    texts = real_texts(25) + EDGE_TEXTS
    perms = Permutations(num_perm, seed, scheme)
    ours = signatures(shingle_batch(texts), perms)
    for i, text in enumerate(texts):
        m = datasketch.MinHash(num_perm=num_perm, seed=seed, hashfunc=shingle_hash32, scheme=scheme)
        m.update_batch(shingles_of(text))
        assert np.array_equal(ours[i], m.hashvalues), (i, text[:60])
        lean = datasketch.LeanMinHash(seed=seed, hashvalues=ours[i], scheme=scheme)
        assert lean.jaccard(datasketch.LeanMinHash(m)) == 1.0


def test_subset_and_large_documents():
    """Signatures of a chosen subset, and of a document longer than one permutation chunk, match the full run."""
    texts = [" ".join(f"w{i % 977} x{i % 1013}" for i in range(80_000)), *real_texts(5)]
    batch = shingle_batch(texts)
    perms = Permutations(32, 3)
    full = signatures(batch, perms)
    assert np.array_equal(signatures(batch, perms, np.array([3, 0])), full[[3, 0]])
    m = datasketch.MinHash(num_perm=32, seed=3, hashfunc=shingle_hash32)
    m.update_batch(shingles_of(texts[0]))
    assert np.array_equal(full[0], m.hashvalues)


def test_lsh_params_match_datasketch_optimiser():
    from datasketch.lsh import _optimal_param

    for threshold, num_perm, weights in itertools.product(
        [0.5, 0.7, 0.8, 0.9], [64, 128, 256], [(0.5, 0.5), (0.05, 0.95), (0.3, 0.7)]
    ):
        expected = _optimal_param(threshold, num_perm, *weights)
        got = lsh_params(threshold, num_perm, *weights)
        assert (got.bands, got.rows) == expected, (threshold, num_perm, weights)


def test_default_lsh_recall():
    params = lsh_params(0.8, 128)
    assert params.recall(0.85) >= 0.98
    datasketch_default = lsh_params(0.8, 128, 0.5, 0.5)
    assert (datasketch_default.bands, datasketch_default.rows) == (9, 13)
    assert datasketch_default.recall(0.85) < 0.7  # the 69%
    assert candidate_probability(0.5, params.bands, params.rows) < 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bands": 20, "rows": 8}, "exceeds"),
        ({"bands": 4}, "both"),
        ({"threshold": 1.5}, "between"),
    ],
)
def test_lsh_params_errors(kwargs, message):
    args = {"threshold": 0.8, "num_perm": 128, **kwargs}
    with pytest.raises(ValueError, match=message):
        lsh_params(**args)


def test_band_keys():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 2, 3, 4], [1, 2, 3, 4]], dtype=np.uint32)
    keys = band_keys(sigs, 2, 2)
    assert keys.shape == (2, 4)
    assert keys[0, 0] == keys[0, 1] == keys[0, 3] != keys[0, 2]
    assert keys[1, 0] == keys[1, 2] == keys[1, 3] != keys[1, 1]
    assert keys[0, 0] != keys[1, 0]  # bands are keyed apart even with equal values
    with pytest.raises(ValueError, match="permutations"):
        band_keys(sigs, 3, 2)


@pytest.mark.parametrize("seed", [0, 1, 42, 2**31, 2**32 - 1])
def test_legacy_mt19937_is_numpys_random_state(seed):
    """The generator behind affine32's permutations (drawn without numpy.random) gives numpy's RandomState outputs,
    across several twists of its 624-word state; the permutations are the ones RandomState's randint draws."""
    for count in (1, 623, 624, 625, 2000):
        expected = np.random.RandomState(seed).randint(0, 1 << 32, count, dtype=np.uint32)
        assert np.array_equal(legacy_mt19937(seed, count), expected), count
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, 300, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, 300, dtype=np.uint32)
    ours = Permutations(300, seed).ab
    assert ours[0].dtype == ours[1].dtype == np.uint32
    assert np.array_equal(ours[0], a) and np.array_equal(ours[1], b)


def test_permutation_errors():
    with pytest.raises(ValueError, match="scheme"):
        Permutations(128, 1, "affine64")
    with pytest.raises(ValueError, match="num_perm"):
        Permutations(0)
