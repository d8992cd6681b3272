"""`deepmath report --run-dir DIR`: one page that shows what a recipe run did, from whatever the run folder holds.

    deepmath report --run-dir demo_output       # -> demo_output/report/report.html and report.md
    (in a recipe: `- stage: report` as the last stage; its folder DIR/report/ keeps plots, stats and the marker)

Sections: the run-wide stages table (status, counts in each stage's unit, cards) and funnel of documents per
corpus stage with drop reasons (`deepmath.demo.report_sections`), then each stage's own fragment in stage order
(`StageSpec.report`, in the stage's package: mining iterations, ground truth of the demo world, dedup clusters,
contamination hits, SFT composition, pretraining, training curves, evaluation), then the data cards. Every section
reads files written by the stages; anything missing or unreadable becomes a visible note in the report, never a
crash. The HTML embeds its images and has no scripts.

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
from deepmath.report_kit import Context, section_generic
from deepmath.stage import StageResult, StageRun, StageStats, run_stage
from deepmath.stats import normalize_stats

__all__ = ["collect_stages", "render_fragment", "run_report"]

logger = logging.getLogger(__name__)

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


def _is_report_folder(path: Path) -> bool:
    try:
        return _read_json(path / "stats.json").get("stage") == "report"
    except (OSError, ValueError, AttributeError):
        return False


def collect_stages(run_dir: Path, exclude: Path | None = None) -> list[StageInfo]:
    """Stage folders of a run (any sub-folder with stats.json, config.yaml or _SUCCESS), in pipeline order."""
    stages = []
    if not run_dir.is_dir():
        return stages
    for path in sorted(p for p in run_dir.iterdir() if p.is_dir()):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        if _is_report_folder(path):  # an older report is not a stage of the run
            continue
        if not any((path / name).exists() for name in ("stats.json", "config.yaml", SUCCESS_MARKER)):
            continue
        stats, problem = None, ""
        if (path / "stats.json").exists():
            try:
                stats = _read_json(path / "stats.json")
                if not isinstance(stats, dict):
                    stats, problem = None, "stats.json is not a JSON object"
                else:
                    stats = normalize_stats(stats)  # a folder of an older run: documents_in/out
            except (OSError, ValueError) as err:
                problem = f"stats.json unreadable: {err}"
        else:
            problem = "no stats.json yet"
        stage = str((stats or {}).get("stage") or path.name)
        stages.append(StageInfo(path.name, stage, path, (path / SUCCESS_MARKER).exists(), stats, problem))
    from deepmath.registry import STAGES

    rank = {name: i for i, name in enumerate(STAGES)}  # registry order is pipeline order
    return sorted(stages, key=lambda s: (rank.get(s.stage, len(rank)), s.name))


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


def _fragments(stages: list[StageInfo]) -> list[tuple]:
    """Each stage's report fragment (`StageSpec.report`) with the stages that declare it, once per fragment, in
    stage order; stages that declare none (or are unknown here) share the generic fragment."""
    from deepmath.registry import STAGES, _load

    builders: list[tuple] = []
    seen: set[str] = set()
    generic: list[StageInfo] = []
    for info in stages:
        spec = STAGES.get(info.stage)
        target = spec.report if spec is not None else None
        if target is None:
            generic.append(info)
            continue
        if target not in seen:
            seen.add(target)
            names = tuple(name for name, other in STAGES.items() if other.report == target)
            builders.append((_load(target), names))
    if generic:

        def section_other_stages(context, infos=tuple(generic)):
            section_generic(context, list(infos))

        builders.append((section_other_stages, tuple(dict.fromkeys(info.stage for info in generic))))
    return builders


def _build(context: Context, build, stages: tuple[str, ...]) -> None:
    """Run one section; one unreadable file must not cost the whole report: its failure is shown, logged, listed."""
    context.fragment_stages = stages
    try:
        build(context)
    except Exception as err:
        name = getattr(build, "__name__", "fragment")
        logger.warning("report: section %s failed: %s", name, err, exc_info=True)
        context.doc.note(f"this section could not be built: {type(err).__name__}: {err}")
        context.missing.append(f"{name.removeprefix('section_')}: {type(err).__name__}: {err}")
    finally:
        context.fragment_stages = ()


def render_fragment(target, folders: list[str | Path], output: str | Path) -> tuple[str, list[str]]:
    """One fragment (a function or a "module:function" target) on the given stage folders, alone: its markdown
    and what it found missing. For a stage's tests and for a plugin author; plots go to `output`."""
    from deepmath.registry import STAGES, _load

    build = _load(target) if isinstance(target, str) else target
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    stages = [
        info
        for folder in folders
        for info in collect_stages(Path(folder).parent)
        if info.path.resolve() == Path(folder).resolve()
    ]
    by_stage: dict[str, list[StageInfo]] = {}
    for info in stages:
        by_stage.setdefault(info.stage, []).append(info)
    doc = ReportDoc("fragment", output)
    context = Context(output, output, stages, by_stage, doc, [], [], set())
    key = target if isinstance(target, str) else None
    names = tuple(n for n, spec in STAGES.items() if key and spec.report == key) or tuple(by_stage)
    _build(context, build, names)
    return doc.render_md(""), context.missing


def _report(cfg: ReportConfig, run: StageRun) -> StageResult:
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(cfg.run_dir)
    fingerprint = _fingerprint(run_dir, run.output)
    stages = collect_stages(run_dir, run.output)
    doc = ReportDoc(cfg.title, run.output)
    missing: list[str] = []
    plots: list[str] = []
    by_stage: dict[str, list[StageInfo]] = {}
    for info in stages:
        by_stage.setdefault(info.stage, []).append(info)
    embedded: set[Path] = set()

    from deepmath.demo.report_sections import SECTIONS_AFTER, SECTIONS_BEFORE

    context = Context(run_dir, run.output, stages, by_stage, doc, missing, plots, embedded)
    run_wide = tuple(by_stage)
    for build, names in [
        *[(b, run_wide) for b in SECTIONS_BEFORE],
        *_fragments(stages),
        *[(b, run_wide) for b in SECTIONS_AFTER],
    ]:
        _build(context, build, names)
    if missing:
        doc.section("Missing")
        doc.para(
            "What the report looked for and did not find (a stage that has not run yet, or was not in the recipe):"
        )
        doc.bullets(missing)

    intro = f"Run folder `{run_dir}`: {len(stages)} stage folder(s), {sum(s.complete for s in stages)} complete."
    atomic_write_text(run.output / "report.html", doc.render_html(intro))
    atomic_write_text(run.output / "report.md", doc.render_md(intro))
    atomic_write_json(run.output / _INPUTS_FILE, fingerprint)
    logger.info(
        "report: %s (%d sections, %d images, %d missing)",
        run.output / "report.html",
        len(doc.sections),
        doc.images,
        len(missing),
    )
    stats = StageStats(
        rows_in=len(stages),
        rows_out=len(stages),  # every stage folder is in the report (its fragment or the generic one)
        unit="stage folders",
        plots=plots,
        extra={
            "stages": [s.name for s in stages],
            "sections": doc.sections,
            "images": doc.images,
            "missing": missing,
            "report_html": str(run.output / "report.html"),
            "report_md": str(run.output / "report.md"),
        },
    )
    card = Card(
        title="deepmath run report",
        stage="report",
        summary=f"The run report of `{run_dir}`: `report.html` (self-contained) and `report.md`, with the plots "
        "the report draws itself.",
        n_rows=len(doc.sections),
        fields={
            "report.html": "the report, images embedded",
            "report.md": "the same as markdown",
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
