"""`deepmath mine`: iterative fastText math mining with domain discovery (DeepSeekMath section 2.1).

    deepmath mine --pool out/ingest --seeds open-web-math/open-web-math --output out/mine --keep-tokens 40000000000
    deepmath mine --pool pool/ --seeds seeds.jsonl --output out/mine --keep-fraction 0.05 --review manual

Each iteration: seeds (plus pool pages under accepted math paths) vs negatives (`--negatives`, else pool pages
sampled outside the previous selection) -> fastText classifier (held-out precision/recall/AUC) -> every pool page
scored in parallel datatrove tasks -> the top pages by a global token budget -> domains with more than 10% of their
pages collected and their URL paths written to `iteration_N/domains.yaml`, reviewed by a rule (`--review auto`)
or by you (`--review manual` stops; edit, re-run). It stops after `--iterations` or once a new selection is 98%
old pages. The stage's documents are the final selection with `metadata.math_score`, in `DIR/data/` like every
corpus stage, so `@mine` in a recipe (or `DIR` on the command line) is the mined corpus.

    DIR/pool_index/      id, url, domain, path, title, tokens of every pool page (built once)
    DIR/iteration_N/     model.bin, scores.npy, selected.npy, selected_ids.txt.gz, domains.yaml,
                         score_histogram.png, metrics.json (written last: the iteration is done)
    DIR/data/            the final selection (*.jsonl.gz), beside README.md, config.yaml, stats.json, _SUCCESS

Resume: every pass is a datatrove pipeline with its own logs, finished iterations are skipped, and a re-run after
a manual review reads the edited domains.yaml. Where we depart from the paper: the small-training-set rule of
`classifier.py`, the auto-review rule of `domains.py`, the budget's token unit (a DeepSeek tokenizer bundled in a
pip package, not the paper's own; `--token-unit words` for whitespace words), character bigrams for CJK text
(`normalize.py`), and per-language quotas and filters (`--language-quotas`, `--languages`), which the paper has not.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from deepmath.config import ConfigError
from deepmath.executors import run_pipeline
from deepmath.io.atomic import atomic_open, atomic_write_json
from deepmath.io.inputs import InputError, resolve_inputs
from deepmath.mine.card import mine_card, stage_stats
from deepmath.mine.config import MineConfig
from deepmath.stage import StageResult, StageRun, default_tasks, drops_by_reason, run_stage

__all__ = ["run_mine"]

logger = logging.getLogger(__name__)


class _Submitted(Exception):
    """A pipeline went to Slurm; the run continues when the command is re-run after the job finished."""


def run_mine(cfg: MineConfig) -> dict:
    _check_inputs(cfg)  # a missing input fails here, before the output folder is made
    return run_stage("mine", cfg, lambda run: _mine(cfg, run))


def _pipeline(steps: list, cfg: MineConfig, run: StageRun, name: str, tasks: int) -> None:
    if not run_pipeline(steps, cfg, run.logs(name), tasks, job_name=f"mine-{name}"):
        raise _Submitted(name)


def _check_inputs(cfg: MineConfig) -> int:
    """Resolve every input and the tokenizer up front (clear errors before any work); returns the pool's files."""
    from deepmath.mine.tokens import TokenizerError, token_counter

    try:
        token_counter(cfg.token_unit, cfg.tokenizer)
    except TokenizerError as err:
        raise ConfigError(f"mine --tokenizer: {err}") from err
    n_files = 0
    for flag, specs in (("--pool", cfg.pool), ("--seeds", cfg.seeds), ("--negatives", cfg.negatives)):
        if not specs:
            continue
        try:
            sources = resolve_inputs(specs)
        except InputError as err:
            raise ConfigError(f"mine {flag}: {err}") from err
        if flag == "--pool":
            n_files = sum(len(s.files) for s in sources)
    return n_files


