"""The mix's composition: a markdown table per source, a bar chart (PNG), the dataset card, and the stage's
section of the run report (`section_sft`, read back from stats.json)."""

from __future__ import annotations

from pathlib import Path

from deepmath.cards import Card
from deepmath.io.atomic import atomic_write_png
from deepmath.report_kit import count

__all__ = ["composition_card", "composition_plot", "composition_table", "section_sft"]

# what happened to a source's rows, in the order the stage applies it (colours of the bar chart)
_FATES = (
    ("skipped", "#bdbdbd"),
    ("contaminated", "#d62728"),
    ("rejected", "#ff7f0e"),
    ("duplicates", "#9467bd"),
    ("not_sampled", "#8c564b"),
    ("final", "#2ca02c"),
)


def _reasons(counter: dict) -> str:
    if not counter:
        return "0"
    total = sum(counter.values())
    parts = ", ".join(f"{reason} {n:,}" for reason, n in sorted(counter.items(), key=lambda kv: -kv[1]))
    return f"{total:,} ({parts})"


def composition_table(counts: dict[str, dict]) -> str:
    """Markdown: per source, rows in, skipped and rejected by reason, decontaminated, duplicates, kept, final share."""
    lines = [
        "| source | in | skipped | decontaminated | rejected | duplicates | kept | final | share |",
        "| --- | ---: | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, s in counts.items():
        contaminated = f"{s['contaminated']:,}"
        if s.get("contaminated_by"):
            contaminated += " (" + ", ".join(f"{b} {n:,}" for b, n in s["contaminated_by"].items()) + ")"
        lines.append(
            f"| {name} | {s['in']:,} | {_reasons(s['skipped'])} | {contaminated} | {_reasons(s['rejected'])} | "
            f"{s['duplicates']:,} | {s['kept']:,} | {s['final']:,} | {100 * s['share']:.1f}% |"
        )
    return "\n".join(lines) + "\n"


def composition_plot(counts: dict[str, dict], path: str | Path) -> str | None:
    """Stacked bars of each source's rows by fate, and the final share; returns the PNG's file name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(counts)
    if not names:
        return None
    path = Path(path)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 0.6 * len(names) + 2.2), gridspec_kw={"width_ratios": [3, 1]})
    starts = [0] * len(names)
    for fate, colour in _FATES:
        values = []
        for name in names:
            value = counts[name][fate]
            values.append(sum(value.values()) if isinstance(value, dict) else value)
        if fate == "final":  # upsampled rows make `final` exceed what passed; draw the passing part only
            values = [min(v, counts[n]["kept"] - counts[n]["not_sampled"]) for v, n in zip(values, names)]
        left.barh(names, values, left=starts, color=colour, label=fate.replace("_", " "))
        starts = [a + b for a, b in zip(starts, values)]
    left.set_xlabel("source rows")
    left.set_title("what happened to each source's rows")
    left.invert_yaxis()
    left.legend(loc="lower right", fontsize=8)
    shares = [100 * counts[n]["share"] for n in names]
    right.barh(names, shares, color="#2ca02c")
    right.set_xlabel("% of the mix")
    right.set_title("final share")
    right.invert_yaxis()
    right.set_yticklabels([])
    for y, share in enumerate(shares):
        right.text(share, y, f" {share:.1f}%", va="center", fontsize=8)
    right.set_xlim(0, max([*shares, 1]) * 1.3)
    fig.tight_layout()
    atomic_write_png(path, fig, dpi=110)
    plt.close(fig)
    return path.name


def composition_card(cfg, stats, table: str, fields: dict[str, str]) -> Card:
    """The dataset card of a mix (`stats`: the stage's StageStats): fields, counts, drops by reason, the
    composition table and chart."""
    from deepmath.config import config_to_dict
    from deepmath.sftmix.sources import resolve_path

    sources = "\n".join(
        f"- `{s.name}`: {s.format} from `{resolve_path(s.path, cfg.data_root)}` (weight {s.weight:g}"
        + (f", max_samples {s.max_samples:,}" if s.max_samples >= 0 else "")
        + ")"
        for s in cfg.sources
    )
    checks = (
        "CoT and TIR rows keep only answers equal to the gold by `rewards.verify` (gold first). PoT programs ran in "
        "`deepmath.sandbox`: a bubblewrap sandbox each (no network, no host files or processes, a private "
        "temporary folder, wall-clock, CPU, memory, file-size, output and process limits; `isolation` in each "
        "source's stats says `inprocess` where bubblewrap was unavailable and only the fallback layer, not a "
        "boundary, ran); their `ans` variable or last printed line had to equal the gold, and a forged result "
        f"record counts as `program_forged`. Benchmarks ({', '.join(cfg.benchmarks) or 'none'}) were matched with the "
        f"{cfg.decontam_ngram}-gram rule on the question and solution. Exact and near duplicates "
        f"(Jaccard >= {cfg.dedup_threshold}) of whole conversations were removed, earlier sources first. "
        f"Weights and max_samples were applied after all filters with seed {cfg.seed}."
    )
    return Card(
        title="SFT mix",
        stage="sft-mix",
        summary="Verified, decontaminated, weighted chat data from chain-of-thought, program-of-thought and "
        "tool-integrated sources (DeepSeekMath-Instruct style).",
        n_rows=stats.rows_out,
        fields=fields,
        counts={
            "rows in": stats.rows_in,
            "rows out": stats.rows_out,
            "rows repeated by weights": stats.extra["upsampled"],
            **{f"format {k}": v for k, v in sorted(stats.extra["formats"].items())},
            **{f"language {k}": v for k, v in sorted(stats.extra["languages"].items())},
        },
        dropped=stats.dropped,
        unit="rows",
        parameters=config_to_dict(cfg),
        lineage=[resolve_path(s.path, cfg.data_root) for s in cfg.sources],
        data_files="data/*.parquet",
        tags=["sft", "chat"],
        sections={"Sources": sources, "Composition": table, "Checks": checks},
        images=stats.plots,
    )


def section_sft(context) -> None:
    """The run report's SFT-mix section (`context`: a `deepmath.report_kit.Context`)."""
    doc = context.doc
    infos = context.section("SFT mix", None, "an `sft-mix` stage folder")
    for info in infos:
        stats = info.stats or {}
        doc.para(
            f"{info.name}: {count(stats, 'rows_in') or 0:,} rows read, {count(stats, 'rows_out') or 0:,} "
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
