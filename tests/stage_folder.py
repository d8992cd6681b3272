"""Checks on a real stage folder that stage tests share: the common stats.json keys and the stage's report fragment."""

from __future__ import annotations

import json
from pathlib import Path

from deepmath.stats import check_stats


def assert_stage_stats(folder: str | Path, stage: str, unit: str) -> dict:
    """stats.json of a finished stage folder: the common keys with the right types, this stage, this unit."""
    folder = Path(folder)
    stats = json.loads((folder / "stats.json").read_text())
    assert check_stats(stats) == [], check_stats(stats)
    assert (stats["stage"], stats["unit"]) == (stage, unit)
    assert (folder / "_SUCCESS").is_file()
    for plot in stats["plots"]:
        assert (folder / plot).is_file(), plot
    return stats


def stage_fragment(stage: str, folder: str | Path, tmp: str | Path) -> tuple[str, list[str]]:
    """The stage's registered report fragment run on `folder` alone: (markdown, missing items)."""
    from deepmath.demo.report import render_fragment
    from deepmath.registry import get_stage

    return render_fragment(get_stage(stage).report, [folder], tmp)
