"""The sections of the run report, in order; each reads what other stages wrote and says what it did not find.

Every `section_*` function takes the `Context` and appends to its `ReportDoc`; missing inputs go to
`context.missing` (listed at the end of the report) and a note in place. Plots the report draws itself are saved
as PNG in the report's folder (`context.output`) and listed in `context.plots`.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deepmath.demo.reportdoc import ReportDoc
from deepmath.io.atomic import atomic_write_png

__all__ = ["SECTIONS_AFTER", "SECTIONS_BEFORE", "Context", "count_kinds", "read_labels", "section_generic"]

logger = logging.getLogger(__name__)

_CORPUS = ["demo-data", "ingest", "mine", "dedup", "decontam"]
_FUNNEL_LABEL = {
    "demo-data": "pages crawled",
    "ingest": "HTML pages ingested",
    "mine": "math pages mined",
    "dedup": "after dedup",
    "decontam": "after decontamination",
}


def read_labels(path: Path) -> dict[str, dict]:
    """The demo world's ground truth by URL."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return {row["url"]: row for row in rows}


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


@dataclass
class Context:
    run_dir: Path
    output: Path  # the report's own folder (plots)
    stages: list  # [StageInfo] in pipeline order
    by_stage: dict  # stage name -> [StageInfo]
    doc: ReportDoc
    missing: list[str]
    plots: list[str]
    embedded: set = field(default_factory=set)

    def first(self, stage: str):
        found = self.by_stage.get(stage) or []
        return found[0] if found else None

    def embed(self, path: Path, alt: str) -> None:
        if path.resolve() in self.embedded:
            return
        if self.doc.image(path, alt):
            self.embedded.add(path.resolve())

    def stage_plots(self, info) -> None:
        """Embed the PNGs a stage listed in stats.json `plots` that are not shown yet."""
        for rel in (info.stats or {}).get("plots") or []:
            self.embed(info.path / rel, f"{info.name}: {Path(rel).stem}")

    def lack(self, what: str) -> None:
        self.missing.append(what)
        self.doc.note(f"not found: {what}")

    def section(self, title: str, stages: tuple[str, ...], lacking: str) -> list:
        """Open a report section and return the folders of `stages` it reports on (noted as missing when none)."""
        self.doc.section(title)
        infos = [info for stage in stages for info in self.by_stage.get(stage, [])]
        if not infos:
            self.lack(lacking)
        return infos


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(context: Context, fig, name: str) -> Path:
    path = atomic_write_png(context.output / name, fig, bbox_inches="tight", metadata={"Software": None})
    _plt().close(fig)
    context.plots.append(name)
    return path


def _drops_text(dropped) -> str:
    if not isinstance(dropped, dict) or not dropped:
        return ""
    return ", ".join(
        f"{reason}: {count:,}" if isinstance(count, int) else f"{reason}: {count}" for reason, count in dropped.items()
    )


def _scalars(data: dict, prefix: str = "") -> list[list]:
    """Flatten numbers/strings of a (nested) dict into [key, value] rows."""
    rows = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += _scalars(value, f"{name}.")
        elif isinstance(value, bool | int | float | str) and not (isinstance(value, str) and len(value) > 120):
            rows.append([name, value])
    return rows


