"""Benchmark texts for decontamination: registry names, local JSONL/JSON/Parquet files, field detection.

    from deepmath.benchmarks import load_benchmarks   # also importable as deepmath.decontam.benchmarks
    benchmarks = load_benchmarks(["gsm8k", "math", "/data/my_eval.jsonl:question+answer"])

A spec is a registry name (`gsm8k`), a group (`deepseekmath`, `standard`, `all`), or a path to a JSONL(.gz), JSON
array or Parquet file. `SPEC:field1+field2` picks the text fields (otherwise they are auto-detected: `problem`,
`question`, `solution`, `answer`, ...; chat `messages` give their contents); `a&b` joins two fields into one text
(SVAMP's `Body&Question`); `name=PATH` names a file benchmark. Every field value of an item is indexed as its own
text, so questions and solutions/answers are both matched.

The registry itself is `deepmath/benchmarks/registry.yaml` (see deepmath.benchmarks.registry); evaluation reads
questions and gold answers through deepmath.benchmarks.problems. Where a registry name loads from: its Hugging Face
dataset (id, config, split and preferred fields in the registry)
when the Hub is reachable, else its local file(s), searched under `$DEEPMATH_BENCHMARKS_DIR` (one or more folders,
separated by `os.pathsep`), then `../shared/data/benchmarks` relative to the current directory and to the repository.
`DEEPMATH_BENCHMARKS_SOURCE=local` (or `hf`) forces one side; `HF_HUB_OFFLINE=1` also means local. The Hub is probed
once per process with a 5 s timeout, because `datasets` itself retries an unreachable Hub for about 25 s per dataset.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from deepmath.benchmarks.registry import (
    BENCHMARKS,
    GROUPS,
    BenchmarkEntry,
    BenchmarkError,
    HfSource,
    benchmark_dirs,
)
from deepmath.config import close_matches

__all__ = [
    "BENCHMARKS",
    "GROUPS",
    "BenchmarkEntry",
    "BenchmarkError",
    "BenchmarkItem",
    "HfSource",
    "LoadedBenchmark",
    "benchmark_dirs",
    "expand_specs",
    "load_benchmark",
    "load_benchmarks",
    "parse_spec",
]

logger = logging.getLogger(__name__)

BENCHMARK_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet")

# Auto-detected text fields, in order; the first group are questions, the second solutions and answers.
QUESTION_FIELDS = (
    "problem",
    "question",
    "Question",
    "query",
    "input",
    "prompt",
    "instruction",
    "informal_statement",
    "content",
    "body",
    "Body",
    "Problem",
    "messages",
)
ANSWER_FIELDS = (
    "solution",
    "solutions",
    "answer",
    "Answer",
    "golden",
    "gold",
    "rationale",
    "final_answer",
    "informal_proof",
    "steps",
    "output",
    "response",
    "target",
    "Solution",
)
ID_FIELDS = ("id", "unique_id", "idx", "ID", "problem_name", "uid", "question_id")


@dataclass(frozen=True)
class BenchmarkItem:
    item_id: str
    texts: tuple[str, ...]


@dataclass
class LoadedBenchmark:
    """Items of one benchmark and where they came from."""

    name: str
    items: list[BenchmarkItem]
    origin: list[str]  # files or hf ids
    fields: list[str]
    fingerprint: str
    skipped_rows: int = 0  # rows without any text in the chosen fields


@dataclass(frozen=True)
class BenchmarkSpec:
    """A parsed spec string."""

    raw: str
    name: str
    path: str | None = None
    fields: tuple[str, ...] | None = None
    entry: BenchmarkEntry | None = None


_FIELDS_SUFFIX = re.compile(r"^[\w.\-&]+(\+[\w.\-&]+)*$")
_NAME = re.compile(r"^[\w.\-]+$")


def parse_spec(raw: str) -> BenchmarkSpec:
    """Parse `name`, `name:f1+f2`, `PATH`, `PATH:f1+f2` or `alias=PATH[:f1+f2]` (groups are expanded earlier)."""
    text = raw.strip()
    alias = None
    head, sep, tail = text.partition("=")
    if sep and _NAME.match(head) and not Path(text).exists():
        alias, text = head, tail
    fields = None
    if ":" in text and not Path(text).exists():
        base, _, suffix = text.rpartition(":")
        if base and _FIELDS_SUFFIX.match(suffix):
            text, fields = base, tuple(suffix.split("+"))
    if text in BENCHMARKS:
        return BenchmarkSpec(raw, alias or text, fields=fields, entry=BENCHMARKS[text])
    path = Path(text).expanduser()
    if path.is_file():
        return BenchmarkSpec(raw, alias or _name_from_path(path), path=str(path), fields=fields)
    if path.suffix or "/" in text or os.sep in text:
        raise BenchmarkError(f"benchmark file not found: {text}")
    known = [*BENCHMARKS, *GROUPS]
    raise BenchmarkError(
        f"unknown benchmark '{text}'{close_matches(text, known)}; known: {', '.join(known)} (or a JSONL/Parquet path)"
    )


def _name_from_path(path: Path) -> str:
    stem = path.name
    for suffix in BENCHMARK_SUFFIXES:
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    if stem in ("test", "dev", "validation", "val", "train", "data", "eval") and path.parent.name:
        return path.parent.name
    return stem


def expand_specs(specs: list[str] | str) -> list[str]:
    """Groups -> their members, in order, without duplicates."""
    if isinstance(specs, str):
        specs = [s for s in specs.split(",") if s.strip()]
    out: list[str] = []
    for spec in specs:
        spec = spec.strip()
        for member in GROUPS.get(spec, (spec,)):
            if member not in out:
                out.append(member)
    if not out:
        raise BenchmarkError("no benchmarks given")
    return out


def iter_rows(path: str) -> Iterator[tuple[int, dict]]:
    """(line or row number starting at 1, row) for a JSONL(.gz/.zst), JSON array or Parquet file, read by the one
    row reader (`deepmath.io.rows`, bounded memory); a benchmark file is trusted data, so its first bad row is a
    BenchmarkError naming file:line rather than a skip."""
    from deepmath.io.rows import RowSkipped
    from deepmath.io.rows import iter_rows as read_numbered

    try:
        for number, row in read_numbered(path, strict=True):
            yield number + 1, row
    except RowSkipped as err:
        raise BenchmarkError(str(err)) from err
    except UnicodeDecodeError as err:
        raise BenchmarkError(f"{path}: not UTF-8 text: {err}") from err
    except (OSError, EOFError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        said = str(err)
        raise BenchmarkError(said if said.startswith(path) else f"{path}: cannot read: {said}") from err


def _texts(value) -> list[str]:
    """Text pieces of a field value: strings, numbers, lists (OlympiadBench solutions), chat messages' contents."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, int | float):
        return [str(value)]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        if "content" in value:
            return _texts(value["content"])
        return [t for v in value.values() for t in _texts(v)]
    return [str(value)]


