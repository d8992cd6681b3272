"""The run report's "against the ground truth" section (`StageSpec.report` of `demo-data`): the demo world knows
which page is math, a near-duplicate copy or a benchmark quote (`labels.jsonl.gz`); this counts what each corpus
stage of the run (unit `documents` in its stats.json, after demo-data) kept of them, matched by URL."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from deepmath.report_kit import Context, pyplot, save_plot

__all__ = ["count_kinds", "read_labels", "section_ground_truth"]


def read_labels(path: Path) -> dict[str, dict]:
    """The demo world's ground truth by URL."""
    from deepmath.io.rows import read_rows

    return {row["url"]: row for row in read_rows(path)}


def count_kinds(urls: list[str], labels: dict[str, dict]) -> Counter:
    """Pages of a stage's output by ground-truth kind (math / non-math / copies / quotes / unknown URL)."""
    counts: Counter = Counter()
    for url in urls:
        row = labels.get(url)
        if row is None:
            counts["unknown"] += 1
            continue
        counts[row["label"]] += 1
        if row["kind"] in ("near_duplicate", "quote"):
            counts[row["kind"]] += 1
    return counts


def _stage_urls(folder: Path) -> list[str]:
    from deepmath.io.documents import iter_raw_rows
    from deepmath.io.inputs import resolve_inputs

    urls = []
    for source in resolve_inputs(str(folder)):
        for path in source.files:
            for _, row in iter_raw_rows(path):
                meta = row.get("metadata") or {}
                if isinstance(meta, str):
                    meta = json.loads(meta)
                urls.append(meta.get("url") or row.get("url") or "")
    return urls


def section_ground_truth(context: Context) -> None:
    world = context.first("demo-data")
    if world is None:
        return  # not a demo run: nothing to compare with, and nothing missing
    doc = context.doc
    doc.section("Against the ground truth")
    labels_path = world.path / "labels.jsonl.gz"
    if not labels_path.exists():
        context.lack(f"{world.name}/labels.jsonl.gz")
        return
    labels = read_labels(labels_path)
    doc.para(
        "The demo world knows which page is math, which is a near-duplicate copy and which quotes a benchmark "
        "problem; this is what each stage kept of them (pages matched by URL)."
    )
    folders = []
    for info in context.stages:  # the corpus stages of the run, in stage order
        if info.stage == world.stage or (info.stats or {}).get("unit") != "documents":
            continue
        if not info.complete:
            context.lack(f"finished output of {info.name}")
            continue
        folders.append(info)
    if not folders:
        context.lack("finished corpus stage outputs (ingest, mine, dedup, decontam ...) to compare")
        return
    rows, series = [], []
    for info in folders:
        name = info.name
        counts = count_kinds(_stage_urls(info.path), labels)
        series.append((info, counts))
        rows.append(
            [
                name,
                sum(counts[k] for k in ("math", "nonmath", "unknown")),
                counts["math"],
                counts["nonmath"],
                counts["near_duplicate"],
                counts["quote"],
                counts["unknown"],
            ]
        )
    doc.table(["stage", "pages", "math", "non-math", "near-duplicate copies", "benchmark quotes", "unknown URL"], rows)
    _quality_notes(context, series)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.4), dpi=110)
    names = [info.name for info, _ in series]
    math = [c["math"] for _, c in series]
    other = [c["nonmath"] for _, c in series]
    ax.bar(names, math, color="#3b6fb6", label="math pages")
    ax.bar(names, other, bottom=math, color="#c9ced6", label="non-math pages")
    ax.set_ylabel("pages")
    ax.set_title("Math and non-math pages kept per stage (ground truth)")
    ax.legend(frameon=False)
    context.embed(save_plot(context, fig, "ground_truth.png"), "math and non-math pages per stage")


def _quality_notes(context: Context, series: list[tuple]) -> None:
    """What mining, dedup and decontamination each did to the pages they are for, by the ground truth."""
    counts = {info.name: kinds for info, kinds in series}
    stages = {info.name: info.stage for info, _ in series}
    names = list(counts)
    first = counts[names[0]]
    notes = []
    for name in names[1:]:
        if stages[name] == "mine":
            kept = counts[name]
            if first["math"]:
                recall = kept["math"] / first["math"]
                precision = kept["math"] / max(1, kept["math"] + kept["nonmath"])
                notes.append(
                    f"{name}: kept {recall:.0%} of the ingested math pages; {precision:.0%} of what it kept is math"
                )
    previous = None
    for name in names:
        if previous is not None and counts[previous]["near_duplicate"] and stages[name] == "dedup":
            removed = counts[previous]["near_duplicate"] - counts[name]["near_duplicate"]
            notes.append(f"{name}: removed {removed} of {counts[previous]['near_duplicate']} near-duplicate copies")
        if previous is not None and counts[previous]["quote"] and stages[name] == "decontam":
            removed = counts[previous]["quote"] - counts[name]["quote"]
            notes.append(f"{name}: removed {removed} of {counts[previous]['quote']} pages quoting the benchmark")
        previous = name
    context.doc.bullets(notes)
