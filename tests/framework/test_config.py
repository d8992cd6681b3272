from dataclasses import dataclass, field
from typing import Literal

import pytest

from deepmath.config import ConfigError, config_hash, from_dict, load_yaml, parse_cli_value


@dataclass
class Inner:
    name: str
    weight: float = 1.0


@dataclass
class Outer:
    threshold: float = 0.8
    iterations: int = 3
    mode: Literal["drop", "segment"] = "drop"
    benchmarks: list[str] = field(default_factory=list)
    sources: list[Inner] = field(default_factory=list)
    limit: int | None = None
    strict: bool = False


def test_valid_mapping_builds_dataclass_with_conversions():
    cfg = from_dict(Outer, {"threshold": 1, "benchmarks": "gsm8k, math", "sources": [{"name": "a", "weight": 2}]})
    assert cfg.threshold == 1.0 and isinstance(cfg.threshold, float)
    assert cfg.benchmarks == ["gsm8k", "math"]
    assert cfg.sources == [Inner("a", 2.0)]


def test_unknown_key_names_close_match():
    with pytest.raises(ConfigError, match=r"unknown key 'treshold'.*did you mean: threshold"):
        from_dict(Outer, {"treshold": 0.5})


def test_nested_unknown_key_names_its_place():
    with pytest.raises(ConfigError, match=r"sources\[0\].*unknown key 'wieght'.*weight"):
        from_dict(Outer, {"sources": [{"name": "a", "wieght": 1}]})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"iterations": "three"}, "expected an integer"),
        ({"iterations": True}, "expected an integer"),
        ({"threshold": "high"}, "expected a number"),
        ({"mode": "segmnt"}, "did you mean: segment"),
        ({"strict": "yes"}, "expected true or false"),
        ({"sources": [{"weight": 1}]}, "missing required key"),
        ({"benchmarks": {"a": 1}}, "expected a list"),
    ],
)
def test_wrong_types_are_clear(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Outer, data)


def test_float_fields_accept_yaml_exponent_strings():
    assert from_dict(Outer, {"threshold": "1e-6"}).threshold == 1e-6
    assert from_dict(Outer, {"threshold": parse_cli_value("1e-5")}).threshold == 1e-5


def test_optional_accepts_none_and_value():
    assert from_dict(Outer, {"limit": None}).limit is None
    assert from_dict(Outer, {"limit": 5}).limit == 5


def test_cli_values_parse_as_yaml_scalars():
    assert parse_cli_value("0.8") == 0.8
    assert parse_cli_value("true") is True
    assert parse_cli_value("gsm8k") == "gsm8k"


def test_config_hash_ignores_named_fields():
    a, b = Outer(iterations=2, strict=True), Outer(iterations=2, strict=False)
    assert config_hash(a) != config_hash(b)
    assert config_hash(a, ignore=["strict"]) == config_hash(b, ignore=["strict"])


def test_load_yaml_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_yaml(bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_yaml(broken)


def test_config_hash_survives_a_new_option_with_a_default():
    @dataclass
    class Old:
        threshold: float = 0.8

    @dataclass
    class New:
        threshold: float = 0.8
        extra: int = 3

    assert config_hash(Old(threshold=0.7)) == config_hash(New(threshold=0.7))
    assert config_hash(New(threshold=0.7)) != config_hash(New(threshold=0.7, extra=4))


def test_config_hash_is_the_same_in_another_process():
    """A finished stage is recognised by a later run: the hash may not depend on the process (hash seeds, order)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "from deepmath.dedup.config import DedupConfig; from deepmath.config import config_hash; "
        "print(config_hash(DedupConfig(input=['a', 'b'], output='o', threshold=0.7)))"
    )
    root = Path(__file__).resolve().parents[2]
    hashes = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout.strip()
        for seed in ("1", "2")
    }
    from deepmath.dedup.config import DedupConfig

    assert hashes == {config_hash(DedupConfig(input=["a", "b"], output="o", threshold=0.7))}
