"""Score completions produced elsewhere: `deepmath eval --completions FILE --output DIR`.

    deepmath eval --completions qwen_outputs.jsonl --output out/regrade
    deepmath eval --completions runs.parquet --answer-field gt --completion-field responses --output out/regrade
    deepmath eval --completions gsm8k.jsonl --completion-field a.solution,b.solution --label-field a.ok,b.ok ...

Any model, any framework: each row holds a question, a gold answer and one completion or a list of them. Field
names are detected (question: `question`, `problem`, ...; gold: `answer`, `gt`, `ground_truth`, ...; completions:
`completions`, `responses`, `response`, `code`, ...) or given; a dotted name reads inside a nested object
(`6b_finetuning.solution`) and a comma-separated list makes one completion per field. When no completion field is
found but the row holds objects with a `solution`/`completion`/`response` key (OpenAI's GSM8K example solutions:
one object per model setup), each such object is one completion, and its `is_correct`/`correct` key is its label.

Labels another grader gave (`--label-field`, detected: `score`, `is_correct`, `correct`, `label`) are optional; when
present, metrics.json also reports where our verdicts agree with them, and lists every disagreement, so a user can
audit a regrade row by row. A gold answer may be a bare answer or a worked solution with a marker (`\\boxed{}`,
`####`, an `A:` line): `rewards` extracts it.

Writes `metrics.json` (pass@1 = mean correctness over all completions of a problem, averaged over problems; pass@k
with k = the number of completions per problem (the smallest, when rows differ); maj@k with `rewards` answer equivalence),
`data/graded.jsonl.gz` (every row with extracted answers and verdicts), `pass_at_k.png`, `stats.json` and a card.
Rows without a gold answer or without a completion are dropped and counted; problems whose gold `rewards` cannot
parse are reported and left out of the metrics, as in a model evaluation.
"""

from __future__ import annotations

import logging
from pathlib import Path

from deepmath.config import ConfigError

__all__ = ["CompletionRow", "load_completion_rows", "run_score_completions", "score_rows"]

logger = logging.getLogger(__name__)

QUESTION_FIELDS = ("question", "problem", "prompt", "query", "input", "instruction", "Question", "Problem")
GOLD_FIELDS = ("answer", "gt", "gold", "golden", "final_answer", "target", "expected_answer", "ground_truth", "Answer")
COMPLETION_FIELDS = (
    "completions",
    "completion",
    "responses",
    "response",
    "generations",
    "generation",
    "outputs",
    "output",
    "model_output",
    "code",
)
NESTED_COMPLETION_KEYS = ("solution", "completion", "response", "output", "text")
LABEL_FIELDS = ("score", "scores", "is_correct", "correct", "label", "labels")
NESTED_LABEL_KEYS = ("is_correct", "correct", "score", "label")


class CompletionsError(ConfigError):
    """A completions file that cannot be scored as given (one line at the CLI, exit code 2)."""


class CompletionRow(dict):
    """question, answer, completions (list of str), labels (list of bool or None), row (1-based number)."""


_MISSING = object()


def _get(row: dict, dotted: str):
    value = row
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _text(value) -> str | None:
    if value is None or value is _MISSING:
        return None
    if isinstance(value, list | tuple):  # OlympiadBench-style list of final answers
        items = [str(v).strip() for v in value if v is not None and str(v).strip()]
        return ", ".join(items) if items else None
    text = str(value).strip()
    return text or None


def _as_list(value) -> list | None:
    if value is _MISSING or value is None:
        return None
    if hasattr(value, "tolist"):  # numpy arrays from Parquet
        value = value.tolist()
    return list(value) if isinstance(value, list | tuple) else [value]


def _as_label(value) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.strip().lower() in ("true", "1", "yes")
    return None


def _nested_setups(row: dict) -> list[str]:
    """Top-level fields holding one completion object each (OpenAI's GSM8K example solutions)."""
    return [k for k, v in row.items() if isinstance(v, dict) and any(n in v for n in NESTED_COMPLETION_KEYS)]


class _Fields:
    """The fields one file is read with: given, or detected on its first row."""

    def __init__(self, question: str, answer: str, completions: list[str], labels: list[str]):
        self.question, self.answer, self.completions, self.labels = question, answer, completions, labels

    def describe(self) -> dict:
        return {
            "question": self.question,
            "answer": self.answer,
            "completions": self.completions,
            "labels": self.labels,
        }


def _split(names: str) -> list[str]:
    return [n.strip() for n in names.split(",") if n.strip()]