def _count(stats: dict | None, *keys: str):
    for key in keys:
        value = (stats or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


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
        rows.append(
            [
                info.name,
                info.stage,
                status,
                _count(stats, "documents_in", "rows_in"),
                _count(stats, "documents_out", "rows_out"),
                stats.get("seconds"),
                card,
            ]
        )
        if info.problem:
            doc.note(f"{info.name}: {info.problem}")
    doc.table(["folder", "stage", "status", "in", "out", "seconds", "card"], rows)


def section_funnel(context: Context) -> None:
    doc = context.doc
    doc.section("Funnel")
    steps = [info for stage in _CORPUS for info in context.by_stage.get(stage, []) if info.stats]
    if not steps:
        context.lack("corpus stages (demo-data, ingest, mine, dedup, decontam) with stats.json")
        return
    labels, values, rows = [], [], []
    for info in steps:
        out = _count(info.stats, "documents_out")
        if out is None:
            continue
        label = f"{info.name}: {_FUNNEL_LABEL.get(info.stage, info.stage)}"
        labels.append(label)
        values.append(out)
        rows.append([info.name, _count(info.stats, "documents_in"), out, _drops_text(info.stats.get("dropped"))])
    doc.para("Pages left after each corpus stage, and why the others were dropped.")
    plt = _plt()
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
    context.embed(_save(context, fig, "funnel.png"), "documents per stage")
    doc.table(["stage", "in", "out", "dropped (reason: documents)"], rows)


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
    mines = context.section("Mining", ("mine",), "a `mine` stage folder")
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
                doc.table(["metric", "value"], _scalars(metrics)[:20] if isinstance(metrics, dict) else [])
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
    for stage in ("ingest", "mine", "dedup", "decontam"):
        for info in context.by_stage.get(stage, []):
            if not info.complete:
                context.lack(f"finished output of {info.name}")
                continue
            folders.append((info.name, info.path))
    if not folders:
        context.lack("finished ingest/mine/dedup/decontam outputs to compare")
        return
    rows, series = [], []
    for name, folder in folders:
        counts = count_kinds(_stage_urls(folder), labels)
        series.append((name, counts))
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
    _quality_notes(context, dict(series))
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.4), dpi=110)
    names = [name for name, _ in series]
    math = [c["math"] for _, c in series]
    other = [c["nonmath"] for _, c in series]
    ax.bar(names, math, color="#3b6fb6", label="math pages")
    ax.bar(names, other, bottom=math, color="#c9ced6", label="non-math pages")
    ax.set_ylabel("pages")
    ax.set_title("Math and non-math pages kept per stage (ground truth)")
    ax.legend(frameon=False)
    context.embed(_save(context, fig, "ground_truth.png"), "math and non-math pages per stage")


def _quality_notes(context: Context, counts: dict[str, Counter]) -> None:
    names = list(counts)
    first = counts[names[0]]
    notes = []
    for name in names[1:]:
        if name.startswith("mine") or "mine" in name:
            kept = counts[name]
            if first["math"]:
                recall = kept["math"] / first["math"]
                precision = kept["math"] / max(1, kept["math"] + kept["nonmath"])
                notes.append(
                    f"{name}: kept {recall:.0%} of the ingested math pages; {precision:.0%} of what it kept is math"
                )
    previous = None
    for name in names:
        if previous is not None and counts[previous]["near_duplicate"] and "dedup" in name:
            removed = counts[previous]["near_duplicate"] - counts[name]["near_duplicate"]
            notes.append(f"{name}: removed {removed} of {counts[previous]['near_duplicate']} near-duplicate copies")
        if previous is not None and counts[previous]["quote"] and "decontam" in name:
            removed = counts[previous]["quote"] - counts[name]["quote"]
            notes.append(f"{name}: removed {removed} of {counts[previous]['quote']} pages quoting the benchmark")
        previous = name
    context.doc.bullets(notes)


def section_dedup(context: Context) -> None:
    doc = context.doc
    infos = context.section("Deduplication", ("dedup",), "a `dedup` stage folder")
    for info in infos:
        stats = info.stats or {}
        sizes = stats.get("cluster_sizes")
        pairs = sorted((int(k), int(v)) for k, v in sizes.items()) if isinstance(sizes, dict) else []
        if pairs:
            clusters = sum(v for k, v in pairs if k > 1)
            doc.para(
                f"{info.name}: {clusters:,} duplicate clusters; the largest holds {pairs[-1][0]} documents, "
                "of which one is kept."
            )
        else:
            context.lack(f"{info.name}: cluster sizes (`cluster_sizes` in stats.json)")
        if pairs and not stats.get("plots"):  # the stage drew no plot of its own: draw the cluster sizes here
            plt = _plt()
            fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
            ax.bar([str(k) for k, _ in pairs], [v for _, v in pairs], color="#3b6fb6")
            ax.set_xlabel("documents in cluster")
            ax.set_ylabel("clusters")
            ax.set_title("Duplicate cluster sizes")
            context.embed(_save(context, fig, f"cluster_sizes_{info.name}.png"), "duplicate cluster sizes")
        context.stage_plots(info)
        if pairs:
            doc.table(["cluster size", "clusters"], [[k, v] for k, v in pairs])
        rows = [
            [k, v]
            for k, v in _scalars(stats)
            if not k.startswith(("stage", "dropped", "plots", "cluster_sizes", "seconds"))
        ]
        doc.table(["count", "value"], rows[:30])


