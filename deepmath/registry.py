"""Stages by short name: the CLI, recipes and `deepmath validate` all look them up here.

Each entry names its config dataclass and its entry function as import strings, so nothing is imported until a
stage is used (`deepmath --help` stays instant). An unknown name raises with close matches.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from deepmath.config import ConfigError, close_matches

__all__ = ["STAGES", "StageSpec", "get_stage"]


@dataclass(frozen=True)
class StageSpec:
    name: str
    config: str  # "module:Class"
    main: str  # "module:function", called with the config instance
    help: str
    positional: str | None = None  # field filled by positional arguments; "@config" = a YAML file of the config

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
            "ingest",
            "deepmath.ingest.config:IngestConfig",
            "deepmath.ingest.stage:run_ingest",
            "Common Crawl WARC/WET or JSONL/Parquet -> documents with math kept as LaTeX",
            positional="input",
        ),
        StageSpec(
            "mine",
            "deepmath.mine.config:MineConfig",
            "deepmath.mine.stage:run_mine",
            "iterative fastText math mining with domain discovery (DeepSeekMath 2.1)",
        ),
        StageSpec(
            "dedup",
            "deepmath.dedup.config:DedupConfig",
            "deepmath.dedup.stage:run_dedup",
            "exact + MinHash near-duplicate removal with verified candidate pairs",
            positional="input",
        ),
        StageSpec(
            "decontam",
            "deepmath.decontam.config:DecontamConfig",
            "deepmath.decontam.stage:run_decontam",
            "benchmark decontamination (10-gram rule, short items matched whole) with a report",
            positional="input",
        ),
        StageSpec(
            "sft-mix",
            "deepmath.sftmix.config:SftMixConfig",
            "deepmath.sftmix.stage:run_sft_mix",
            "verified, decontaminated, weighted chat data from CoT, PoT and TIR sources",
            positional="@config",
        ),
        StageSpec(
            "train-sft",
            "deepmath.train.config:SFTRecipe",
            "deepmath.train.sft:run_sft",
            "supervised fine-tuning with TRL's SFTTrainer",
            positional="@config",
        ),
        StageSpec(
            "train-grpo",
            "deepmath.train.config:GRPORecipe",
            "deepmath.train.grpo:run_grpo",
            "GRPO with TRL's GRPOTrainer and rewards from `rewards`",
            positional="@config",
        ),
        StageSpec(
            "train-pretrain",
            "deepmath.train.pretrain_config:PretrainRecipe",
            "deepmath.train.pretrain:run_pretrain",
            "continued pretraining on a weighted corpus mixture with transformers' Trainer",
            positional="@config",
        ),
        StageSpec(
            "eval-lm",
            "deepmath.evaluate.lm_config:EvalLMConfig",
            "deepmath.evaluate.lm:run_eval_lm",
            "held-out bits per byte of a causal LM on benchmark problem + solution texts",
        ),
        StageSpec(
            "pretrain-ablation",
            "deepmath.train.ablation_config:AblationConfig",
            "deepmath.train.ablation:run_ablation",
            "corpus-quality ablation: the same model, budget and seeds on each corpus; bits/byte per benchmark",
            positional="@config",
        ),
        StageSpec(
            "eval",
            "deepmath.evaluate.config:EvalConfig",
            "deepmath.evaluate.run:run_eval",
            "sample K completions per problem; pass@1, pass@k, maj@k",
        ),
        StageSpec(
            "demo-data",
            "deepmath.demo.config:DemoDataConfig",
            "deepmath.demo.generate:run_demo_data",
            "generate the self-contained demo world (WARC pages, seeds, benchmark, SFT sources)",
            positional="output",
        ),
        StageSpec(
            "report",
            "deepmath.demo.config:ReportConfig",
            "deepmath.demo.report:run_report",
            "the HTML/markdown report of a recipe run",
        ),
    ]
}


def get_stage(name: str) -> StageSpec:
    if name not in STAGES:
        raise ConfigError(f"unknown stage '{name}'{close_matches(name, STAGES)}; known: {', '.join(STAGES)}")
    return STAGES[name]
