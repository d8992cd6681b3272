"""`deepmath pretrain-ablation RECIPE.yaml --output DIR`: corpus quality as downstream quality (DeepSeekMath Figure 3).

    deepmath pretrain-ablation ablation.yaml --output runs/ablation

The paper trained the same 1.3B model with the same token budget on each candidate corpus and compared benchmark
scores. Here every corpus in `corpora` is trained with the same pretraining recipe (`recipe` + `pretrain`), the
same budget and each seed in `seeds`; the measure is held-out bits per byte on benchmark test texts
(`deepmath.evaluate.lm`), which a model a few hundred K parameters large can already separate, where accuracy on
MATH would be zero for all. With `model: tiny` the tokenizer is learned once per seed from all corpora together
and every corpus starts from the very same initial model (`OUT/base/seed-S`), so the corpus is the only thing
that differs between two runs of one seed.

Runs go to `OUT/runs/<corpus>-seed<S>/` (each a `train-pretrain` stage folder: a killed ablation resumes run by
run); `ablation.json` and `ablation.md` hold bits/byte per corpus, benchmark and seed with mean and spread, and the
gap of each corpus to the first one; `ablation.png` plots them.
"""

from __future__ import annotations

import json
import logging
import statistics
from pathlib import Path

from deepmath.train.ablation_config import AblationConfig

__all__ = ["ablation_table", "run_ablation"]

logger = logging.getLogger(__name__)

PLOT = "ablation.png"


def run_ablation(cfg: AblationConfig) -> dict:
    from deepmath.config import ConfigError
    from deepmath.stage import run_stage
    from deepmath.train.data import DataError

    try:
        return run_stage("pretrain-ablation", cfg, lambda run: _ablate(cfg, run.output))
    except DataError as err:
        raise ConfigError(f"pretrain-ablation: {err}") from err


