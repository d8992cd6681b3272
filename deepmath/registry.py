"""Stages by short name: the CLI, recipes and `deepmath validate` all look them up here.

Each entry names its config dataclass and its entry function as import strings, so nothing is imported until a
stage is used (`deepmath --help` stays instant). An unknown name raises with close matches.

A stage declares what it publishes (`outputs`: `@mine` is its documents, `@train-sft:model` its model; recipes are
checked against these by `deepmath validate`) and may name its report fragment (`report`: a function that adds
its section to the run report). Stages from outside the package register themselves with `register_stage(spec)`
or through the `deepmath.stages` entry-point group (each entry point names a `StageSpec`): no framework file is
edited to add one (DEVELOPERS.md, "Adding a stage").
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from deepmath.config import ConfigError, close_matches

__all__ = ["STAGES", "StageSpec", "get_stage", "register_stage", "unregister_stage"]


CORPUS_OUTPUTS = {"documents": "data"}
MODEL_OUTPUTS = {"model": "model"}


@dataclass(frozen=True)
class StageSpec:
    name: str
    config: str  # "module:Class"
    main: str  # "module:function", called with the config instance
    help: str
    positional: str | None = None  # field filled by positional arguments; "@config" = a YAML file of the config
    outputs: dict = field(default_factory=lambda: dict(CORPUS_OUTPUTS))  # name -> path inside the stage folder
    report: str | None = None  # "module:function(context)" adding this stage's section to the run report
    heavy_config: bool = False  # the config class imports torch/TRL: `validate` checks it against its schema

    @property
    def default_output(self) -> str:
        """What a bare `@stage` stands for: the first declared output."""
        return next(iter(self.outputs), "")

    def output_path(self, name: str = "") -> str:
        """The path of output `name` inside the stage folder ('' for the folder itself)."""
        if not name:
            return ""
        if name not in self.outputs:
            raise ConfigError(
                f"stage '{self.name}' has no output '{name}'{close_matches(name, self.outputs)}; "
                f"it declares: {', '.join(self.outputs) or 'none'}"
            )
        return self.outputs[name]

    def config_class(self):
        return _load(self.config)

    def main_function(self):
        return _load(self.main)


def _load(target: str):
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in [
        StageSpec(
            "demo-data",
            "deepmath.demo.config:DemoDataConfig",
            "deepmath.demo.generate:run_demo_data",
            "generate the self-contained demo world (WARC pages, seeds, benchmark, SFT sources)",
            positional="output",
            outputs={"world": "", "warc": "warc", "seeds": "seeds", "benchmark": "benchmarks/demo/test.jsonl"},
            report="deepmath.demo.report_truth:section_ground_truth",
        ),
        StageSpec(
            "ingest",
            "deepmath.ingest.config:IngestConfig",
            "deepmath.ingest.stage:run_ingest",
            "Common Crawl WARC/WET or JSONL/Parquet -> documents with math kept as LaTeX",
            positional="input",
            report="deepmath.report_kit:section_nothing",
        ),
        StageSpec(
            "mine",
            "deepmath.mine.config:MineConfig",
            "deepmath.mine.stage:run_mine",
            "iterative fastText math mining with domain discovery (DeepSeekMath 2.1)",
            report="deepmath.mine.report:section_mining",
        ),
        StageSpec(
            "dedup",
            "deepmath.dedup.config:DedupConfig",
            "deepmath.dedup.stage:run_dedup",
            "exact + MinHash near-duplicate removal with verified candidate pairs",
            positional="input",
            report="deepmath.dedup.report:section_dedup",
        ),
        StageSpec(
            "decontam",
            "deepmath.decontam.config:DecontamConfig",
            "deepmath.decontam.stage:run_decontam",
            "benchmark decontamination (10-gram rule, short items matched whole) with a report",
            positional="input",
            report="deepmath.decontam.report:section_decontam",
        ),
        StageSpec(
            "sft-mix",
            "deepmath.sftmix.config:SftMixConfig",
            "deepmath.sftmix.stage:run_sft_mix",
            "verified, decontaminated, weighted chat data from CoT, PoT and TIR sources",
            positional="@config",
            report="deepmath.sftmix.report:section_sft",
        ),
        StageSpec(
            "train-pretrain",
            "deepmath.train.pretrain_config:PretrainRecipe",
            "deepmath.train.pretrain:run_pretrain",
            "continued pretraining on a weighted corpus mixture with transformers' Trainer",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            report="deepmath.train.pretrain_report:section_pretraining",
            heavy_config=True,
        ),
        StageSpec(
            "pretrain-ablation",
            "deepmath.train.ablation_config:AblationConfig",
            "deepmath.train.ablation:run_ablation",
            "corpus-quality ablation: the same model, budget and seeds on each corpus; bits/byte per benchmark",
            positional="@config",
            outputs={"table": "ablation.md", "results": "ablation.json"},
            report="deepmath.train.pretrain_report:section_pretraining",
        ),
        StageSpec(
            "train-sft",
            "deepmath.train.config:SFTRecipe",
            "deepmath.train.sft:run_sft",
            "supervised fine-tuning with TRL's SFTTrainer",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            heavy_config=True,
            report="deepmath.train.report:section_training",
        ),
        StageSpec(
            "train-grpo",
            "deepmath.train.config:GRPORecipe",
            "deepmath.train.grpo:run_grpo",
            "GRPO with TRL's GRPOTrainer and rewards from `rewards`",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            heavy_config=True,
            report="deepmath.train.report:section_training",
        ),
        StageSpec(
            "train-rft",
            "deepmath.train.methods_config:RFTRecipe",
            "deepmath.train.rft:run_rft",
            "rejection-sampling fine-tuning: correct samples of the SFT model, SFTTrainer",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            report="deepmath.train.report:section_training",
            heavy_config=True,
        ),
        StageSpec(
            "train-online-rft",
            "deepmath.train.methods_config:OnlineRFTRecipe",
            "deepmath.train.online_rft:run_online_rft",
            "Online RFT: GRPOTrainer with gradient coefficient 1 (correct) / 0 (wrong)",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            report="deepmath.train.report:section_training",
            heavy_config=True,
        ),
        StageSpec(
            "train-dpo",
            "deepmath.train.methods_config:DPORecipe",
            "deepmath.train.dpo:run_dpo",
            "DPO on (correct, wrong) pairs of the policy's own samples, DPOTrainer",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            report="deepmath.train.report:section_training",
            heavy_config=True,
        ),
        StageSpec(
            "compare",
            "deepmath.train.compare:CompareConfig",
            "deepmath.train.compare:run_compare",
            "held-out pass@1 / maj@k / pass@k of several training runs: one table, one plot against steps",
            positional="runs",
            outputs={"runs": "data", "table": "compare.md"},
        ),
        StageSpec(
            "label-steps",
            "deepmath.steps.config:LabelStepsConfig",
            "deepmath.steps.labels:run_label_steps",
            "Math-Shepherd step labels: roll out from every step prefix, grade with `rewards`",
            outputs={"labels": "data"},
        ),
        StageSpec(
            "train-prm",
            "deepmath.train.prm_config:PRMRecipe",
            "deepmath.train.prm:run_prm",
            "a process reward model (score at each step) trained on label-steps labels",
            positional="@config",
            outputs=dict(MODEL_OUTPUTS),
            report="deepmath.train.report:section_training",
            heavy_config=True,
        ),
        StageSpec(
            "train-iterative-rl",
            "deepmath.train.iterative_config:IterativeRLRecipe",
            "deepmath.train.iterative:run_iterative_rl",
            "iterative RL (DeepSeekMath Alg. 1): per round sample, label steps, update the PRM (replay), GRPO+PS",
            positional="@config",
            outputs={"rounds": "", "metrics": "metrics.json"},
        ),
        StageSpec(
            "eval-lm",
            "deepmath.evaluate.lm_config:EvalLMConfig",
            "deepmath.evaluate.lm:run_eval_lm",
            "held-out bits per byte of a causal LM on benchmark problem + solution texts",
            outputs={"metrics": "metrics.json"},
        ),
        StageSpec(
            "eval",
            "deepmath.evaluate.config:EvalConfig",
            "deepmath.evaluate.run:run_eval",
            "sample K completions per problem; pass@1, pass@k, maj@k",
            outputs={"samples": "data", "metrics": "metrics.json"},
            report="deepmath.evaluate.report:section_eval",
        ),
        StageSpec(
            "report",
            "deepmath.demo.config:ReportConfig",
            "deepmath.demo.report:run_report",
            "the HTML/markdown report of a recipe run",
            outputs={"html": "report.html", "markdown": "report.md"},
            report="deepmath.report_kit:section_nothing",
        ),
    ]
}


_ENTRY_POINT_GROUP = "deepmath.stages"
_plugins_loaded = False


def register_stage(spec: StageSpec, replace: bool = False) -> StageSpec:
    """Add a stage from outside the package (a plugin, a test); a name clash raises unless `replace`."""
    if not isinstance(spec, StageSpec):
        raise ConfigError(f"register_stage takes a StageSpec, got {type(spec).__name__}")
    if spec.name in STAGES and not replace and STAGES[spec.name] != spec:
        raise ConfigError(f"a stage named '{spec.name}' is already registered")
    STAGES[spec.name] = spec
    return spec


def unregister_stage(name: str) -> None:
    STAGES.pop(name, None)


def _load_plugins() -> None:
    """Stages of installed packages, from the `deepmath.stages` entry points (once per process)."""
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    from importlib.metadata import entry_points

    for entry in entry_points(group=_ENTRY_POINT_GROUP):
        try:
            spec = entry.load()
        except Exception as err:  # a broken plugin must not break the built-in stages
            import logging

            logging.getLogger(__name__).warning("stage plugin %s could not be loaded: %s", entry.name, err)
            continue
        if isinstance(spec, StageSpec) and spec.name not in STAGES:
            STAGES[spec.name] = spec


def get_stage(name: str) -> StageSpec:
    if name not in STAGES:
        _load_plugins()
    if name not in STAGES:
        raise ConfigError(f"unknown stage '{name}'{close_matches(name, STAGES)}; known: {', '.join(STAGES)}")
    return STAGES[name]