def _detect(row: dict, question: str, answer: str, completion: str, label: str, where: str) -> _Fields:
    fields = list(row)
    q = question or next((f for f in QUESTION_FIELDS if f in row), "")
    a = answer or next((f for f in GOLD_FIELDS if f in row), "")
    if not a:
        raise CompletionsError(
            f"{where}: no gold answer field among {fields}; name it with --answer-field (a dotted name reads inside "
            "objects)"
        )
    completions = _split(completion)
    labels = _split(label)
    if not completions:
        found = next((f for f in COMPLETION_FIELDS if f in row), "")
        if found:
            completions = [found]
        else:
            setups = _nested_setups(row)
            if not setups:
                raise CompletionsError(
                    f"{where}: no completion field among {fields}; name it with --completion-field (comma-separated "
                    "for one completion per field, dotted to read inside objects)"
                )
            key = next(n for n in NESTED_COMPLETION_KEYS if n in row[setups[0]])
            completions = [f"{s}.{key}" for s in setups]
            if not labels:
                label_key = next((n for n in NESTED_LABEL_KEYS if n in row[setups[0]]), "")
                labels = [f"{s}.{label_key}" for s in setups] if label_key else []
    if not labels and not label:
        n = len(_completion_list(row, completions) or [])
        for name in LABEL_FIELDS:
            values = _as_list(_get(row, name))
            if values is not None and len(values) == n and all(_as_label(v) is not None for v in values):
                labels = [name]
                break
    for name in [q, a, *completions, *labels]:
        if name and _get(row, name) is _MISSING:
            raise CompletionsError(f"{where}: field '{name}' not found (fields: {', '.join(fields)})")
    return _Fields(q, a, completions, labels)


def _completion_list(row: dict, names: list[str]) -> list[str] | None:
    if len(names) == 1:
        values = _as_list(_get(row, names[0]))
    else:
        values = [_get(row, n) for n in names]
        values = None if all(v is _MISSING or v is None for v in values) else values
    if values is None:
        return None
    return ["" if v is None or v is _MISSING else str(v) for v in values]


def _label_list(row: dict, names: list[str]) -> list[bool | None] | None:
    if not names:
        return None
    values = _as_list(_get(row, names[0])) if len(names) == 1 else [_get(row, n) for n in names]
    if values is None:
        return None
    return [_as_label(v) for v in values]


def load_completion_rows(
    path: str, question_field: str = "", answer_field: str = "", completion_field: str = "", label_field: str = ""
) -> tuple[list[CompletionRow], dict[str, int], dict]:
    """Rows to score, rows dropped by reason, and the fields used (detected on the first row unless given)."""
    from deepmath.problems import DataError, load_rows

    rows: list[CompletionRow] = []
    dropped: dict[str, int] = {}
    fields: _Fields | None = None
    try:
        for number, row in enumerate(load_rows(path), 1):
            row = dict(row)
            if fields is None:
                fields = _detect(row, question_field, answer_field, completion_field, label_field, f"{path}:{number}")
            gold = _text(_get(row, fields.answer))
            completions = _completion_list(row, fields.completions)
            if gold is None:
                dropped["no_answer"] = dropped.get("no_answer", 0) + 1
                continue
            if not completions:
                dropped["no_completion"] = dropped.get("no_completion", 0) + 1
                continue
            labels = _label_list(row, fields.labels)
            if labels is not None and len(labels) != len(completions):
                raise CompletionsError(
                    f"{path}:{number}: {len(labels)} labels for {len(completions)} completions "
                    f"(label fields {fields.labels})"
                )
            question = _text(_get(row, fields.question)) if fields.question else None
            rows.append(
                CompletionRow(question=question or "", answer=gold, completions=completions, labels=labels, row=number)
            )
    except DataError as err:
        raise CompletionsError(str(err)) from err
    if fields is None:
        raise CompletionsError(f"{path}: no rows")
    if not rows:
        raise CompletionsError(f"{path}: no row has both a gold answer and a completion ({dropped})")
    return rows, dropped, fields.describe()


