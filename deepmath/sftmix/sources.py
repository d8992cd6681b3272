"""Reading the sources of an SFT mix: raw rows from files or the Hub, and field maps with dotted paths.

`get_path(row, "generated.0")` walks dicts by key and lists by index (negative indices count from the end); a
missing step gives None, never an exception, so a row without a field becomes a counted skip downstream.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

from deepmath.io.inputs import DOCUMENT_SUFFIXES, resolve_inputs
from deepmath.sftmix.config import SourceConfig

__all__ = ["get_path", "iter_source_rows", "map_fields", "resolve_path"]

logger = logging.getLogger(__name__)

_MISSING = object()


def get_path(row, path: str):
    """The value at dotted `path` in `row` (dict keys and list indices), or None when any step is missing."""
    value = row
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step, _MISSING)
        elif isinstance(value, list | tuple):
            try:
                value = value[int(step)]
            except (ValueError, IndexError):
                return None
        else:
            return None
        if value is _MISSING:
            return None
    return value


def map_fields(row: dict, fields: dict[str, str]) -> dict:
    """{role: value} for each role of the field map (None where the row lacks the path)."""
    return {role: get_path(row, path) for role, path in fields.items()}


def resolve_path(spec: str, data_root: str = "") -> str:
    """`spec` relative to `data_root` when it is a relative local path (hf:, URLs and absolute paths unchanged)."""
    if not data_root or spec.startswith("hf:") or "://" in spec or Path(spec).is_absolute():
        return spec
    return str(Path(data_root) / spec)


def iter_source_rows(source: SourceConfig, data_root: str = "") -> Iterator[tuple[str, dict]]:
    """(row id, row) of one source in a stable order; ids are `file:line` unless the field map names an `id`."""
    spec = resolve_path(source.path, data_root)
    count = 0
    for input_source in resolve_inputs(spec, DOCUMENT_SUFFIXES):
        if input_source.is_hf:
            rows = _iter_hf(input_source)
        else:
            rows = _iter_files(input_source.files)
        for fallback_id, row in rows:
            if 0 <= source.limit <= count:
                return
            row_id = get_path(row, source.fields["id"]) if "id" in source.fields else None
            yield (str(row_id) if row_id is not None else fallback_id), row
            count += 1


def _iter_files(files: list[str]) -> Iterator[tuple[str, dict]]:
    from deepmath.io.documents import iter_raw_rows

    for path in files:
        # strict: a broken row in a hand-made SFT source is a one-line error naming file:line, not a skip
        for number, row in iter_raw_rows(path, strict=True):
            yield f"{Path(path).name}:{number + 1}", row


def _iter_hf(input_source) -> Iterator[tuple[str, dict]]:
    import datasets

    dataset = datasets.load_dataset(input_source.hf_id, input_source.hf_config, split=input_source.hf_split)
    for index, row in enumerate(dataset):
        yield f"{input_source.hf_id}:{input_source.hf_split}:{index}", row
