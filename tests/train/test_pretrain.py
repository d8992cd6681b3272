"""`deepmath train pretrain`: the packed mixture, the Trainer run, resume after a kill, and every bad input."""

import json
import random
from pathlib import Path

import pytest
from transformers import TrainerCallback

from deepmath.config import ConfigError, from_dict, load_yaml
from tests.stage_folder import assert_stage_stats

PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"

WORDS = {
    "algebra": [
        "let",
        "x",
        "be",
        "a",
        "root",
        "of",
        "the",
        "polynomial",
        "so",
        "that",
        "x",
        "squared",
        "plus",
        "three",
        "x",
        "equals",
        "ten",
        "and",
        "solve",
        "for",
        "x",
    ],
    "travel": [
        "the",
        "train",
        "left",
        "the",
        "old",
        "harbour",
        "town",
        "early",
        "and",
        "we",
        "walked",
        "along",
        "the",
        "river",
        "to",
        "the",
        "market",
    ],
}


def _corpus(path: Path, topic: str, n: int, seed: int, field: str = "text") -> str:
    rng = random.Random(seed)
    words = WORDS[topic]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30))) + "."
            handle.write(json.dumps({"id": f"{topic}-{i}", field: text}) + "\n")
    return str(path)


def _recipe(tmp_path: Path, model: str, sources: list, **fields):
    from deepmath.train.pretrain_config import PretrainRecipe

    base = {
        "model": model,
        "sources": sources,
        "output": str(tmp_path / "run"),
        "max_tokens": 64 * 4 * 12,  # 12 steps of 4 rows x 64 tokens
        "max_length": 64,
        "per_device_train_batch_size": 4,
        "learning_rate": 3e-3,
        "use_cpu": True,
        "torch_threads": 1,
        "logging_steps": 2,
        "save_strategy": "steps",
        "save_steps": 4,
        "disable_tqdm": True,
        "seed": 0,
        "shuffle_buffer": 50,
        "tiny_hidden_size": 32,
        "tiny_layers": 2,
        "tiny_heads": 2,
        "tiny_vocab_size": 300,
    }
    return from_dict(PretrainRecipe, {**base, **fields})


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpora")
    return _corpus(tmp / "algebra.jsonl", "algebra", 400, 1), _corpus(tmp / "travel.jsonl", "travel", 400, 2)


def test_tiny_pretraining_end_to_end(tmp_path, corpora):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from deepmath.evaluate.lm import bits_per_byte
    from deepmath.train.pretrain import run_pretrain

    algebra, travel = corpora
    sources = [{"name": "algebra", "path": algebra, "weight": 3}, {"name": "travel", "path": travel, "weight": 1}]
    cfg = _recipe(tmp_path, "tiny", sources)
    stats = run_pretrain(cfg)
    out = tmp_path / "run"
    assert stats["tokens_seen"] == 12 * 4 * 64 == sum(stats["tokens_seen_by_source"].values())
    assert assert_stage_stats(out, "train-pretrain", "sequences")["rows_out"] == 12 * 4
    # weights are token fractions: 3:1 within a document or two of each source
    assert stats["mixture_seen"]["algebra"] == pytest.approx(0.75, abs=0.04)
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    packed = {s["name"]: s["packed_tokens"] for s in manifest["sources"]}
    assert packed == stats["tokens_seen_by_source"]  # one pass over the packed rows, nothing skipped or repeated
    import pickle

    from deepmath.train.packing import PackedDataset

    rows = PackedDataset(out / "data")
    assert len(rows) == 48 and rows[5]["source_tokens"].sum() == 64
    assert len(pickle.dumps(rows)) < 5000  # workers get the file names, not a copy of the corpus
    assert stats["steps"] == 12 and stats["tokens_per_second"] > 0
    for name in ("pretrain_curve.png", "README.md", "_SUCCESS", "config.yaml", "stats.json"):
        assert (out / name).exists(), name
    card = (out / "README.md").read_text()
    assert algebra in card and "| algebra |" in card  # lineage and the mixture table
    model = AutoModelForCausalLM.from_pretrained(out / "model")
    tokenizer = AutoTokenizer.from_pretrained(out / "model")
    base = AutoModelForCausalLM.from_pretrained(out / "base_model")
    held_out = [" ".join(random.Random(9).choice(WORDS["algebra"]) for _ in range(20)) + "."]
    after = bits_per_byte(model, tokenizer, held_out)["bits_per_byte"]
    before = bits_per_byte(base, tokenizer, held_out)["bits_per_byte"]
    assert after < before  # it learned the corpus
    # the tiny tokenizer was learned from the corpus and keeps the chat template SFT needs
    assert tokenizer.chat_template and "<|assistant|>" in tokenizer.get_vocab()
    corpus_words = len(tokenizer("squared polynomial", add_special_tokens=False)["input_ids"])
    assert corpus_words < len("squared polynomial")  # merges learned from the corpus
    # a finished run is skipped
    assert run_pretrain(cfg)["tokens_seen"] == stats["tokens_seen"]


