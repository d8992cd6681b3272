"""The run report's mining section (`StageSpec.report` of `mine`): per iteration the selection summary, the score
histogram and the discovered domains, read from what the stage wrote (stats.json, iteration_N/)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from deepmath.report_kit import Context, scalars

__all__ = ["section_mining"]


def _domains_rows(path: Path) -> tuple[list[list], int]:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    domains = data.get("domains") if isinstance(data, dict) else None
    rows, accepted_total = [], 0
    for entry in domains or []:
        if not isinstance(entry, dict):
            continue
        accepted = [p.get("path") for p in entry.get("paths") or [] if isinstance(p, dict) and p.get("accept")]
        accepted_total += len(accepted)
        rows.append(
            [
                entry.get("domain"),
                entry.get("pages"),
                entry.get("collected"),
                entry.get("collected_fraction"),
                ", ".join(f"`{a}`" for a in accepted) or "-",
            ]
        )
    return rows, accepted_total


def section_mining(context: Context) -> None:
    doc = context.doc
    mines = context.section("Mining", None, "a `mine` stage folder")
    for info in mines:
        summary = (info.stats or {}).get("iterations")
        if isinstance(summary, list) and summary and all(isinstance(row, dict) for row in summary):
            columns = list(dict.fromkeys(key for row in summary for key in row))
            doc.para(f"{info.name}: {len(summary)} iteration(s); the last one's selection is the mined corpus.")
            doc.table([c.replace("_", " ") for c in columns], [[row.get(c) for c in columns] for row in summary])
        iterations = sorted(info.path.glob("iteration_*"), key=lambda p: (len(p.name), p.name))
        if not iterations:
            context.lack(f"{info.name}/iteration_N folders")
        for folder in iterations:
            doc.heading(f"{info.name}: {folder.name.replace('_', ' ')}")
            metrics_path = folder / "metrics.json"
            if not metrics_path.exists():
                context.lack(f"{info.name}/{folder.name}/metrics.json")
            elif not isinstance(summary, list):
                metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
                doc.table(["metric", "value"], scalars(metrics)[:20] if isinstance(metrics, dict) else [])
            histogram = folder / "score_histogram.png"
            if histogram.exists():
                context.embed(histogram, f"{folder.name} score histogram")
            else:
                context.lack(f"{info.name}/{folder.name}/score_histogram.png")
            domains = folder / "domains.yaml"
            if domains.exists():
                rows, accepted = _domains_rows(domains)
                doc.para(f"Discovered domains: {len(rows)} reviewed, {accepted} URL path(s) accepted as math.")
                doc.table(["domain", "pages", "collected", "fraction", "accepted paths"], rows[:30])
            else:
                context.lack(f"{info.name}/{folder.name}/domains.yaml")
        context.stage_plots(info)
