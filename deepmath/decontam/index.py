"""The hashed n-gram index of a benchmark set: built once, saved as one .npz, loaded by every scanning worker.

What goes in: for every text of every benchmark item (questions, solutions, answers), each n-gram (n = 10) hashed to
uint64, and for texts of `min_tokens`..n-1 tokens the hash of the whole text (matched as one contiguous sequence).
Texts under `min_tokens` tokens give nothing (a `#### 18` answer is no evidence of anything).

Each key carries flags that the precise rule uses (see `matcher.py`):
- `COMMON`: the n-gram (or short text) occurs in more than `common_items` distinct benchmark items. Such phrases
  ("let a b and c be real numbers such that", "which of the following is true") are how benchmarks are written,
  not evidence that a page copied one. Items with identical first text count once, so MATH and MATH-500 (a
  subset) loaded together do not make each other's n-grams common.
- `PLAIN`: every token is generic (numbers, 1-2 character tokens, LaTeX names, stopwords; see `normalize.py`):
  `1 2 3 4 5 6 7 8 9 10`, `begin pmatrix 1 0 0 1 end pmatrix`; `FORMULA`: PLAIN without even a stopword.
- `NUMBERS`: two different numbers of two or more digits and something that is not a number (`398 ... 46 x`).
- `WHOLE`: the key is a whole benchmark text (hashed with a different salt from n-grams of the same length).

Arrays: sorted unique `keys`, their `lengths` and `flags`, and a CSR posting list (`post_start`, `post_items`) from
key to item indices. The cache file name is a hash of the rule and of every benchmark's fingerprint (file sha256 or
Hub dataset fingerprint, plus the fields used), so a changed file or rule builds a new index.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from deepmath.decontam.benchmarks import LoadedBenchmark
from deepmath.decontam.normalize import generic_token_mask, ngram_hashes, ngram_hashes_flat, number_tokens, tokenize
from deepmath.io.atomic import atomic_write_bytes

__all__ = [
    "COMMON",
    "CORPUS",
    "FORMULA",
    "INDEX_VERSION",
    "NUMBERS",
    "PLAIN",
    "TEMPLATE",
    "WHOLE",
    "ContaminationIndex",
    "MatchRule",
    "default_cache_dir",
    "index_key",
]

logger = logging.getLogger(__name__)

INDEX_VERSION = 3  # 3: tokens of the shared text kernel (deepmath.text)
COMMON = 1
PLAIN = 2
WHOLE = 4
FORMULA = 8  # PLAIN n-gram without a single stopword: numbers, variables and LaTeX only
NUMBERS = 16  # the n-gram holds two different numbers of two or more digits (`398 ... 46`): specific constants
CORPUS = 32  # set per scan, not stored: the key alone flags at least `common_docs` documents of the corpus
TEMPLATE = 64  # set per scan: the key has numbers and its shape (numbers masked) is in `common_docs` documents
_NUMBER_SHAPE = np.uint64(0x5EED0F1E5EED0F1E)  # the token hash every number gets in a shape


@dataclass(frozen=True)
class MatchRule:
    """The contamination rule. Defaults: DeepSeekMath's 10-gram rule with short items matched whole, made precise."""

    ngram: int = 10
    min_tokens: int = 3  # benchmark texts shorter than this are ignored
    whole_max: int = 20  # precise rule: texts of min_tokens..whole_max tokens also match whole (literal: ngram - 1)
    precise: bool = True  # False: the literal rule, every hit counts
    common_items: int = 4  # an n-gram shared by more distinct items than this is never evidence
    min_run: int = 3  # consecutive hits of one item that make plain (all-generic) n-grams evidence

    def __post_init__(self):
        if self.ngram < 2:
            raise ValueError("ngram must be at least 2")
        if not 1 <= self.min_tokens <= self.ngram:
            raise ValueError(f"min_tokens must be between 1 and ngram ({self.ngram})")
        if self.whole_max < self.min_tokens:
            raise ValueError("whole_max must be at least min_tokens")
        if self.common_items < 1 or self.min_run < 1:
            raise ValueError("common_items and min_run must be at least 1")

    @property
    def whole_limit(self) -> int:
        """Longest text matched whole: `whole_max` for the precise rule, ngram - 1 for the literal one (the paper)."""
        return self.whole_max if self.precise else min(self.whole_max, self.ngram - 1)


