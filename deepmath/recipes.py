"""Recipes: `pipelines/*.yaml` files that list stages to run in order into one output folder.

    name: demo
    output: demo_output            # default: ./<name>_output; `deepmath run R --output DIR` overrides
    stages:
      - stage: ingest              # a registered stage name
        input: ["@data/warc"]      # "@<stage name>[/sub/path]" = the output folder of an earlier stage
      - stage: train-grpo
        config: grpo_tiny.yaml     # optional base YAML of the stage's fields, relative to this recipe
        dataset: "@sft-mix"

Each stage's keys are the fields of its config dataclass and are validated before anything runs. Every stage
writes into `OUTPUT/<name>` (name defaults to the stage) and skips itself when already complete, so `deepmath run`
resumes. No code lives in YAML.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.config import ConfigError, close_matches, from_dict, load_yaml

__all__ = ["PlannedStage", "Recipe", "load_recipe", "recipe_cli", "run_recipe"]

logger = logging.getLogger(__name__)

_RECIPE_KEYS = ("name", "output", "description", "stages")
_STAGE_META_KEYS = ("stage", "name", "config")


@dataclass
class PlannedStage:
    name: str
    stage: str
    cfg: object


@dataclass
class Recipe:
    name: str
    output: Path
    description: str = ""
    stages: list[PlannedStage] = field(default_factory=list)
    path: Path | None = None


def _resolve_refs(value, output: Path, known: list[str], where: str):
    """Replace "@name/sub" with OUTPUT/name/sub, only for stages defined earlier."""
    if isinstance(value, str) and value.startswith("@"):
        ref, _, rest = value[1:].partition("/")
        if ref not in known:
            raise ConfigError(f"{where}: '{value}' refers to no earlier stage{close_matches(ref, known)}")
        return str(output / ref / rest) if rest else str(output / ref)
    if isinstance(value, list):
        return [_resolve_refs(v, output, known, where) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_refs(v, output, known, where) for k, v in value.items()}
    return value


def load_recipe(path: str | Path, output: str | Path | None = None) -> Recipe:
    """Parse and validate a recipe: every stage's config is built (nothing runs)."""
    from deepmath.registry import STAGES, get_stage

    path = Path(path)
    data = load_yaml(path)
    for key in data:
        if key not in _RECIPE_KEYS:
            raise ConfigError(f"{path}: unknown key '{key}'{close_matches(str(key), _RECIPE_KEYS)}")
    name = data.get("name") or path.stem
    out = Path(output or data.get("output") or f"{name}_output")
    stages_data = data.get("stages")
    if not isinstance(stages_data, list) or not stages_data:
        raise ConfigError(f"{path}: 'stages' must be a non-empty list")
    recipe = Recipe(name=name, output=out, description=data.get("description", ""), path=path)
    known: list[str] = []
    for index, entry in enumerate(stages_data):
        where = f"{path}: stages[{index}]"
        if not isinstance(entry, dict) or "stage" not in entry:
            raise ConfigError(f"{where}: each stage needs a 'stage' key naming one of: {', '.join(STAGES)}")
        spec = get_stage(str(entry["stage"]))
        stage_name = str(entry.get("name") or spec.name)
        where = f"{path}: stage '{stage_name}'"
        if stage_name in known:
            raise ConfigError(f"{where}: two stages are named '{stage_name}'; give one a different 'name'")
        fields = dict(load_yaml(path.parent / entry["config"])) if entry.get("config") else {}
        fields.update({k: v for k, v in entry.items() if k not in _STAGE_META_KEYS})
        fields = _resolve_refs(fields, out, known, where)
        cls = spec.config_class()
        field_names = {f.name for f in dataclasses.fields(cls)}
        if "output" in field_names and "output" not in fields:
            fields["output"] = str(out / stage_name)
        elif "output_dir" in field_names and "output_dir" not in fields:
            fields["output_dir"] = str(out / stage_name)
        recipe.stages.append(PlannedStage(stage_name, spec.name, from_dict(cls, fields, where=where)))
        known.append(stage_name)
    return recipe


def run_recipe(recipe: Recipe, only: list[str] | None = None) -> list[dict]:
    """Run the stages in order (each skips itself when complete) and print a one-screen summary."""
    from deepmath.registry import get_stage

    recipe.output.mkdir(parents=True, exist_ok=True)
    summary = []
    for planned in recipe.stages:
        if only and planned.name not in only:
            continue
        logger.info("=== stage %s (%s)", planned.name, planned.stage)
        start = time.time()
        result = get_stage(planned.stage).main_function()(planned.cfg)
        seconds = time.time() - start
        summary.append({"stage": planned.name, "seconds": round(seconds, 1), "result": result})
    _print_summary(recipe, summary)
    return summary


def _print_summary(recipe: Recipe, summary: list[dict]) -> None:
    lines = [f"deepmath run {recipe.name}: {len(summary)} stage(s) -> {recipe.output}"]
    for row in summary:
        result = row["result"] if isinstance(row["result"], dict) else {}
        counts = ", ".join(
            f"{k}={v}"
            for k, v in result.items()
            if k in ("documents_in", "documents_out", "rows_out") and v is not None
        )
        lines.append(f"  {row['stage']:<14} {row['seconds']:>7.1f}s  {counts}")
    report = recipe.output / "report.html"
    if report.exists():
        lines.append(f"report: {report}")
    print("\n".join(lines))


def recipe_cli(command: str, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog=f"deepmath {command}")
    parser.add_argument("recipe", help="a pipelines/*.yaml recipe")
    parser.add_argument("--output", help="output folder (default: the recipe's `output`, else ./<name>_output)")
    if command == "run":
        parser.add_argument("--only", nargs="+", help="run only these stage names")
    args = parser.parse_args(argv)
    recipe = load_recipe(args.recipe, args.output)
    if command == "validate":
        print(f"{args.recipe}: ok ({len(recipe.stages)} stages: {', '.join(s.name for s in recipe.stages)})")
        return 0
    run_recipe(recipe, only=args.only)
    return 0
