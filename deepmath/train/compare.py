"""`deepmath compare RUN_DIR... --output DIR`: several training runs' held-out metrics in one table and one plot.

    deepmath compare runs/rft runs/online_rft runs/grpo runs/dpo --output runs/compare
    deepmath compare runs/*/seed* --labels rft rft rft grpo grpo grpo --output runs/compare   # mean over seeds

Reads each finished run's `metrics.json` (written alike by `train grpo|rft|online-rft|dpo`): the evaluation of the
starting policy (`eval_before`), of the final model (`eval_after`) and the `eval_curve` (every `eval_every` steps).
Runs that share a label are aggregated: mean, standard deviation and range over them (e.g. seeds). Writes
`compare.md` (markdown table), `compare.json`, `compare.png` (pass@1 and maj@k against training steps, mean line and
min-max band per label), `data/runs.jsonl` (one row per run), `README.md`, `stats.json`, `_SUCCESS`.
Only runs evaluated with the same k and the same number of problems are compared (ConfigError otherwise).
"""

from __future__ import annotations

import json
import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.config import ConfigError

__all__ = ["CompareConfig", "run_compare"]

METRICS = ("pass@1", "maj@k", "pass@k")

logger = logging.getLogger(__name__)


@dataclass
class CompareConfig:
    """Compare finished training runs on their held-out evaluations."""

    runs: list[str] = field(default_factory=list, metadata={"help": "finished training run folders"})
    output: str = field(default="", metadata={"help": "output folder"})
    labels: list[str] = field(
        default_factory=list, metadata={"help": "one label per run (default: the folder name); equal labels average"}
    )
    title: str = field(default="held-out evaluation against training steps", metadata={"help": "plot title"})
    overwrite: bool = False

    def __post_init__(self):
        if not self.runs:
            raise ValueError("no runs given (deepmath compare RUN_DIR... --output DIR)")
        if self.labels and len(self.labels) != len(self.runs):
            raise ValueError(f"{len(self.labels)} labels for {len(self.runs)} runs")


