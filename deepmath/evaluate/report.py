"""The run report's evaluation section (`StageSpec.report` of `eval`): each `eval` folder's metrics, and the
before/after evaluation that a training stage recorded (`eval_before`/`eval_after` in its stats.json or
metrics.json). It reads those files only: evaluate does not import train."""

from __future__ import annotations

import re

from deepmath.report_kit import Context, pyplot, run_metrics, save_plot, scalars

__all__ = ["section_eval"]


def _metric_pairs(before: dict, after: dict) -> list[tuple[str, float, float]]:
    flat_before = dict(scalars(before))
    flat_after = dict(scalars(after))
    pairs = []
    for key, value in flat_before.items():
        other = flat_after.get(key)
        if isinstance(value, int | float) and isinstance(other, int | float) and not isinstance(value, bool):
            pairs.append((key, float(value), float(other)))
    return pairs


def _before_after(context: Context, info) -> bool:
    """The table and bar chart of one training folder's evaluation before and after; False when it has none."""
    doc = context.doc
    metrics = {**(info.stats or {}), **run_metrics(info)}
    before, after = metrics.get("eval_before"), metrics.get("eval_after")
    if not (isinstance(before, dict) and isinstance(after, dict)):
        context.lack(f"{info.name}: `eval_before` and `eval_after` in metrics.json")
        return False
    pairs = [p for p in _metric_pairs(before, after) if re.match(r"(pass|maj)@|pass_curve|mean_completion", p[0])]
    if not pairs:
        context.lack(f"{info.name}: numeric metrics in eval_before/eval_after")
        return False
    doc.para(f"{info.name}: the policy before and after {info.stage} on the same held-out problems.")
    doc.table(["metric", "before", "after", "change"], [[k, b, a, round(a - b, 4)] for k, b, a in pairs])
    rates = [(k, b, a) for k, b, a in pairs if re.match(r"(pass|maj)@", k) and 0 <= b <= 1 and 0 <= a <= 1]
    if rates:
        plt = pyplot()
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
        xs = range(len(rates))
        ax.bar([x - 0.2 for x in xs], [b for _, b, _ in rates], width=0.4, label="before", color="#c9ced6")
        ax.bar([x + 0.2 for x in xs], [a for _, _, a in rates], width=0.4, label="after", color="#3b6fb6")
        ax.set_xticks(list(xs), [k for k, _, _ in rates], rotation=20)
        ax.set_ylim(0, 1)
        ax.set_title(f"Before and after {info.stage}")
        ax.legend(frameon=False)
        context.embed(save_plot(context, fig, f"eval_{info.name}.png"), f"evaluation before and after {info.stage}")
    return True


def _evaluated_before(info) -> bool:
    if "eval_before" in (info.stats or {}):
        return True
    try:
        return "eval_before" in run_metrics(info)
    except (OSError, ValueError):
        return False


def section_eval(context: Context) -> None:
    doc = context.doc
    doc.section("Evaluation")
    found = False
    # a training stage that evaluated its policy before and after training says so in stats.json or metrics.json
    trained = [info for info in context.stages if _evaluated_before(info)]
    for info in trained:
        found = _before_after(context, info) or found
    for info in context.by_stage.get("eval") or []:
        found = True
        rows = [[k, v] for k, v in scalars(info.stats or {}) if not k.startswith(("plots", "stage", "dropped"))]
        doc.heading(info.name)
        doc.table(["metric", "value"], rows[:30])
        context.stage_plots(info)
    if not found and not trained:
        context.lack("evaluation results (a training stage's eval_before/eval_after or an `eval` stage)")
