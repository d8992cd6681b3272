"""The run report's deduplication section (`StageSpec.report` of `dedup`): cluster sizes and the stage's counts,
read from its stats.json (and the plots it listed)."""

from __future__ import annotations

from deepmath.report_kit import Context, pyplot, save_plot, scalars

__all__ = ["section_dedup"]


def section_dedup(context: Context) -> None:
    doc = context.doc
    infos = context.section("Deduplication", None, "a `dedup` stage folder")
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
            plt = pyplot()
            fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
            ax.bar([str(k) for k, _ in pairs], [v for _, v in pairs], color="#3b6fb6")
            ax.set_xlabel("documents in cluster")
            ax.set_ylabel("clusters")
            ax.set_title("Duplicate cluster sizes")
            context.embed(save_plot(context, fig, f"cluster_sizes_{info.name}.png"), "duplicate cluster sizes")
        context.stage_plots(info)
        if pairs:
            doc.table(["cluster size", "clusters"], [[k, v] for k, v in pairs])
        rows = [
            [k, v]
            for k, v in scalars(stats)
            if not k.startswith(("stage", "dropped", "plots", "cluster_sizes", "seconds", "unit"))
        ]
        doc.table(["count", "value"], rows[:30])
