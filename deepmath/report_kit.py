"""What a stage's report fragment works with: the `Context` of the run report and a few helpers.

A fragment is a function `section_x(context)` named by its stage's `StageSpec.report`; it lives in the stage's own
package (`deepmath/mine/report.py` ...) and reads only what its stage wrote (stats.json, its own files, PNGs).
`deepmath.demo.report` assembles the fragments in stage order between the run-wide sections (stages table, funnel,
cards). This module sits below every stage package: it imports nothing of deepmath but the atomic writers, so a
fragment never pulls in another stage (evaluate does not import train to show a training run's evaluation).

Missing inputs go to `context.lack(...)` (a note in place and a line in the report's "Missing" list); plots a
fragment draws are saved with `save_plot` in the report's own folder and listed in `context.plots`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.io.atomic import atomic_write_png

__all__ = [
    "Context",
    "count",
    "drops_text",
    "pyplot",
    "run_metrics",
    "save_plot",
    "scalars",
    "section_generic",
    "section_nothing",
]


@dataclass
class Context:
    run_dir: Path
    output: Path  # the report's own folder (plots)
    stages: list  # [deepmath.demo.report.StageInfo] in pipeline order
    by_stage: dict  # stage name -> [StageInfo]
    doc: object  # deepmath.demo.reportdoc.ReportDoc: section, heading, para, table, bullets, note, image
    missing: list[str]
    plots: list[str]
    embedded: set = field(default_factory=set)
    fragment_stages: tuple[str, ...] = ()  # the stages that declared the fragment being built

    def first(self, stage: str):
        found = self.by_stage.get(stage) or []
        return found[0] if found else None

    def embed(self, path: Path, alt: str) -> None:
        if path.resolve() in self.embedded:
            return
        if self.doc.image(path, alt):
            self.embedded.add(path.resolve())

    def stage_plots(self, info) -> None:
        """Embed the PNGs a stage listed in stats.json `plots` that are not shown yet."""
        for rel in (info.stats or {}).get("plots") or []:
            self.embed(info.path / rel, f"{info.name}: {Path(rel).stem}")

    def lack(self, what: str) -> None:
        self.missing.append(what)
        self.doc.note(f"not found: {what}")

    def section(self, title: str, stages: tuple[str, ...] | None, lacking: str) -> list:
        """Open a report section and return the folders of `stages` it reports on (noted as missing when none).

        `stages=None`: the stages that declared this fragment (several stages may share one, like training)."""
        self.doc.section(title)
        names = self.fragment_stages if stages is None else stages
        infos = [info for stage in names for info in self.by_stage.get(stage, [])]
        if not infos:
            self.lack(lacking)
        return infos


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_plot(context: Context, fig, name: str) -> Path:
    """Save a figure the report drew as NAME in the report's folder, close it and list it."""
    path = atomic_write_png(context.output / name, fig, bbox_inches="tight", metadata={"Software": None})
    pyplot().close(fig)
    context.plots.append(name)
    return path


def drops_text(dropped) -> str:
    if not isinstance(dropped, dict) or not dropped:
        return ""
    return ", ".join(
        f"{reason}: {count:,}" if isinstance(count, int) else f"{reason}: {count}" for reason, count in dropped.items()
    )


def scalars(data: dict, prefix: str = "") -> list[list]:
    """Flatten numbers/strings of a (nested) dict into [key, value] rows."""
    rows = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += scalars(value, f"{name}.")
        elif isinstance(value, bool | int | float | str) and not (isinstance(value, str) and len(value) > 120):
            rows.append([name, value])
    return rows


def count(stats: dict | None, *keys: str):
    """The first of `keys` in stats that holds a number (not a bool), else None."""
    for key in keys:
        value = (stats or {}).get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


def run_metrics(info) -> dict:
    """A training or evaluation folder's `metrics.json` (beside stats.json, or under model/), {} when none."""
    for candidate in (info.path / "metrics.json", info.path / "model" / "metrics.json"):
        if candidate.exists():
            data = json.loads(candidate.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
    return {}


def section_nothing(context: Context) -> None:
    """The fragment of a stage the run-level sections already cover (ingest: the funnel)."""


def section_generic(context: Context, infos: list) -> None:
    """The fragment of a stage that declares none: its headline counts and the plots it listed."""
    doc = context.doc
    for info in infos:
        doc.section(f"{info.name} ({info.stage})")
        stats = info.stats or {}
        rows = [[k, v] for k, v in scalars(stats) if not k.startswith(("plots", "stage"))]
        if rows:
            doc.table(["count", "value"], rows[:30])
        context.stage_plots(info)
