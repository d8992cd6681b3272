"""The run report's training section, shared by the fine-tuning stages (`StageSpec.report` of train-sft,
train-grpo, train-rft, train-online-rft, train-dpo, train-prm): the numbers of stats.json and metrics.json and the
curves the stage drew. Light imports only (no torch): the report runs without the training extras."""

from __future__ import annotations

from deepmath.report_kit import Context, run_metrics, scalars

__all__ = ["section_training"]


def section_training(context: Context) -> None:
    doc = context.doc
    infos = context.section("Training", None, "training stage folders")
    for info in infos:
        doc.heading(f"{info.name} ({info.stage})")
        metrics = run_metrics(info)
        rows = [
            [k, v]
            for k, v in scalars({**(info.stats or {}), **metrics})
            if not k.startswith(("eval_before", "eval_after", "plots", "stage", "unit"))
        ]
        doc.table(["metric", "value"], rows[:30])
        if info.stage == "train-grpo":
            curve = info.path / "reward_curve.png"
            if curve.exists():
                context.embed(curve, "GRPO reward curve")
            else:
                context.lack(f"{info.name}/reward_curve.png")
        context.stage_plots(info)
