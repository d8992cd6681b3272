"""What both training stages need before TRL starts: the problems (decontaminated) and a saved policy.

    train, held_out, report = training_problems(cfg, out)   # tiny task or loaded data; eval set held out
    policy = tiny_policy(cfg, out, train)                   # builds + saves the tiny model when `model: tiny`

The tiny task writes its splits to `OUT/data/{train,test}.jsonl`, so a stage that runs later (GRPO after SFT, or a
re-run) regenerates nothing it already has and every stage sees the very same split. The evaluation set is always
added to the decontamination benchmarks: a training prompt that shares an n-gram with a held-out question is
dropped, so "held out" means held out.
"""

from __future__ import annotations

import logging
from pathlib import Path

from deepmath.problems import DataError, decontaminate, load_problems, read_jsonl, write_jsonl
from deepmath.train.config import TINY

__all__ = ["is_tiny_data", "tiny_policy", "tokenizer_text", "training_problems"]

logger = logging.getLogger(__name__)


TINY_MULTISTEP = "tiny-multistep"  # the multi-step variant (deepmath/tasks/multistep.py), for process supervision


def is_tiny_data(cfg) -> bool:
    return list(cfg.dataset) in ([TINY], [TINY_MULTISTEP])


def _tiny_splits(cfg, out: Path) -> tuple[Path, Path]:
    from deepmath.distributed import main_first

    train_path, test_path = out / "data" / "train.jsonl", out / "data" / "test.jsonl"
    with main_first():  # one writer under a multi-process launch; the others read its files
        if not (train_path.exists() and test_path.exists()):
            _write_tiny_splits(cfg, train_path, test_path)
    return train_path, test_path


def _write_tiny_splits(cfg, train_path: Path, test_path: Path) -> None:
    from deepmath.tasks.arithmetic import make_arithmetic_problems, split_problems

    if list(cfg.dataset) == [TINY_MULTISTEP]:
        from deepmath.tasks.multistep import make_multistep_problems as make_arithmetic_problems
    problems = make_arithmetic_problems(cfg.tiny_problems, cfg.tiny_seed)
    train, test = split_problems(problems, cfg.tiny_test_problems, cfg.tiny_seed)
    for row in train + test:
        row["source"] = "tiny_" + ("multistep" if "plan" in row else "arithmetic")
    write_jsonl(test_path, test)
    write_jsonl(train_path, train)


def training_problems(cfg, out: Path) -> tuple[list[dict], list[dict], dict]:
    """(train problems, evaluation problems, data report) for a recipe, decontaminated against benchmarks + eval."""
    dropped: dict[str, int] = {}
    if is_tiny_data(cfg):
        train_path, test_path = _tiny_splits(cfg, out)
        train = read_jsonl(train_path)
        eval_spec = cfg.eval_data or str(test_path)
    else:
        if TINY in cfg.dataset:
            raise DataError("dataset 'tiny' cannot be mixed with other sources")
        train, dropped = _load_specs(cfg.dataset, cfg.question_field, cfg.answer_field)
        eval_spec = cfg.eval_data
    rows_in = len(train) + sum(dropped.values())
    held_out: list[dict] = []
    if eval_spec:
        held_out, eval_dropped = _load_specs([eval_spec])
        if eval_dropped:
            logger.warning("evaluation set %s: dropped %s", eval_spec, eval_dropped)
        if cfg.eval_max_problems:
            held_out = held_out[: cfg.eval_max_problems]
    benchmarks = list(cfg.decontaminate)
    if eval_spec.startswith(BENCHMARK_PREFIX):  # a registry benchmark: decontaminate against it by name
        name = eval_spec.removeprefix(BENCHMARK_PREFIX).split(":")[0]
        if name not in benchmarks:
            benchmarks.append(name)
    elif eval_spec and not eval_spec.startswith("hf:") and Path(eval_spec).is_file():
        suffix = ":question" if _has_question_column(held_out) else ""
        benchmarks.append(f"eval_set={eval_spec}{suffix}")  # reported as `eval_set` in the drop counts
    train, report = decontaminate(train, benchmarks, ngram=cfg.decontam_ngram)
    if report["dropped"]:
        dropped["contaminated"] = report["dropped"]
    if cfg.max_samples:
        train = train[: cfg.max_samples]
    if not train:
        raise DataError("no training problems left after decontamination")
    summary = {"rows_in": rows_in, "rows_out": len(train), "dropped": dropped, "decontamination": report}
    summary["eval_problems"] = len(held_out)
    return train, held_out, summary


BENCHMARK_PREFIX = "benchmark:"


def _load_specs(specs: list[str], question_field: str = "", answer_field: str = "") -> tuple[list[dict], dict]:
    """Problems from data sources, where `benchmark:NAME[:SPLIT]` is a split of the benchmark registry (the
    split is `test` unless named: `benchmark:gsm8k:train`), and anything else a path/hf:
    source read by `deepmath.problems.load_problems`."""
    from deepmath.benchmarks import load_problems as load_benchmark_problems

    problems: list[dict] = []
    dropped: dict[str, int] = {}
    plain = [spec for spec in specs if not spec.startswith(BENCHMARK_PREFIX)]
    for spec in specs:
        if spec.startswith(BENCHMARK_PREFIX):
            name, _, split = spec.removeprefix(BENCHMARK_PREFIX).partition(":")
            got, lost = load_benchmark_problems(name, split or "test")
            for row in got:
                row.setdefault("source", spec)
            problems += got
            for key, value in lost.items():
                dropped[key] = dropped.get(key, 0) + value
    if plain:
        got, lost = load_problems(plain, question_field, answer_field)
        problems += got
        for key, value in lost.items():
            dropped[key] = dropped.get(key, 0) + value
    if not problems:
        raise DataError(f"no usable question/answer rows in {', '.join(specs)}")
    return problems, dropped


def _has_question_column(problems: list[dict]) -> bool:
    return bool(problems) and "question" in problems[0]


def tokenizer_text(row: dict) -> str:
    """What the tiny model will read of one row, for its tokenizer: every chat turn when the row has `messages`
    (the assistant's solutions are most of what SFT trains on), else the question and its solution (or answer)."""
    messages = row.get("messages")
    if isinstance(messages, list) and messages:
        return "\n".join(str(m.get("content") or "") for m in messages if isinstance(m, dict))
    return f"{row.get('question') or ''} {row.get('solution') or row.get('answer') or ''}".strip()


def tiny_policy(cfg, out: Path, train: list[dict]) -> str:
    """The tiny base model (tokenizer learned from the training text), built once into `OUT/base_model`."""
    from deepmath.distributed import main_first

    path = out / "base_model"
    with main_first():  # one writer under a multi-process launch; the others load what it saved
        if not ((path / "config.json").exists() and (path / "tokenizer.json").exists()):
            _build_tiny(cfg, path, train)
    return str(path)


def _build_tiny(cfg, path: Path, train: list[dict]) -> None:
    from deepmath.train.tiny import build_tiny_model_for

    build_tiny_model_for(cfg, path, [tokenizer_text(p) for p in train], max_positions=256)
