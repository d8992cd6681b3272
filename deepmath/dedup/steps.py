"""The datatrove steps of `deepmath dedup`, in pipeline order; each writes files under `OUTPUT/_work/`:

    MinhashSignature   per input shard   signatures/R.sig (N x num_perm), bands/R.npy (bands x N keys),
                                         docs/R.npz (text hash, length, score, words), ids/R.jsonl,
                                         shingles/R.u32 (each page's sorted set of shingle hashes, for exact
                                         verification), rows/R.jsonl (each page
                                         serialised for the JSONL writer, so the filter does not read the input)
    ExactDuplicates    per hash split    exact/T.npy: (duplicate, first) pairs of equal normalised text
    MinhashBuckets     per key split     pairs/T.npy: candidate pairs (documents sharing a band key)
    MinhashVerify      per pair split    edges/T.npz: candidate pairs at or above the threshold, Jaccards checked
    MinhashClusters    one task          clusters/R.npz: per shard, the clustered documents, their cluster and fate
    MinhashFilter      per input shard   kept rows (and removed ones) with their dedup fields added to the bytes;
                                         for Parquet output: documents from a reader, then a writer step

A document is numbered `shard << 40 | position` in reading order. Memory: MinhashSignature keeps, per page of its
shard, 8 x bands + 56 bytes of arrays and ~150 bytes for the in-shard exact-duplicate table, and streams ids,
signatures (4 x num_perm bytes), shingle hashes (4 bytes per shingle) and rows (the page's JSON) to disk;
ExactDuplicates holds 24 bytes per page / splits; MinhashBuckets the keys of one band at a time (16 bytes per page /
splits, plus the sort); MinhashVerify its pairs (16 bytes each, plus 8 per node for the union-find), the shingle
sets read in place from the memory-mapped files (the compiled kernel; the numpy loop caches up to 65,536 sets);
MinhashClusters 16 bytes per edge and ~60 per clustered page; MinhashFilter ~200 bytes per clustered page of its
shard. Disk: `_work/` holds ~4 bytes per distinct shingle plus the pages' JSON (about twice the uncompressed input)
until the run finishes, then the shingles and rows are deleted. Hashing, MinHash, the set sorting and the
verification run in the compiled kernel when it is built (kernel.py; else numpy, same results). Every file is written to a temporary name
and renamed, so a killed task leaves nothing half-written and re-running resumes task by task.
"""

from __future__ import annotations

import collections
import contextlib
import io
import logging
import mmap
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import orjson
from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from deepmath.dedup.buckets import bucket_pairs, pair_codec, unique_pairs, unique_sorted
from deepmath.dedup.clusters import choose_kept, connected_clusters, exact_duplicate_pairs
from deepmath.dedup.kernel import KERNEL, estimate_pairs, in_threads, sketch, verify_ordered
from deepmath.dedup.signatures import Permutations, band_keys
from deepmath.dedup.verify import estimated_jaccard, jaccard_of_sets, sorted_unique
from deepmath.io.atomic import atomic_write_json
from deepmath.io.jsonl_shards import JSONL_SHARD_NAME, JsonlShardWriter, json_default
from deepmath.io.npz import read_npy, read_npz

__all__ = [
    "ExactDuplicates",
    "MinhashBuckets",
    "MinhashClusters",
    "MinhashFilter",
    "MinhashSignature",
    "MinhashVerify",
    "kept_writer",
    "shard_of",
]

logger = logging.getLogger(__name__)

SHIFT = 40
_POSITION = (1 << SHIFT) - 1
KEPT, EXACT, NEAR = 0, 1, 2
REASONS = {EXACT: "exact", NEAR: "near"}
# metadata the filter adds; a page deduplicated before enters without its old values (they would be stale)
DEDUP_FIELDS = ("dedup_cluster_id", "dedup_cluster_size", "duplicate_of", "dedup_reason")
_DEDUP_SET = frozenset(DEDUP_FIELDS)


def row_line(doc: Document) -> bytes:
    """The JSON line `kept_writer` writes for `doc`, with `metadata` last and always present, so that the filter can
    add the dedup fields to the bytes (`splice_fields`) without parsing the row again."""
    data = {key: value for key, value in (("text", doc.text), ("id", doc.id)) if value}
    metadata = doc.metadata
    if any(key in metadata for key in DEDUP_FIELDS):
        metadata = {key: value for key, value in metadata.items() if key not in DEDUP_FIELDS}
    data["metadata"] = metadata
    return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE, default=json_default)