def section_decontam(context: Context) -> None:
    infos = context.section("Decontamination", ("decontam",), "a `decontam` stage folder")
    for info in infos:
        path = info.path / "contamination.json"
        if not path.exists():
            context.lack(f"{info.name}/contamination.json")
            continue
        report = json.loads(path.read_text(encoding="utf-8"))
        _contamination(context, info.name, report)
        context.stage_plots(info)


def _contamination(context: Context, name: str, report) -> None:
    """`contamination.json` of `deepmath decontam`: per-benchmark counts and the first hits."""
    doc = context.doc
    benchmarks = report.get("benchmarks") if isinstance(report, dict) else None
    if not isinstance(benchmarks, dict):
        doc.note(f"{name}: contamination.json has no `benchmarks` mapping")
        return
    doc.para(f"{name}: {report.get('documents_hit', 0):,} document(s) hit ({report.get('hits', 0):,} matches).")
    rows, examples = [], []
    for bench, entry in benchmarks.items():
        entry = entry if isinstance(entry, dict) else {}
        rows.append([bench, entry.get("items"), entry.get("items_hit"), entry.get("documents_hit")])
        for hit in entry.get("hits") or []:
            if isinstance(hit, dict):
                examples.append(
                    [
                        bench,
                        hit.get("item_id", ""),
                        hit.get("url") or hit.get("doc_id", ""),
                        hit.get("kind", ""),
                        " ".join(str(hit.get("matched_text", "")).split())[:120],
                    ]
                )
    doc.table(["benchmark", "items", "items hit", "documents hit"], rows)
    if examples:
        doc.heading(f"{name}: first hits")
        doc.table(["benchmark", "item", "document", "how", "matched text"], examples[:12])


def section_sft(context: Context) -> None:
    doc = context.doc
    infos = context.section("SFT mix", ("sft-mix",), "an `sft-mix` stage folder")
    for info in infos:
        stats = info.stats or {}
        doc.para(
            f"{info.name}: {_count(stats, 'rows_in') or 0:,} rows read, {_count(stats, 'rows_out') or 0:,} "
            "rows in the mix."
        )
        composition = stats.get("composition")
        if isinstance(composition, dict) and composition:
            rows = []
            for source, value in composition.items():
                if not isinstance(value, dict):
                    rows.append([source, None, None, None, None, value, None])
                    continue
                rejected = value.get("rejected")
                rejected = sum(rejected.values()) if isinstance(rejected, dict) else rejected
                share = value.get("share")
                rows.append(
                    [
                        source,
                        value.get("in"),
                        value.get("contaminated"),
                        rejected,
                        value.get("duplicates"),
                        value.get("final"),
                        f"{share:.1%}" if isinstance(share, float) else share,
                    ]
                )
            doc.table(
                ["source", "rows in", "contaminated", "wrong answer / failed", "duplicates", "in the mix", "share"],
                rows,
            )
        else:
            context.lack(f"{info.name}: `composition` in stats.json")
        if stats.get("dropped"):
            doc.table(["dropped because", "rows"], [[k, v] for k, v in stats["dropped"].items()])
        composition_png = info.path / "composition.png"
        if composition_png.exists():
            context.embed(composition_png, "SFT mix composition")
        context.stage_plots(info)