def default_cache_dir() -> Path:
    """`$DEEPMATH_CACHE_DIR/decontam`, else `$XDG_CACHE_HOME/deepmath/decontam`, else `~/.cache/deepmath/decontam`."""
    if os.environ.get("DEEPMATH_CACHE_DIR"):
        return Path(os.environ["DEEPMATH_CACHE_DIR"]) / "decontam"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "deepmath" / "decontam"


def index_key(benchmarks: list[LoadedBenchmark], rule: MatchRule) -> str:
    """Hash of everything the index depends on."""
    data = [INDEX_VERSION, asdict(rule), [(b.name, b.fingerprint) for b in benchmarks]]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]


@dataclass
class ContaminationIndex:
    """Sorted n-gram keys with flags and postings, plus the items they point to."""

    keys: np.ndarray  # uint64, sorted unique
    lengths: np.ndarray  # uint8: tokens in the key (ngram, or a whole text's length)
    flags: np.ndarray  # uint8: COMMON | PLAIN | WHOLE | FORMULA | NUMBERS
    post_start: np.ndarray  # int64, len(keys) + 1
    post_items: np.ndarray  # int32 item indices
    item_bench: np.ndarray  # int16 benchmark index per item
    item_ids: list[str]
    benchmarks: list[dict]  # name, origin, fields, items, skipped_rows, texts_ngram, texts_whole, texts_ignored
    rule: MatchRule
    key: str = ""
    shapes: np.ndarray | None = None  # uint64 per key: its n-gram hash with every number token masked

    def items_of(self, k: int) -> np.ndarray:
        return self.post_items[self.post_start[k] : self.post_start[k + 1]]

    def save(self, path: str | Path) -> Path:
        """Write the index as one .npz, atomically."""
        meta = {
            "version": INDEX_VERSION,
            "key": self.key,
            "rule": asdict(self.rule),
            "benchmarks": self.benchmarks,
            "item_ids": self.item_ids,
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            keys=self.keys,
            lengths=self.lengths,
            flags=self.flags,
            post_start=self.post_start,
            post_items=self.post_items,
            item_bench=self.item_bench,
            shapes=self.shapes if self.shapes is not None else np.zeros(0, np.uint64),
            meta=np.frombuffer(json.dumps(meta, ensure_ascii=False).encode("utf-8"), dtype=np.uint8),
        )
        atomic_write_bytes(path, buffer.getvalue())
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> ContaminationIndex:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("version") != INDEX_VERSION:
                raise ValueError(f"{path}: index version {meta.get('version')} (expected {INDEX_VERSION}); rebuild it")
            return cls(
                keys=data["keys"],
                lengths=data["lengths"],
                flags=data["flags"],
                post_start=data["post_start"],
                post_items=data["post_items"],
                item_bench=data["item_bench"],
                item_ids=meta["item_ids"],
                benchmarks=meta["benchmarks"],
                rule=MatchRule(**meta["rule"]),
                key=meta.get("key", ""),
                shapes=data["shapes"] if len(data["shapes"]) == len(data["keys"]) else None,
            )

    @classmethod
    def build(cls, benchmarks: list[LoadedBenchmark], rule: MatchRule) -> ContaminationIndex:
        """Tokenise and hash every benchmark text (single process; seconds for all registry benchmarks)."""
        start = time.time()
        n = rule.ngram
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("hash", "item", "plain", "formula", "numbers", "length", "whole", "shape")
        }
        texts: list[tuple[np.ndarray, int]] = []  # (token hashes, item) of every indexed text, for the COMMON pass
        item_bench, item_ids, group_keys, summaries = [], [], [], []
        for b_index, bench in enumerate(benchmarks):
            counts = {"texts_ngram": 0, "texts_whole": 0, "texts_ignored": 0}
            for item in bench.items:
                item_index = len(item_ids)
                item_ids.append(item.item_id)
                item_bench.append(b_index)
                first = None
                for text in item.texts:
                    tokens = tokenize(text)
                    m = len(tokens)
                    first = tokens.hashes if first is None else first
                    if m < rule.min_tokens:
                        counts["texts_ignored"] += 1
                        continue
                    texts.append((tokens.hashes, item_index))
                    grams = ngram_hashes(tokens.hashes, [n] if m >= n else [], [m] if m <= rule.whole_limit else [])
                    if m >= n:
                        plain = _all_in_window(generic_token_mask(tokens), n)
                        formula = _all_in_window(generic_token_mask(tokens, stopwords=False), n)
                        numbers = _two_numbers_in_window(tokens, n)
                        _add(parts, grams[(n, False)], item_index, plain, formula, numbers, n, False)
                        parts["shape"].append(ngram_hashes(number_shapes(tokens), [n])[(n, False)])
                        counts["texts_ngram"] += 1
                    if m <= rule.whole_limit:
                        # a whole text is plain only when made of numbers, variables and LaTeX ("1 2 3", "x y z")
                        plain = _all_in_window(generic_token_mask(tokens, stopwords=False), m)
                        _add(parts, grams[(m, True)], item_index, plain, plain, np.zeros(1, bool), m, True)
                        parts["shape"].append(grams[(m, True)])  # whole texts: no shape of their own
                        counts["texts_whole"] += 1
                group_keys.append(_content_key(first))
            summaries.append(
                {
                    "name": bench.name,
                    "origin": bench.origin,
                    "fields": bench.fields,
                    "items": len(bench.items),
                    "skipped_rows": bench.skipped_rows,
                    **counts,
                }
            )
        groups = np.unique(np.asarray(group_keys, dtype=np.uint64), return_inverse=True)[1].astype(np.int64)
        index = cls._assemble(parts, groups, rule)
        index.item_bench = np.asarray(item_bench, dtype=np.int16)
        index.item_ids = item_ids
        index.benchmarks = summaries
        index._mark_common_whole(texts, groups)
        logger.debug(
            "decontam index: %d keys for %d items of %d benchmarks in %.1fs (%s)",
            len(index.keys),
            len(item_ids),
            len(benchmarks),
            time.time() - start,
            index.summary(),
        )
        return index

    @property
    def whole_lengths(self) -> list[int]:
        return sorted(int(v) for v in np.unique(self.lengths[(self.flags & WHOLE) > 0]))

    @classmethod
    def _assemble(cls, parts: dict[str, list[np.ndarray]], groups: np.ndarray, rule: MatchRule) -> ContaminationIndex:
        if not parts["hash"]:
            return cls(
                np.zeros(0, np.uint64),
                np.zeros(0, np.uint8),
                np.zeros(0, np.uint8),
                np.zeros(1, np.int64),
                np.zeros(0, np.int32),
                np.zeros(0, np.int16),
                [],
                [],
                rule,
            )
        h, owner, plain, formula, numbers, length, whole, shape = (
            np.concatenate(parts[k])[order]
            for order in [np.lexsort((np.concatenate(parts["item"]), np.concatenate(parts["hash"])))]
            for k in ("hash", "item", "plain", "formula", "numbers", "length", "whole", "shape")
        )
        keys, first = np.unique(h, return_index=True)
        # postings: unique (key, item) pairs, in key order
        pair_new = np.ones(len(h), dtype=bool)
        pair_new[1:] = (h[1:] != h[:-1]) | (owner[1:] != owner[:-1])
        post_items = owner[pair_new]
        key_of_pair = np.searchsorted(keys, h[pair_new])
        post_start = np.concatenate(([0], np.cumsum(np.bincount(key_of_pair, minlength=len(keys))))).astype(np.int64)
        flags = np.zeros(len(keys), dtype=np.uint8)
        flags[_distinct_groups(key_of_pair, groups[post_items], len(keys)) > rule.common_items] |= COMMON
        # plain if any occurrence is plain (the same tokens can be plain in one context: `\\pi` vs `pi`)
        flags[np.maximum.reduceat(plain.astype(np.uint8), first).astype(bool)] |= PLAIN
        flags[np.maximum.reduceat(formula.astype(np.uint8), first).astype(bool)] |= FORMULA
        flags[np.minimum.reduceat(numbers.astype(np.uint8), first).astype(bool)] |= NUMBERS
        flags[whole[first]] |= WHOLE
        index = cls(
            keys, length[first], flags, post_start, post_items.astype(np.int32), np.zeros(0, np.int16), [], [], rule
        )
        index.shapes = shape[first]
        return index

    def _mark_common_whole(self, texts: list[tuple[np.ndarray, int]], groups: np.ndarray) -> None:
        """A whole-text key is COMMON when its tokens occur, anywhere, in more than `common_items` distinct items."""
        is_whole = (self.flags & WHOLE) > 0
        lengths = self.whole_lengths
        if not lengths:
            return
        whole_keys = self.keys[is_whole]  # sorted, as a subset of sorted keys
        found_keys, found_items = [], []
        batch, batch_items, size = [], [], 0

        def flush():
            values = np.concatenate(batch)
            owners = np.concatenate(batch_items)
            where = np.minimum(np.searchsorted(whole_keys, values), len(whole_keys) - 1)
            hit = whole_keys[where] == values
            found_keys.append(values[hit])
            found_items.append(owners[hit])

        for token_hashes, item in texts:
            values, _ = ngram_hashes_flat(token_hashes, whole=lengths)
            batch.append(values)
            batch_items.append(np.full(len(values), item, dtype=np.int64))
            size += len(values)
            if size > 2_000_000:
                flush()
                batch, batch_items, size = [], [], 0
        if batch:
            flush()
        k = np.searchsorted(self.keys, np.concatenate(found_keys))
        n_groups = _distinct_groups(k, groups[np.concatenate(found_items)], len(self.keys))
        self.flags[is_whole & (n_groups > self.rule.common_items)] |= COMMON

    def summary(self) -> dict:
        return {
            "keys": len(self.keys),
            "items": len(self.item_ids),
            "common_keys": int(np.count_nonzero(self.flags & COMMON)),
            "plain_keys": int(np.count_nonzero(self.flags & PLAIN)),
            "whole_keys": int(np.count_nonzero(self.flags & WHOLE)),
        }