def row_lines(docs: list[Document], plain: list[bytes | None] | None = None) -> list[bytes]:
    """`row_line` of each document, or its input line as the reader gave it (`plain`: already the document's JSON
    with metadata last, see `deepmath.io.documents.plain_line`) when it holds no stale dedup field: those bytes
    need no serialising (orjson.dumps of every page was ~10% of the signature pass). Same JSON either way; the
    bytes keep the input's key order and escapes."""
    if plain is None:
        return [row_line(doc) for doc in docs]
    return [
        line + b"\n" if line is not None and _DEDUP_SET.isdisjoint(doc.metadata) else row_line(doc)
        for doc, line in zip(docs, plain)
    ]


def row_block(docs: list[Document], plain: list[bytes | None] | None = None) -> tuple[bytes, list[int]]:
    """`row_lines(docs, plain)` joined, and the length of each: when every document has its plain line (the usual
    case), the lines are joined with newlines directly instead of each being copied once more to append its own."""
    if plain is not None and None not in plain and all(_DEDUP_SET.isdisjoint(doc.metadata) for doc in docs):
        return b"\n".join([*plain, b""]) if plain else b"", [len(line) + 1 for line in plain]
    lines = row_lines(docs, plain)
    return b"".join(lines), [len(line) for line in lines]


def splice_fields(line: bytes, fields: bytes) -> bytes:
    """`line` (a `row_line`, or a plain input line from `row_lines`: either ends in `}}` and a newline, metadata
    last) with `fields` (`"key":value,...`) appended to its metadata."""
    body = line[:-3]
    return body + (fields if body.endswith(b"{") else b"," + fields) + b"}}\n"


def _present(shards: np.ndarray) -> np.ndarray:
    """The distinct shard numbers in `shards`, ascending (np.unique's first call imports numpy.ma: ~7 ms a run)."""
    return np.flatnonzero(np.bincount(shards)) if len(shards) else np.zeros(0, np.int64)


