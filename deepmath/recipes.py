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

References: `@name` is an earlier stage's folder (its documents, for a corpus stage), `@name:output` one of the
outputs that stage declares (`@train-sft:model`; see `StageSpec.outputs`), `@name/sub/path` a path inside it.
`deepmath validate` checks every reference against the declared outputs and every stage's fields without importing
torch: a training stage is checked against its shipped schema (`deepmath.schema`), and a file without `stages` is
validated as the config of whichever stage accepts it.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.config import ConfigError, close_matches, from_dict, load_yaml
from deepmath.schema import check_fields, schema_of

__all__ = ["PlannedStage", "Recipe", "load_recipe", "recipe_cli", "run_recipe"]

logger = logging.getLogger(__name__)

_RECIPE_KEYS = ("name", "output", "description", "stages")
_STAGE_META_KEYS = ("stage", "name", "config")


@dataclass
class PlannedStage:
    name: str
    stage: str
    cfg: object  # the config dataclass; None when the recipe was loaded with light=True for a heavy stage
    fields: dict = field(default_factory=dict)  # the resolved YAML fields the config is built from

    def config(self):
        """The stage's config dataclass (built now when the recipe was validated lightly)."""
        if self.cfg is None:
            from deepmath.registry import get_stage

            self.cfg = from_dict(get_stage(self.stage).config_class(), self.fields, where=f"stage '{self.name}'")
        return self.cfg


@dataclass
class Recipe:
    name: str
    output: Path
    description: str = ""
    stages: list[PlannedStage] = field(default_factory=list)
    path: Path | None = None


def _resolve_refs(value, output: Path, known: dict[str, str], where: str):
    """Replace "@name", "@name:output" and "@name/sub" with paths, only for stages defined earlier."""
    if isinstance(value, str) and value.startswith("@"):
        head, _, rest = value[1:].partition("/")
        ref, _, output_name = head.partition(":")
        if ref not in known:
            raise ConfigError(f"{where}: '{value}' refers to no earlier stage{close_matches(ref, known)}")
        from deepmath.registry import get_stage

        try:
            inner = get_stage(known[ref]).output_path(output_name)
        except ConfigError as err:
            raise ConfigError(f"{where}: '{value}': {err}") from None
        path = output / ref / inner if inner else output / ref
        return str(path / rest) if rest else str(path)
    if isinstance(value, list):
        return [_resolve_refs(v, output, known, where) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_refs(v, output, known, where) for k, v in value.items()}
    return value


def load_recipe(path: str | Path, output: str | Path | None = None, light: bool = False) -> Recipe:
    """Parse and validate a recipe: every stage's config is built (nothing runs); with `light`, a stage whose config
    imports torch is checked against its schema instead and built when it runs."""
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
    known: dict[str, str] = {}  # stage name in this recipe -> registered stage
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
        schema = schema_of(spec.name) if (light and spec.heavy_config) else None
        if schema is not None:
            field_names = set(schema["fields"])
        else:
            cls = spec.config_class()
            field_names = {f.name for f in dataclasses.fields(cls)}
        if "output" in field_names and "output" not in fields:
            fields["output"] = str(out / stage_name)
        elif "output_dir" in field_names and "output_dir" not in fields:
            fields["output_dir"] = str(out / stage_name)
        if schema is not None:
            check_fields(spec.name, fields, schema, where)
            recipe.stages.append(PlannedStage(stage_name, spec.name, None, fields))
        else:
            recipe.stages.append(PlannedStage(stage_name, spec.name, from_dict(cls, fields, where=where), fields))
        known[stage_name] = spec.name
    return recipe


def validate_stage_config(path: str | Path) -> list[str]:
    """The stages whose config `path` (a YAML of one stage's fields, no `stages`) is valid for; ConfigError if none."""
    from deepmath.registry import STAGES

    data = load_yaml(path)
    accepted, errors = [], {}
    for name, spec in STAGES.items():
        fields = {"output": "validate-only", **data}
        try:
            schema = schema_of(name) if spec.heavy_config else None
            if schema is not None:
                fields = {k: v for k, v in fields.items() if k in schema["fields"] or k != "output"}
                check_fields(name, fields, schema, str(path))
            else:
                cls = spec.config_class()
                if "output" not in {f.name for f in dataclasses.fields(cls)}:
                    fields.pop("output")
                from_dict(cls, fields, where=str(path))
        except ConfigError as err:
            errors[name] = str(err)
            continue
        accepted.append(name)
    if not accepted:
        best = min(errors.values(), key=len) if errors else "no stage"
        raise ConfigError(f"{path}: not a valid recipe (no 'stages') nor a valid config of any stage; e.g. {best}")
    return accepted


def run_recipe(recipe: Recipe, only: list[str] | None = None) -> list[dict]:
    """Run the stages in order (each skips itself when complete) and print a one-screen summary."""
    from deepmath.outputs import check_output, claim_output
    from deepmath.registry import get_stage
    from deepmath.stage import nested_stage

    names = [planned.name for planned in recipe.stages]
    for name in only or []:
        if name not in names:
            raise ConfigError(f"--only: no stage named '{name}' in {recipe.name}{close_matches(name, names)}")
    check_output(f"run {recipe.name}", recipe.output)
    claim_output(recipe.output)
    summary = []
    selected = [p for p in recipe.stages if not only or p.name in only]
    for index, planned in enumerate(selected, 1):
        logger.info("[%d/%d] %s (%s) ...", index, len(selected), planned.name, planned.stage)
        start = time.time()
        with nested_stage():  # the recipe says "done" for its stages
            result = get_stage(planned.stage).main_function()(planned.config())
        seconds = time.time() - start
        logger.info("[%d/%d] %s done in %.1fs%s", index, len(selected), planned.name, seconds, _counts(result))
        summary.append({"stage": planned.name, "seconds": round(seconds, 1), "result": result})
    _print_summary(recipe, summary)
    return summary


def _counts(result) -> str:
    if not isinstance(result, dict):
        return ""
    from deepmath.stats import normalize_stats

    result = normalize_stats(result)  # an old run folder's stats speak documents_in/out
    shown = [f"{k}={result[k]}" for k in ("rows_in", "rows_out") if result.get(k) is not None]
    return f": {', '.join(shown)} {result.get('unit', '')}".rstrip() if shown else ""


def _print_summary(recipe: Recipe, summary: list[dict]) -> None:
    lines = [f"deepmath run {recipe.name}: {len(summary)} stage(s) -> {recipe.output}"]
    for row in summary:
        from deepmath.stats import normalize_stats

        result = normalize_stats(row["result"]) if isinstance(row["result"], dict) else {}
        counts = ", ".join(f"{k}={result[k]}" for k in ("rows_in", "rows_out") if result.get(k) is not None)
        counts += f" {result['unit']}" if counts and result.get("unit") else ""
        lines.append(f"  {row['stage']:<14} {row['seconds']:>7.1f}s  {counts}")
    report = recipe.output / "report" / "report.html"
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
    if command == "validate":
        data = load_yaml(args.recipe)
        if "stages" not in data:
            accepted = validate_stage_config(args.recipe)
            print(f"{args.recipe}: ok (a config of {', '.join(accepted)})")
            return 0
        recipe = load_recipe(args.recipe, args.output, light=True)
        print(f"{args.recipe}: ok ({len(recipe.stages)} stages: {', '.join(s.name for s in recipe.stages)})")
        return 0
    recipe = load_recipe(args.recipe, args.output)
    run_recipe(recipe, only=args.only)
    return 0