def _shared_base(cfg: AblationConfig, out: Path, seed: int) -> str | None:
    """The tiny model of one seed, tokenizer learned from every corpus; None when the recipe names a real model."""
    from itertools import chain

    from deepmath.train.config import TINY
    from deepmath.train.data import load_rows
    from deepmath.train.packing import iter_source_texts
    from deepmath.train.prepare import tokenizer_text
    from deepmath.train.tiny import build_tiny_model_for

    recipe = cfg.run_recipe(cfg.corpora[0], seed, str(out / "validation"))
    if recipe.model != TINY:
        return None
    path = out / "base" / f"seed-{seed}"
    if (path / "config.json").exists() and (path / "tokenizer.json").exists():
        return str(path)
    per_corpus = max(1, recipe.tiny_tokenizer_documents // len(cfg.corpora))
    corpus = (t for c in cfg.corpora for t in iter_source_texts({**c, "weight": 1.0}, per_corpus))
    extra = (tokenizer_text(row) for spec in recipe.tokenizer_data for row in load_rows(spec))
    build_tiny_model_for(recipe, path, chain(corpus, extra), seed=seed)
    return str(path)


def _run_one(cfg: AblationConfig, out: Path, corpus: dict, seed: int, base: str | None) -> dict:
    from deepmath.evaluate.lm import score_benchmarks
    from deepmath.io.atomic import atomic_write_json
    from deepmath.train.pretrain import run_pretrain

    folder = out / "runs" / f"{corpus['name']}-seed{seed}"
    recipe = cfg.run_recipe(corpus, seed, str(folder), model=base)
    stats = run_pretrain(recipe)
    scores_path = folder / "bits_per_byte.json"
    if not scores_path.exists():
        scores = score_benchmarks(
            str(folder / "model"), cfg.benchmarks, cfg.eval_max_items, seed=0, max_length=cfg.eval_max_length
        )
        atomic_write_json(scores_path, scores)
    scores = json.loads(scores_path.read_text())
    return {
        "corpus": corpus["name"],
        "seed": seed,
        "tokens_seen": stats.get("tokens_seen"),
        "final_loss": stats.get("final_loss"),
        "bits_per_byte": {name: r["bits_per_byte"] for name, r in scores.items()},
    }


def ablation_table(runs: list[dict], corpora: list[str]) -> dict:
    """Mean, spread (sample std) and per-seed bits/byte per corpus and benchmark, and each corpus's gap to the first
    (mean difference, spread of the per-seed differences, and whether it is lower in every seed)."""
    benchmarks = list(dict.fromkeys(b for r in runs for b in r["bits_per_byte"]))
    table: dict = {"corpora": corpora, "benchmarks": benchmarks, "results": {}, "gaps": {}}
    by = {(r["corpus"], r["seed"]): r for r in runs}
    seeds = sorted({r["seed"] for r in runs})
    for corpus in corpora:
        table["results"][corpus] = {}
        for bench in benchmarks:
            values = [by[(corpus, s)]["bits_per_byte"][bench] for s in seeds if (corpus, s) in by]
            table["results"][corpus][bench] = {
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "by_seed": dict(zip(map(str, seeds), values)),
            }
    reference = corpora[0]
    for corpus in corpora[1:]:
        table["gaps"][corpus] = {}
        for bench in benchmarks:
            diffs = [
                by[(corpus, s)]["bits_per_byte"][bench] - by[(reference, s)]["bits_per_byte"][bench]
                for s in seeds
                if (corpus, s) in by and (reference, s) in by
            ]
            spread = max(table["results"][c][bench]["std"] for c in (reference, corpus))
            mean = statistics.fmean(diffs) if diffs else 0.0
            table["gaps"][corpus][bench] = {
                "mean": mean,  # > 0: the reference corpus (the first) gives lower bits/byte
                "std": statistics.stdev(diffs) if len(diffs) > 1 else 0.0,
                "reference_lower_every_seed": bool(diffs) and all(d > 0 for d in diffs),
                "gap_exceeds_seed_spread": abs(mean) > spread,
            }
    return table


def ablation_markdown(table: dict, reference: str) -> str:
    lines = [
        "| corpus | " + " | ".join(f"{b} bits/byte (mean ± std)" for b in table["benchmarks"]) + " | runs (seeds) |"
    ]
    lines.append("| --- | " + " | ".join("---:" for _ in table["benchmarks"]) + " | --- |")
    for corpus, results in table["results"].items():
        cells = [f"{results[b]['mean']:.4f} ± {results[b]['std']:.4f}" for b in table["benchmarks"]]
        seeds = next(iter(results.values()))["by_seed"]
        lines.append(f"| {corpus} | " + " | ".join(cells) + f" | {len(seeds)} |")
    for corpus, gaps in table["gaps"].items():
        parts = [
            f"{b}: {g['mean']:+.4f} ± {g['std']:.4f} (`{reference}` lower in every seed: "
            f"{'yes' if g['reference_lower_every_seed'] else 'no'}; gap > seed spread: "
            f"{'yes' if g['gap_exceeds_seed_spread'] else 'no'})"
            for b, g in gaps.items()
        ]
        lines += ["", f"`{corpus}` minus `{reference}`: " + "; ".join(parts)]
    return "\n".join(lines) + "\n"


def plot_ablation(table: dict, path: Path) -> Path:
    """Bars of mean bits/byte per corpus for each benchmark, one dot per seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from deepmath.io.atomic import atomic_write_png

    benchmarks, corpora = table["benchmarks"], table["corpora"]
    fig, axes = plt.subplots(1, len(benchmarks), figsize=(3.2 * len(benchmarks) + 0.5, 3.2), squeeze=False)
    for ax, bench in zip(axes[0], benchmarks):
        means = [table["results"][c][bench]["mean"] for c in corpora]
        ax.bar(range(len(corpora)), means, color=["#3b6fb6", "#c9ced6", "#e0a800", "#2e9d57"][: len(corpora)])
        for x, corpus in enumerate(corpora):
            values = list(table["results"][corpus][bench]["by_seed"].values())
            ax.scatter([x] * len(values), values, color="black", s=10, zorder=3)
        low = min(min(table["results"][c][bench]["by_seed"].values()) for c in corpora)
        high = max(max(table["results"][c][bench]["by_seed"].values()) for c in corpora)
        ax.set_ylim(low - 0.3 * (high - low + 1e-3), high + 0.3 * (high - low + 1e-3))
        ax.set_xticks(range(len(corpora)), corpora, rotation=15)
        ax.set_title(f"{bench}: bits/byte (lower is better)", fontsize=9)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    atomic_write_png(path, fig, dpi=100)
    plt.close(fig)
    return path


def _ablate(cfg: AblationConfig, out: Path):
    from deepmath.cards import Card
    from deepmath.io.atomic import atomic_write_json, atomic_write_text
    from deepmath.stage import StageResult, StageStats

    runs = []
    for seed in cfg.seeds:
        base = _shared_base(cfg, out, seed)
        for corpus in cfg.corpora:
            logger.info("pretrain-ablation: corpus %s, seed %d", corpus["name"], seed)
            runs.append(_run_one(cfg, out, corpus, seed, base))
    names = [c["name"] for c in cfg.corpora]
    table = ablation_table(runs, names)
    table["runs"] = runs
    table["note"] = cfg.note
    atomic_write_json(out / "ablation.json", table)
    markdown = ablation_markdown(table, names[0])
    atomic_write_text(out / "ablation.md", markdown)
    plot_ablation(table, out / PLOT)
    stats = {
        "rows_in": len(runs),
        "rows_out": len(runs),  # every (corpus, seed) run is in the table
        "unit": "runs",
        "corpora": len(names),
        "bits_per_byte": {c: {b: round(v["mean"], 5) for b, v in r.items()} for c, r in table["results"].items()},
        "gaps": table["gaps"],
        "tokens_per_run": runs[0]["tokens_seen"] if runs else None,
        "seeds": list(cfg.seeds),
        "plots": [PLOT],
    }
    card = Card(
        title="Corpus-quality ablation",
        stage="pretrain-ablation",
        summary=f"The same model, token budget and seeds ({', '.join(map(str, cfg.seeds))}) trained on each corpus; "
        f"held-out bits per byte on benchmark test texts (lower is better). {cfg.note}".rstrip(),
        n_rows=len(runs),
        fields={
            "ablation.json": "bits/byte per corpus, benchmark and seed; gaps to the first corpus",
            "ablation.md": "the same as a table",
            PLOT: "bits/byte per corpus and benchmark, one dot per seed",
            "runs/": "one train-pretrain stage folder per corpus and seed",
        },
        counts={"runs": len(runs), "tokens per run": runs[0]["tokens_seen"] if runs else 0},
        parameters={"recipe": cfg.recipe, "pretrain": cfg.pretrain, "benchmarks": cfg.benchmarks},
        lineage=[c["path"] for c in cfg.corpora],
        data_files="ablation.json",
        tags=["ablation", "pretraining"],
        sections={"Results": markdown},
        images=[PLOT],
    )
    return StageResult(StageStats.from_dict(stats), card)