class _KillAfterSave(TrainerCallback):
    """Stands in for a killed process: raise right after checkpoint `step` is on disk."""

    def __init__(self, step: int):
        self.step = step

    def on_save(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt(f"killed after checkpoint-{self.step}")


def test_killed_run_resumes_and_sees_the_same_tokens(tmp_path, corpora, micro_model):
    from deepmath.stage import run_stage
    from deepmath.train.pretrain import run_pretrain, train_pretrain

    sources = [{"name": "algebra", "path": corpora[0], "weight": 1}, {"name": "travel", "path": corpora[1]}]
    whole = _recipe(tmp_path / "whole", micro_model, sources)
    reference = run_pretrain(whole)

    killed = _recipe(tmp_path / "killed", micro_model, sources)
    with pytest.raises(KeyboardInterrupt):
        run_stage("train-pretrain", killed, lambda run: train_pretrain(killed, run.output, (_KillAfterSave(8),)))
    out = tmp_path / "killed" / "run"
    assert (out / "checkpoint-8").is_dir() and not (out / "_SUCCESS").exists()
    resumed = run_pretrain(_recipe(tmp_path / "killed", micro_model, sources))
    assert resumed["resumed_from"].endswith("checkpoint-8")
    assert resumed["tokens_seen"] == reference["tokens_seen"]
    assert resumed["tokens_seen_by_source"] == reference["tokens_seen_by_source"]
    # the same batches in the same order after the resume: the logged losses agree step by step
    losses = {h["step"]: h["loss"] for h in json.loads((out / "log_history.json").read_text()) if "loss" in h}
    ref_out = tmp_path / "whole" / "run"
    ref_losses = {h["step"]: h["loss"] for h in json.loads((ref_out / "log_history.json").read_text()) if "loss" in h}
    assert losses[12] == pytest.approx(ref_losses[12], rel=1e-4)


def test_shipped_pretrain_recipes_parse(tmp_path):
    from deepmath.train.pretrain_config import PretrainRecipe

    paper = from_dict(PretrainRecipe, {**load_yaml(PIPELINES / "pretrain_deepseekmath.yaml"), "output": str(tmp_path)})
    weights = {s["name"]: round(s["weight"], 2) for s in paper.sources}
    assert list(weights.values()) == [0.56, 0.04, 0.1, 0.2, 0.1]
    assert paper.learning_rate == 4.2e-4 and paper.max_tokens == 500_000_000_000
    tiny = from_dict(PretrainRecipe, {**load_yaml(PIPELINES / "pretrain_tiny.yaml"), "output": str(tmp_path)})
    assert tiny.model == "tiny" and tiny.use_cpu


def test_cli_overrides_every_field(tmp_path):
    from deepmath.cli import build_stage_config
    from deepmath.registry import get_stage

    spec = get_stage("train-pretrain")
    recipe = str(PIPELINES / "pretrain_tiny.yaml")
    cfg = build_stage_config(
        "train pretrain",
        spec,
        [recipe, "--output", str(tmp_path), "--sources", "a.jsonl", "b.jsonl", "--max-tokens", "8192"],
    )
    assert [s["path"] for s in cfg.sources] == ["a.jsonl", "b.jsonl"] and cfg.sources[0]["weight"] == 0.5
    assert (cfg.output_dir, cfg.max_tokens) == (str(tmp_path), 8192)


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([], "sources is empty"),
        ([{"path": "a", "weight": 0}, {"path": "b", "weight": 0}], "sum to a positive number"),
        ([{"path": "a", "weight": -1}], "must be a number >= 0"),
        ([{"path": "a", "wieght": 1}], "unknown key"),
        ([{"path": "x/a"}, {"path": "y/a"}], "share a name"),
    ],
)
def test_bad_recipes_are_config_errors(tmp_path, sources, message):
    with pytest.raises(ConfigError, match=message):
        _recipe(tmp_path, "tiny", sources)


def test_bad_budget_fields(tmp_path):
    with pytest.raises(ConfigError, match="max_tokens"):
        _recipe(tmp_path, "tiny", ["a"], max_tokens=0)
    with pytest.raises(ConfigError, match="set from max_tokens"):
        _recipe(tmp_path, "tiny", ["a"], max_steps=10)


def _cli(args: list[str], capsys) -> tuple[int, str]:
    from deepmath.cli import main

    code = main(args)
    return code, capsys.readouterr().err