def _train_metrics(info) -> dict:
    for candidate in (info.path / "metrics.json", info.path / "model" / "metrics.json"):
        if candidate.exists():
            data = json.loads(candidate.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    return {}


def section_training(context: Context) -> None:
    doc = context.doc
    infos = context.section("Training", ("train-sft", "train-grpo"), "`train-sft` / `train-grpo` stage folders")
    for info in infos:
        doc.heading(f"{info.name} ({info.stage})")
        metrics = _train_metrics(info)
        rows = [
            [k, v]
            for k, v in _scalars({**(info.stats or {}), **metrics})
            if not k.startswith(("eval_before", "eval_after", "plots", "stage"))
        ]
        doc.table(["metric", "value"], rows[:30])
        if info.stage == "train-grpo":
            curve = info.path / "reward_curve.png"
            if curve.exists():
                context.embed(curve, "GRPO reward curve")
            else:
                context.lack(f"{info.name}/reward_curve.png")
        context.stage_plots(info)


def _metric_pairs(before: dict, after: dict) -> list[tuple[str, float, float]]:
    flat_before = dict(_scalars(before))
    flat_after = dict(_scalars(after))
    pairs = []
    for key, value in flat_before.items():
        other = flat_after.get(key)
        if isinstance(value, int | float) and isinstance(other, int | float) and not isinstance(value, bool):
            pairs.append((key, float(value), float(other)))
    return pairs


def section_eval(context: Context) -> None:
    doc = context.doc
    doc.section("Evaluation")
    found = False
    for info in context.by_stage.get("train-grpo") or []:
        metrics = {**(info.stats or {}), **_train_metrics(info)}
        before, after = metrics.get("eval_before"), metrics.get("eval_after")
        if not (isinstance(before, dict) and isinstance(after, dict)):
            context.lack(f"{info.name}: `eval_before` and `eval_after` in metrics.json")
            continue
        pairs = [p for p in _metric_pairs(before, after) if re.match(r"(pass|maj)@|pass_curve|mean_completion", p[0])]
        if not pairs:
            context.lack(f"{info.name}: numeric metrics in eval_before/eval_after")
            continue
        found = True
        doc.para(f"{info.name}: the policy before and after GRPO on the same held-out problems.")
        doc.table(["metric", "before", "after", "change"], [[k, b, a, round(a - b, 4)] for k, b, a in pairs])
        rates = [(k, b, a) for k, b, a in pairs if re.match(r"(pass|maj)@", k) and 0 <= b <= 1 and 0 <= a <= 1]
        if rates:
            plt = _plt()
            fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
            xs = range(len(rates))
            ax.bar([x - 0.2 for x in xs], [b for _, b, _ in rates], width=0.4, label="before", color="#c9ced6")
            ax.bar([x + 0.2 for x in xs], [a for _, _, a in rates], width=0.4, label="after", color="#3b6fb6")
            ax.set_xticks(list(xs), [k for k, _, _ in rates], rotation=20)
            ax.set_ylim(0, 1)
            ax.set_title("Before and after GRPO")
            ax.legend(frameon=False)
            context.embed(_save(context, fig, f"eval_{info.name}.png"), "evaluation before and after GRPO")
    for info in context.by_stage.get("eval") or []:
        found = True
        rows = [[k, v] for k, v in _scalars(info.stats or {}) if not k.startswith(("plots", "stage", "dropped"))]
        doc.heading(info.name)
        doc.table(["metric", "value"], rows[:30])
        context.stage_plots(info)
    if not found and not (context.by_stage.get("train-grpo") or []):
        context.lack("evaluation results (a `train-grpo` metrics.json or an `eval` stage)")


def section_cards(context: Context) -> None:
    doc = context.doc
    doc.section("Data cards")
    cards = [f"`{info.name}/README.md`: {info.stage}" for info in context.stages if info.has_card]
    if cards:
        doc.para(f"{len(cards)} dataset card(s), one per stage folder:")
        doc.bullets(cards)
    else:
        context.lack("dataset cards (README.md in stage folders)")


def section_nothing(context: Context) -> None:
    """The fragment of a stage the run-level sections already cover (ingest: the funnel)."""


def section_generic(context: Context, infos: list) -> None:
    """The fragment of a stage that declares none: its headline counts and the plots it listed."""
    doc = context.doc
    for info in infos:
        doc.section(f"{info.name} ({info.stage})")
        stats = info.stats or {}
        rows = [[k, v] for k, v in _scalars(stats) if not k.startswith(("plots", "stage"))]
        if rows:
            doc.table(["count", "value"], rows[:30])
        context.stage_plots(info)


# Run-level sections around the stages' own fragments (StageSpec.report), which the report assembles in stage order
SECTIONS_BEFORE = [section_stages, section_funnel]
SECTIONS_AFTER = [section_cards]