def _mine(cfg: MineConfig, run: StageRun) -> StageResult:
    n_files = _check_inputs(cfg)
    iterations: list[dict] = []
    try:
        index = _build_index(cfg, run, n_files)
        seeds_file, n_seeds = _cache_seeds(cfg, run)
        for n in range(1, cfg.iterations + 1):
            folder = run.output / f"iteration_{n}"
            metrics = _load_json(folder / "metrics.json") or _iteration(cfg, run, index, n, seeds_file, n_seeds)
            iterations.append(metrics)
            if metrics["stop"] or n == cfg.iterations:
                break
            review = _read_review(folder)
            if not review.complete:
                message = (
                    f"edit {folder / 'domains.yaml'} ({review.undecided} paths undecided: set accept: true or false, "
                    "or reviewed: true) and re-run the same command"
                )
                return StageResult(
                    stage_stats(index.size, iterations, status="awaiting_review"), complete=False, message=message
                )
        return _finish(cfg, run, index, iterations)
    except _Submitted as submitted:
        message = f"pipeline '{submitted}' was submitted; re-run the same command when it has finished"
        return StageResult(
            None, complete=False, message=message, pending={"status": "submitted", "iterations": iterations}
        )


# ---------------------------------------------------------------------------------------------------- pool index


def _build_index(cfg: MineConfig, run: StageRun, n_files: int):
    from deepmath.io.documents import DocumentReader
    from deepmath.mine.pool import PoolIndex
    from deepmath.mine.steps import PoolIndexer

    folder = run.output / "pool_index"
    if (folder / "index.json").exists():
        index = PoolIndex.load(folder)
    else:
        plan = _load_json(folder / "plan.json")
        if plan is None:
            plan = {"tasks": default_tasks(cfg, n_files)}
            atomic_write_json(folder / "plan.json", plan)
        tasks = int(plan["tasks"])
        indexer = PoolIndexer(str(folder), cfg.domain_key, cfg.token_unit, cfg.tokenizer, cfg.batch_size)
        steps = [DocumentReader(cfg.pool, text_key=cfg.text_key), indexer]
        _pipeline(steps, cfg, run, "pool_index", tasks)
        index = PoolIndex.finish(folder, tasks)
        logger.debug("pool index: %d pages in %d tasks", index.size, tasks)
    if index.size == 0:
        raise ConfigError(f"mine --pool: no documents with text in {', '.join(cfg.pool)}")
    return index


def _cache_seeds(cfg: MineConfig, run: StageRun) -> tuple[Path, int]:
    """Normalised seed lines, written once (the seeds may be a streamed Hugging Face dataset)."""
    from deepmath.mine.classifier import MATH_LABEL

    path = run.output / "_work" / "seeds.txt"
    info = _load_json(path.with_suffix(".json"))
    if info is not None and path.exists():
        return path, int(info["documents"])
    languages: dict[str, int] = {}
    count = _write_lines(path, cfg.seeds, cfg.text_key, MATH_LABEL, cfg.max_seeds, languages)
    if count == 0:
        raise ConfigError(f"mine --seeds: no documents with text in {', '.join(cfg.seeds)}")
    languages = dict(sorted(languages.items(), key=lambda item: -item[1]))
    atomic_write_json(path.with_suffix(".json"), {"documents": count, "languages": languages})
    logger.debug("seeds: %d documents (%s)", count, ", ".join(f"{k} {v}" for k, v in languages.items()))
    return path, count


def _write_lines(path: Path, specs: list[str], text_key: str, label: str, limit: int, languages=None) -> int:
    """fastText lines of the documents; counts their languages into `languages` when given."""
    from deepmath.ingest.language import identify_language
    from deepmath.io.documents import iter_documents
    from deepmath.mine.normalize import training_line

    count = 0
    with atomic_open(path, "w") as out:
        for doc in iter_documents(specs, text_key=text_key, limit=limit):
            out.write(training_line(label, doc.text) + "\n")
            count += 1
            if languages is not None:
                language = doc.metadata.get("language") or identify_language(doc.text)[0]
                languages[language] = languages.get(language, 0) + 1
    return count


# ---------------------------------------------------------------------------------------------------- one iteration


