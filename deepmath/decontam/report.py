"""The contamination report: `contamination.json` (every hit) and `contamination.md` (per-benchmark summary).

Per benchmark: items in the index, items hit, documents hit, and for each hit the item id, the document id and
url, how it matched (`ngram`, `whole`, `run`), the overlap in tokens and the matched text. The stage also draws
`plots/contamination.png` (documents hit per benchmark) for the run report, and `section_decontam` is the stage's
fragment of that report (`StageSpec.report`), read back from `contamination.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from deepmath.io.atomic import atomic_write_json, atomic_write_png, atomic_write_text

__all__ = ["build_report", "markdown_summary", "plot_report", "read_hits", "section_decontam", "write_report"]


def read_hits(folder: str | Path) -> list[dict]:
    """Every hit line of the per-task files in `folder`, in task order."""
    from deepmath.io.rows import read_rows

    return [hit for path in sorted(Path(folder).glob("*.jsonl")) for hit in read_rows(path)]


def build_report(hits: list[dict], index_benchmarks: list[dict], rule: dict, extra: dict | None = None) -> dict:
    """Group hits by benchmark (every benchmark of the index appears, hit or not)."""
    benchmarks: dict[str, dict] = {}
    for bench in index_benchmarks:
        benchmarks[bench["name"]] = {
            "origin": bench.get("origin", []),
            "fields": bench.get("fields", []),
            "items": bench.get("items", 0),
            "items_hit": 0,
            "documents_hit": 0,
            "hits": [],
        }
    for hit in hits:
        entry = benchmarks.setdefault(
            hit["benchmark"],
            {"origin": [], "fields": [], "items": 0, "items_hit": 0, "documents_hit": 0, "hits": []},
        )
        entry["hits"].append({k: v for k, v in hit.items() if k != "benchmark"})
    for entry in benchmarks.values():
        entry["items_hit"] = len({h["item_id"] for h in entry["hits"]})
        entry["documents_hit"] = len({h["doc_id"] for h in entry["hits"]})
    documents = {h["doc_id"] for h in hits}
    return {
        "rule": rule,
        **(extra or {}),
        "documents_hit": len(documents),
        "hits": len(hits),
        "benchmarks": benchmarks,
    }


def _cell(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.replace("|", "\\|").replace("`", "'")


def markdown_summary(report: dict, max_hits: int = 50) -> str:
    """Markdown: a table per benchmark and the first `max_hits` hits of each."""
    lines = [
        "| benchmark | items | items hit | documents hit |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, entry in report["benchmarks"].items():
        lines.append(f"| {name} | {entry['items']:,} | {entry['items_hit']:,} | {entry['documents_hit']:,} |")
    lines.append("")
    lines.append(f"Documents hit: **{report['documents_hit']:,}** ({report['hits']:,} matches).")
    for name, entry in report["benchmarks"].items():
        if not entry["hits"] or max_hits == 0:
            continue
        lines += [
            "",
            f"### {name}",
            "",
            "| item | document | url | how | tokens | matched text |",
            "| --- | --- | --- | --- | ---: | --- |",
        ]
        for hit in entry["hits"][:max_hits]:
            lines.append(
                f"| {_cell(hit['item_id'], 40)} | {_cell(hit['doc_id'], 60)} | {_cell(hit.get('url') or '', 60)} "
                f"| {hit['kind']} | {hit['tokens']} | {_cell(hit['matched_text'])} |"
            )
        if len(entry["hits"]) > max_hits:
            lines.append(f"\n({len(entry['hits']) - max_hits:,} more in contamination.json)")
    return "\n".join(lines) + "\n"


def write_report(output: str | Path, report: dict, max_hits: int = 50) -> tuple[Path, Path]:
    """Write `contamination.json` and `contamination.md` into `output`."""
    output = Path(output)
    json_path, md_path = output / "contamination.json", output / "contamination.md"
    atomic_write_json(json_path, report)
    rule = ", ".join(f"{k}={v}" for k, v in report["rule"].items())
    atomic_write_text(md_path, f"# Benchmark contamination\n\nRule: {rule}\n\n" + markdown_summary(report, max_hits))
    return json_path, md_path


def plot_report(output: str | Path, report: dict) -> str:
    """Bar chart of documents hit per benchmark; returns its path relative to `output`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(report["benchmarks"])
    values = [report["benchmarks"][n]["documents_hit"] for n in names]
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(names) + 2), 3.2))
    ax.bar(range(len(names)), values, color="#c0504d")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylabel("documents hit")
    ax.set_title("benchmark contamination")
    fig.tight_layout()
    relative = "plots/contamination.png"
    atomic_write_png(Path(output) / relative, fig, dpi=110)
    plt.close(fig)
    return relative


def section_decontam(context) -> None:
    """The run report's decontamination section (`context`: a `deepmath.report_kit.Context`)."""
    infos = context.section("Decontamination", None, "a `decontam` stage folder")
    for info in infos:
        path = info.path / "contamination.json"
        if not path.exists():
            context.lack(f"{info.name}/contamination.json")
            continue
        report = json.loads(path.read_text(encoding="utf-8"))
        _contamination(context, info.name, report)
        context.stage_plots(info)


def _contamination(context, name: str, report) -> None:
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
