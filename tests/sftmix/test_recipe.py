"""Recipe validation: a malformed recipe fails before any work, with the key named."""

import pytest
import yaml

from deepmath.cli import build_stage_config, main
from deepmath.config import ConfigError, from_dict
from deepmath.registry import get_stage
from deepmath.sftmix.config import SftMixConfig

GOOD = {
    "benchmarks": ["benchmarks/gsm8k/test.jsonl"],
    "sources": [
        {
            "name": "train",
            "path": "train.jsonl",
            "format": "cot",
            "fields": {"question": "question", "solution": "answer"},
        },
        {
            "name": "pot",
            "path": "pot.jsonl",
            "format": "pot",
            "fields": {"question": "question", "program": "generated.0", "answer": "answer"},
            "max_samples": 10,
        },
    ],
}


def _with_source(**changes):
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["sources"][1].update(changes)
    return data


def test_good_recipe_builds_nested_sources(tmp_path):
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(yaml.safe_dump(GOOD))
    cfg = build_stage_config(
        "sft-mix", get_stage("sft-mix"), [str(recipe), "--output", str(tmp_path / "out"), "--seed", "3"]
    )
    assert cfg.seed == 3 and cfg.output.endswith("out")
    assert [s.name for s in cfg.sources] == ["train", "pot"] and cfg.sources[1].max_samples == 10
    assert cfg.sources[1].fields["program"] == "generated.0"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_with_source(fromat="pot"), r"sources\[1\]: unknown key 'fromat' \(did you mean: format"),
        (_with_source(format="python"), r"sources\[1\]\.format: 'python' is not one of"),
        (
            _with_source(fields={"question": "q", "programme": "p", "answer": "a"}),
            r"sources\[1\].*unknown role 'programme'.*program",
        ),
        (
            _with_source(fields={"question": "q", "answer": "a"}),
            r"sources\[1\].*fields.program is required for format pot",
        ),
        (_with_source(fields={"question": "q", "program": "p"}), r"sources\[1\].*needs fields.answer"),
        (
            _with_source(fields={"question": "q", "program": "a..b", "answer": "a"}),
            r"fields.program: 'a..b' is not a dotted path",
        ),
        (_with_source(weight=-1), r"sources\[1\].*weight must be >= 0"),
        (_with_source(weight="heavy"), r"sources\[1\]\.weight: expected a number"),
        (_with_source(name="train"), r"names must be unique; repeated: train"),
        (_with_source(language="fr"), r"language must be"),
        (_with_source(name="../up"), r"sources\[1\].*name: '../up' must be"),
        ({**GOOD, "sources": []}, r"sources: at least one source"),
        ({**GOOD, "sources": "train.jsonl"}, r"sources\[0\]: expected a mapping"),
        ({**GOOD, "dedup_treshold": 0.5}, r"unknown key 'dedup_treshold' \(did you mean: dedup_threshold"),
        ({**GOOD, "dedup_threshold": 1.5}, r"dedup_threshold must be in"),
        (
            {"sources": [{"name": "x", "path": "p", "fields": {"question": "q", "solution": "s"}}]},
            r"sources\[0\]: missing required key\(s\): format",
        ),
    ],
)
def test_malformed_recipes_name_the_key(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(SftMixConfig, data, where="sft-mix")


def test_cli_prints_the_error_and_exits_2(tmp_path, capsys):
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(yaml.safe_dump(_with_source(fromat="pot")))
    assert main(["sft-mix", str(recipe), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sft-mix.sources[1]: unknown key 'fromat'" in err
    assert not (tmp_path / "out").exists()


def test_unknown_benchmark_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "train.jsonl").write_text('{"question": "What is 1 + 1?", "answer": "#### 2"}\n')
    (tmp_path / "pot.jsonl").write_text("")
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(yaml.safe_dump({**GOOD, "data_root": str(tmp_path), "benchmarks": ["gsm8kk"]}))
    assert main(["sft-mix", str(recipe), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sft-mix.benchmarks:" in err and "did you mean: gsm8k" in err
    assert not (tmp_path / "out").exists()  # nothing written: fixing the recipe is not "a different config"


def test_missing_source_file_is_a_clear_error(tmp_path, capsys):
    recipe = tmp_path / "mix.yaml"
    recipe.write_text(yaml.safe_dump({**GOOD, "data_root": str(tmp_path)}))
    assert main(["sft-mix", str(recipe), "--output", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "sources[0] ('train').path" in err and "train.jsonl" in err
    assert not (tmp_path / "out").exists()