def _field_texts(row: dict, name: str) -> list[str] | None:
    """Texts of `name` in `row` (`a&b` joins fields); None when the field is absent."""
    parts = name.split("&")
    if any(p not in row for p in parts):
        return None
    if len(parts) == 1:
        return _texts(row[name])
    joined = " ".join(t for p in parts for t in _texts(row[p]))
    return [joined] if joined.strip() else []


def detect_fields(path: str, rows: list[dict]) -> list[str]:
    """Known question and answer fields present in the first rows of a file."""
    keys: dict[str, None] = {}
    for row in rows[:100]:
        keys.update(dict.fromkeys(row))
    fields = [f for f in (*QUESTION_FIELDS, *ANSWER_FIELDS) if f in keys]
    if not fields:
        raise BenchmarkError(
            f"{path}: no question/answer field found among {sorted(keys)}; name the text fields as {path}:field1+field2"
        )
    return fields


def _item_id(row: dict, fallback: str) -> str:
    for key in ID_FIELDS:
        value = row.get(key)
        if value is not None and not isinstance(value, dict | list) and str(value) != "":
            return str(value)
    return fallback


def _items_from_rows(
    where: str, rows: list[tuple[int, dict]], fields: list[str], strict_fields: bool, id_prefix: str = ""
) -> tuple[list[BenchmarkItem], int]:
    items, skipped = [], 0
    for number, row in rows:
        texts: list[str] = []
        for name in fields:
            found = _field_texts(row, name)
            if found is None:
                if strict_fields:
                    raise BenchmarkError(f"{where}:{number}: field '{name}' not found (fields: {', '.join(row)})")
                continue
            texts.extend(found)
        unique = tuple(dict.fromkeys(t for t in texts if t.strip()))
        if not unique:
            skipped += 1
            continue
        items.append(BenchmarkItem(id_prefix + _item_id(row, str(number - 1)), unique))
    return items, skipped


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_files(name: str, paths: list[str], fields: tuple[str, ...] | None, preferred: tuple[str, ...] = ()):
    items: list[BenchmarkItem] = []
    skipped = 0
    used: list[str] = []
    for path in paths:
        rows = list(iter_rows(path))
        if not rows:
            raise BenchmarkError(f"{path}: benchmark file has no rows")
        if fields:
            chosen, strict = list(fields), True
        else:
            keys = {k for _, row in rows[:100] for k in row}
            chosen = [f for f in preferred if all(p in keys for p in f.split("&"))] or detect_fields(
                path, [r for _, r in rows]
            )
            strict = False
        prefix = f"{_name_from_path(Path(path))}/" if len(paths) > 1 else ""
        got, n_skipped = _items_from_rows(path, rows, chosen, strict, prefix)
        items += got
        skipped += n_skipped
        used += [f for f in chosen if f not in used]
    fingerprint = hashlib.sha256(json.dumps([name, [file_sha256(p) for p in paths], used]).encode()).hexdigest()
    return LoadedBenchmark(name, items, list(paths), used, fingerprint, skipped)


