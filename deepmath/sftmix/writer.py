"""Writing the mix: Parquet shards under `data/` and a `save_to_disk` copy under `hf/`, both atomically.

    data/train-00000-of-00002.parquet, data/train-00001-of-00002.parquet   (what the GRPO stage and the Hub read)
    hf/                                                                    (datasets.load_from_disk)

Each shard is written under a temporary name and renamed; `hf/` is saved beside it and swapped in, so a killed
write leaves either the previous files or the new ones. Shards of an earlier run with another shard count go.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path

from deepmath.io.atomic import atomic_path

__all__ = ["mix_schema", "write_mix"]


def mix_schema():
    """Arrow schema of the mix (messages as a list of {role, content} structs, as chat templates expect)."""
    import pyarrow as pa

    turn = pa.struct([("role", pa.string()), ("content", pa.string())])
    return pa.schema(
        [
            ("messages", pa.list_(turn)),
            ("question", pa.string()),
            ("answer", pa.string()),
            ("source", pa.string()),
            ("format", pa.string()),
            ("language", pa.string()),
            ("source_id", pa.string()),
        ]
    )


def write_mix(rows: list[dict], output: str | Path, rows_per_shard: int = 100_000) -> list[str]:
    """Write `rows` as Parquet shards and a `save_to_disk` dataset; returns the shard paths relative to `output`."""
    import datasets
    import pyarrow.parquet as pq
    from datasets.table import InMemoryTable

    output = Path(output)
    table = _table(rows)
    n_shards = max(1, math.ceil(len(rows) / rows_per_shard))
    names = [f"train-{i:05d}-of-{n_shards:05d}.parquet" for i in range(n_shards)]
    data = output / "data"
    data.mkdir(parents=True, exist_ok=True)
    for stale in data.glob("*.parquet"):
        if stale.name not in names:
            stale.unlink()
    for i, name in enumerate(names):
        with atomic_path(data / name) as tmp:
            pq.write_table(table.slice(i * rows_per_shard, rows_per_shard), tmp)
    hf_tmp, hf_old, hf = output / ".hf.tmp", output / ".hf.old", output / "hf"
    shutil.rmtree(hf_tmp, ignore_errors=True)
    datasets.Dataset(InMemoryTable(table)).save_to_disk(str(hf_tmp))
    shutil.rmtree(hf_old, ignore_errors=True)
    if hf.exists():
        os.replace(hf, hf_old)
    os.replace(hf_tmp, hf)
    shutil.rmtree(hf_old, ignore_errors=True)
    return [f"data/{name}" for name in names]


def _table(rows: list[dict]):
    import pyarrow as pa

    schema = mix_schema()
    return pa.Table.from_pylist([{name: row[name] for name in schema.names} for row in rows], schema=schema)