def _iteration(cfg: MineConfig, run: StageRun, index, n: int, seeds_file: Path, n_seeds: int) -> dict:
    from deepmath.io.documents import DocumentReader
    from deepmath.mine.domains import (
        auto_review,
        auto_rule,
        by_language,
        candidate_domains,
        domain_report,
        write_domains_yaml,
    )
    from deepmath.mine.plots import score_histogram
    from deepmath.mine.select import language_counts, select_top
    from deepmath.mine.steps import MathScorer, ScoreRecorder
    from deepmath.mine.stopping import selection_overlap, should_stop

    started = time.time()
    folder = run.output / f"iteration_{n}"
    work = folder / "_work"
    work.mkdir(parents=True, exist_ok=True)
    previous = np.load(run.output / f"iteration_{n - 1}" / "selected.npy") if n > 1 else np.zeros(index.size, bool)
    extra, accepted, new_seeds = _extra_seeds(run.output, index, n, previous)
    model, training = _train(cfg, run, index, n, seeds_file, n_seeds, previous, extra)
    training.update({"accepted_paths": accepted, "new_seeds_from_domains": new_seeds})
    holdout = _holdout_metrics(model, work / "holdout.txt")
    del model
    logger.info(
        "iteration %d: %d seeds + %d from domains vs %d negatives; held-out precision %s recall %s AUC %s",
        n,
        training["seeds"],
        training["seeds_from_domains"],
        training["negatives"],
        holdout.get("precision"),
        holdout.get("recall"),
        holdout.get("auc"),
    )

    scorer = MathScorer(str(folder / "model.bin"), batch_size=cfg.batch_size)
    steps = [
        DocumentReader(cfg.pool, text_key=cfg.text_key),
        scorer,
        ScoreRecorder(str(work / "scores"), str(index.folder)),
    ]
    _pipeline(steps, cfg, run, f"iteration_{n}_score", index.tasks)
    scores = np.concatenate([np.load(work / "scores" / f"{r:05d}.npy") for r in range(index.tasks)])
    _save_npy(folder / "scores.npy", scores)

    tokens = index.tokens()
    languages = index.languages()
    allowed = np.isin(languages, cfg.languages) if cfg.languages else None
    selection = select_top(
        scores,
        tokens,
        keep_tokens=cfg.keep_tokens,
        keep_fraction=cfg.keep_fraction,
        threshold=cfg.threshold,
        languages=languages,
        quotas=cfg.quotas,
        allowed=allowed,
    )
    _save_npy(folder / "selected.npy", selection.mask)
    _write_selected_ids(folder / "selected_ids.txt.gz", index, selection.mask)
    overlap = selection_overlap(selection.mask, previous) if n > 1 else None
    stop = None
    if n > 1 and should_stop(overlap, cfg.stop_overlap):
        stop = "empty selection" if overlap is None else f"overlap {overlap:.4f} >= stop_overlap {cfg.stop_overlap}"

    candidates = candidate_domains(index.iter_pages(selection.mask), cfg.domain_fraction, cfg.domain_min_pages)
    report = domain_report(index.iter_pages(selection.mask), candidates, cfg.path_depth, cfg.max_paths)
    rule = ""
    if cfg.review == "auto":
        auto_review(report, cfg.auto_accept_fraction, cfg.auto_min_pages)
        rule = auto_rule(cfg.auto_accept_fraction, cfg.auto_min_pages)
    write_domains_yaml(folder / "domains.yaml", report, n, cfg.domain_fraction, cfg.review, rule)
    paths = [p for d in report for p in d["paths"]]

    title = f"iteration {n}: {selection.documents:,} of {index.size:,} pages selected"
    score_histogram(scores, selection.mask, folder / "score_histogram.png", title, selection.cutoff_score)
    metrics = {
        "iteration": n,
        "training": training,
        "holdout": holdout,
        "pool": {"documents": index.size, "tokens": int(tokens.sum())},
        "selection": selection.summary(),
        "languages": {
            "pool": language_counts(languages, tokens),
            "selected": language_counts(languages, tokens, selection.mask),
            "seeds": _load_json(seeds_file.with_suffix(".json")).get("languages", {}),
        },
        "overlap_with_previous": None if overlap is None else round(overlap, 4),
        "domains": {
            "candidates": len(report),
            "paths": len(paths),
            "accepted": sum(bool(p["accept"]) for p in paths),
            "by_language": {
                k: {x: v[x] for x in ("domains", "paths", "accepted")} for k, v in by_language(report).items()
            },
            "file": f"iteration_{n}/domains.yaml",
        },
        "stop": stop,
        "histogram": f"iteration_{n}/score_histogram.png",
        "seconds": round(time.time() - started, 2),
    }
    atomic_write_json(folder / "metrics.json", metrics)
    logger.info(
        "iteration %d: selected %d pages / %d tokens (cutoff %s), overlap with previous %s, %d candidate domains%s",
        n,
        selection.documents,
        selection.tokens,
        selection.summary()["cutoff_score"],
        metrics["overlap_with_previous"],
        len(report),
        f"; stopping: {stop}" if stop else "",
    )
    return metrics


