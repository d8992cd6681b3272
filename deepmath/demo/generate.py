"""`deepmath demo-data DIR`: a self-contained sample world for the whole flow, generated from our own templates.

    deepmath demo-data demo_world --n-pages 3000 --seed 0

    DIR/warc/CC-DEMO-*.warc.gz     Common Crawl-style WARC files (request + response records, HTTP headers)
    DIR/seeds/seeds.jsonl          seed math documents (id, text, metadata.url) for mining iteration 1
    DIR/benchmarks/demo/test.jsonl the demo benchmark `demo` (id, question, answer)
    DIR/sft/cot.jsonl, pot.jsonl   CoT (question, solution, answer) and PoT (question, program, answer) sources
    DIR/rl/train.jsonl             RL prompts with gold answers (id, question, answer)
    DIR/labels.jsonl.gz            ground truth per page: math or not, topic, near-duplicate of, quoted benchmark item
    DIR/flaws.json                 ids of the SFT rows made wrong or contaminated on purpose

No third-party text: pages, seeds and problems come from the templates in `textgen`, `formulas` and
`deepmath.tasks.arithmetic`. The same seed gives byte-identical files. Not Common Crawl: a few thousand pages on
invented `.example` domains with far more math (about a third) than the web has, so each stage has work to show.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from pathlib import Path

from deepmath.cards import Card
from deepmath.demo.config import DemoDataConfig
from deepmath.io.atomic import atomic_write_json
from deepmath.io.rows import write_rows
from deepmath.stage import StageResult, StageRun, StageStats, run_stage

__all__ = ["run_demo_data"]

logger = logging.getLogger(__name__)

FILES = {
    "warc/CC-DEMO-*.warc.gz": "the crawl: warcinfo, request and response records (plus robots.txt, an image, a 404 "
    "and a redirect per file)",
    "seeds/seeds.jsonl": "seed math documents `{id, text, metadata: {url, topic}}` (algebra, calculus, number theory)",
    "benchmarks/demo/test.jsonl": "the demo benchmark (name `demo`) `{id, question, answer}`",
    "sft/cot.jsonl": "chain-of-thought rows `{id, question, solution, answer}`",
    "sft/pot.jsonl": "program-of-thought rows `{id, question, program, answer}`; the program sets `ans`",
    "rl/train.jsonl": "RL prompts `{id, question, answer}`",
    "labels.jsonl.gz": "ground truth per page `{record_id, url, label, topic, kind, domain, markup, source, file}`",
    "flaws.json": "ids of SFT rows made wrong or contaminated on purpose, by kind",
}


def run_demo_data(cfg: DemoDataConfig) -> dict:
    return run_stage("demo-data", cfg, lambda run: _generate(cfg, run))


def _jsonl(path: Path, rows: list[dict]) -> None:
    write_rows(path, rows, sort_keys=True)  # a .gz file is written with a zero header time: identical across runs


def _generate(cfg: DemoDataConfig, run: StageRun) -> StageResult:
    from deepmath.demo.benchmark import make_problem_sets
    from deepmath.demo.warcs import write_warcs
    from deepmath.demo.world import make_seeds, plan_pages

    out = run.output
    problems = make_problem_sets(cfg, random.Random(f"{cfg.seed}:problems"))
    logger.info(
        "demo-data: %d benchmark problems, %d CoT, %d PoT, %d RL prompts",
        len(problems.benchmark),
        len(problems.cot),
        len(problems.pot),
        len(problems.rl),
    )
    pages = plan_pages(cfg, problems.benchmark, random.Random(f"{cfg.seed}:pages"))
    logger.info("demo-data: writing %d pages into %d WARC files", len(pages), cfg.warc_files)
    warcs, labels = write_warcs(pages, out / "warc", cfg.warc_files, random.Random(f"{cfg.seed}:warc"))
    seeds = make_seeds(cfg.n_seeds, random.Random(f"{cfg.seed}:seeds"))

    _jsonl(out / "seeds" / "seeds.jsonl", seeds)
    _jsonl(out / "benchmarks" / "demo" / "test.jsonl", problems.benchmark)
    _jsonl(out / "sft" / "cot.jsonl", problems.cot)
    _jsonl(out / "sft" / "pot.jsonl", problems.pot)
    _jsonl(out / "rl" / "train.jsonl", problems.rl)
    _jsonl(out / "labels.jsonl.gz", labels)
    atomic_write_json(out / "flaws.json", problems.flaws)

    by_label = dict(sorted(Counter(row["label"] for row in labels).items()))
    by_kind = dict(sorted(Counter(row["kind"] for row in labels).items()))
    by_markup = dict(sorted(Counter(row["markup"] for row in labels if row["label"] == "math").items()))
    domains = Counter(row["domain"] for row in labels)
    flaws = {kind: len(ids) for kind, ids in sorted(problems.flaws.items())}
    stats = {
        "pages": len(labels),
        "warc_files": len(warcs),
        "pages_by_label": by_label,
        "pages_by_kind": by_kind,
        "math_pages_by_markup": by_markup,
        "domains": len(domains),
        "seeds": len(seeds),
        "benchmark": len(problems.benchmark),
        "sft_cot": len(problems.cot),
        "sft_pot": len(problems.pot),
        "rl_prompts": len(problems.rl),
        "flaws": flaws,
    }
    counts = {
        "pages": len(labels),
        **{f"{k} pages": v for k, v in by_label.items()},
        **{f"{k} pages": v for k, v in by_kind.items() if k != "page"},
        "WARC files": len(warcs),
        "domains": len(domains),
        "seed documents": len(seeds),
        "benchmark problems": len(problems.benchmark),
        "CoT rows": len(problems.cot),
        "PoT rows": len(problems.pot),
        "RL prompts": len(problems.rl),
        **{f"{k.replace('_', ' ')} rows": v for k, v in flaws.items()},
    }
    card = Card(
        title="deepmath demo world",
        stage="demo-data",
        summary="A small, self-contained Common Crawl-like world generated from deepmath's own templates (no "
        "third-party text): HTML pages in WARC files on math, everyday and mixed-topic sites, math written as "
        "MathJax, KaTeX, MathML and LaTeX image alt text, near-duplicate copies, pages quoting the benchmark, seed "
        "math documents, a small arithmetic benchmark, and CoT/PoT/RL sources with a few planted flaws.",
        n_rows=len(labels),
        fields=FILES,
        counts=counts,
        parameters={k: v for k, v in vars(cfg).items() if k not in ("output", "overwrite")},
        data_files="warc/*.warc.gz",
        tags=["synthetic", "demo"],
        sections={
            "Math pages by markup": "\n".join(f"- {k}: {v}" for k, v in by_markup.items()),
            "Largest domains": "\n".join(f"- {d}: {n}" for d, n in domains.most_common(8)),
            "What a run should find": (
                "- ingest: drops robots.txt, images, 404s, redirects and the pages crawled twice\n"
                "- mine: the math sites and the `/math/` section of `dailyblog.example`; geometry and probability "
                "pages are not in the seeds' topics\n"
                "- dedup: the near-duplicate copies (clusters of 2 to 6 pages)\n"
                "- decontam: the pages quoting a benchmark problem (`kind: quote` in labels)\n"
                "- sft-mix: the wrong and contaminated rows listed in `flaws.json`"
            ),
        },
    )
    logger.info("demo-data: %d pages (%s), %d seeds -> %s", len(labels), by_label, len(seeds), out)
    return StageResult(StageStats(rows_in=0, rows_out=len(labels), unit="documents", extra=stats), card)
