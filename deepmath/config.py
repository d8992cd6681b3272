"""Config flows one way: YAML -> dataclass -> CLI overrides.

YAML keys equal dataclass field names. Unknown keys and wrong types raise `ConfigError` with close matches, so a
typo in a recipe fails before any work starts. Values from the command line arrive as strings and are parsed as
YAML scalars (`--threshold 0.8` -> 0.8, `--benchmarks gsm8k,math` -> a list where the field is a list).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import yaml

from deepmath.errors import UserError

__all__ = [
    "ConfigError",
    "config_hash",
    "config_to_dict",
    "from_dict",
    "import_target",
    "load_yaml",
    "parse_cli_value",
    "save_config",
]

T = TypeVar("T")


class ConfigError(UserError):
    """A recipe or command line that does not match its dataclass (the message is cut to one short line's worth)."""

    def __init__(self, message: object = ""):
        from deepmath.io.limits import shorten

        super().__init__(shorten(str(message), MAX_MESSAGE_CHARS))


MAX_MESSAGE_CHARS = 1000
MAX_YAML_BYTES = 10 * 2**20
MAX_YAML_NODES = 100_000  # nodes after expanding aliases: a 1.4 KB "billion laughs" document expands to 10^9


def safe_yaml_load(text: str, where: str = "YAML"):
    """`yaml.safe_load`, refusing documents over MAX_YAML_BYTES or whose aliases expand past MAX_YAML_NODES nodes.

    PyYAML builds an alias as a shared reference, so a "billion laughs" document loads in microseconds; the blow-up
    comes later, when the value is copied, hashed, saved or printed. Counting expanded nodes while composing stops
    it before anything sees it.
    """
    if len(text) > MAX_YAML_BYTES:
        raise ConfigError(f"{where}: {len(text):,} characters of YAML; at most {MAX_YAML_BYTES:,} are read")

    class _CountingLoader(yaml.SafeLoader):
        expanded = 0
        sizes: dict[int, int] = {}

        def _size(self, node) -> int:
            size = self.sizes.get(id(node))
            if size is None:
                if isinstance(node, yaml.SequenceNode):
                    size = 1 + sum(self._size(n) for n in node.value)
                elif isinstance(node, yaml.MappingNode):
                    size = 1 + sum(self._size(k) + self._size(v) for k, v in node.value)
                else:
                    size = 1
                self.sizes[id(node)] = size
            return size

        def compose_node(self, parent, index):
            alias = self.check_event(yaml.AliasEvent)
            node = super().compose_node(parent, index)
            self.expanded += self._size(node) if alias else 1
            if self.expanded > MAX_YAML_NODES:
                raise ConfigError(f"{where}: aliases expand to more than {MAX_YAML_NODES:,} values (an alias bomb?)")
            return node

    loader = _CountingLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def close_matches(name: str, options: typing.Iterable[str]) -> str:
    """' (did you mean: a, b?)' or '' when nothing is close."""
    matches = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return f" (did you mean: {', '.join(matches)}?)" if matches else ""


def import_target(spec: str, what: str):
    """The object a `package.module:name` setting names (a factory, a reward function, a stage's entry point); one
    line naming the setting when it cannot be imported."""
    import importlib

    module, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"{what} {spec!r} cannot be imported: {err}") from err


def load_yaml(path: str | Path) -> dict:
    """Read a YAML mapping with a clear error for a missing file or a non-mapping document."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = safe_yaml_load(path.read_text(encoding="utf-8"), str(path))
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys to values, got {type(data).__name__}")
    return data


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Check `value` against the annotation `tp`, converting only where it is lossless (int -> float, str -> list)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} does not match {_type_name(tp)}")
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise ConfigError(
                f"{where}: {value!r} is not one of {list(choices)}{close_matches(str(value), map(str, choices))}"
            )
        return value
    if origin in (list, tuple) or tp in (list, tuple):
        (item_tp,) = get_args(tp)[:1] or (Any,)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__} {value!r}")
        return [_coerce(v, item_tp, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(value).__name__} {value!r}")
        args = get_args(tp)
        if args:
            return {_coerce(k, args[0], f"{where} key"): _coerce(v, args[1], f"{where}.{k}") for k, v in value.items()}
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping for {tp.__name__}, got {type(value).__name__}")
        return from_dict(tp, value, where=where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # PyYAML reads `1e-6` (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{where}: expected a string, got {type(value).__name__} {value!r}")
    if isinstance(tp, type) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
    return value


def from_dict(cls: type[T], data: dict, where: str = "") -> T:
    """Build dataclass `cls` from a mapping; unknown keys, missing required keys and wrong types raise ConfigError."""
    label = where or cls.__name__
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    kwargs = {}
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{label}: unknown key '{key}'{close_matches(str(key), fields)}")
        kwargs[key] = _coerce(value, hints[key], f"{label}.{key}")
    missing = [
        name
        for name, f in fields.items()
        if name not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{label}: missing required key(s): {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{label}: {err}") from err


def parse_cli_value(text: str) -> Any:
    """A command-line value as a YAML scalar ('0.8' -> 0.8, 'true' -> True, 'a,b' stays a string)."""
    try:
        value = safe_yaml_load(text, "command-line value")
    except yaml.YAMLError:
        return text
    return text if isinstance(value, dict) else value


def config_to_dict(cfg: Any) -> dict:
    """A dataclass as plain data (for YAML/JSON output)."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def _defaults(cfg: Any) -> dict:
    values = {}
    for f in dataclasses.fields(cfg):
        if f.default is not dataclasses.MISSING:
            values[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
    return json.loads(json.dumps(values, default=str))


def config_hash(cfg: Any, ignore: typing.Iterable[str] = ()) -> str:
    """Stable hash of the fields that change outputs (executor settings are ignored by callers).

    Only values that differ from their field's default are hashed, so a new option with a default (a later
    version of deepmath) does not make finished outputs look like they came from another config.
    """
    defaults = _defaults(cfg)
    skip = set(ignore)
    data = {k: v for k, v in config_to_dict(cfg).items() if k not in skip and (k not in defaults or defaults[k] != v)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def save_config(cfg: Any, path: str | Path) -> None:
    """Write the resolved config as YAML, atomically."""
    from deepmath.io.atomic import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(config_to_dict(cfg), sort_keys=False, allow_unicode=True))
