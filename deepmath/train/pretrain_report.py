"""The run report's pretraining section: the mixture consumed, the loss curve, and the corpus-quality ablation.

The `StageSpec.report` of both stages; like every fragment it reads only what the stages wrote
(`stats.json`, `ablation.json`, PNGs) and notes what it did not find. Light imports only (no torch).
"""

from __future__ import annotations

import json

__all__ = ["section_pretraining"]


def _pct(value) -> str:
    return f"{value:.1%}" if isinstance(value, int | float) else ""


def _pretraining(context, info) -> None:
    doc, stats = context.doc, info.stats or {}
    doc.heading(f"{info.name}: continued pretraining")
    seen = stats.get("tokens_seen_by_source") or {}
    if not seen:
        context.lack(f"{info.name}: `tokens_seen_by_source` in stats.json")
        return
    doc.para(
        f"{stats.get('tokens_seen', 0):,} tokens in {stats.get('steps', 0):,} optimizer steps "
        f"({stats.get('tokens_per_second') or 0:,.0f} tokens/s), final loss {stats.get('final_loss') or 0:.3f}; "
        f"the model in `{info.name}/model` is what the next stage starts from."
    )
    target, share = stats.get("mixture_target") or {}, stats.get("mixture_seen") or {}
    epochs = stats.get("epochs_by_source") or {}
    doc.table(
        ["source", "target share", "tokens seen", "share seen", "epochs"],
        [
            [name, _pct(target.get(name)), count, _pct(share.get(name)), epochs.get(name) or "< 1"]
            for name, count in seen.items()
        ],
    )
    context.stage_plots(info)


def _ablation(context, info) -> None:
    doc = context.doc
    doc.heading(f"{info.name}: corpus-quality ablation")
    path = info.path / "ablation.json"
    if not path.exists():
        context.lack(f"{info.name}/ablation.json")
        return
    table = json.loads(path.read_text(encoding="utf-8"))
    benchmarks, corpora = table.get("benchmarks") or [], table.get("corpora") or []
    seeds = sorted({run["seed"] for run in table.get("runs") or []})
    tokens = next((run.get("tokens_seen") for run in table.get("runs") or []), None)
    doc.para(
        f"The same tiny model, the same budget ({tokens or 0:,} tokens) and seeds {', '.join(map(str, seeds))}, "
        f"trained on each corpus; held-out bits per byte on benchmark test texts (lower is better). "
        f"{table.get('note') or ''}".rstrip()
    )
    rows = []
    for corpus in corpora:
        results = table["results"][corpus]
        rows.append(
            [corpus] + [f"{results[b]['mean']:.4f} ± {results[b]['std']:.4f}" for b in benchmarks if b in results]
        )
    doc.table(["corpus"] + [f"{b} bits/byte" for b in benchmarks], rows)
    for corpus, gaps in (table.get("gaps") or {}).items():
        for bench, gap in gaps.items():
            better = gap.get("reference_lower_every_seed") and gap.get("gap_exceeds_seed_spread")
            text = (
                f"{bench}: `{corpus}` is {gap['mean']:+.4f} bits/byte from `{corpora[0]}` "
                f"(per-seed differences ± {gap['std']:.4f}); `{corpora[0]}` lower in every seed: "
                f"{'yes' if gap.get('reference_lower_every_seed') else 'no'}, gap larger than the seed spread: "
                f"{'yes' if gap.get('gap_exceeds_seed_spread') else 'no'}."
            )
            doc.note(text, good=bool(better))
    context.stage_plots(info)


def section_pretraining(context) -> None:
    infos = context.section("Pretraining", None, "`train-pretrain` / `pretrain-ablation` stage folders")
    for info in infos:
        if info.stage == "train-pretrain":
            _pretraining(context, info)
        else:
            _ablation(context, info)