def number_shapes(tokens) -> np.ndarray:
    """Token hashes with every number replaced by one placeholder: `x 7 x 5` and `x 3 x 2` get the same shape."""
    return np.where(number_tokens(tokens, min_digits=1), _NUMBER_SHAPE, tokens.hashes)


def _all_in_window(mask: np.ndarray, n: int) -> np.ndarray:
    """For each window of n tokens: are all of them in `mask`?"""
    outside = np.concatenate(([0], np.cumsum(~mask, dtype=np.int64)))
    return (outside[n:] - outside[:-n]) == 0


def _two_numbers_in_window(tokens, n: int) -> np.ndarray:
    """For each window of n tokens: does it hold two different numbers of two or more digits, and something that is
    not a number (a bare list such as `3 4 5 6 7 8 9 10 11 12` is a table or a count, not a computation)?"""
    is_number = number_tokens(tokens)
    windows = len(tokens) - n + 1
    if not is_number.any():
        return np.zeros(windows, dtype=bool)
    top = np.iinfo(np.uint64).max
    low = np.where(is_number, tokens.hashes, np.uint64(top))
    high = np.where(is_number, tokens.hashes, np.uint64(0))
    lowest, highest = low[:windows].copy(), high[:windows].copy()
    for offset in range(1, n):
        np.minimum(lowest, low[offset : offset + windows], out=lowest)
        np.maximum(highest, high[offset : offset + windows], out=highest)
    only_numbers = _all_in_window(number_tokens(tokens, min_digits=1), n)
    return (highest != 0) & (lowest != top) & (lowest != highest) & ~only_numbers