def _load(run: str) -> dict:
    path = Path(run)
    if not path.is_dir():
        raise ConfigError(f"compare: {run} is not a folder")
    metrics_path = path / "metrics.json"
    if not (path / "_SUCCESS").exists() or not metrics_path.exists():
        raise ConfigError(f"compare: {run} is not a finished training run (no _SUCCESS or metrics.json)")
    try:
        metrics = json.loads(metrics_path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError(f"compare: {metrics_path} is not valid JSON: {err}") from err
    if not metrics.get("eval_after"):
        raise ConfigError(f"compare: {run} has no held-out evaluation (eval_k 0 or no eval set)")
    return metrics


def _stats(values: list[float]) -> dict:
    return {
        "mean": statistics.fmean(values),
        "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def _cell(stat: dict) -> str:
    if stat["n"] == 1:
        return f"{stat['mean']:.3f}"
    return f"{stat['mean']:.3f} ± {stat['sd']:.3f} [{stat['min']:.3f}, {stat['max']:.3f}]"


def _rows(cfg: CompareConfig) -> list[dict]:
    labels = cfg.labels or [Path(run.rstrip("/")).name for run in cfg.runs]
    rows = []
    for run, label in zip(cfg.runs, labels):
        metrics = _load(run)
        before, after = metrics.get("eval_before") or {}, metrics["eval_after"]
        curve = metrics.get("eval_curve") or []
        if not curve:  # a run from before eval_curve existed: its two ends
            steps = (metrics.get("train") or {}).get("steps", 0)
            curve = ([{"step": 0, **before}] if before else []) + [{"step": steps, **after}]
        rows.append(
            {
                "run": run,
                "label": label,
                "method": metrics.get("method", "grpo" if "rewards" in metrics else "?"),
                "policy": metrics.get("policy"),
                "policy_samples": metrics.get("policy_samples"),
                "steps": (metrics.get("train") or {}).get("steps"),
                "k": after["k"],
                "problems": after["problems"],
                "before": {key: before[key] for key in METRICS} if before else None,
                "after": {key: after[key] for key in METRICS},
                "curve": [{"step": p["step"], **{key: p[key] for key in METRICS}} for p in curve],
            }
        )
    shapes = {(r["k"], r["problems"]) for r in rows}
    if len(shapes) > 1:
        raise ConfigError(f"compare: runs were evaluated differently (k, problems): {sorted(shapes)}")
    return rows


def _groups(rows: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["label"], []).append(row)
    out = []
    for label, members in groups.items():
        entry = {
            "label": label,
            "methods": sorted({m["method"] for m in members}),
            "runs": len(members),
            "policy_samples": [m["policy_samples"] for m in members],
            "steps": [m["steps"] for m in members],
            "after": {key: _stats([m["after"][key] for m in members]) for key in METRICS},
        }
        befores = [m for m in members if m["before"]]
        if befores:
            entry["before"] = {key: _stats([m["before"][key] for m in befores]) for key in METRICS}
            deltas = [m["after"]["pass@1"] - m["before"]["pass@1"] for m in befores]
            entry["delta_pass@1"] = _stats(deltas)
        out.append(entry)
    return out


def _table(groups: list[dict], k: int, problems: int) -> str:
    lines = [
        f"Held-out evaluation: {problems} problems, k = {k}; mean ± sd [min, max] over the runs of a label.",
        "",
        f"| label | runs | policy samples | steps | pass@1 before | pass@1 after | Δ pass@1 | maj@{k} | pass@{k} |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for g in groups:
        samples = sorted({s for s in g["policy_samples"] if s is not None})
        steps = sorted({s for s in g["steps"] if s is not None})
        before = _cell(g["before"]["pass@1"]) if "before" in g else "-"
        delta = _cell(g["delta_pass@1"]) if "delta_pass@1" in g else "-"
        lines.append(
            f"| {g['label']} | {g['runs']} | {'/'.join(map(str, samples)) or '-'} | "
            f"{'/'.join(map(str, steps)) or '-'} | {before} | {_cell(g['after']['pass@1'])} | {delta} | "
            f"{_cell(g['after']['maj@k'])} | {_cell(g['after']['pass@k'])} |"
        )
    return "\n".join(lines) + "\n"


def _plot(rows: list[dict], path: Path, title: str, k: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepmath.io.atomic import atomic_write_png

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    labels = list(dict.fromkeys(r["label"] for r in rows))
    for label in labels:
        members = [r for r in rows if r["label"] == label]
        steps = sorted({p["step"] for r in members for p in r["curve"]})
        for ax, key in zip(axes, ("pass@1", "maj@k")):
            means, lows, highs, xs = [], [], [], []
            for step in steps:
                values = [p[key] for r in members for p in r["curve"] if p["step"] == step]
                xs.append(step)
                means.append(statistics.fmean(values))
                lows.append(min(values))
                highs.append(max(values))
            line = ax.plot(xs, means, marker="o", markersize=3, label=f"{label} (n={len(members)})")[0]
            if len(members) > 1:
                ax.fill_between(xs, lows, highs, alpha=0.15, color=line.get_color())
    for ax, key in zip(axes, ("pass@1", f"maj@{k}")):
        ax.set_xlabel("training step")
        ax.set_ylabel(f"held-out {key}")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    atomic_write_png(path, fig, dpi=110)
    plt.close(fig)


def run_compare(cfg: CompareConfig) -> dict:
    """Compare `cfg.runs` into `cfg.output`; returns the stage stats."""
    from deepmath.cards import Card
    from deepmath.io.atomic import atomic_write_json, atomic_write_text
    from deepmath.problems import write_jsonl
    from deepmath.stage import StageResult, StageStats, run_stage

    rows = _rows(cfg)  # bad runs fail before anything is written

    def body(run) -> StageResult:
        groups = _groups(rows)
        k, problems = rows[0]["k"], rows[0]["problems"]
        table = _table(groups, k, problems)
        atomic_write_text(run.output / "compare.md", table)
        atomic_write_json(run.output / "compare.json", {"groups": groups, "runs": rows})
        write_jsonl(run.output / "data" / "runs.jsonl", rows)
        _plot(rows, run.output / "compare.png", cfg.title, k)
        card = Card(
            title="Comparison of training runs",
            stage="compare",
            summary="Held-out pass@1, maj@k and pass@k of the runs below (their `metrics.json`), grouped by label.",
            n_rows=len(rows),
            fields={
                "run": "run folder",
                "label": "group",
                "method": "training method",
                "policy_samples": "completions drawn from a policy",
                "before / after": "held-out metrics of the starting policy / the final model",
                "curve": "held-out metrics against training steps",
            },
            counts={"runs": len(rows), "labels": len(groups), "k": k, "problems": problems},
            sections={"Results": table},
            parameters={"labels": [r["label"] for r in rows]},
            lineage=list(cfg.runs),
            data_files="data/runs.jsonl",
            images=["compare.png"],
        )
        for line in table.splitlines():
            logger.info("%s", line)
        stats = StageStats(len(rows), len(rows), unit="runs", plots=["compare.png"], extra={"labels": len(groups)})
        return StageResult(stats=stats, card=card)

    return run_stage("compare", cfg, body)
