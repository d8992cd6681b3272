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

__all__ = ["build_stage_config", "main", "run"]

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


def _help_with_default(f: dataclasses.Field) -> str:
    """A field's help text and its default, as `--help` shows them."""
    text = str((f.metadata or {}).get("help", "")).strip().replace("%", "%%")
    if f.default is not dataclasses.MISSING:
        default = f.default
    elif f.default_factory is not dataclasses.MISSING:
        default = f.default_factory()
    else:
        return f"{text} (required)".strip()
    if default in ("", None, [], {}):
        return text or "(no default)"
    shown = repr(default) if isinstance(default, str) else str(default)
    return f"{text} (default: {shown})".strip()


_TRL_MODULES = ("trl.", "transformers.")


def _is_inherited_trl_field(cls, name: str) -> bool:
    """True for a field that only TRL/transformers declare (shown by --help-all; always accepted)."""
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}):
            return klass.__module__.startswith(_TRL_MODULES)
    return False


_KEY_TRL_FIELDS = (
    "learning_rate",
    "max_steps",
    "num_train_epochs",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "seed",
    "bf16",
    "logging_steps",
    "save_steps",
    "max_length",
    "num_generations",
    "max_completion_length",
    "beta",
    "loss_type",
    "scale_rewards",
    "use_vllm",
    "gradient_checkpointing",
    "temperature",
)


def _stage_parser(command: str, spec, cls, verbose_help: bool = False) -> argparse.ArgumentParser:
    trl_based = any(k.__module__.startswith(_TRL_MODULES) for k in cls.__mro__[1:])
    epilog = None
    if trl_based and not verbose_help:
        epilog = (
            "Every TRL/transformers training argument is accepted too (--learning-rate, --max-steps, --beta, ...); "
            "--help-all lists them all."
        )
    first = "RECIPE" if spec.positional == "@config" else (spec.positional or "").upper()
    parser = argparse.ArgumentParser(
        prog=f"deepmath {command}",
        usage=f"deepmath {command} {first} [--FIELD VALUE ...]".replace("  ", " "),
        description=spec.help,
        argument_default=argparse.SUPPRESS,
        allow_abbrev=False,
        epilog=epilog,
    )
    if trl_based:
        parser.add_argument("--help-all", action="help", help="show every TRL/transformers argument too")
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
        if not verbose_help and f.name not in _KEY_TRL_FIELDS and _is_inherited_trl_field(cls, f.name):
            # not listed, still accepted: add it without help so the value parses
            tp = hints.get(f.name)
            names = [f"--{f.name.replace('_', '-')}"] + ([f"--{f.name}"] if "_" in f.name else [])
            kind = {"action": argparse.BooleanOptionalAction} if _is_bool(tp) else {"metavar": "VALUE"}
            if _is_list(tp):
                kind["nargs"] = "+"
            parser.add_argument(*names, dest=f.name, help=argparse.SUPPRESS, **kind)
            continue
        help_text = _help_with_default(f)
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
    if "--help-all" in argv:
        _stage_parser(command, spec, cls, verbose_help=True).print_help()
        raise SystemExit(0)
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
    "validate": "check a recipe or a stage config without running it",
    "train": "train STAGE RECIPE.yaml: the training stages below (deepmath train --help)",
}

_GLOBAL_HELP = """global options (before the command):
  -v, --verbose   more output: library logs and datatrove task logs on the console (-vv: debug)
  -q, --quiet     warnings and errors only
  --log-level L   DEBUG, INFO, WARNING or ERROR"""


def _train_commands() -> dict[str, str]:
    from deepmath.registry import STAGES

    return {name.removeprefix("train-"): spec.help for name, spec in STAGES.items() if name.startswith("train-")}


def _usage() -> str:
    from deepmath.registry import STAGES

    lines = ["usage: deepmath [-v|-q] COMMAND [ARGS...]   (deepmath COMMAND --help for its options)", "", "commands:"]
    for name, text in _BUILTIN.items():
        lines.append(f"  {name:<11} {text}")
    for name, spec in STAGES.items():
        if not name.startswith("train-"):
            lines.append(f"  {name:<11} {spec.help}")
    lines += ["", "training (deepmath train NAME RECIPE.yaml):"]
    lines += [f"  {name:<11} {text}" for name, text in _train_commands().items()]
    return "\n".join([*lines, "", _GLOBAL_HELP])


def _train_usage() -> str:
    names = "|".join(_train_commands())
    lines = [f"usage: deepmath train {{{names}}} RECIPE.yaml [--output DIR] [--FIELD VALUE ...]", "", "commands:"]
    lines += [f"  {name:<11} {text}" for name, text in _train_commands().items()]
    return "\n".join(lines)


def _parse_globals(argv: list[str]) -> tuple[str, int, list[str]]:
    """Leading global options: (log level, verbosity -1/0/1/2, the rest)."""
    level, verbosity = "", 0
    while argv:
        if argv[0] in ("-v", "--verbose"):
            verbosity = max(verbosity, 0) + 1
        elif argv[0] == "-vv":
            verbosity = 2
        elif argv[0] in ("-q", "--quiet"):
            verbosity = -1
        elif argv[0] == "--log-level" and len(argv) > 1:
            level, argv = argv[1], argv[1:]
        else:
            break
        argv = argv[1:]
    if not level:
        level = {-1: "WARNING", 0: "INFO", 1: "INFO", 2: "DEBUG"}[min(verbosity, 2)]
    return level, verbosity, argv