def _read_review(folder: Path):
    from deepmath.mine.domains import DomainsFileError, read_domains_yaml

    try:
        return read_domains_yaml(folder / "domains.yaml")
    except DomainsFileError as err:
        raise ConfigError(str(err)) from err


def _extra_seeds(output: Path, index, n: int, previous: np.ndarray) -> tuple[np.ndarray, dict, int]:
    """Pool pages that are seeds in iteration n: uncollected pages under paths accepted after earlier iterations."""
    if n == 1:
        return np.zeros(index.size, dtype=bool), {}, 0
    path = output / f"iteration_{n}" / "_work" / "extra_seeds.npy"
    info = _load_json(path.with_suffix(".json"))
    if info is not None and path.exists():  # a resumed iteration keeps the review it started with
        return np.load(path), info["accepted"], int(info["new"])
    review = _read_review(output / f"iteration_{n - 1}")
    earlier = output / f"iteration_{n - 1}" / "_work" / "extra_seeds.npy"
    extra = np.load(earlier) if earlier.exists() else np.zeros(index.size, dtype=bool)
    new = np.fromiter(
        (not p.collected and review.covers(p.domain, p.path) for p in index.iter_pages(previous)),
        dtype=bool,
        count=index.size,
    )
    new_count = int((new & ~extra).sum())
    extra = extra | new
    _save_npy(path, extra)
    atomic_write_json(
        path.with_suffix(".json"), {"new": new_count, "total": int(extra.sum()), "accepted": review.accepted}
    )
    return extra, review.accepted, new_count


def _train(cfg: MineConfig, run: StageRun, index, n, seeds_file, n_seeds, previous, extra) -> tuple[object, dict]:
    from deepmath.io.documents import DocumentReader
    from deepmath.mine.classifier import (
        OTHER_LABEL,
        FastTextParams,
        effective_params,
        load_model,
        save_model,
        train_classifier,
        training_threads,
    )
    from deepmath.mine.steps import PICK_NEGATIVE, PICK_POSITIVE, TrainingTextWriter

    folder = run.output / f"iteration_{n}"
    work = folder / "_work"
    info = _load_json(work / "training.json")
    if info is not None and (folder / "model.bin").exists():
        return load_model(folder / "model.bin"), info

    positives = n_seeds + int(extra.sum())
    wanted = max(1, math.ceil(cfg.negatives_ratio * positives))
    picks = np.zeros(index.size, dtype=np.int8)
    picks[extra] = PICK_POSITIVE
    sources = [seeds_file]
    if cfg.negatives:
        negatives_file = work / "negatives.txt"
        n_negatives = _write_lines(negatives_file, cfg.negatives, cfg.text_key, OTHER_LABEL, wanted)
        sources.append(negatives_file)
        negatives_source = "--negatives"
    else:
        eligible = np.flatnonzero(~previous & ~extra)
        rng = np.random.default_rng([cfg.seed, n])
        chosen = rng.choice(eligible, size=min(wanted, len(eligible)), replace=False)
        picks[chosen] = PICK_NEGATIVE
        n_negatives = len(chosen)
        negatives_source = "pool outside the previous selection" if n > 1 else "pool"
    if n_negatives < wanted:
        logger.warning("iteration %d: only %d negatives for %d positives", n, n_negatives, positives)
    if n_negatives == 0:
        raise ConfigError("mine: no negatives (the pool is all selected or seeds; give --negatives)")
    if picks.any():
        _save_npy(work / "picks.npy", picks)
        writer = TrainingTextWriter(str(index.folder), str(work / "picks.npy"), str(work / "pool_texts"))
        _pipeline(
            [DocumentReader(cfg.pool, text_key=cfg.text_key), writer], cfg, run, f"iteration_{n}_texts", index.tasks
        )
        sources += sorted((work / "pool_texts").glob("*.txt"))

    n_train, n_holdout = _split_and_shuffle(sources, work / "train.txt", work / "holdout.txt", cfg, n)
    params = FastTextParams(
        dim=cfg.dim,
        lr=cfg.lr,
        word_ngrams=cfg.word_ngrams,
        min_count=cfg.min_count,
        epoch=cfg.epoch,
        bucket=cfg.bucket,
        threads=cfg.threads,
        seed=cfg.seed,
    )
    used, adapted = effective_params(params, n_train, cfg.small_train_size)
    if adapted:
        logger.debug("iteration %d: %d training examples < small_train_size: training with %s", n, n_train, used)
    start = time.time()
    model, lr_used = train_classifier(work / "train.txt", used)
    used = replace(used, lr=lr_used, threads=training_threads(used))
    save_model(model, folder / "model.bin")
    info = {
        "seeds": n_seeds,
        "seeds_from_domains": int(extra.sum()),
        "negatives": n_negatives,
        "negatives_source": negatives_source,
        "train_examples": n_train,
        "holdout_examples": n_holdout,
        "fasttext": used.as_dict(),
        "small_train_rule": adapted,
        "train_seconds": round(time.time() - start, 2),
    }
    atomic_write_json(work / "training.json", info)  # before the cleanup: a resume never sees half the inputs
    # training texts are the largest files of a run; the model and the held-out split are what we keep
    (work / "train.txt").unlink(missing_ok=True)
    (work / "negatives.txt").unlink(missing_ok=True)
    shutil.rmtree(work / "pool_texts", ignore_errors=True)
    return model, info


