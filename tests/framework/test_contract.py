"""The stage contract as code: declared outputs, plugin stages, light validation, no import cycles."""

from __future__ import annotations

import ast
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deepmath.cli import main
from deepmath.config import ConfigError
from deepmath.recipes import load_recipe, run_recipe
from deepmath.registry import STAGES, StageSpec, get_stage, register_stage, unregister_stage
from deepmath.stats import check_stats

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shout_stage():
    spec = register_stage(
        StageSpec(
            "shout",
            "tests.framework.toy_plugin:ShoutConfig",
            "tests.framework.toy_plugin:run_shout",
            "upper-case every document",
            positional="input",
            report="tests.framework.toy_plugin:report_shout",
        )
    )
    yield spec
    unregister_stage("shout")


def test_a_stage_from_outside_the_package_runs_in_a_recipe_with_card_stats_and_report(tmp_path, shout_stage):
    pages = tmp_path / "pages.jsonl.gz"
    with gzip.open(pages, "wt") as handle:
        handle.write(json.dumps({"id": "a", "text": "two plus two"}) + "\n")
        handle.write(json.dumps({"id": "b", "text": "is four"}) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "toy",
                "stages": [
                    {"stage": "shout", "input": [str(pages)], "suffix": "?"},
                    {"stage": "shout", "name": "again", "input": ["@shout:documents"]},
                    {"stage": "report"},
                ],
            }
        )
    )
    out = tmp_path / "run"
    run_recipe(load_recipe(recipe, out))
    with gzip.open(out / "again" / "data" / "shouted.jsonl.gz", "rt") as handle:
        rows = [json.loads(line) for line in handle]
    assert [r["text"] for r in rows] == ["TWO PLUS TWO?!", "IS FOUR?!"]
    for name in ("config.yaml", "stats.json", "README.md", "_SUCCESS"):
        assert (out / "again" / name).is_file(), name
    stats = json.loads((out / "again" / "stats.json").read_text())
    assert stats["rows_out"] == 2 and check_stats(stats) == []
    report = (out / "report" / "report.md").read_text()
    assert "## Shouting" in report and "again: shouted 2 documents." in report
    assert "| again | 2 | 2 |" in report, "a plugin's documents are in the funnel like any corpus stage's"


def test_references_are_checked_against_declared_outputs(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "r",
                "stages": [
                    {"stage": "ingest", "input": ["x.warc.gz"]},
                    {"stage": "dedup", "input": ["@ingest:model"]},
                ],
            }
        )
    )
    with pytest.raises(ConfigError, match="has no output 'model'"):
        load_recipe(recipe)
    assert get_stage("train-sft").output_path("model") == "model"
    assert get_stage("mine").default_output == "documents"


def test_register_stage_refuses_a_clash():
    with pytest.raises(ConfigError, match="already registered"):
        register_stage(StageSpec("dedup", "a:B", "a:c", "another dedup"))


@pytest.mark.parametrize("path", sorted((ROOT / "pipelines").glob("*.yaml")), ids=lambda p: p.name)
def test_validate_accepts_every_shipped_yaml(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert ": ok (" in capsys.readouterr().out


def test_validate_rejects_a_yaml_no_stage_accepts(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lerning_rate: 0.1\nmodel: tiny\n")
    assert main(["validate", str(bad)]) == 2
    assert "not a valid recipe" in capsys.readouterr().err


def test_validate_catches_a_wrong_type_in_a_train_stage_without_torch(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"stages": [{"stage": "train-grpo", "model": "tiny", "max_steps": "many"}]}))
    assert main(["validate", str(recipe)]) == 2
    assert "max_steps" in capsys.readouterr().err


def test_validate_imports_no_torch():
    code = (
        "import sys; from deepmath.cli import main; "
        f"assert main(['validate', {str(ROOT / 'pipelines' / 'demo.yaml')!r}]) == 0; "
        "heavy = [m for m in ('torch', 'transformers', 'trl', 'datasets') if m in sys.modules]; "
        "print(heavy)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_shipped_schemas_match_the_installed_trl():
    """`python -m deepmath.schema write` regenerates them; a TRL upgrade that changes a field shows up here."""
    from deepmath.schema import field_kinds, load_schema

    schema = load_schema()
    heavy = [name for name, spec in STAGES.items() if spec.heavy_config]
    assert heavy and sorted(schema) == sorted(heavy)
    for name in heavy:
        assert schema[name]["fields"] == field_kinds(get_stage(name).config_class()), name


def _imports(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == package or name.startswith(package + ".")}


def _module_graph(package_dir: Path, package: str) -> dict[str, set[str]]:
    """Sub-package -> sub-packages it imports (any import, lazy ones included: an arrow is an arrow)."""
    graph: dict[str, set[str]] = {}
    for path in package_dir.rglob("*.py"):
        parts = path.relative_to(package_dir).with_suffix("").parts
        node = parts[0]
        for target in _imports(path, package):
            pieces = target.split(".")
            other = pieces[1] if len(pieces) > 1 else "__init__"
            if other != node:
                graph.setdefault(node, set()).add(other)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for other in sorted(graph.get(node, ())):
            if state.get(other) == "open":
                cycles.append([*path[path.index(other) :], other])
            elif other not in state:
                visit(other, [*path, other])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return cycles


def test_the_import_graph_has_no_cycle():
    graph = _module_graph(ROOT / "deepmath", "deepmath")
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_pins_match_the_ranges_the_shims_were_tested_with():
    import re

    import tomllib

    from deepmath.compat import TESTED, check_versions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = [*project["dependencies"], *(d for deps in project["optional-dependencies"].values() for d in deps)]
    for name in ("datatrove", "trl"):
        spec = next(s for s in specs if re.match(rf"{name}(\[|>|=|<|\s)", s))
        low, high = TESTED[name]
        assert f">={low}" in spec and f"<{high}" in spec, spec
    assert check_versions("datatrove", "trl") == [], "the installed versions are inside the tested ranges"


def _stats_checked_stages() -> set[str]:
    """Stage names passed to `tests.stage_folder.assert_stage_stats` anywhere in the tests (a literal, or a literal
    dict indexed by a parameter)."""
    names: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "assert_stage_stats"):
                continue
            arg = node.args[1] if len(node.args) > 1 else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
            elif isinstance(arg, ast.Subscript) and isinstance(arg.value, ast.Dict):
                names.update(v.value for v in arg.value.values if isinstance(v, ast.Constant))
            elif isinstance(arg, ast.Name):  # a variable: the literal dict it was read from, in the same file
                for other in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                    if isinstance(other, ast.Assign) and any(getattr(t, "id", "") == arg.id for t in other.targets):
                        value = other.value.value if isinstance(other.value, ast.Subscript) else other.value
                        if isinstance(value, ast.Dict):
                            names.update(v.value for v in value.values if isinstance(v, ast.Constant))
    return names


def test_every_registered_stage_has_its_stats_json_checked_by_a_test():
    """Each built-in stage's stats.json, written by a real (micro) run in its own tests, is checked for the common
    keys and types (`assert_stage_stats`); a new stage without such a check fails here."""
    checked = _stats_checked_stages()
    assert sorted(set(STAGES) - checked) == []


def test_the_text_kernel_is_a_bottom_layer():
    """dedup and decontam both stand on deepmath.text; it imports no other part of deepmath."""
    graph = _module_graph(ROOT / "deepmath", "deepmath")
    assert graph.get("text", set()) == set()
    assert "text" in graph["dedup"] and "text" in graph["decontam"]