def shard_of(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    numbers = np.asarray(numbers, dtype=np.int64)
    return numbers >> SHIFT, numbers & _POSITION


def _save_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    _write_scratch(path, buffer.getbuffer())


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _write_scratch(path, buffer.getbuffer())


def _write_scratch(path: Path, data) -> None:
    """A `_work/` file through a temporary name and a rename, like _RawWriter: a killed task leaves nothing
    half-written; no fsync (forcing each of the ~50 small files of a run to disk cost ~0.15 s at 20k pages)."""
    writer = _RawWriter(path)
    try:
        writer.write_bytes(data)
        writer.commit()
    except BaseException:
        writer.handle.close()
        writer.tmp.unlink(missing_ok=True)
        raise


class _RawWriter:
    """Appends arrays to `path` through a temporary file, renamed into place by `commit` (the atomic-write pattern
    of deepmath.io.atomic, streamed: signatures and shingles of a shard never sit in memory at once; without its
    fsync, see commit)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = path.with_name(f".{path.name}.tmp")
        self.handle = open(self.tmp, "wb")  # noqa: SIM115 - closed in commit()

    def write(self, array: np.ndarray) -> None:
        self.handle.write(memoryview(np.ascontiguousarray(array)).cast("B"))

    def write_bytes(self, data: bytes) -> None:
        self.handle.write(data)

    def commit(self) -> None:
        # no fsync: the rename alone makes a killed task leave nothing half-written (all that resuming needs, as
        # for datatrove's own outputs); forcing tens of MB of scratch to disk cost ~0.5 s of a 20k-page run
        self.handle.close()
        os.replace(self.tmp, self.path)


def _files(folder: Path, pattern: str) -> list[Path]:
    return sorted(folder.glob(pattern))


class MinhashSignature(PipelineStep):
    """Shingles, normalised-text hash, MinHash signature and band keys of every document of one input shard."""

    type = "🫂 - DEDUP"
    name = "🎯 signatures"

    def __init__(
        self,
        work: str,
        ngram: int,
        num_perm: int,
        seed: int,
        scheme: str,
        bands: int,
        rows: int,
        store_shingles: bool = True,
        score_field: str = "",
        exact: bool = True,
        batch_size: int = 256,
        keep_rows: bool = False,
    ):
        super().__init__()
        self.work = str(work)
        self.keep_rows = keep_rows
        self.ngram, self.bands, self.rows = ngram, bands, rows
        self.perms = Permutations(num_perm, seed, scheme)
        self.store_shingles = store_shingles
        self.score_field = score_field
        self.exact = exact
        self.batch_size = batch_size

    def _batches(self, data: Iterable[Document | list[Document]]) -> Iterable[list[Document]]:
        """Lists of documents: as they come from a reader that batches (`DocumentReader(batch_size=...)`), else
        gathered here."""
        batch: list[Document] = []
        for item in data:
            if isinstance(item, list):
                if batch:
                    yield batch
                    batch = []
                if item:
                    yield item
                continue
            batch.append(item)
            if len(batch) >= self.batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def _score(self, doc: Document) -> float:
        value = doc.metadata.get(self.score_field) if self.score_field else None
        if value is None:
            if self.score_field:
                self.stat_update("documents_without_score")
            return float("nan")
        try:
            return float(value)
        except (TypeError, ValueError):
            self.stat_update("documents_with_bad_score")
            return float("nan")

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work = Path(self.work)
        name = f"{rank:05d}"
        sig_out = _RawWriter(work / "signatures" / f"{name}.sig")
        id_out = _RawWriter(work / "ids" / f"{name}.jsonl")
        shingle_out = _RawWriter(work / "shingles" / f"{name}.u32") if self.store_shingles else None
        rows_out = _RawWriter(work / "rows" / f"{name}.jsonl") if self.keep_rows else None
        seen: dict[tuple[int, int], int] = {}
        keys, exact, lengths, scores, words, local_first, counts, row_bytes = [], [], [], [], [], [], [], []
        total = 0
        for docs in self._batches(data or []):
            with self.track_time():
                # shingle hashes and signatures of every page (compiled kernel or numpy, see kernel.py); the
                # pages that are exact copies of an earlier page of this shard keep the empty signature
                # with exact verification the hashes come back as each page's sorted set (what is stored below)
                batch, sigs = sketch([d.text for d in docs], self.ngram, self.perms, sets=shingle_out is not None)
                firsts = [-1] * len(docs)  # plain lists: numpy's per-element access costs ~0.1 us a call
                has_words = batch.n_words.tolist()
                for i, (h0, h1) in enumerate(batch.exact.tolist() if self.exact else []):
                    if has_words[i]:
                        earlier = seen.setdefault((h0, h1), total + i)
                        if earlier != total + i:
                            firsts[i] = earlier
                first = np.array(firsts, dtype=np.int64)
                todo = np.flatnonzero((batch.n_words > 0) & (first < 0))
                sigs[first >= 0] = self.perms.empty_value
                sig_out.write(sigs)
                keys.append(band_keys(sigs, self.bands, self.rows))
                n_shingles = np.zeros(len(docs), dtype=np.int64)
                n_shingles[todo] = np.diff(batch.offsets)[todo]
                if shingle_out is not None and len(todo):
                    # stored as sorted sets: verification reads them in place, without sorting or caching
                    if len(todo) == len(docs):
                        shingle_out.write(batch.hashes)
                    else:
                        wanted = np.zeros(len(docs), dtype=bool)
                        wanted[todo] = True
                        shingle_out.write(batch.hashes[np.repeat(wanted, np.diff(batch.offsets))])
                counts.append(n_shingles)
                exact.append(batch.exact)
                words.append(batch.n_words)
                local_first.append(first)
                lengths.append(np.fromiter((len(d.text) for d in docs), dtype=np.int64, count=len(docs)))
                if self.score_field:
                    scores.append(np.array([self._score(d) for d in docs], dtype=np.float64))
                else:
                    scores.append(np.full(len(docs), np.nan))
                id_out.write_bytes(b"".join(orjson.dumps(d.id) + b"\n" for d in docs))
                if rows_out is not None:
                    block, sizes = row_block(docs, getattr(docs, "lines", None))
                    row_bytes.append(np.array(sizes, dtype=np.int64))
                    rows_out.write_bytes(block)
                total += len(docs)
                self.stat_update("documents", value=len(docs))
                self.stat_update("documents_without_words", value=int(np.count_nonzero(batch.n_words == 0)))
                self.stat_update("exact_duplicates_in_shard", value=int(np.count_nonzero(first >= 0)))
        n_shingles = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
        offsets = np.concatenate(([0], np.cumsum(n_shingles))).astype(np.int64)
        _save_npy(
            work / "bands" / f"{name}.npy",
            np.concatenate(keys, axis=1) if keys else np.zeros((self.bands, 0), np.uint64),
        )
        _save_npz(
            work / "docs" / f"{name}.npz",
            exact=np.concatenate(exact) if exact else np.zeros((0, 2), np.uint64),
            length=np.concatenate(lengths) if lengths else np.zeros(0, np.int64),
            score=np.concatenate(scores) if scores else np.zeros(0, np.float64),
            words=np.concatenate(words) if words else np.zeros(0, np.int64),
            local_first=np.concatenate(local_first) if local_first else np.zeros(0, np.int64),
            offsets=offsets,
            # where each serialised row ends in rows/R.jsonl: the filter reads the kept ones only
            row_ends=np.cumsum(np.concatenate([np.zeros(1, np.int64), *row_bytes])),
        )
        id_out.commit()
        sig_out.commit()
        if shingle_out is not None:
            shingle_out.commit()
        if rows_out is not None:
            rows_out.commit()
        return
        yield


class _ShardDocs(dict):
    """The arrays of one `docs/R.npz`, read when the first is asked for: all at once, read-only (`io.npz.read_npz`:
    one read of the file instead of np.load's zip member and header parsing per array, ~0.15 ms each)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = path

    def __missing__(self, key: str) -> np.ndarray:
        if not self:
            self.update(read_npz(self.path))
        if key not in self:
            raise KeyError(f"{self.path}: no array {key!r}")
        return self[key]


class _Shards:
    """Read access to what MinhashSignature wrote, by document number."""

    def __init__(self, work: str, shards: int, num_perm: int = 0, sig_dtype=np.uint32):
        self.work = Path(work)
        self.shards = shards
        self.num_perm = num_perm
        self.sig_dtype = sig_dtype
        self._docs: dict[int, dict] = {}
        self._maps: dict[tuple[str, int], np.ndarray] = {}

    def docs(self, shard: int) -> _ShardDocs:
        if shard not in self._docs:
            self._docs[shard] = _ShardDocs(self.work / "docs" / f"{shard:05d}.npz")
        return self._docs[shard]

    def _map(self, kind: str, shard: int) -> np.ndarray:
        key = (kind, shard)
        if key not in self._maps:
            if kind == "sig":
                path, dtype = self.work / "signatures" / f"{shard:05d}.sig", self.sig_dtype
            else:
                path, dtype = self.work / "shingles" / f"{shard:05d}.u32", np.uint32
            # a plain ndarray view of the map: slicing a np.memmap costs ~4 us more per slice
            array = np.asarray(np.memmap(path, dtype=dtype, mode="r")) if path.stat().st_size else np.zeros(0, dtype)
            self._maps[key] = array.reshape(-1, self.num_perm) if kind == "sig" else array
        return self._maps[key]

    def shingles(self, number: int) -> np.ndarray:
        shard, position = int(number) >> SHIFT, int(number) & _POSITION
        offsets = self.docs(shard)["offsets"]
        return self._map("shingles", shard)[offsets[position] : offsets[position + 1]]

    def signatures(self, numbers: np.ndarray) -> np.ndarray:
        shard, position = shard_of(numbers)
        out = np.empty((len(numbers), self.num_perm), dtype=self.sig_dtype)
        for s in _present(shard):
            rows = shard == s
            out[rows] = self._map("sig", int(s))[position[rows]]
        return out

    def gather(self, numbers: np.ndarray, field: str) -> np.ndarray:
        shard, position = shard_of(numbers)
        first = self.docs(0)[field] if self.shards else np.zeros(0)
        out = np.empty((len(numbers), *first.shape[1:]), dtype=first.dtype)
        for s in _present(shard):
            rows = shard == s
            out[rows] = self.docs(int(s))[field][position[rows]]
        return out

    def ids(self, shard: int) -> list[str]:
        data = (self.work / "ids" / f"{shard:05d}.jsonl").read_bytes()  # one JSON value a line
        return orjson.loads(b"[" + data.rstrip(b"\n").replace(b"\n", b",") + b"]") if data else []


class ExactDuplicates(PipelineStep):
    """Documents whose normalised text equals an earlier document's (one split of the 128-bit text hashes)."""

    type = "🫂 - DEDUP"
    name = "🎯 exact duplicates"

    def __init__(self, work: str, shards: int, enabled: bool = True):
        super().__init__()
        self.work, self.shards, self.enabled = str(work), shards, enabled

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        store = _Shards(self.work, self.shards)
        hashes, numbers, local = [], [], []
        for shard in range(self.shards if self.enabled else 0):
            docs = store.docs(shard)
            mine = (docs["words"] > 0) & (docs["exact"][:, 0] % np.uint64(world_size) == rank)
            positions = np.flatnonzero(mine)
            base = np.int64(shard) << SHIFT
            first = docs["local_first"][positions]
            dup = first >= 0
            local.append(np.stack([base + positions[dup], base + first[dup]], axis=1))
            hashes.append(docs["exact"][positions[~dup]])
            numbers.append(base + positions[~dup])
        pairs = exact_duplicate_pairs(
            np.concatenate(hashes) if hashes else np.zeros((0, 2), np.uint64),
            np.concatenate(numbers) if numbers else np.zeros(0, np.int64),
        )
        pairs = np.concatenate([pairs, *local]) if local else pairs
        self.stat_update("exact_duplicates", value=len(pairs))
        _save_npy(Path(self.work) / "exact" / f"{rank:05d}.npy", pairs.astype(np.int64))
        return
        yield


class MinhashBuckets(PipelineStep):
    """Candidate pairs of every band, for one split of the band keys: documents with equal band keys."""

    type = "🫂 - DEDUP"
    name = "🎯 buckets"

    def __init__(self, work: str, shards: int, bands: int, threads: int = 1):
        super().__init__()
        self.work, self.shards, self.bands = str(work), shards, bands
        self.threads = max(1, int(threads))  # bands bucketed at once (the compiled kernel releases the GIL)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work = Path(self.work)
        duplicates = [read_npy(path)[:, 0] for path in _files(work / "exact", "*.npy")]
        skip_shard, skip_position = shard_of(np.concatenate(duplicates) if duplicates else np.zeros(0, np.int64))
        store = _Shards(self.work, self.shards)
        use = []
        for shard in range(self.shards):
            mask = store.docs(shard)["words"] > 0
            mask[skip_position[skip_shard == shard]] = False
            use.append(np.flatnonzero(mask))
        numbers = np.concatenate([(np.int64(s) << SHIFT) + p for s, p in enumerate(use)] or [np.zeros(0, np.int64)])
        # each band's pairs packed to one int64 as soon as they exist (8 bytes a pair, not 16), one sort at the end
        codec = pair_codec(numbers)
        # mapped once; plain ndarray views (slicing a np.memmap costs ~4 us more per slice)
        bands = [np.asarray(np.load(work / "bands" / f"{s:05d}.npy", mmap_mode="r")) for s in range(len(use))]
        found_by_band: dict[int, np.ndarray] = {}

        def bucket(band_numbers: range) -> None:
            for band in band_numbers:  # one band at a time per thread: 16 bytes per document in memory
                keys = [bands[s][band][p] for s, p in enumerate(use)]
                keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
                mine = slice(None)
                if world_size > 1:
                    mine = (keys >> np.uint64(40)) % np.uint64(world_size) == rank
                found = bucket_pairs(keys[mine], numbers[mine], unique=False)
                found_by_band[band] = codec[0](found) if codec else found

        with self.track_time():
            threads = min(self.threads, self.bands)
            in_threads([lambda part=part: bucket(range(part, self.bands, threads)) for part in range(threads)])
        pairs = [np.zeros((0, 2), np.int64), *(found_by_band[band] for band in range(self.bands))]
        if codec:
            pairs = codec[1](unique_sorted(np.concatenate(pairs[1:] or [np.zeros(0, np.int64)])))
        else:
            pairs = unique_pairs(np.concatenate(pairs))
        self.stat_update("bucket_pairs", value=len(pairs))
        _save_npy(work / "pairs" / f"{rank:05d}.npy", pairs)
        return
        yield


class MinhashVerify(PipelineStep):
    """Jaccard of the distinct candidate pairs (one split of them); pairs at or above the threshold are edges.

    Pairs are checked most-similar first (by their MinHash estimate), and a pair whose two documents are already
    connected by accepted edges is skipped: the clusters are the same, and a family of k copies costs about k exact
    checks instead of k^2 / 2."""

    type = "🫂 - DEDUP"
    name = "🎯 verify"

    def __init__(
        self, work: str, shards: int, threshold: float, mode: str, num_perm: int, scheme: str, threads: int = 1
    ):
        super().__init__()
        self.work, self.shards = str(work), shards
        self.threshold, self.mode = threshold, mode
        self.num_perm = num_perm
        self.sig_dtype = Permutations(num_perm, 1, scheme).dtype
        self.threads = max(1, int(threads))  # compiled kernel: components verified at once (kernel.verify_ordered)

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work = Path(self.work)
        mine = [np.zeros((0, 2), np.int64)]
        for path in _files(work / "pairs", "*.npy"):
            pairs = read_npy(path)
            if world_size > 1:
                mixed = (pairs[:, 0] * np.int64(0x9E3779B1) + pairs[:, 1]) & np.int64(0x7FFFFFFF)
                pairs = pairs[mixed % world_size == rank]
            mine.append(pairs)
        pairs = unique_pairs(np.concatenate(mine))
        store = _Shards(self.work, self.shards, self.num_perm, self.sig_dtype)
        with self.track_time():
            if KERNEL == "compiled":  # compared in place in the memory-mapped signatures
                estimate = estimate_pairs(
                    shard_of(pairs[:, 0]),
                    shard_of(pairs[:, 1]),
                    [store._map("sig", s) for s in range(self.shards)],
                    self.num_perm,
                    self.threads,
                )
            else:
                estimate = np.concatenate(
                    [np.zeros(0, np.float32)]
                    + [
                        estimated_jaccard(store.signatures(chunk[:, 0]), store.signatures(chunk[:, 1]))
                        for chunk in np.array_split(pairs, max(1, len(pairs) // 65536))
                        if len(chunk)
                    ]
                )
            if self.mode == "exact":
                checked, jaccard, accepted = self._exact(pairs, estimate, store)
            else:
                checked, jaccard = np.arange(len(pairs)), estimate
                accepted = jaccard >= self.threshold if self.mode == "estimate" else np.ones(len(pairs), bool)
                accepted = np.flatnonzero(accepted)
        self.stat_update("candidate_pairs", value=len(pairs))
        self.stat_update("checked_pairs", value=len(checked))
        self.stat_update("verified_pairs", value=len(accepted))
        _save_npz(work / "edges" / f"{rank:05d}.npz", edges=pairs[accepted], jaccard=jaccard, estimate=estimate)
        return
        yield

    def _exact(self, pairs: np.ndarray, estimate: np.ndarray, store: _Shards):
        # highest estimate first (ties in pair order): an estimate is a count of equal minima over num_perm, so the
        # counts sort the same way, and numpy sorts small integers by radix (a float sort of 1M pairs took ~0.1 s)
        levels = np.rint(np.asarray(estimate, dtype=np.float64) * self.num_perm).astype(np.int32)
        order = np.argsort(self.num_perm - levels, kind="stable")
        if KERNEL == "compiled":
            return self._exact_compiled(pairs[order], order, store)
        parent: dict[int, int] = {}

        def find(x: int) -> int:
            root = x
            while parent.get(root, root) != root:
                root = parent[root]
            while x != root:
                parent[x], x = root, parent[x]
            return root

        checked, accepted = [], []
        sets: dict[int, np.ndarray] = {}

        def shingle_set(doc: int) -> np.ndarray:
            found = sets.get(doc)
            if found is None:
                if len(sets) >= 65536:
                    sets.clear()
                found = sets[doc] = sorted_unique(store.shingles(doc))
            return found

        jaccard = []
        for k, (a, b) in zip(order.tolist(), pairs[order].tolist()):
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            j = jaccard_of_sets(shingle_set(a), shingle_set(b))
            checked.append(k)
            jaccard.append(j)
            if j >= self.threshold:
                parent[ra] = rb
                accepted.append(k)
        return np.array(checked, np.int64), np.array(jaccard, np.float32), np.array(accepted, np.int64)

    def _exact_compiled(self, ordered: np.ndarray, order: np.ndarray, store: _Shards):
        """`_exact` in the compiled kernel (same pairs checked, same Jaccards, same edges; sets cached up to 256 MB)."""
        # every document of every shard is a node (node = shard's first node + position): no unique() over the
        # pairs' ends (~0.2 s for 1M pairs); the kernel's per-node arrays are a few bytes a document
        shards = range(store.shards)
        sizes = np.array([len(store.docs(s)["offsets"]) - 1 for s in shards], dtype=np.int64)
        first = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        pair_shard, pair_position = shard_of(ordered)
        status, jaccard = verify_ordered(
            first[pair_shard] + pair_position,
            np.repeat(np.arange(len(sizes), dtype=np.int64), sizes),
            np.concatenate([np.arange(n, dtype=np.int64) for n in sizes] or [np.zeros(0, np.int64)]),
            [store._map("shingles", s) for s in shards],
            [store.docs(s)["offsets"] for s in shards],
            self.threshold,
            threads=self.threads,
        )
        checked = np.flatnonzero(status)
        return order[checked], jaccard[checked], order[status == 2]


class MinhashClusters(PipelineStep):
    """Connected components of exact and verified edges; which member each keeps; one file per input shard."""

    type = "🫂 - DEDUP"
    name = "🎯 clusters"

    def __init__(self, work: str, shards: int, keep: str):
        super().__init__()
        self.work, self.shards, self.keep = str(work), shards, keep

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work = Path(self.work)
        edges = [read_npy(path) for path in _files(work / "exact", "*.npy")]
        edges += [read_npz(path)["edges"] for path in _files(work / "edges", "*.npz")]
        with self.track_time():
            nodes, labels = connected_clusters(np.concatenate(edges) if edges else np.zeros((0, 2), np.int64))
            store = _Shards(self.work, self.shards)
            lengths = store.gather(nodes, "length") if len(nodes) else None
            scores = store.gather(nodes, "score") if len(nodes) else None
            winner = choose_kept(labels, nodes, self.keep, lengths, scores)
            sizes = np.bincount(labels)[labels] if len(nodes) else np.zeros(0, np.int64)
            exact = store.gather(nodes, "exact") if len(nodes) else np.zeros((0, 2), np.uint64)
            same_text = np.all(exact == exact[winner], axis=1)
            reason = np.where(winner == np.arange(len(nodes)), KEPT, np.where(same_text, EXACT, NEAR)).astype(np.uint8)
            kept_ids = self._ids(nodes[winner])
        shard, position = shard_of(nodes)
        cluster = np.array(kept_ids, dtype=str) if len(kept_ids) else np.zeros(0, dtype="<U1")  # once, not per shard
        for s in range(self.shards):
            rows = shard == s
            _save_npz(
                work / "clusters" / f"{s:05d}.npz",
                position=position[rows],
                size=sizes[rows],
                reason=reason[rows],
                cluster=cluster[rows],
            )
        cluster_sizes = np.bincount(labels) if len(labels) else np.zeros(0, np.int64)
        histogram = {int(k): int(v) for k, v in zip(*np.unique(cluster_sizes, return_counts=True))}
        summary = {
            "clusters": len(cluster_sizes),
            "documents_in_clusters": len(nodes),
            "removed_exact": int(np.count_nonzero(reason == EXACT)),
            "removed_near": int(np.count_nonzero(reason == NEAR)),
            "cluster_sizes": histogram,
        }
        atomic_write_json(work / "clusters" / "summary.json", summary)
        self.stat_update("clusters", value=len(cluster_sizes))
        return
        yield

    def _ids(self, numbers: np.ndarray) -> list[str]:
        shard, position = shard_of(numbers)
        out = [""] * len(numbers)
        store = _Shards(self.work, self.shards)
        for s in _present(shard):
            ids = store.ids(int(s))
            rows = np.flatnonzero(shard == s).tolist()
            for row, at in zip(rows, position[rows].tolist()):
                out[row] = ids[at]
        return out


def kept_writer(output_dir: str | Path, output_format: str = "jsonl", subfolder: str = "data") -> PipelineStep:
    """`deepmath.io.documents.document_writer`'s files; for JSONL through `JsonlShardWriter` (the same bytes, and
    `write_line` for the rows the signature pass serialised), which spares the command the import of datatrove's
    writers package and the Hugging Face Hub client it pulls in."""
    if output_format != "jsonl":
        from deepmath.io.documents import document_writer

        return document_writer(output_dir, output_format, subfolder)
    return JsonlShardWriter(Path(output_dir) / subfolder, output_filename=JSONL_SHARD_NAME)


class MinhashFilter(PipelineStep):
    """Drops every clustered document its cluster does not keep; annotates cluster id and size on all.

    Two ways in: documents from a reader (then a writer step follows), or, with `writer` (a JSONL `kept_writer`), the
    rows MinhashSignature serialised when it read the input (`rows/R.jsonl`), written with their dedup fields added
    to the bytes: the input is read and parsed once, not twice. Without those rows (a finished run's filter redone)
    it reads the documents again with `reader`."""

    type = "🫂 - DEDUP"
    name = "🎯 filter"

    def __init__(self, work: str, exclusion_writer=None, writer=None, reader=None):
        super().__init__()
        self.work = str(work)
        self.exclusion_writer = exclusion_writer
        self.writer = writer
        self.reader = reader

    def run(self, data: DocumentsPipeline = None, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        work = Path(self.work)
        clusters = read_npz(work / "clusters" / f"{rank:05d}.npz")
        position, size, reason, cluster = (clusters[k] for k in ("position", "size", "reason", "cluster"))
        docs = read_npz(work / "docs" / f"{rank:05d}.npz")
        expected = len(docs["length"])
        # built from lists: iterating the arrays themselves makes a numpy scalar of every value
        fate = dict(zip(position.tolist(), zip(size.tolist(), reason.tolist(), map(str, cluster.tolist()))))
        if self.writer is None:
            yield from self._filter(data, rank, fate, expected)
        elif (work / "rows" / f"{rank:05d}.jsonl").exists():
            self._write_rows(rank, fate, expected, docs)
        else:  # the rows are deleted once filtered: a filter redone reads the input again
            with self.writer:
                for doc in self._filter(self.reader.run(None, rank, world_size), rank, fate, expected):
                    self.writer.write(doc, rank)
        # this shard's serialised rows and shingle sets are no longer needed (verify is over): removed here, in
        # the task, rather than all at once by the stage at its end (~8 ms at 20k pages, in one process)
        for leftover in (work / "rows" / f"{rank:05d}.jsonl", work / "shingles" / f"{rank:05d}.u32"):
            leftover.unlink(missing_ok=True)

    def _filter(self, data: DocumentsPipeline, rank: int, fate: dict, expected: int) -> DocumentsPipeline:
        writer = self.exclusion_writer
        if writer is not None:
            writer.__enter__()
        seen, kept, dropped = 0, 0, {reason: 0 for reason in REASONS.values()}
        try:
            for index, doc in enumerate(data or []):
                seen = index + 1
                found = fate.get(index)
                if found is None:
                    doc.metadata["dedup_cluster_id"] = doc.id
                    doc.metadata["dedup_cluster_size"] = 1
                else:
                    doc.metadata["dedup_cluster_id"] = found[2]
                    doc.metadata["dedup_cluster_size"] = found[0]
                    if found[1] != KEPT:
                        reason = REASONS[found[1]]
                        doc.metadata["duplicate_of"] = found[2]
                        doc.metadata["dedup_reason"] = reason
                        dropped[reason] += 1
                        if writer is not None:
                            writer.write(doc, rank)
                        continue
                kept += 1
                yield doc
        finally:
            if writer is not None:
                writer.__exit__(None, None, None)
            # counted here, not per document: datatrove's stat_update costs ~3 us a call
            self.stat_update("kept", value=kept)
            for reason, count in dropped.items():
                if count:
                    self.stat_update(f"dropped_{reason}_duplicate", value=count)
        if seen != expected:
            raise RuntimeError(
                f"shard {rank}: read {seen} documents but signatures were computed for {expected}; the input "
                "changed since this run started (use --overwrite)"
            )

    def _write_rows(self, rank: int, fate: dict, expected: int, docs: dict | None = None) -> None:
        """The kept rows (and, with an exclusion writer, the removed ones) of rows/R.jsonl, read where `row_ends`
        (of `docs`, docs/R.npz's arrays, read here unless given) says each one is: a removed row is not even read (two thirds of the planted
        bench's pages)."""
        work = Path(self.work)
        rows_path = work / "rows" / f"{rank:05d}.jsonl"
        row_ends = (docs if docs is not None else read_npz(work / "docs" / f"{rank:05d}.npz")).get("row_ends")
        ends = row_ends.tolist() if row_ends is not None else None
        id_lines = (work / "ids" / f"{rank:05d}.jsonl").read_bytes().split(b"\n")[:-1]  # each id's JSON
        size = rows_path.stat().st_size
        if ends is None:  # rows written before row_ends existed: found by reading the file once
            lengths = [len(line) + 1 for line in rows_path.read_bytes().split(b"\n")[:-1]]
            ends = np.cumsum([0, *lengths]).tolist()
        if len(ends) - 1 != expected or len(id_lines) != expected or ends[-1] != size:
            raise RuntimeError(
                f"shard {rank}: {len(ends) - 1} rows and {len(id_lines)} ids for {expected} documents; "
                "re-run with --overwrite"
            )
        gone = sorted(index for index, found in fate.items() if found[1] != KEPT)
        keep = np.ones(expected, dtype=bool)
        keep[gone] = False
        dropped = collections.Counter(REASONS[fate[index][1]] for index in gone)
        writer, exclusion = self.writer, self.exclusion_writer
        with (
            open(rows_path, "rb") as handle,
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) if size else contextlib.nullcontext(b"") as rows,
            writer,
            exclusion if exclusion is not None else contextlib.nullcontext(),
        ):
            out = []  # written in blocks: one write_line call per row cost ~2 us
            for index in np.flatnonzero(keep).tolist():
                found = fate.get(index)
                if found is None:
                    fields = b'"dedup_cluster_id":%s,"dedup_cluster_size":1' % id_lines[index]
                else:
                    fields = b'"dedup_cluster_id":%s,"dedup_cluster_size":%d' % (orjson.dumps(found[2]), found[0])
                out.append(splice_fields(rows[ends[index] : ends[index + 1]], fields))
                if len(out) >= 1024:
                    writer.write_line(b"".join(out), rank)
                    out = []
            if out:
                writer.write_line(b"".join(out), rank)
                out = []
            for index in gone if exclusion is not None else ():
                size, reason, cluster = fate[index][0], REASONS[fate[index][1]], orjson.dumps(fate[index][2])
                fields = b'"dedup_cluster_id":%s,"dedup_cluster_size":%d' % (cluster, size)
                extra = b',"duplicate_of":%s,"dedup_reason":"%s"' % (cluster, reason.encode())
                out.append(splice_fields(rows[ends[index] : ends[index + 1]], fields + extra))
                if len(out) >= 1024:
                    exclusion.write_line(b"".join(out), rank)
                    out = []
            if out:
                exclusion.write_line(b"".join(out), rank)
        self.stat_update("kept", value=expected - len(gone))
        for reason, count in dropped.items():
            if count:
                self.stat_update(f"dropped_{reason}_duplicate", value=count)
