"""`deepmath report --run-dir DIR`: one page that shows what a recipe run did, from whatever the run folder holds.

    deepmath report --run-dir demo_output       # -> demo_output/report.html, demo_output/report.md
    (in a recipe: `- stage: report` as the last stage; its folder DIR/report/ keeps plots, stats and the marker)

Sections: stages (status, counts, cards), the funnel of page counts per stage with drop reasons, mining
(score histograms, metrics and discovered domains per iteration), results against the demo world's ground truth
(when the run has a `demo-data` stage), dedup cluster sizes, contamination hits, SFT composition, training curves
and the before/after evaluation. Every section reads files written by other stages; anything missing or unreadable
becomes a visible note in the report, never a crash. The HTML embeds its images and has no scripts.

The report is redone whenever a stage of the run finished again since it was written (the `_SUCCESS` markers
are fingerprinted), so a resumed run never keeps a stale report; otherwise it is skipped like any stage.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from deepmath.cards import Card
from deepmath.config import ConfigError
from deepmath.demo.config import ReportConfig
from deepmath.demo.reportdoc import ReportDoc
from deepmath.io.atomic import atomic_write_json, atomic_write_text
from deepmath.io.inputs import SUCCESS_MARKER
from deepmath.stage import StageResult, StageRun, run_stage

__all__ = ["collect_stages", "run_report"]

logger = logging.getLogger(__name__)

_ORDER = ["demo-data", "ingest", "mine", "dedup", "decontam", "sft-mix", "train-sft", "train-grpo", "eval"]
_ORDER[_ORDER.index("sft-mix") + 1 : _ORDER.index("sft-mix") + 1] = ["train-pretrain", "pretrain-ablation"]
_INPUTS_FILE = "_inputs.json"


@dataclass
class StageInfo:
    """What the report knows about one stage folder of the run."""

    name: str  # folder name
    stage: str  # registered stage name (from stats.json), else the folder name
    path: Path
    complete: bool
    stats: dict | None
    problem: str = ""

    @property
    def has_card(self) -> bool:
        return (self.path / "README.md").exists()


def _read_json(path: Path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def collect_stages(run_dir: Path, exclude: Path | None = None) -> list[StageInfo]:
    """Stage folders of a run (any sub-folder with stats.json, config.yaml or _SUCCESS), in pipeline order."""
    stages = []
    if not run_dir.is_dir():
        return stages
    for path in sorted(p for p in run_dir.iterdir() if p.is_dir()):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        if not any((path / name).exists() for name in ("stats.json", "config.yaml", SUCCESS_MARKER)):
            continue
        stats, problem = None, ""
        if (path / "stats.json").exists():
            try:
                stats = _read_json(path / "stats.json")
                if not isinstance(stats, dict):
                    stats, problem = None, "stats.json is not a JSON object"
            except (OSError, ValueError) as err:
                problem = f"stats.json unreadable: {err}"
        else:
            problem = "no stats.json yet"
        stage = str((stats or {}).get("stage") or path.name)
        stages.append(StageInfo(path.name, stage, path, (path / SUCCESS_MARKER).exists(), stats, problem))
    rank = {name: i for i, name in enumerate(_ORDER)}
    return sorted(stages, key=lambda s: (rank.get(s.stage, len(_ORDER)), s.name))


def _fingerprint(run_dir: Path, exclude: Path) -> dict:
    """Each stage folder's marker content: when one changes, the report is out of date."""
    out = {}
    for info in collect_stages(run_dir, exclude):
        marker = info.path / SUCCESS_MARKER
        out[info.name] = marker.read_text(encoding="utf-8") if marker.exists() else None
    return out


def run_report(cfg: ReportConfig) -> dict:
    if not Path(cfg.run_dir).is_dir():
        raise ConfigError(f"report: run folder not found: {cfg.run_dir}")
    output = Path(cfg.output)
    inputs_file = output / _INPUTS_FILE
    if (output / SUCCESS_MARKER).exists() and not cfg.overwrite:
        try:
            previous = _read_json(inputs_file)
        except (OSError, ValueError):
            previous = None
        if previous != _fingerprint(Path(cfg.run_dir), output):
            logger.info("report: stages of %s changed since the report was written; redoing it", cfg.run_dir)
            (output / SUCCESS_MARKER).unlink()
    return run_stage("report", cfg, lambda run: _report(cfg, run))


def _report(cfg: ReportConfig, run: StageRun) -> StageResult:
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(cfg.run_dir)
    fingerprint = _fingerprint(run_dir, run.output)
    stages = collect_stages(run_dir, run.output)
    doc = ReportDoc(cfg.title, run_dir)
    missing: list[str] = []
    plots: list[str] = []
    by_stage: dict[str, list[StageInfo]] = {}
    for info in stages:
        by_stage.setdefault(info.stage, []).append(info)
    embedded: set[Path] = set()

    from deepmath.demo import report_sections as sections

    context = sections.Context(run_dir, run.output, stages, by_stage, doc, missing, plots, embedded)
    for build in sections.SECTIONS:
        try:
            build(context)
        except Exception as err:  # one unreadable file must not cost the whole report: shown, logged, listed
            logger.warning("report: section %s failed: %s", build.__name__, err, exc_info=True)
            doc.note(f"this section could not be built: {type(err).__name__}: {err}")
            missing.append(f"{build.__name__.removeprefix('section_')}: {type(err).__name__}: {err}")
    if missing:
        doc.section("Missing")
        doc.para(
            "What the report looked for and did not find (a stage that has not run yet, or was not in the recipe):"
        )
        doc.bullets(missing)

    intro = f"Run folder `{run_dir}`: {len(stages)} stage folder(s), {sum(s.complete for s in stages)} complete."
    atomic_write_text(run_dir / "report.html", doc.render_html(intro))
    atomic_write_text(run_dir / "report.md", doc.render_md(intro))
    atomic_write_json(run.output / _INPUTS_FILE, fingerprint)
    logger.info(
        "report: %s (%d sections, %d images, %d missing)",
        run_dir / "report.html",
        len(doc.sections),
        doc.images,
        len(missing),
    )
    stats = {
        "rows_in": len(stages),
        "rows_out": len(doc.sections),
        "dropped": {},
        "stages": [s.name for s in stages],
        "sections": doc.sections,
        "images": doc.images,
        "missing": missing,
        "report_html": str(run_dir / "report.html"),
        "report_md": str(run_dir / "report.md"),
        "plots": plots,
    }
    card = Card(
        title="deepmath run report",
        stage="report",
        summary=f"Plots and bookkeeping of the run report; the report itself is `../report.html` (self-contained) "
        f"and `../report.md` in the run folder `{run_dir}`.",
        n_rows=len(doc.sections),
        fields={
            "../report.html": "the report, images embedded",
            "../report.md": "the same as markdown",
            "*.png": "plots drawn by the report",
            "_inputs.json": "stage markers the report was built from",
        },
        counts={
            "stage folders": len(stages),
            "sections": len(doc.sections),
            "images": doc.images,
            "missing items": len(missing),
        },
        parameters={"run_dir": cfg.run_dir, "title": cfg.title},
        lineage=[str(s.path) for s in stages],
        data_files="*.png",
        tags=["report"],
    )
    return StageResult(stats, card)
