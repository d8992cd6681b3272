import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deepmath.cli import main
from deepmath.config import ConfigError
from deepmath.recipes import load_recipe
from deepmath.registry import STAGES, get_stage

ROOT = Path(__file__).resolve().parents[2]
SINGLE_STAGE_PREFIXES = [("grpo_", "train-grpo"), ("sft_mix", "sft-mix"), ("sft_", "train-sft")]
SINGLE_STAGE_PREFIXES += [("rft_", "train-rft"), ("online_rft_", "train-online-rft"), ("dpo_", "train-dpo")]


def test_help_is_fast_and_light():
    code = "import sys; from deepmath.cli import main; main(['--help']); print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch','datatrove','transformers','trl','datasets')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "ingest" in out and out.strip().endswith("[]")


def test_unknown_stage_suggests():
    with pytest.raises(ConfigError, match="did you mean: dedup"):
        get_stage("dedupe")


@pytest.mark.parametrize("name", sorted(STAGES))
def test_every_registered_stage_resolves(name):
    import dataclasses

    spec = STAGES[name]
    assert dataclasses.is_dataclass(spec.config_class()), spec.config
    assert callable(spec.main_function()), spec.main


def test_stage_cli_flags_and_errors(capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--output", "x"])
    assert "required: INPUT" in capsys.readouterr().err
    assert main(["ingest", "a.warc.gz", "--output", "x", "--workers", "0"]) == 2
    assert "workers must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ingest", "a.warc.gz", "--output", "x", "--max-page-byte", "5"])  # no abbreviations
    assert "unrecognized arguments" in capsys.readouterr().err


def test_stage_config_from_cli(tmp_path):
    from deepmath.cli import build_stage_config

    base = tmp_path / "ingest.yaml"
    base.write_text("limit: 10\nworkers: 2\n")
    cfg = build_stage_config(
        "ingest", get_stage("ingest"), ["a.warc.gz", "b.wet.gz", "--config", str(base), "--limit", "7", "--strict"]
    )
    assert cfg.input == ["a.warc.gz", "b.wet.gz"] and cfg.limit == 7 and cfg.workers == 2 and cfg.strict is True


def test_recipe_validation_errors(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "stages": [{"stage": "ingets", "input": ["a"]}]}))
    with pytest.raises(ConfigError, match="did you mean: ingest"):
        load_recipe(recipe)
    recipe.write_text(yaml.safe_dump({"name": "r", "stages": [{"stage": "ingest", "input": ["a"], "limt": 3}]}))
    with pytest.raises(ConfigError, match=r"unknown key 'limt'.*limit"):
        load_recipe(recipe)
    recipe.write_text(yaml.safe_dump({"name": "r", "stages": [{"stage": "ingest", "input": ["@missing"]}]}))
    with pytest.raises(ConfigError, match="refers to no earlier stage"):
        load_recipe(recipe)
    recipe.write_text(yaml.safe_dump({"name": "r", "stagez": []}))
    with pytest.raises(ConfigError, match="did you mean: stages"):
        load_recipe(recipe)


def test_recipe_references_and_outputs(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "name": "r",
                "stages": [
                    {"stage": "ingest", "input": ["a.warc.gz"]},
                    {"stage": "ingest", "name": "again", "input": ["@ingest/data"], "limit": 5},
                ],
            }
        )
    )
    plan = load_recipe(recipe, output=tmp_path / "out")
    assert [s.name for s in plan.stages] == ["ingest", "again"]
    assert plan.stages[0].cfg.output == str(tmp_path / "out" / "ingest")
    assert plan.stages[1].cfg.input == [str(tmp_path / "out" / "ingest" / "data")]
    assert plan.stages[1].cfg.limit == 5


def test_cli_validate_command(tmp_path, capsys):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(yaml.safe_dump({"name": "r", "stages": [{"stage": "ingest", "input": ["a"]}]}))
    assert main(["validate", str(recipe)]) == 0
    assert "ok (1 stages" in capsys.readouterr().out
    recipe.write_text(yaml.safe_dump({"name": "r", "stages": [{"stage": "ingest", "input": ["a"], "workers": "two"}]}))
    assert main(["validate", str(recipe)]) == 2
    assert "expected an integer" in capsys.readouterr().err


@pytest.mark.parametrize("recipe", sorted((ROOT / "pipelines").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_recipes_validate(recipe):
    data = yaml.safe_load(recipe.read_text())
    if "stages" in data:
        load_recipe(recipe)
        return
    # a single stage's config: the file name says which stage reads it
    stage = next(s for prefix, s in SINGLE_STAGE_PREFIXES if recipe.name.startswith(prefix))
    from deepmath.config import from_dict

    from_dict(get_stage(stage).config_class(), data, where=recipe.name)