def score_rows(
    rows: list[CompletionRow], k: int = 0, timeout: float = 300.0, workers: int = 2, fields: list[str] | None = None
):
    """(metrics, graded rows): pass@1 / pass@k / maj@k over the rows (k=0: all completions), label agreement when
    labels exist, and the accuracy of each completion field when there are several (`fields`)."""
    import rewards
    from deepmath.evaluate.metrics import summarize
    from deepmath.evaluate.run import grade_completions, record_grade

    graded = grade_completions(rows, [r["completions"] for r in rows], timeout=timeout, workers=workers)
    out_rows, scored = [], []
    skipped = {"gold_unparseable": 0, "grading_timeout": 0}
    agree = disagree = labelled = label_true = 0
    disagreements = []
    for row, result in zip(rows, graded):
        record = dict(row)
        if record_grade(record, result, skipped, scored):
            for index, (ours, label) in enumerate(zip(result["correct"], row["labels"] or [])):
                if label is None:
                    continue
                labelled += 1
                label_true += label
                if ours == label:
                    agree += 1
                else:
                    disagree += 1
                    disagreements.append(
                        {
                            "row": row["row"],
                            "sample": index,
                            "gold": row["answer"],
                            "predicted": result["answers"][index],
                            "label": label,
                            "ours": ours,
                            "reason": result["reasons"][index],
                        }
                    )
        out_rows.append(record)
    if not scored:
        raise CompletionsError(f"no row could be graded ({ {k: v for k, v in skipped.items() if v} })")
    smallest = min(len(p.correct) for p in scored)
    k = min(k, smallest) if k else smallest
    metrics = summarize(scored, k, equal=rewards.answers_equal)
    metrics[f"pass@{k}"] = metrics["pass@k"]
    metrics[f"maj@{k}"] = metrics["maj@k"]
    metrics["completions"] = sum(len(p.correct) for p in scored)
    metrics["correct"] = sum(sum(p.correct) for p in scored)
    metrics["skipped"] = {key: value for key, value in skipped.items() if value}
    if fields and len(fields) > 1:  # one completion per field (e.g. one per model setup): accuracy of each
        graded_rows = [r for r in out_rows if "correct" in r and len(r["correct"]) == len(fields)]
        metrics["accuracy_by_field"] = (
            {name: sum(r["correct"][i] for r in graded_rows) / len(graded_rows) for i, name in enumerate(fields)}
            if graded_rows
            else {}
        )
    if labelled:
        metrics["labels"] = {
            "labelled": labelled,
            "agree": agree,
            "disagree": disagree,
            "agreement": agree / labelled,
            "label_accuracy": label_true / labelled,
            "disagreements": disagreements,
        }
    return metrics, out_rows


def run_score_completions(cfg) -> dict:
    """The `--completions` form of `deepmath eval` (cfg: EvalConfig) as a stage writing into `cfg.output`."""
    from deepmath.cards import Card
    from deepmath.evaluate.run import plot_eval
    from deepmath.io.atomic import atomic_write_json
    from deepmath.problems import write_jsonl
    from deepmath.stage import StageResult, StageStats, run_stage

    def body(run) -> StageResult:
        rows, dropped, fields = load_completion_rows(
            cfg.completions, cfg.question_field, cfg.answer_field, cfg.completion_field, cfg.label_field
        )
        if cfg.max_problems:
            rows = rows[: cfg.max_problems]
        metrics, graded = score_rows(rows, 0, cfg.grading_timeout, cfg.grading_workers, fields["completions"])
        metrics.update({"completions_file": cfg.completions, "fields": fields})
        run.data_dir.mkdir(parents=True, exist_ok=True)
        write_jsonl(run.data_dir / "graded.jsonl.gz", graded)
        atomic_write_json(run.output / "metrics.json", metrics)
        name = Path(cfg.completions).name
        plot_eval({name: metrics}, run.output / "pass_at_k.png", f"regraded {name}")
        k = metrics["k"]
        line = (
            f"pass@1 {metrics['pass@1']:.4f}  pass@{k} {metrics['pass@k']:.4f}  maj@{k} {metrics['maj@k']:.4f}"
            f"  ({metrics['problems']} problems, {metrics['completions']} completions)"
        )
        if "labels" in metrics:
            labels = metrics["labels"]
            line += f"; agrees with the labels on {labels['agree']}/{labels['labelled']}"
        logger.info("eval --completions: %s -> %s", line, run.output / "metrics.json")
        print(line)
        all_dropped = {**dropped, **metrics["skipped"]}
        card = Card(
            title=f"Regrading of {cfg.completions}",
            stage="eval",
            summary=f"Completions produced elsewhere, graded with `rewards`; fields {fields}.",
            n_rows=len(graded),
            fields={
                "question": "the problem",
                "answer": "gold answer (or solution) as given",
                "completions": "the completions as given",
                "labels": "verdicts of the file's own grader, when it has them",
                "answers": "extracted answer of each completion (None: no answer)",
                "correct": "our verdict of each completion",
                "majority": "index of the majority answer's first completion",
            },
            counts={key: round(metrics[key], 4) for key in ("pass@1", "pass@k", "maj@k")} | {"k": k},
            dropped=all_dropped,
            parameters={"completions": cfg.completions, "fields": fields},
            lineage=[cfg.completions],
            data_files="data/graded.jsonl.gz",
            images=["pass_at_k.png"],
        )
        stats = StageStats(
            rows_in=len(rows) + sum(dropped.values()),
            rows_out=metrics["problems"],
            unit="problems",
            dropped=all_dropped,
            plots=["pass_at_k.png"],
            extra={"metrics": {key: metrics[key] for key in ("pass@1", "pass@k", "maj@k", "k")}},
        )
        return StageResult(stats=stats, card=card)

    return run_stage("eval", cfg, body)
