"""A small fake run folder with what each stage writes (stats, markers, plots), so report tests need no real run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import yaml

ALL = ("demo-data", "ingest", "mine", "dedup", "decontam", "sft-mix", "train-sft", "train-grpo", "eval")
ALL += ("train-pretrain", "pretrain-ablation")
CORPUS = ("demo-data", "ingest", "mine", "dedup", "decontam")  # stats.json counts documents

URLS = {
    "m1": ("https://mathforum.example/thread/1/a", "math", "page"),
    "m2": ("https://calc-notes.example/lessons/calculus/b", "math", "page"),
    "m3": ("https://content-mirror.example/thread/1/a-7", "math", "near_duplicate"),
    "q1": ("https://homework-helpers.example/questions/9/c", "math", "quote"),
    "n1": ("https://tastykitchen.example/recipes/soup", "nonmath", "page"),
    "n2": ("https://greenthumb.example/guides/roses", "nonmath", "page"),
}


def tiny_png(path: Path, color: str = "#3b6fb6") -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(3, 2), dpi=60)
    ax.bar(["a", "b", "c"], [3, 1, 2], color=color)
    fig.savefig(path)
    plt.close(fig)
    return path.name


def _stage(root: Path, name: str, stats: dict, done: bool = True) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text("output: x\n")
    unit = "documents" if name in CORPUS else "rows"
    common = {"stage": name, "rows_in": 0, "rows_out": 0, "unit": unit, "dropped": {}, "plots": []}
    (folder / "stats.json").write_text(json.dumps({**common, **stats, "seconds": 0.5}))
    (folder / "README.md").write_text(f"---\npretty_name: {name}\n---\n# {name}\n")
    if done:
        (folder / "_SUCCESS").write_text(json.dumps({"config_hash": name, "finished": 1.0}))
    return folder


def _docs(folder: Path, keys: list[str]) -> None:
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"id": k, "text": f"text {k}", "metadata": {"url": URLS[k][0]}}) for k in keys]
    with gzip.open(data / "00000.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def make_fake_run(root: Path, stages: tuple[str, ...] = ALL) -> Path:
    """Write `root` as if a demo recipe had run the given stages."""
    root.mkdir(parents=True, exist_ok=True)
    if "demo-data" in stages:
        folder = _stage(root, "demo-data", {"rows_in": 0, "rows_out": len(URLS)})
        rows = [
            {"url": url, "label": label, "kind": kind, "record_id": key} for key, (url, label, kind) in URLS.items()
        ]
        with gzip.open(folder / "labels.jsonl.gz", "wt", encoding="utf-8") as handle:
            handle.write("".join(json.dumps(r) + "\n" for r in rows))
    if "ingest" in stages:
        folder = _stage(root, "ingest", {"rows_in": 7, "rows_out": 6, "dropped": {"non_html": 1}})
        _docs(folder, list(URLS))
    if "mine" in stages:
        iterations = [{"iteration": i, "selected_documents": 4, "holdout_auc": 0.9 + i / 100} for i in (1, 2)]
        folder = _stage(
            root,
            "mine",
            {
                "rows_in": 6,
                "rows_out": 4,
                "dropped": {"below_selection": 2},
                "iterations": iterations,
                "plots": ["iteration_1/score_histogram.png", "iteration_2/score_histogram.png"],
            },
        )
        for i in (1, 2):
            it = folder / f"iteration_{i}"
            tiny_png(it / "score_histogram.png")
            (it / "metrics.json").write_text(json.dumps({"iteration": i, "holdout": {"auc": 0.9}}))
            domains = {
                "iteration": i,
                "domains": [
                    {
                        "domain": "dailyblog.example",
                        "pages": 30,
                        "collected": 8,
                        "collected_fraction": 0.267,
                        "paths": [{"path": "/", "accept": False}, {"path": "/math", "accept": True}],
                    }
                ],
            }
            (it / "domains.yaml").write_text(yaml.safe_dump(domains))
        _docs(folder, ["m1", "m2", "m3", "q1"])
    if "dedup" in stages:
        folder = _stage(
            root,
            "dedup",
            {"rows_in": 4, "rows_out": 3, "dropped": {"near_duplicate": 1}, "cluster_sizes": {"2": 1}},
        )
        _docs(folder, ["m1", "m2", "q1"])
    if "decontam" in stages:
        folder = _stage(root, "decontam", {"rows_in": 3, "rows_out": 2, "dropped": {"contaminated": 1}})
        _docs(folder, ["m1", "m2"])
        hit = {
            "item_id": "demo-bench-3",
            "doc_id": "q1",
            "url": URLS["q1"][0],
            "kind": "ngram",
            "tokens": 12,
            "matched_text": "Tom has 3 apples and buys 4 more",
        }
        report = {
            "rule": {"ngram": 10},
            "documents_hit": 1,
            "hits": 1,
            "benchmarks": {"demo": {"items": 20, "items_hit": 1, "documents_hit": 1, "hits": [hit]}},
        }
        (folder / "contamination.json").write_text(json.dumps(report))
    if "sft-mix" in stages:
        composition = {
            "demo_cot": {
                "in": 10,
                "contaminated": 1,
                "rejected": {"wrong_answer": 1},
                "duplicates": 0,
                "final": 8,
                "share": 0.8,
            },
            "demo_pot": {"in": 3, "contaminated": 0, "rejected": {}, "duplicates": 1, "final": 2, "share": 0.2},
        }
        folder = _stage(
            root,
            "sft-mix",
            {
                "rows_in": 13,
                "rows_out": 10,
                "composition": composition,
                "dropped": {"contaminated": 1, "wrong_answer": 1, "duplicate": 1},
                "plots": ["composition.png"],
            },
        )
        tiny_png(folder / "composition.png", "#2e9d57")
    if "train-sft" in stages:
        folder = _stage(
            root, "train-sft", {"rows_in": 10, "rows_out": 10, "train_loss": 1.2, "plots": ["loss_curve.png"]}
        )
        tiny_png(folder / "loss_curve.png", "#aa5500")
    if "train-grpo" in stages:
        folder = _stage(root, "train-grpo", {"rows_in": 20, "rows_out": 20, "plots": ["reward_curve.png"]})
        tiny_png(folder / "reward_curve.png", "#884488")
        metrics = {
            "eval_before": {"pass@1": 0.2, "pass@4": 0.4, "maj@4": 0.25},
            "eval_after": {"pass@1": 0.35, "pass@4": 0.55, "maj@4": 0.4},
        }
        (folder / "metrics.json").write_text(json.dumps(metrics))
    if "eval" in stages:
        _stage(root, "eval", {"rows_in": 5, "rows_out": 5, "pass@1": 0.35, "pass@4": 0.55, "maj@4": 0.4})
    if "train-pretrain" in stages:
        _fake_pretraining(root)
    return root


def _fake_pretraining(root: Path) -> None:
    """A `train-pretrain` folder (mixture consumed, loss curve) and a `pretrain-ablation` folder (table, plot)."""
    stats = {
        "rows_in": 40,
        "rows_out": 16,
        "tokens_seen": 4096,
        "tokens_seen_by_source": {"corpus": 3072, "web": 1024},
        "mixture_target": {"corpus": 0.75, "web": 0.25},
        "mixture_seen": {"corpus": 0.75, "web": 0.25},
        "epochs_by_source": {"corpus": 0.5, "web": None},
        "steps": 4,
        "tokens_per_second": 1000.0,
        "final_loss": 4.5,
        "plots": ["pretrain_curve.png"],
    }
    tiny_png(_stage(root, "train-pretrain", stats) / "pretrain_curve.png", "#3b6fb6")
    folder = _stage(root, "pretrain-ablation", {"rows_in": 4, "rows_out": 2, "plots": ["ablation.png"]})
    tiny_png(folder / "ablation.png", "#c9ced6")
    runs = [
        {"corpus": c, "seed": s, "tokens_seen": 4096, "bits_per_byte": {"demo": v}}
        for c, s, v in [("mined", 0, 2.0), ("mined", 1, 2.2), ("random", 0, 2.6), ("random", 1, 2.7)]
    ]
    results = {
        "mined": {"demo": {"mean": 2.1, "std": 0.1414, "by_seed": {"0": 2.0, "1": 2.2}}},
        "random": {"demo": {"mean": 2.65, "std": 0.0707, "by_seed": {"0": 2.6, "1": 2.7}}},
    }
    gap = {"mean": 0.55, "std": 0.07, "reference_lower_every_seed": True, "gap_exceeds_seed_spread": True}
    table = {
        "corpora": ["mined", "random"],
        "benchmarks": ["demo"],
        "results": results,
        "gaps": {"random": {"demo": gap}},
        "runs": runs,
    }
    (folder / "ablation.json").write_text(json.dumps(table))
