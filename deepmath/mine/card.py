"""The card and stats.json of `deepmath mine`: counts, one row per iteration, the classifier, accepted paths."""

from __future__ import annotations

from deepmath.cards import Card
from deepmath.executors import EXECUTION_FIELDS
from deepmath.stats import StageStats

__all__ = ["FIELDS", "mine_card", "stage_stats"]

FIELDS = {
    "id": "the pool document's id",
    "text": "the pool document's text",
    "metadata.math_score": "P(math) of the final iteration's fastText classifier",
    "metadata.*": "the pool document's metadata (url, domain, url_path, title, ...)",
}


def stage_stats(documents_in: int, iterations: list[dict], status: str) -> StageStats:
    """stats.json of the stage: the stage contract's counts plus a summary row per iteration (`rows_out` and
    `dropped` are set once the final selection is written)."""
    final = iterations[-1] if iterations else None
    return StageStats(
        rows_in=documents_in,
        rows_out=0,
        unit="documents",
        plots=[m["histogram"] for m in iterations],
        extra={
            "status": status,
            "pool_tokens": final["pool"]["tokens"] if final else None,
            "selected_tokens": final["selection"]["tokens"] if final else None,
            "final_iteration": final["iteration"] if final else None,
            "stopped": final["stop"] if final else None,
            "iterations": [_summary(m) for m in iterations],
        },
    )


def _summary(metrics: dict) -> dict:
    return {
        "iteration": metrics["iteration"],
        "selected_documents": metrics["selection"]["documents"],
        "selected_tokens": metrics["selection"]["tokens"],
        "cutoff_score": metrics["selection"]["cutoff_score"],
        "overlap_with_previous": metrics["overlap_with_previous"],
        "seeds_from_domains": metrics["training"]["seeds_from_domains"],
        "holdout_precision": metrics["holdout"].get("precision"),
        "holdout_recall": metrics["holdout"].get("recall"),
        "holdout_auc": metrics["holdout"].get("auc"),
        "candidate_domains": metrics["domains"]["candidates"],
        "accepted_paths": metrics["domains"]["accepted"],
    }


def mine_card(cfg, stats: StageStats, iterations: list[dict]) -> Card:
    """The card of DIR, whose `data/` holds the final selection."""
    rows = [
        "| iteration | selected pages | selected tokens | cutoff score | overlap with previous | seeds from domains "
        "| held-out precision | recall | AUC | candidate domains | accepted paths |",
        "|" + " ---: |" * 11,
    ]
    for s in stats.extra["iterations"]:
        rows.append(
            f"| {s['iteration']} | {s['selected_documents']:,} | {s['selected_tokens']:,} | {s['cutoff_score']} "
            f"| {_dash(s['overlap_with_previous'])} | {s['seeds_from_domains']:,} | {s['holdout_precision']} "
            f"| {s['holdout_recall']} | {s['holdout_auc']} | {s['candidate_domains']} | {s['accepted_paths']} |"
        )
    accepted_lines = []
    for metrics in iterations[1:]:
        for domain, paths in sorted(metrics["training"]["accepted_paths"].items()):
            accepted_lines.append(
                f"- after iteration {metrics['iteration'] - 1}: `{domain}` {', '.join(f'`{p}`' for p in paths)}"
            )
    classifier_lines = []
    for metrics in iterations:
        t, ft = metrics["training"], metrics["training"]["fasttext"]
        classifier_lines.append(
            f"- iteration {metrics['iteration']}: {t['seeds']:,} seeds + {t['seeds_from_domains']:,} pages under "
            f"accepted paths vs {t['negatives']:,} negatives ({t['negatives_source']}); fastText dim {ft['dim']}, "
            f"lr {ft['lr']}, word n-grams {ft['word_ngrams']}, min count {ft['min_count']}, epoch {ft['epoch']}, "
            f"bucket {ft['bucket']:,}" + (" (small-training-set rule)" if t["small_train_rule"] else "")
        )
    stop = stats.extra["stopped"] or f"reached --iterations {cfg.iterations}"
    selection = iterations[-1]["selection"]
    summary = (
        f"Math pages mined from {stats.rows_in:,} pool pages by {len(iterations)} iteration(s) of the "
        "DeepSeekMath recipe: a fastText classifier trained on seeds vs negatives scores every page, the top pages "
        f"are kept by a global token budget ({selection['rule']}), and URL paths of domains with many collected pages "
        f"feed new seeds. Stopped: {stop}. Scores are `metadata.math_score`; token counts are {_unit(cfg)}."
    )
    note = (
        "\n\nHeld-out metrics are seeds vs negatives at P(math) >= 0.5. Without `--negatives`, iteration 1 draws its "
        "negatives at random from the pool, math pages included, so its held-out precision understates the classifier."
    )
    return Card(
        title="deepmath mine",
        stage="mine",
        summary=summary,
        n_rows=stats.rows_out,
        fields=FIELDS,
        counts={
            "pool documents": stats.rows_in,
            "pool tokens": stats.extra["pool_tokens"],
            "selected documents": stats.rows_out,
            "selected tokens": stats.extra["selected_tokens"],
            "iterations": len(iterations),
        },
        dropped=stats.dropped,
        parameters={k: v for k, v in vars(cfg).items() if k not in EXECUTION_FIELDS and not k.startswith("slurm")},
        lineage=[*cfg.pool, *cfg.seeds, *cfg.negatives],
        data_files="data/*",
        tags=["fasttext", "common-crawl"],
        sections={
            "Iterations": "\n".join(rows) + note,
            "Classifier": "\n".join(classifier_lines),
            "Accepted math paths": "\n".join(accepted_lines) or "_none_",
            "Languages": languages_table(iterations[-1].get("languages", {}), _unit(cfg))
            + _domains_by_language(iterations),
        },
        images=list(stats.plots),
    )


def _unit(cfg) -> str:
    return "whitespace words" if cfg.token_unit == "words" else f"`{cfg.tokenizer}` tokenizer tokens"


def languages_table(languages: dict, unit: str) -> str:
    """Pool and selection per identified language (and seeds), for the card."""
    pool, selected, seeds = languages.get("pool", {}), languages.get("selected", {}), languages.get("seeds", {})
    if not pool:
        return "_no language counts_"
    rows = [
        f"Languages identified by py3langid (`metadata.language` when ingest set it); tokens are {unit}.",
        "",
        "| language | seeds | pool pages | pool tokens | selected pages | selected tokens | selected share of tokens |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = sum(v["tokens"] for v in selected.values()) or 1
    for code in sorted(set(pool) | set(seeds), key=lambda c: -pool.get(c, {}).get("tokens", 0)):
        p, s = pool.get(code, {}), selected.get(code, {"documents": 0, "tokens": 0})
        rows.append(
            f"| {code} | {seeds.get(code, 0):,} | {p.get('documents', 0):,} | {p.get('tokens', 0):,} "
            f"| {s['documents']:,} | {s['tokens']:,} | {s['tokens'] / total:.1%} |"
        )
    return "\n".join(rows)


def _domains_by_language(iterations: list[dict]) -> str:
    lines = []
    for metrics in iterations:
        split = metrics["domains"].get("by_language") or {}
        if split:
            parts = [f"{k}: {v['domains']} domains, {v['accepted']} accepted paths" for k, v in split.items()]
            lines.append(f"- iteration {metrics['iteration']}: " + "; ".join(parts))
    return "\n\nCandidate domains by majority language:\n\n" + "\n".join(lines) if lines else ""


def _dash(value) -> str:
    return "-" if value is None else str(value)