def _cli_recipe(tmp_path: Path, model: str, sources: list, **fields) -> list[str]:
    import yaml

    data = {
        "model": model,
        "sources": sources,
        "max_tokens": 1024,
        "max_length": 64,
        "per_device_train_batch_size": 4,
        "use_cpu": True,
        "torch_threads": 1,
        "disable_tqdm": True,
        **fields,
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(data))
    return ["train", "pretrain", str(path), "--output", str(tmp_path / "out")]


def test_empty_corpus_is_a_clear_error(tmp_path, micro_model, capsys):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, err = _cli(_cli_recipe(tmp_path, micro_model, [str(empty)]), capsys)
    assert code == 2 and "has no documents with text" in err and not (tmp_path / "out" / "_SUCCESS").exists()


def test_source_without_the_text_field_says_so(tmp_path, micro_model, capsys, corpora):
    wrong = _corpus(tmp_path / "content.jsonl", "algebra", 20, 3, field="content")
    code, err = _cli(_cli_recipe(tmp_path, micro_model, [corpora[0], wrong]), capsys)
    assert code == 2 and "'content.jsonl'" in err and "'text'" in err and "20 rows without" in err
    # naming the field fixes it
    fixed = [corpora[0], {"path": wrong, "text_field": "content", "name": "content"}]
    assert _cli(_cli_recipe(tmp_path / "fixed", micro_model, fixed), capsys)[0] == 0


def test_budget_larger_than_the_data_says_how_many_epochs(tmp_path, micro_model, capsys):
    small = _corpus(tmp_path / "small.jsonl", "travel", 10, 4)
    code, err = _cli(_cli_recipe(tmp_path, micro_model, [small], max_tokens=4096), capsys)
    assert code == 2 and "epochs over it" in err and "max_epochs:" in err
    epochs = float(err.split(" epochs over it")[0].rsplit(" ", 1)[-1])
    assert epochs > 1
    # allowing that many passes trains on the repeated source
    args = _cli_recipe(tmp_path / "repeat", micro_model, [small], max_tokens=4096, max_epochs=int(epochs) + 1)
    assert _cli(args, capsys)[0] == 0
    stats = json.loads((tmp_path / "repeat" / "out" / "stats.json").read_text())
    assert stats["epochs_by_source"]["small.jsonl"] == pytest.approx(epochs, rel=0.05)


def test_budget_below_one_step_and_missing_path(tmp_path, micro_model, capsys):
    code, err = _cli(_cli_recipe(tmp_path, micro_model, ["nowhere.jsonl"]), capsys)
    assert code == 2 and "nowhere.jsonl" in err
    code, err = _cli(_cli_recipe(tmp_path / "b", micro_model, ["nowhere.jsonl"], max_tokens=100), capsys)
    assert code == 2 and "less than one optimizer step" in err


def test_a_partial_checkpoint_is_not_resumed_from(tmp_path):
    from deepmath.train.pretrain import complete_checkpoint

    for step, complete in ((4, True), (8, True), (12, False)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        if complete:
            (folder / "trainer_state.json").write_text("{}")
    assert complete_checkpoint(tmp_path) == str(tmp_path / "checkpoint-8")
    assert complete_checkpoint(tmp_path / "none") is None


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun_resumes(tmp_path, corpora, micro_model):
    """A real kill: the CLI in a subprocess, SIGKILLed once a checkpoint is on disk, then run again."""
    import os
    import subprocess
    import sys
    import time

    import yaml

    steps = 60
    recipe = {
        "model": micro_model,
        "sources": [corpora[0], corpora[1]],
        "max_tokens": steps * 4 * 64,
        "max_length": 64,
        "per_device_train_batch_size": 4,
        "use_cpu": True,
        "torch_threads": 1,
        "save_strategy": "steps",
        "save_steps": 2,
        "disable_tqdm": True,
    }
    path = tmp_path / "recipe.yaml"
    path.write_text(yaml.safe_dump(recipe))
    out = tmp_path / "out"
    command = [sys.executable, "-m", "deepmath.cli", "train", "pretrain", str(path), "--output", str(out)]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    while not list(out.glob("checkpoint-*/trainer_state.json")) and time.time() < deadline:
        time.sleep(0.2)
    process.kill()
    process.wait()
    assert list(out.glob("checkpoint-*")) and not (out / "_SUCCESS").exists()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stats = json.loads((out / "stats.json").read_text())
    assert stats["resumed_from"] and stats["tokens_seen"] == steps * 4 * 64
    manifest = json.loads((out / "data" / "manifest.json").read_text())
    assert stats["tokens_seen_by_source"] == {s["name"]: s["packed_tokens"] for s in manifest["sources"]}
