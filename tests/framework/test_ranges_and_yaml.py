"""Declared value ranges (one-line errors before any work) and YAML that cannot blow up memory or messages."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from deepmath.cli import main
from deepmath.config import ConfigError, from_dict, load_yaml, parse_cli_value
from deepmath.ranges import RangeError, check_ranges

BILLION_LAUGHS = (
    "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
)


@dataclass
class _Toy:
    RANGES = {"inherited": (0, 10)}
    count: int = field(default=1, metadata={"help": "a count", "range": (1, 100)})
    limit: int = field(default=-1, metadata={"help": "-1: all", "range": (-1, None)})
    rate: float = field(default=0.5, metadata={"range": (0.0, 1.0)})
    inherited: int = 3
    unchecked: int = -7


def test_check_ranges_names_the_field_and_value():
    check_ranges(_Toy())
    check_ranges(_Toy())  # twice is harmless
    for kwargs, message in [
        ({"count": 0}, "count must be between 1 and 100, got 0"),
        ({"limit": -2}, "limit must be at least -1, got -2"),
        ({"rate": 1.5}, "rate must be between 0.0 and 1.0, got 1.5"),
        ({"rate": float("nan")}, "rate must be between 0.0 and 1.0, got nan"),
        ({"inherited": 11}, "inherited must be between 0 and 10, got 11"),
    ]:
        with pytest.raises(RangeError) as err:
            check_ranges(_Toy(**kwargs))
        assert str(err.value) == message


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["dedup", "x.jsonl", "--num-perm", "100000000"],
            "dedup: num_perm must be between 16 and 4096, got 100000000",
        ),
        (["dedup", "x.jsonl", "--splits", "100000"], "dedup: splits must be between 1 and 1024, got 100000"),
        (["ingest", "x.warc.gz", "--max-page-bytes", "-1"], "ingest: max_page_bytes must be between 1 and"),
        (["ingest", "x.warc.gz", "--tasks", "-3"], "ingest: tasks must be between 0 and"),
        (["ingest", "x.warc.gz", "--limit", "-5"], "ingest: limit must be at least -1, got -5"),
        (["ingest", "x.warc.gz", "--min-chars", "-5"], "ingest: min_chars must be between 0 and"),
        (["decontam", "x.jsonl", "--ngram", "500"], "decontam: ngram must be between 2 and 64, got 500"),
        (["train", "sft", "pipelines/sft_tiny.yaml", "--max-steps", "-4"], "max_steps must be between -1 and"),
        (["train", "sft", "pipelines/sft_tiny.yaml", "--learning-rate=-1e-5"], "learning_rate must be between 0.0"),
    ],
)
def test_absurd_values_are_one_line_errors(tmp_path, capsys, argv, message):
    code = main([*argv, "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip()
    stage = argv[0] if argv[0] != "train" else f"train-{argv[1]}"
    assert code == 2 and err.startswith(f"deepmath {stage}: error: ") and "Traceback" not in err
    assert message.removeprefix(f"{argv[0]}: ") in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_negative_eval_values_fail_before_model_setup():
    from deepmath.evaluate.config import EvalConfig

    with pytest.raises(ConfigError, match="max_problems must be between 0 and"):
        from_dict(EvalConfig, {"model": "m", "data": "d", "max_problems": -3})


def test_yaml_alias_bomb_is_refused(tmp_path):
    assert len(BILLION_LAUGHS) < 1500  # the 1.4 KB document (9^9 "lol"s once expanded)
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS)
    with pytest.raises(ConfigError, match="alias bomb") as err:
        load_yaml(path)
    assert len(str(err.value)) < 300
    with pytest.raises(ConfigError, match="alias bomb"):
        parse_cli_value("[" + BILLION_LAUGHS.replace("\n", ", ").replace(": ", ": ") + "]")


def test_ordinary_aliases_still_work(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("base: &base {lr: 0.1, steps: [1, 2]}\nfirst: *base\nsecond: *base\n")
    assert load_yaml(path)["second"] == {"lr": 0.1, "steps": [1, 2]}


def test_error_messages_never_print_a_huge_value(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("input: [a.jsonl]\nthreshold: " + "9" * 5_000_000 + "x\n")
    from deepmath.dedup.config import DedupConfig

    with pytest.raises(ConfigError) as err:
        from_dict(DedupConfig, load_yaml(path))
    assert len(str(err.value)) <= 1100 and "..." in str(err.value)
