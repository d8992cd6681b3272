"""`pipelines/demo.yaml` validates, lists the whole flow in order and writes under ./demo_output by default."""

from __future__ import annotations

from pathlib import Path

from deepmath.recipes import load_recipe

ROOT = Path(__file__).resolve().parents[2]
FLOW = ["demo-data", "ingest", "mine", "dedup", "decontam", "sft-mix", "train-sft", "train-grpo", "eval", "report"]
FLOW[FLOW.index("train-sft") : FLOW.index("train-sft")] = ["train-pretrain", "pretrain-ablation"]


def test_demo_recipe_is_the_whole_flow():
    recipe = load_recipe(ROOT / "pipelines" / "demo.yaml")
    assert [s.stage for s in recipe.stages] == FLOW
    assert recipe.output == Path("demo_output")  # relative: created under the current directory
    by_stage = {s.stage: s.cfg for s in recipe.stages}
    assert by_stage["mine"].iterations == 2 and by_stage["mine"].review == "auto"
    # SFT starts from the pretrained model, which read the decontaminated corpus
    assert by_stage["train-sft"].model == str(recipe.output / "pretrain" / "model")
    assert by_stage["train-pretrain"].sources[0]["path"] == str(recipe.output / "decontam")
    report = by_stage["report"]
    assert Path(report.run_dir) == recipe.output and Path(report.output) == recipe.output / "report"
    for planned in recipe.stages:
        folder = getattr(planned.cfg, "output", None) or getattr(planned.cfg, "output_dir", None)
        assert Path(folder) == recipe.output / planned.name, planned.name


def test_validate_command(capsys):
    from deepmath.cli import main

    assert main(["validate", str(ROOT / "pipelines" / "demo.yaml")]) == 0
    assert "ok (12 stages" in capsys.readouterr().out
