"""The `deepmath` command: parses arguments and calls one stage's entry function; nothing else.

    deepmath ingest INPUT... --output DIR          deepmath dedup INPUT --output DIR
    deepmath mine --pool P --seeds S --output DIR  deepmath decontam INPUT --output DIR --benchmarks gsm8k,math
    deepmath sft-mix RECIPE.yaml --output DIR      deepmath train {sft,grpo} RECIPE.yaml --output DIR
    deepmath eval --model DIR --data PATH --k 8    deepmath demo-data DIR
    deepmath run RECIPE.yaml [--output DIR]        deepmath validate RECIPE.yaml

Every stage option is a field of the stage's config dataclass (`--keep-tokens` or `--keep_tokens`); `--config FILE`
loads a YAML of those fields first and the command line overrides it. Stage parsers are built only for the command
that runs, so `deepmath --help` imports nothing heavy.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import types
import typing
from typing import Union, get_args, get_origin

from deepmath.config import ConfigError, from_dict, load_yaml, parse_cli_value

__all__ = ["build_stage_config", "main"]

logger = logging.getLogger("deepmath")


def _is_list(tp) -> bool:
    if get_origin(tp) in (Union, types.UnionType):
        return any(_is_list(a) for a in get_args(tp) if a is not type(None))
    return get_origin(tp) in (list, tuple) or tp in (list, tuple)


def _is_str(tp) -> bool:
    if get_origin(tp) in (Union, types.UnionType):
        return all(_is_str(a) for a in get_args(tp) if a is not type(None))
    return tp is str


def _is_bool(tp) -> bool:
    if get_origin(tp) in (Union, types.UnionType):
        return all(_is_bool(a) for a in get_args(tp) if a is not type(None))
    return tp is bool


def _stage_parser(command: str, spec, cls) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"deepmath {command}", description=spec.help, argument_default=argparse.SUPPRESS, allow_abbrev=False
    )
    hints = typing.get_type_hints(cls)
    if spec.positional == "@config":
        parser.add_argument("config_file", metavar="RECIPE", help="YAML file with this stage's fields")
    elif spec.positional:
        nargs = "+" if _is_list(hints[spec.positional]) else None
        parser.add_argument(spec.positional, nargs=nargs, metavar=spec.positional.upper())
    if spec.positional != "@config":
        parser.add_argument("--config", dest="config_file", metavar="FILE", help="YAML file with this stage's fields")
    for f in dataclasses.fields(cls):
        if not f.init or f.name == spec.positional or f.name.startswith("_"):
            continue
        tp = hints.get(f.name)
        names = [f"--{f.name.replace('_', '-')}"]
        if "_" in f.name:
            names.append(f"--{f.name}")
        help_text = (f.metadata or {}).get("help", "")
        if _is_bool(tp):
            parser.add_argument(*names, dest=f.name, action=argparse.BooleanOptionalAction, help=help_text)
        elif _is_list(tp):
            parser.add_argument(*names, dest=f.name, nargs="+", metavar="VALUE", help=help_text)
        else:
            parser.add_argument(*names, dest=f.name, metavar="VALUE", help=help_text)
    return parser


def build_stage_config(command: str, spec, argv: list[str]):
    """Parse `argv` for stage `spec`: YAML file first, then command-line overrides, then validation."""
    cls = spec.config_class()
    args = vars(_stage_parser(command, spec, cls).parse_args(argv))
    config_file = args.pop("config_file", None)
    data = load_yaml(config_file) if config_file else {}
    hints = typing.get_type_hints(cls)
    for key, value in args.items():
        tp = hints.get(key)
        if isinstance(value, list):
            items = [v for item in value for v in (item.split(",") if _is_list(tp) else [item])]
            data[key] = [v if _is_str_items(tp) else parse_cli_value(v) for v in items if v != ""]
        elif isinstance(value, str) and not _is_str(tp):
            data[key] = parse_cli_value(value)
        else:
            data[key] = value
    return from_dict(cls, data, where=command)


def _is_str_items(tp) -> bool:
    if get_origin(tp) in (Union, types.UnionType):
        return any(_is_str_items(a) for a in get_args(tp) if a is not type(None))
    args = get_args(tp)
    return bool(args) and _is_str(args[0])


_BUILTIN = {
    "run": "run a recipe: every stage it lists, in order, resuming finished ones",
    "validate": "check a recipe without running it",
    "train": "train sft|grpo|pretrain RECIPE.yaml: TRL SFTTrainer / GRPOTrainer / transformers Trainer",
}


def _usage() -> str:
    from deepmath.registry import STAGES

    lines = ["usage: deepmath COMMAND [ARGS...]   (deepmath COMMAND --help for its options)", "", "commands:"]
    for name, text in _BUILTIN.items():
        lines.append(f"  {name:<11} {text}")
    for name, spec in STAGES.items():
        if not name.startswith("train-"):
            lines.append(f"  {name:<11} {spec.help}")
    return "\n".join(lines)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    level = "INFO"
    if argv[:1] == ["--log-level"] and len(argv) > 1:
        level, argv = argv[1], argv[2:]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        from deepmath import __version__

        print(__version__)
        return 0
    _setup_logging(level)
    command, rest = argv[0], argv[1:]
    try:
        if command in ("run", "validate"):
            from deepmath.recipes import recipe_cli

            return recipe_cli(command, rest)
        if command == "train":
            if not rest or rest[0] not in ("sft", "grpo", "pretrain"):
                print("usage: deepmath train {sft,grpo,pretrain} RECIPE.yaml [--output DIR] [--FIELD VALUE ...]")
                return 0 if rest[:1] in (["-h"], ["--help"]) else 2
            command, rest = f"train-{rest[0]}", rest[1:]
        from deepmath.registry import get_stage

        spec = get_stage(command)
        cfg = build_stage_config(command.replace("-", " ", 1) if command.startswith("train-") else command, spec, rest)
        result = spec.main_function()(cfg)
        return 0 if not isinstance(result, int) else result
    except ConfigError as err:
        print(f"deepmath {command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