def _split_and_shuffle(sources: list[Path], train_path: Path, holdout_path: Path, cfg: MineConfig, n: int):
    """Hold out `holdout_fraction` of the lines, shuffle the rest by byte offsets (memory: one int per line)."""
    rng = np.random.default_rng([cfg.seed, n, 1])
    unshuffled = train_path.with_name("train.unshuffled.txt")
    offsets: list[int] = []
    n_holdout = 0
    with open(unshuffled, "wb") as train, open(holdout_path, "wb") as holdout:
        for source in sources:
            with open(source, "rb") as handle:
                for line in handle:
                    if rng.random() < cfg.holdout_fraction:
                        holdout.write(line)
                        n_holdout += 1
                    else:
                        offsets.append(train.tell())
                        train.write(line)
    order = rng.permutation(len(offsets))
    with open(unshuffled, "rb") as src, open(train_path, "wb") as dst:
        for i in order:
            src.seek(offsets[i])
            dst.write(src.readline())
    unshuffled.unlink()
    return len(offsets), n_holdout


def _holdout_metrics(model, holdout_path: Path) -> dict:
    from deepmath.mine.classifier import MATH_LABEL, binary_metrics, predict_math

    labels, texts = [], []
    with open(holdout_path, encoding="utf-8") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition(" ")
            labels.append(label == f"__label__{MATH_LABEL}")
            texts.append(text)
    if not texts:
        return {"examples": 0}
    return binary_metrics(np.asarray(labels), predict_math(model, texts))


def _write_selected_ids(path: Path, index, mask: np.ndarray) -> None:
    with atomic_open(path, "w") as out:
        for position, row in enumerate(index.iter_rows()):
            if mask[position]:
                out.write(f"{row['id']}\n")


# ---------------------------------------------------------------------------------------------------- final output


def _finish(cfg: MineConfig, run: StageRun, index, iterations: list[dict]) -> StageResult:
    """The final iteration's selection as the stage's documents (`DIR/data/`); run_stage writes the rest."""
    from deepmath.io.documents import DocumentReader, document_writer
    from deepmath.mine.steps import SelectionFilter

    last = run.output / f"iteration_{iterations[-1]['iteration']}"
    excluded = None
    if cfg.languages:
        excluded = run.output / "_work" / "excluded_languages.npy"
        _save_npy(excluded, ~np.isin(index.languages(), cfg.languages))
    selection_filter = SelectionFilter(
        str(index.folder),
        str(last / "selected.npy"),
        str(last / "scores.npy"),
        excluded_path=str(excluded) if excluded else None,
    )
    steps = [
        DocumentReader(cfg.pool, text_key=cfg.text_key),
        selection_filter,
        document_writer(run.output, cfg.output_format),
    ]
    _pipeline(steps, cfg, run, "selected", index.tasks)
    stats = stage_stats(index.size, iterations, status="done")
    stats.dropped = drops_by_reason(run.step_stats("selected"))  # rows without text + below_selection
    stats.rows_out = int(np.load(last / "selected.npy").sum())
    stats.extra["languages"] = iterations[-1].get("languages", {})
    return StageResult(stats, mine_card(cfg, stats, iterations))


# ---------------------------------------------------------------------------------------------------- small helpers


def _load_json(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _save_npy(path: Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb") as handle:
        np.save(handle, array)