def _add(
    parts: dict[str, list[np.ndarray]],
    hashes: np.ndarray,
    item: int,
    plain: np.ndarray,
    formula: np.ndarray,
    numbers: np.ndarray,
    length: int,
    whole: bool,
) -> None:
    parts["hash"].append(hashes)
    parts["item"].append(np.full(len(hashes), item, dtype=np.int32))
    parts["plain"].append(plain)
    parts["formula"].append(formula)
    parts["numbers"].append(numbers)
    parts["length"].append(np.full(len(hashes), length, dtype=np.uint8))
    parts["whole"].append(np.full(len(hashes), whole, dtype=bool))


def _distinct_groups(keys: np.ndarray, groups: np.ndarray, n_keys: int) -> np.ndarray:
    """Number of distinct groups per key index, from (key, group) pairs."""
    if len(keys) == 0:
        return np.zeros(n_keys, dtype=np.int64)
    pairs = np.unique(np.stack([keys.astype(np.int64), groups.astype(np.int64)]), axis=1)
    return np.bincount(pairs[0], minlength=n_keys)


def _content_key(token_hashes: np.ndarray | None) -> int:
    if token_hashes is None or len(token_hashes) == 0:
        return 0
    return int.from_bytes(hashlib.blake2b(token_hashes.tobytes(), digest_size=8).digest(), "little")
