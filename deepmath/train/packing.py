"""A weighted corpus mixture packed into fixed-length token rows on disk, read back as a memory-mapped dataset.

    manifest = pack_mixture(sources, tokenizer, OUT / "data", rows=4096, max_length=512, seed=0)
    dataset = PackedDataset(OUT / "data")        # rows of {input_ids, labels, source_tokens}, memory-mapped

Each source is streamed document by document (`DocumentReader`: stage folders, JSONL/Parquet, hf: ids), shuffled
within a bounded buffer (seeded), tokenized in batches, and framed as `[bos] text <eos>` (bos only where the
tokenizer has its own). The mixture is interleaved deterministically: the next document always comes from the
source furthest below its share of the budget, so the packed tokens match the weights to within one document per
source. The token stream is cut into rows of `max_length` tokens (documents cross row boundaries, as in GPT-style
pretraining; attention is not masked at document boundaries) and written to `tokens.bin` with a per-row count of
tokens from each source (`source_tokens.bin`); `manifest.json` is written last and marks the packing finished.

Why on disk rather than an IterableDataset: the budget is known before training, a source that cannot fill its
share is reported before the first step (with the epochs it would need), a resumed run reads the same rows without
tokenizing again, and the Trainer's seeded sampler plus its batch skipping make the order after resume the order
an uninterrupted run would have seen. Memory stays bounded: the corpus is streamed in, the rows are memory-mapped
out. Disk cost is 2 bytes per token (4 for vocabularies over 65,535 entries).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from deepmath.train.data import DataError

__all__ = ["PackedDataset", "iter_source_texts", "pack_mixture", "read_manifest"]

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
TOKENS = "tokens.bin"
SOURCE_TOKENS = "source_tokens.bin"


def _reader(source: dict):
    from deepmath.io.documents import DocumentReader
    from deepmath.io.inputs import InputError

    try:
        return DocumentReader(source["path"], text_key=source["text_field"], strict=True)
    except InputError as err:
        raise DataError(f"source {source['name']!r}: {err}") from err


def _shuffled(items: Iterator, buffer: int, rng: random.Random) -> Iterator:
    """A bounded shuffle: keep `buffer` items, emit a random one as each new item arrives (seeded)."""
    if buffer <= 1:
        yield from items
        return
    pool: list = []
    for item in items:
        if len(pool) < buffer:
            pool.append(item)
            continue
        index = rng.randrange(buffer)
        yield pool[index]
        pool[index] = item
    rng.shuffle(pool)
    yield from pool


def iter_source_texts(source: dict, limit: int = -1) -> Iterator[str]:
    """Texts of one source in file order (at most `limit`); DataError when a file cannot be read."""
    reader = _reader(source)
    count = 0
    try:
        for doc in reader.run(None, 0, 1):
            if 0 <= limit <= count:
                return
            if doc.text.strip():
                yield doc.text
                count += 1
    except ValueError as err:
        raise DataError(f"source {source['name']!r}: {err}") from err


class _SourceStream:
    """Tokenized documents of one source, pass after pass, until `max_epochs` passes would be exceeded."""

    def __init__(self, source: dict, tokenizer, quota: int, seed: int, shuffle_buffer: int, batch: int, max_epochs):
        self.source, self.tokenizer, self.quota = source, tokenizer, quota
        self.seed, self.buffer, self.batch, self.max_epochs = seed, shuffle_buffer, batch, max_epochs
        bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
        if eos is None:
            raise DataError("the tokenizer has no eos token: documents could not be separated")
        self.prefix = [bos] if bos is not None and bos != eos else []
        self.eos = eos
        self.passes = 0
        self.pass_tokens = 0  # tokens in one full pass (known after the first)
        self.documents = 0
        self._docs = self._documents()

    def _texts(self, epoch: int) -> Iterator[str]:
        reader = _reader(self.source)
        rows = 0
        try:
            for doc in _shuffled(reader.run(None, 0, 1), self.buffer, random.Random(f"{self.seed}/{epoch}")):
                rows += 1
                if doc.text.strip():
                    yield doc.text
        except ValueError as err:
            raise DataError(f"source {self.source['name']!r}: {err}") from err
        skipped = reader.stats["skipped_no_text"].total if "skipped_no_text" in reader.stats.stats else 0
        self.rows_without_text = int(skipped)
        self.rows_read = rows

    def _documents(self) -> Iterator[list[int]]:
        epoch = 0
        while True:
            tokens_this_pass = 0
            batch: list[str] = []
            for text in self._texts(epoch):
                batch.append(text)
                if len(batch) >= self.batch:
                    for ids in self._encode(batch):
                        tokens_this_pass += len(ids)
                        yield ids
                    batch = []
            for ids in self._encode(batch):
                tokens_this_pass += len(ids)
                yield ids
            epoch += 1
            self.passes = epoch
            if epoch == 1:
                self.pass_tokens = tokens_this_pass
                self._check_capacity()

    def _encode(self, texts: list[str]) -> list[list[int]]:
        if not texts:
            return []
        encoded = self.tokenizer(texts, add_special_tokens=False, verbose=False)["input_ids"]
        self.documents += len(texts)
        return [self.prefix + ids + [self.eos] for ids in encoded]

    def _check_capacity(self) -> None:
        name, field = self.source["name"], self.source["text_field"]
        if self.pass_tokens == 0:
            raise DataError(
                f"source {name!r} ({self.source['path']}) has no documents with text in field {field!r} "
                f"({self.rows_read} with a {field!r} string, all empty; {self.rows_without_text} rows without one); "
                "set its text_field or check the path"
            )
        epochs = self.quota / self.pass_tokens
        if epochs > self.max_epochs:
            raise DataError(
                f"source {name!r} holds {self.pass_tokens:,} tokens but its share of the budget is {self.quota:,} "
                f"tokens: {epochs:.2f} epochs over it; lower max_tokens or its weight, or allow repeats with "
                f"max_epochs: {int(np.ceil(epochs))}"
            )

    def __next__(self) -> list[int]:
        return next(self._docs)


def pack_mixture(
    sources: list[dict],
    tokenizer,
    folder: str | Path,
    rows: int,
    max_length: int,
    seed: int = 0,
    shuffle_buffer: int = 1000,
    tokenize_batch: int = 256,
    max_epochs: float = 1.0,
) -> dict:
    """Pack `rows` rows of `max_length` tokens from the weighted `sources` into `folder`; returns the manifest.

    A folder whose manifest exists is reused as it is (the stage hashes the config, so it is the same packing)."""
    folder = Path(folder)
    if (folder / MANIFEST).exists():
        return read_manifest(folder)
    if rows < 1:
        raise DataError("the token budget is smaller than one training step")
    folder.mkdir(parents=True, exist_ok=True)
    budget = rows * max_length
    quotas = [round(s["weight"] * budget) for s in sources]
    streams = [
        _SourceStream(s, tokenizer, q, seed + i, shuffle_buffer, tokenize_batch, max_epochs)
        for i, (s, q) in enumerate(zip(sources, quotas))
    ]
    dtype = np.uint16 if len(tokenizer) <= np.iinfo(np.uint16).max else np.uint32
    taken = [0] * len(sources)
    row = np.zeros(max_length, dtype=dtype)
    row_sources = np.zeros(len(sources), dtype=np.int32)
    filled = written = 0
    tmp_tokens, tmp_sources = folder / f".{TOKENS}.tmp", folder / f".{SOURCE_TOKENS}.tmp"
    active = [i for i, q in enumerate(quotas) if q > 0]
    with open(tmp_tokens, "wb") as tok_out, open(tmp_sources, "wb") as src_out:
        while written < rows:
            if not active:  # every source met its share (rounding): keep filling from the most under-served
                active = list(range(len(sources)))
            pick = min(active, key=lambda i: (taken[i] / max(quotas[i], 1), i))
            try:
                ids = next(streams[pick])
            except StopIteration:  # pragma: no cover - the stream is endless until it raises DataError
                raise DataError(f"source {sources[pick]['name']!r} ran dry") from None
            taken[pick] += len(ids)
            if taken[pick] >= quotas[pick] and pick in active and len(active) > 1:
                active.remove(pick)
            position = 0
            while position < len(ids) and written < rows:
                n = min(max_length - filled, len(ids) - position)
                row[filled : filled + n] = ids[position : position + n]
                row_sources[pick] += n
                filled += n
                position += n
                if filled == max_length:
                    tok_out.write(row.tobytes())
                    src_out.write(row_sources.tobytes())
                    written += 1
                    filled = 0
                    row_sources[:] = 0
    (tmp_tokens).replace(folder / TOKENS)
    (tmp_sources).replace(folder / SOURCE_TOKENS)
    packed = np.fromfile(folder / SOURCE_TOKENS, dtype=np.int32).reshape(rows, len(sources)).sum(axis=0)
    manifest = {
        "rows": rows,
        "max_length": max_length,
        "tokens": budget,
        "dtype": np.dtype(dtype).name,
        "vocab_size": len(tokenizer),
        "seed": seed,
        "sources": [
            {
                **source,
                "target_tokens": quota,
                "packed_tokens": int(count),
                "documents_read": stream.documents,
                "tokens_per_epoch": stream.pass_tokens or None,  # None: the budget ended inside the first pass
                "epochs": round(int(count) / stream.pass_tokens, 4) if stream.pass_tokens else None,
            }
            for source, quota, count, stream in zip(sources, quotas, packed, streams)
        ],
    }
    from deepmath.io.atomic import atomic_write_json

    atomic_write_json(folder / MANIFEST, manifest)
    logger.debug(
        "packed %d rows x %d tokens: %s",
        rows,
        max_length,
        ", ".join(f"{s['name']} {int(c):,}" for s, c in zip(sources, packed)),
    )
    return manifest


def read_manifest(folder: str | Path) -> dict:
    return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))


class PackedDataset:
    """Map-style torch dataset over the packed rows: `input_ids` = `labels` (the model shifts), `source_tokens`.

    The memory maps are opened lazily in each process and left out of pickles, so DataLoader workers started with
    spawn/forkserver map the files themselves instead of receiving a copy of the corpus."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.manifest = read_manifest(self.folder)
        self._maps = None

    def _open(self):
        if self._maps is None:
            rows, length = self.manifest["rows"], self.manifest["max_length"]
            n_sources = len(self.manifest["sources"])
            tokens = np.memmap(self.folder / TOKENS, dtype=self.manifest["dtype"], mode="r", shape=(rows, length))
            counts = np.memmap(self.folder / SOURCE_TOKENS, dtype=np.int32, mode="r", shape=(rows, n_sources))
            self._maps = (tokens, counts)
        return self._maps

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_maps": None}

    def __len__(self) -> int:
        return self.manifest["rows"]

    def __getitem__(self, index: int) -> dict:
        import torch

        tokens, counts = self._open()
        ids = torch.from_numpy(tokens[index].astype(np.int64))
        return {
            "input_ids": ids,
            "labels": ids.clone(),
            "source_tokens": torch.from_numpy(counts[index].astype(np.int64)),
        }