@lru_cache(maxsize=1)
def _hub_reachable() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes") or os.environ.get(
        "HF_DATASETS_OFFLINE", ""
    ).lower() in ("1", "true", "yes"):
        return False
    try:
        import requests

        endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
        requests.head(endpoint, timeout=5)
        return True
    except Exception as err:  # any failure means "use local files"; logged once
        logger.info("Hugging Face Hub not reachable (%s); benchmarks load from local files", type(err).__name__)
        return False


def _load_hf(spec: BenchmarkSpec) -> LoadedBenchmark:
    import datasets

    entry = spec.entry
    assert entry is not None
    items: list[BenchmarkItem] = []
    skipped = 0
    fingerprints, origin, used = [], [], []
    multi = sum(len(s.configs) for s in entry.hf) > 1
    for source in entry.hf:
        for config in source.configs:
            dataset = datasets.load_dataset(source.hf_id, config, split=source.split)
            rows = [(i + 1, row) for i, row in enumerate(dataset)]
            where = f"hf:{source.hf_id}" + (f"[{config}]" if config else "") + f":{source.split}"
            if spec.fields:
                chosen, strict = list(spec.fields), True
            else:
                names = set(dataset.column_names)
                chosen = [f for f in entry.fields if all(p in names for p in f.split("&"))]
                chosen = chosen or detect_fields(where, [r for _, r in rows[:100]])
                strict = False
            prefix = f"{config or source.hf_id.split('/')[-1]}/" if multi else ""
            got, n_skipped = _items_from_rows(where, rows, chosen, strict, prefix)
            items += got
            skipped += n_skipped
            fingerprints.append(getattr(dataset, "_fingerprint", where))
            origin.append(where)
            used += [f for f in chosen if f not in used]
    fingerprint = hashlib.sha256(json.dumps([spec.name, fingerprints, used]).encode()).hexdigest()
    return LoadedBenchmark(spec.name, items, origin, used, fingerprint, skipped)


def _local_files(entry: BenchmarkEntry) -> list[str] | None:
    for folder in benchmark_dirs():
        paths = [folder / rel for rel in entry.local]
        if entry.local and all(p.is_file() for p in paths):
            return [str(p) for p in paths]
    return None


def load_benchmark(spec: str | BenchmarkSpec, source: str | None = None) -> LoadedBenchmark:
    """Load one benchmark spec (registry name or file) into items; see the module docstring for where from."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    if spec.path is not None:
        return _load_files(spec.name, [spec.path], spec.fields)
    entry = spec.entry
    assert entry is not None
    source = (source or os.environ.get("DEEPMATH_BENCHMARKS_SOURCE") or "auto").lower()
    if source not in ("auto", "hf", "local"):
        raise BenchmarkError(f"DEEPMATH_BENCHMARKS_SOURCE must be auto, hf or local, not {source!r}")
    errors = []
    if source in ("auto", "hf") and entry.hf and (source == "hf" or _hub_reachable()):
        try:
            return _load_hf(spec)
        except BenchmarkError:
            raise
        except Exception as err:  # the Hub failing is why the local fallback exists
            if source == "hf":
                raise BenchmarkError(f"{spec.name}: could not load {entry.hf[0].hf_id} from the Hub: {err}") from err
            errors.append(f"Hub: {type(err).__name__}: {err}")
            logger.warning("%s: Hub load failed (%s); trying local files", spec.name, err)
    if source in ("auto", "local"):
        files = _local_files(entry)
        if files:
            return _load_files(spec.name, files, spec.fields, entry.fields)
        searched = ", ".join(str(d) for d in benchmark_dirs())
        errors.append(f"local files {list(entry.local)} not found under {searched} (set DEEPMATH_BENCHMARKS_DIR)")
    if not entry.hf and source == "hf":
        errors.append("no Hugging Face source in the registry")
    raise BenchmarkError(f"cannot load benchmark '{spec.name}': " + "; ".join(errors))


def load_benchmarks(specs: list[str] | str, source: str | None = None) -> list[LoadedBenchmark]:
    """Load every spec (groups expanded); two specs with the same name get `#2`, `#3` suffixes."""
    loaded: list[LoadedBenchmark] = []
    names: set[str] = set()
    for raw in expand_specs(specs):
        bench = load_benchmark(raw, source)
        base, k = bench.name, 2
        while bench.name in names:
            bench.name = f"{base}#{k}"
            k += 1
        names.add(bench.name)
        loaded.append(bench)
        logger.info("benchmark %s: %d items from %s", bench.name, len(bench.items), ", ".join(bench.origin))
    return loaded
