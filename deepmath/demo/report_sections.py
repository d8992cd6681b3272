"""The run-wide sections of the report: the stages table and the corpus funnel before the stages' own fragments,
the data cards after them.

Each stage's section lives in its own package and is named by its `StageSpec.report` (`deepmath/mine/report.py`
section_mining, `deepmath/dedup/report.py`, ...); the shared `Context` and helpers are in `deepmath.report_kit`.
Every section reads only stats.json and what the stages wrote; missing inputs become notes, never a crash.
"""

from __future__ import annotations

import importlib
import warnings

from deepmath.report_kit import Context, count, drops_text, pyplot, save_plot

__all__ = ["SECTIONS_AFTER", "SECTIONS_BEFORE", "Context", "section_cards", "section_funnel", "section_stages"]

# how the funnel names the built-in corpus stages (any stage whose stats count `documents` is in the funnel)
_FUNNEL_LABEL = {
    "demo-data": "pages crawled",
    "ingest": "HTML pages ingested",
    "mine": "math pages mined",
    "dedup": "after dedup",
    "decontam": "after decontamination",
}


def section_stages(context: Context) -> None:
    doc = context.doc
    doc.section("Stages")
    if not context.stages:
        context.lack(f"stage folders in {context.run_dir}")
        return
    rows = []
    for info in context.stages:
        stats = info.stats or {}
        status = "complete" if info.complete else ("not finished" if info.stats is None else "incomplete")
        card = f"`{info.name}/README.md`" if info.has_card else "no card"
        unit = stats.get("unit") if isinstance(stats.get("unit"), str) else ""
        rows.append(
            [
                info.name,
                info.stage,
                status,
                count(stats, "rows_in"),
                count(stats, "rows_out"),
                unit,
                stats.get("seconds"),
                card,
            ]
        )
        if info.problem:
            doc.note(f"{info.name}: {info.problem}")
    doc.table(["folder", "stage", "status", "in", "out", "unit", "seconds", "card"], rows)


def section_funnel(context: Context) -> None:
    doc = context.doc
    doc.section("Funnel")
    steps = [info for info in context.stages if info.stats and info.stats.get("unit") == "documents"]
    if not steps:
        context.lack("corpus stages (demo-data, ingest, mine, dedup, decontam) with stats.json")
        return
    labels, values, rows = [], [], []
    for info in steps:
        out = count(info.stats, "rows_out")
        if out is None:
            continue
        label = f"{info.name}: {_FUNNEL_LABEL.get(info.stage, info.stage)}"
        labels.append(label)
        values.append(out)
        rows.append([info.name, count(info.stats, "rows_in"), out, drops_text(info.stats.get("dropped"))])
    doc.para("Pages left after each corpus stage, and why the others were dropped.")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(values) + 1.2), dpi=110)
    bars = ax.barh(range(len(values)), values, color="#3b6fb6")
    ax.set_yticks(range(len(values)), labels)
    ax.invert_yaxis()
    ax.bar_label(bars, labels=[f"{v:,}" for v in values], padding=3, fontsize=9)
    ax.set_xlabel("documents")
    ax.set_xlim(0, max([*values, 1]) * 1.15)
    ax.set_title("Documents per stage")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    context.embed(save_plot(context, fig, "funnel.png"), "documents per stage")
    doc.table(["stage", "in", "out", "dropped (reason: documents)"], rows)


def section_cards(context: Context) -> None:
    doc = context.doc
    doc.section("Data cards")
    cards = [f"`{info.name}/README.md`: {info.stage}" for info in context.stages if info.has_card]
    if cards:
        doc.para(f"{len(cards)} dataset card(s), one per stage folder:")
        doc.bullets(cards)
    else:
        context.lack("dataset cards (README.md in stage folders)")


# Run-level sections around the stages' own fragments (StageSpec.report), which the report assembles in stage order
SECTIONS_BEFORE = [section_stages, section_funnel]
SECTIONS_AFTER = [section_cards]

# where the stage sections went (kept for one release: a `report=` target or an import naming the old place works)
_MOVED = {
    "section_ground_truth": "deepmath.demo.report_truth",
    "read_labels": "deepmath.demo.report_truth",
    "count_kinds": "deepmath.demo.report_truth",
    "section_mining": "deepmath.mine.report",
    "section_dedup": "deepmath.dedup.report",
    "section_decontam": "deepmath.decontam.report",
    "section_sft": "deepmath.sftmix.report",
    "section_training": "deepmath.train.report",
    "section_eval": "deepmath.evaluate.report",
    "section_nothing": "deepmath.report_kit",
    "section_generic": "deepmath.report_kit",
}


def __getattr__(name: str):
    if name in _MOVED:
        warnings.warn(
            f"deepmath.demo.report_sections.{name} moved to {_MOVED[name]}", DeprecationWarning, stacklevel=2
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
