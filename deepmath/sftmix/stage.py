"""`deepmath sft-mix RECIPE.yaml --output DIR`: a verified, decontaminated, weighted chat mix from CoT/PoT/TIR data.

    deepmath sft-mix pipelines/sft_mix_shared.yaml --output runs/sft_mix
    deepmath sft-mix pipelines/sft_mix_shared.yaml --output runs/sft_mix --data-root /elsewhere/shared/data

Per source, in this order (cheap filters first, so no program runs for a row that would be thrown away):
read rows -> field map -> normalise to chat (formats.py) -> decontaminate against the benchmarks (question and
solution, `deepmath.decontam` matcher) -> check (CoT/TIR answers with `rewards`; PoT programs run in the sandbox).
Each finished source is checkpointed in `_work/sources/`, and program results are cached as they finish, so a killed
run resumes. Then across sources: exact + near dedup of whole conversations (`deepmath.dedup`; earlier sources in
the recipe win), weights/max_samples with a fixed seed, a seeded shuffle, and the output:

    DIR/data/train-00000-of-0000N.parquet   messages, question, answer, source, format, language, source_id
    DIR/hf/                                 the same rows, `datasets.load_from_disk(DIR/hf)`
    DIR/stats.json, README.md, composition.png

Where we depart from DeepSeekMath-Instruct (776K rows, CoT/PoT/TIR in English and Chinese): the paper does not say
how its mix was filtered; here every row's answer is checked, programs are executed rather than trusted, and
rows are decontaminated with the same 10-gram rule as the pre-training corpus. The stage runs in one process
(dedup and weighting need a global view); programs run in parallel processes.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from deepmath.config import ConfigError
from deepmath.io.atomic import atomic_write_json
from deepmath.io.inputs import SUCCESS_MARKER
from deepmath.io.rows import read_rows, write_rows
from deepmath.sftmix.config import SftMixConfig, SourceConfig
from deepmath.sftmix.formats import Candidate, Skip
from deepmath.stage import StageResult, StageRun, StageStats, run_stage

__all__ = ["OUTPUT_FIELDS", "run_sft_mix"]

logger = logging.getLogger(__name__)

OUTPUT_FIELDS = {
    "messages": "chat turns [{role, content}]: optional system, user, assistant (ends with \\boxed{answer})",
    "question": "the user problem, plain text",
    "answer": "gold answer, normalised by `rewards.normalize_answer`",
    "source": "name of the recipe source",
    "format": "cot | pot | tir",
    "language": "en | zh (from the share of CJK characters, unless the source sets it)",
    "source_id": "row id in the source (`file:line` unless the field map names an id)",
}


def run_sft_mix(cfg: SftMixConfig) -> dict:
    if cfg.output and not (Path(cfg.output) / SUCCESS_MARKER).exists():
        _check_inputs(cfg)  # before run_stage writes anything, so a fixed recipe is not "a different config"
    return run_stage("sft-mix", cfg, lambda run: _build(cfg, run))


def _resolve_benchmark(spec: str, data_root: str) -> str:
    """Benchmark paths are relative to data_root like source paths; bare names go to the decontam registry."""
    from deepmath.sftmix.sources import resolve_path

    name, equals, path = spec.partition("=")  # `name=PATH` names a file benchmark
    if not equals or "/" in name:
        name, path = "", spec
    looks_like_path = "/" in path or ".json" in path or ".parquet" in path
    if not looks_like_path:
        return spec
    return f"{name}={resolve_path(path, data_root)}" if name else resolve_path(path, data_root)


def _check_inputs(cfg: SftMixConfig) -> None:
    """Every source path and benchmark must name something loadable before any work starts (errors name the key)."""
    from deepmath.benchmarks import BenchmarkError, expand_specs, parse_spec
    from deepmath.io.inputs import DOCUMENT_SUFFIXES, InputError, resolve_inputs
    from deepmath.sftmix.sources import resolve_path

    for index, source in enumerate(cfg.sources):
        try:
            resolve_inputs(resolve_path(source.path, cfg.data_root), DOCUMENT_SUFFIXES)
        except InputError as err:
            raise ConfigError(f"sft-mix.sources[{index}] ('{source.name}').path: {err}") from err
    if cfg.benchmarks:
        try:
            for spec in expand_specs([_resolve_benchmark(b, cfg.data_root) for b in cfg.benchmarks]):
                parse_spec(spec)
        except BenchmarkError as err:
            raise ConfigError(f"sft-mix.benchmarks: {err}") from err


class _Matcher:
    """The decontamination matcher, built once and only if a source still has rows to check."""

    def __init__(self, cfg: SftMixConfig):
        self.cfg = cfg
        self._matcher = None

    def get(self):
        if self._matcher is None and self.cfg.benchmarks:
            from deepmath.decontam.matcher import ContaminationMatcher

            benchmarks = [_resolve_benchmark(b, self.cfg.data_root) for b in self.cfg.benchmarks]
            logger.info("sft-mix: building the contamination index of %s", ", ".join(benchmarks))
            try:
                self._matcher = ContaminationMatcher.from_benchmarks(benchmarks, ngram=self.cfg.decontam_ngram)
            except (KeyError, ValueError, OSError) as err:
                raise ConfigError(f"sft-mix.benchmarks: {err}") from err
        return self._matcher


def _save_checkpoint(folder: Path, name: str, candidates: list[Candidate], counts: dict) -> None:
    write_rows(folder / f"{name}.jsonl.gz", (asdict(c) for c in candidates))
    atomic_write_json(folder / f"{name}.json", counts)  # written last: its presence marks the source done


def _load_checkpoint(folder: Path, name: str) -> tuple[list[Candidate], dict] | None:
    counts_path, rows_path = folder / f"{name}.json", folder / f"{name}.jsonl.gz"
    if not counts_path.exists() or not rows_path.exists():
        return None
    candidates = [Candidate(**row) for row in read_rows(rows_path)]
    return candidates, json.loads(counts_path.read_text())


def _process_source(cfg: SftMixConfig, source: SourceConfig, matcher: _Matcher, work: Path) -> tuple[list, dict]:
    """Read, normalise, decontaminate and check one source; returns the passing candidates and the counts."""
    from deepmath.sandbox import SandboxLimits, SandboxUnavailable
    from deepmath.sftmix.formats import normalise_row
    from deepmath.sftmix.sources import iter_source_rows, map_fields
    from deepmath.sftmix.verify import check_programs, check_texts

    counts: dict = {
        "in": 0,
        "skipped": Counter(),
        "contaminated": 0,
        "contaminated_by": Counter(),
        "rejected": Counter(),
    }
    candidates: list[Candidate] = []
    seen_ids: Counter = Counter()
    try:
        for source_id, row in iter_source_rows(source, cfg.data_root):
            counts["in"] += 1
            seen_ids[source_id] += 1
            if seen_ids[source_id] > 1:  # a mapped id field need not be unique; keys must be
                source_id = f"{source_id}#{seen_ids[source_id]}"
            result = normalise_row(source, source_id, map_fields(row, source.fields))
            if isinstance(result, Skip):
                counts["skipped"][result.reason] += 1
            else:
                candidates.append(result)
    except (ValueError, OSError) as err:  # a broken file: the error names file and line
        raise ConfigError(f"sft-mix: source '{source.name}': cannot read {source.path}: {err}") from err
    index = matcher.get() if candidates else None
    if index is not None:
        from tqdm import tqdm

        clean = []
        for candidate in tqdm(candidates, desc=f"decontam {source.name}", disable=len(candidates) < 1000):
            hits = index.matches(candidate.conversation_text())
            if hits:
                counts["contaminated"] += 1
                for benchmark in sorted({hit.benchmark for hit in hits}):
                    counts["contaminated_by"][benchmark] += 1
            else:
                clean.append(candidate)
        candidates = clean
    if source.format == "pot":
        limits = SandboxLimits(
            cfg.program_timeout,
            cfg.program_cpu_seconds,
            cfg.program_memory_mb,
            require_isolation=cfg.program_require_isolation,
        )
        cache = work / "programs" / f"{source.name}.jsonl"
        cache.parent.mkdir(parents=True, exist_ok=True)
        try:
            reasons, program_counts = check_programs(candidates, limits, cfg.workers, cache)
        except SandboxUnavailable as err:
            raise ConfigError(f"sft-mix: source '{source.name}': {err}") from err
        counts.update(program_counts)
    else:
        reasons = check_texts(candidates, workers=cfg.workers)
    passed = []
    for candidate in candidates:
        reason = reasons[candidate.key]
        if reason is None:
            passed.append(candidate)
        else:
            counts["rejected"][reason] += 1
    counts["verified"] = len(passed)
    return passed, {k: dict(v) if isinstance(v, Counter) else v for k, v in counts.items()}


def _dedup(cfg: SftMixConfig, candidates: list[Candidate]) -> dict[str, str]:
    """{removed key: kept key} over whole conversations, earlier rows (earlier sources) kept."""
    if not cfg.dedup or len(candidates) < 2:
        return {}
    from deepmath.dedup.api import find_duplicates

    return find_duplicates(
        [c.conversation_text() for c in candidates], [c.key for c in candidates], threshold=cfg.dedup_threshold
    )


def _build(cfg: SftMixConfig, run: StageRun) -> StageResult:
    from deepmath.sftmix.compose import sample_source
    from deepmath.sftmix.formats import final_messages
    from deepmath.sftmix.report import composition_card, composition_plot, composition_table
    from deepmath.sftmix.writer import write_mix

    work = run.output / "_work"
    matcher = _Matcher(cfg)
    per_source: dict[str, list[Candidate]] = {}
    counts: dict[str, dict] = {}
    resumed = []
    for source in cfg.sources:
        loaded = _load_checkpoint(work / "sources", source.name)
        if loaded is not None:
            resumed.append(source.name)
            per_source[source.name], counts[source.name] = loaded
            logger.info("sft-mix: %s: resumed from its checkpoint (%d rows)", source.name, len(loaded[0]))
            continue
        logger.info("sft-mix: %s (%s): reading %s", source.name, source.format, source.path)
        per_source[source.name], counts[source.name] = _process_source(cfg, source, matcher, work)
        _save_checkpoint(work / "sources", source.name, per_source[source.name], counts[source.name])
        logger.info(
            "sft-mix: %s: %d in, %d passed", source.name, counts[source.name]["in"], len(per_source[source.name])
        )

    ordered = [c for source in cfg.sources for c in per_source[source.name]]
    duplicates = _dedup(cfg, ordered)
    final_rows = []
    for source in cfg.sources:
        rows = [c for c in per_source[source.name] if c.key not in duplicates]
        chosen = sample_source(rows, source.weight, source.max_samples, cfg.seed, source.name)
        stats = counts[source.name]
        stats["duplicates"] = len(per_source[source.name]) - len(rows)
        stats["kept"] = len(rows)
        stats["not_sampled"] = len(rows) - len({c.key for c in chosen})
        stats["final"] = len(chosen)
        for candidate in chosen:
            final_rows.append(
                {
                    "messages": final_messages(candidate, cfg.system_prompt),
                    "question": candidate.question,
                    "answer": candidate.gold,
                    "source": candidate.source,
                    "format": candidate.format,
                    "language": candidate.language,
                    "source_id": candidate.source_id,
                }
            )
    random.Random(cfg.seed).shuffle(final_rows)
    total = len(final_rows)
    for stats in counts.values():
        stats["share"] = round(stats["final"] / total, 4) if total else 0.0
    shards = write_mix(final_rows, run.output, cfg.rows_per_shard)
    plot = composition_plot(counts, run.output / "composition.png")
    dropped = _dropped(counts)
    stats = StageStats(
        rows_in=sum(s["in"] for s in counts.values()),
        rows_out=total,
        unit="conversations",
        dropped=dropped,
        plots=[plot] if plot else [],
        extra={
            "upsampled": sum(max(0, s["final"] - s["kept"] + s["not_sampled"]) for s in counts.values()),
            "composition": counts,
            "languages": dict(Counter(r["language"] for r in final_rows)),
            "formats": dict(Counter(r["format"] for r in final_rows)),
            "shards": shards,
            "resumed_sources": resumed,
        },
    )
    table = composition_table(counts)
    card = composition_card(cfg, stats, table, OUTPUT_FIELDS)
    return StageResult(stats=stats, card=card)


def _dropped(counts: dict[str, dict]) -> dict[str, int]:
    """Drops by reason over all sources (skips, contamination, rejections, duplicates, rows left out by weights)."""
    dropped: Counter = Counter()
    for stats in counts.values():
        dropped.update(stats["skipped"])
        dropped.update(stats["rejected"])
        dropped["contaminated"] += stats["contaminated"]
        dropped["duplicate"] += stats["duplicates"]
        dropped["not_sampled"] += stats["not_sampled"]
    return {k: v for k, v in sorted(dropped.items(), key=lambda kv: -kv[1]) if v}