def _setup_logging(level: str, verbosity: int) -> None:
    """deepmath's own lines at `level`; other libraries only warn unless -v; progress bars of model loading off."""
    import os

    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(
        level=numeric if verbosity > 0 else max(numeric, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s" if verbosity > 0 else "%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("deepmath").setLevel(numeric)
    os.environ["DEEPMATH_VERBOSE"] = str(max(verbosity, 0))  # forked and spawned workers read it
    if verbosity <= 0:
        import warnings

        # libraries' notices about their own future (deprecations) are for -v; our warnings still show
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        os.environ.setdefault("PYTHONWARNINGS", "ignore::FutureWarning,ignore::DeprecationWarning")
        os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")  # per-map bars of dataset preprocessing
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("DATASETS_VERBOSITY", "error")


def _quiet_idle_blas_threads() -> None:
    """Before numpy loads: OpenBLAS's worker threads spin on a core for 2^28 cycles (~0.1 s of CPU) after they
    start and after each BLAS call before they sleep; every command imports numpy and most never call BLAS, so that
    spin is a tenth of a second stolen from the command's own workers. 2^4 cycles instead; the thread count (and
    so the speed of real BLAS work) is unchanged, and a value the user set is kept."""
    import os

    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def run() -> None:
    """The `deepmath` console command and `python -m deepmath`: `main`, then a quick exit.

    When `main` returns, the command's files are closed (stages write through context managers, `_SUCCESS` last).
    What the interpreter's shutdown does after that, a last full garbage collection over every object and the
    teardown of every module, is work nobody needs: ~60 ms of a 1.2 s `deepmath dedup` (bench/README.md). So the
    exit handlers run (atexit: logging's and loguru's sinks, multiprocessing's finalizers), the standard streams are
    flushed, and the process leaves with `os._exit`. While a non-daemon thread still runs, the normal exit (which
    waits for it) is taken instead. An exception out of `main` takes the normal path too (its traceback)."""
    _exit_now(main())


def _exit_now(code) -> None:
    import atexit
    import contextlib
    import os
    import threading

    code = 0 if code is None else code
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others or not isinstance(code, int):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed, a broken pipe, or None
            stream.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    from deepmath.errors import UserError

    argv = list(sys.argv[1:] if argv is None else argv)
    level, verbosity, argv = _parse_globals(argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] == "--version":
        from deepmath import __version__

        print(__version__)
        return 0
    _setup_logging(level, verbosity)
    _quiet_idle_blas_threads()
    command, rest = argv[0], argv[1:]
    try:
        if command in ("run", "validate"):
            from deepmath.recipes import recipe_cli

            return recipe_cli(command, rest)
        if command == "train":
            if not rest or rest[0] in ("-h", "--help"):
                print(_train_usage())
                return 0 if rest else 2
            if f"train-{rest[0]}" not in _known_stages():
                from deepmath.config import close_matches

                names = list(_train_commands())
                raise ConfigError(
                    f"unknown train command '{rest[0]}'{close_matches(rest[0], names)}; known: {', '.join(names)}"
                )
            command, rest = f"train-{rest[0]}", rest[1:]
            dry, rest = _dry_run_options(rest)  # --dry-run [--gpu-memory GB] [--num-processes N] [--zero-stage S]
        from deepmath.registry import get_stage

        spec = get_stage(command)
        cfg = build_stage_config(command.replace("-", " ", 1) if command.startswith("train-") else command, spec, rest)
        if command.startswith("train-") and dry is not None:
            from deepmath.train.preflight import dry_run

            return dry_run(command.removeprefix("train-"), cfg, **dry)
        result = spec.main_function()(cfg)
        return 0 if not isinstance(result, int) else result
    except UserError as err:
        if verbosity > 0:
            logger.exception("deepmath %s failed", command)
        message = _one_line(err)
        for prefix in (f"{command}: ", f"{command.replace('-', ' ', 1)}: "):
            message = message.removeprefix(prefix)
        print(f"deepmath {command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"deepmath {command}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


def _dry_run_options(argv: list[str]) -> tuple[dict | None, list[str]]:
    """`deepmath train` pre-flight flags (not recipe fields): None unless --dry-run is given."""
    options = {
        "--gpu-memory": ("gpu_gib", float),
        "--num-processes": ("processes", int),
        "--zero-stage": ("zero_stage", int),
    }
    found, rest, dry = {}, [], False
    i = 0
    while i < len(argv):
        name, _, inline = argv[i].replace("_", "-").partition("=")
        if name == "--dry-run":
            dry = True
        elif name in options:
            value = inline or (argv[i + 1] if i + 1 < len(argv) else "")
            i += 0 if inline else 1
            key, kind = options[name]
            try:
                found[key] = kind(value)
            except ValueError:
                raise ConfigError(f"{name} needs a number, got {value!r}") from None
        else:
            rest.append(argv[i])
        i += 1
    if found and not dry:
        raise ConfigError(f"{', '.join(sorted(found))}: only with --dry-run")
    return (found if dry else None), rest


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text if len(text) <= 2000 else text[:1990] + " ..."


def _known_stages() -> dict:
    from deepmath.registry import STAGES

    return STAGES


if __name__ == "__main__":
    sys.exit(main())
