"""The benchmark registry: entries read from `registry.yaml` (data, not code), looked up by short name.

    from deepmath.benchmarks import BENCHMARKS, GROUPS, get_benchmark
    entry = get_benchmark("gsm8k")      # language, answer_type, fields, Hub sources, local files per split
    entry.split_files("train")          # absolute paths under $DEEPMATH_BENCHMARKS_DIR or ../shared/data/benchmarks

One registry serves decontamination (`text_fields`), the SFT mix and training (which benchmarks to exclude) and
evaluation (question/answer fields, language, few-shot defaults, the split exemplars come from). Users add a
benchmark by adding an entry to `registry.yaml`, or to their own YAML files listed (separated by `os.pathsep`) in
`DEEPMATH_BENCHMARK_REGISTRY`; a user entry with a built-in name replaces it. The file format is documented at the
top of `registry.yaml`; every entry is validated when the registry loads, so a typo fails with the file and entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from deepmath.config import ConfigError, close_matches

__all__ = [
    "BENCHMARKS",
    "GROUPS",
    "BenchmarkEntry",
    "BenchmarkError",
    "HfSource",
    "benchmark_dirs",
    "get_benchmark",
    "load_registry",
]

REGISTRY_FILE = Path(__file__).with_name("registry.yaml")
LANGUAGES = ("en", "zh")
ANSWER_TYPES = ("number", "expression", "choice", "proof")
_KEYS = {
    "description",
    "language",
    "answer_type",
    "question_field",
    "answer_field",
    "solution_field",
    "options_field",
    "text_fields",
    "hf",
    "splits",
    "rows",
    "fewshot",
    "part_of",
    "notes",
}


class BenchmarkError(ConfigError):
    """A benchmark spec that names nothing loadable, or a malformed benchmark file (message names file and line).

    A `ConfigError`, so the CLI prints it as one line and exits 2 instead of showing a traceback."""


@dataclass(frozen=True)
class HfSource:
    """One Hugging Face dataset split; `configs` lists several subsets to concatenate (MATH's subjects)."""

    hf_id: str
    split: str = "test"
    configs: tuple[str | None, ...] = (None,)


@dataclass(frozen=True)
class BenchmarkEntry:
    """A registry entry. `fields` are decontamination's text fields and `local` the test split's files (the names
    decontamination has always used); the rest serves evaluation."""

    name: str
    description: str
    fields: tuple[str, ...]
    hf: tuple[HfSource, ...] = ()
    local: tuple[str, ...] = ()  # test split, relative to a benchmarks dir
    language: str = "en"
    answer_type: str = "expression"
    question_fields: tuple[str, ...] = ("question",)  # tried in order
    answer_fields: tuple[str, ...] = ()  # tried in order; empty: no gold answers (decontamination only)
    solution_field: str = ""
    options_field: str = ""
    splits: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    rows: int = 0
    fewshot: int = 4
    part_of: str = ""
    notes: str = ""

    @property
    def evaluable(self) -> bool:
        return bool(self.answer_fields)

    def split_files(self, split: str = "test") -> list[str] | None:
        """Absolute paths of a split's local files in the first benchmarks folder holding all of them, or None."""
        relative = self.splits.get(split, ())
        for folder in benchmark_dirs():
            paths = [folder / rel for rel in relative]
            if relative and all(p.is_file() for p in paths):
                return [str(p) for p in paths]
        return None


def benchmark_dirs() -> list[Path]:
    """Folders searched for registry benchmarks' local files, in order."""
    dirs = [Path(p) for p in os.environ.get("DEEPMATH_BENCHMARKS_DIR", "").split(os.pathsep) if p]
    repo = Path(__file__).resolve().parents[2]
    dirs += [Path.cwd().parent / "shared" / "data" / "benchmarks", repo.parent / "shared" / "data" / "benchmarks"]
    seen, out = set(), []
    for d in dirs:
        key = str(d.resolve()) if d.exists() else str(d)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _strings(value, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
        raise BenchmarkError(f"{where}: '{key}' must be a string or a list of strings, got {value!r}")
    return tuple(values)


def _entry(name: str, data, where: str) -> BenchmarkEntry:
    where = f"{where}: benchmark '{name}'"
    if not isinstance(data, dict):
        raise BenchmarkError(f"{where}: expected a mapping, got {type(data).__name__}")
    unknown = set(data) - _KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise BenchmarkError(f"{where}: unknown key '{key}'{close_matches(key, _KEYS)}")
    language = data.get("language", "en")
    if language not in LANGUAGES:
        raise BenchmarkError(f"{where}: language must be one of {LANGUAGES}, not {language!r}")
    answer_type = data.get("answer_type", "expression")
    if answer_type not in ANSWER_TYPES:
        raise BenchmarkError(f"{where}: answer_type must be one of {ANSWER_TYPES}, not {answer_type!r}")
    splits_raw = data.get("splits") or {}
    if not isinstance(splits_raw, dict):
        raise BenchmarkError(f"{where}: 'splits' must map a split name to files")
    splits = {split: _strings(files, where, f"splits.{split}") for split, files in splits_raw.items()}
    hf = []
    for source in data.get("hf") or []:
        if not isinstance(source, dict) or "id" not in source:
            raise BenchmarkError(f"{where}: each 'hf' source needs an 'id'")
        configs = _strings(source.get("configs"), where, "hf.configs") or (None,)
        hf.append(HfSource(source["id"], source.get("split", "test"), configs))
    text_fields = _strings(data.get("text_fields"), where, "text_fields")
    if not text_fields:
        raise BenchmarkError(f"{where}: 'text_fields' (what decontamination indexes) is required")
    if not splits.get("test") and not hf:
        raise BenchmarkError(f"{where}: needs local 'splits: {{test: [...]}}' files or an 'hf' source")
    for key in ("rows", "fewshot"):
        if not isinstance(data.get(key, 0), int) or data.get(key, 0) < 0:
            raise BenchmarkError(f"{where}: '{key}' must be a whole number >= 0")
    return BenchmarkEntry(
        name=name,
        description=str(data.get("description", name)),
        fields=text_fields,
        hf=tuple(hf),
        local=splits.get("test", ()),
        language=language,
        answer_type=answer_type,
        question_fields=_strings(data.get("question_field", "question"), where, "question_field"),
        answer_fields=_strings(data.get("answer_field"), where, "answer_field"),
        solution_field=str(data.get("solution_field", "")),
        options_field=str(data.get("options_field", "")),
        splits=splits,
        rows=int(data.get("rows", 0)),
        fewshot=int(data.get("fewshot", 4)),
        part_of=str(data.get("part_of", "")),
        notes=str(data.get("notes", "")),
    )


def load_registry(paths: list[Path | str]) -> tuple[dict[str, BenchmarkEntry], dict[str, tuple[str, ...]]]:
    """Entries and groups of registry YAML files, later files overriding earlier ones by name."""
    import yaml

    entries: dict[str, BenchmarkEntry] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for path in paths:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise BenchmarkError(f"benchmark registry {path}: cannot read: {err}") from err
        if not isinstance(data, dict) or not isinstance(data.get("benchmarks", {}), dict):
            raise BenchmarkError(f"benchmark registry {path}: expected 'benchmarks:' mapping names to entries")
        for name, raw in (data.get("benchmarks") or {}).items():
            entries[str(name)] = _entry(str(name), raw, str(path))
        for name, members in (data.get("groups") or {}).items():
            groups[str(name)] = _strings(members, str(path), f"groups.{name}")
    for name, members in groups.items():
        for member in members:
            if member not in entries:
                raise BenchmarkError(f"benchmark group '{name}' names unknown benchmark '{member}'")
    groups["all"] = tuple(n for n, e in entries.items() if not e.part_of)
    return entries, groups


@lru_cache(maxsize=1)
def _registry() -> tuple[dict[str, BenchmarkEntry], dict[str, tuple[str, ...]]]:
    extra = [p for p in os.environ.get("DEEPMATH_BENCHMARK_REGISTRY", "").split(os.pathsep) if p]
    return load_registry([REGISTRY_FILE, *extra])


BENCHMARKS, GROUPS = _registry()


def get_benchmark(name: str) -> BenchmarkEntry:
    """The registry entry `name`; an unknown name errors with close matches."""
    if name not in BENCHMARKS:
        raise BenchmarkError(
            f"unknown benchmark '{name}'{close_matches(name, BENCHMARKS)}; known: {', '.join(BENCHMARKS)}"
        )
    return BENCHMARKS[name]
