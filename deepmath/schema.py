"""Light validation of a stage's fields without importing its config class (no torch for `deepmath validate`).

The training recipes subclass TRL's configs, and importing those imports torch and transformers (seconds, GBs of
address space). `deepmath validate` must stay instant, so a stage whose config is heavy ships a schema: every field
with the JSON kinds its value may take and its default, generated from the installed TRL by
`python -m deepmath.schema write` and checked against it by a test (`tests/framework/test_schema.py`).

Light validation catches what a typo produces (an unknown key, a string where a number goes) and runs the stage's
own light checks on our fields; the full dataclass, with TRL's own `__post_init__`, is built when the stage runs.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from deepmath.config import ConfigError, close_matches
from deepmath.io.limits import shorten

__all__ = ["SCHEMA_FILE", "check_fields", "field_kinds", "load_schema", "schema_of"]

SCHEMA_FILE = Path(__file__).resolve().parent / "train" / "recipe_schema.json"


def _kinds(tp: Any) -> set[str]:
    origin = get_origin(tp)
    if tp is Any or tp is object:
        return {"any"}
    if origin in (Union, types.UnionType):
        out: set[str] = set()
        for arg in get_args(tp):
            out |= {"null"} if arg is type(None) else _kinds(arg)
        return out
    if origin is Literal:
        return {"choice:" + json.dumps([a for a in get_args(tp) if isinstance(a, str | int | float | bool)])}
    if origin in (list, tuple) or tp in (list, tuple):
        return {"list"}
    if origin is dict or tp is dict:
        return {"dict"}
    if tp is bool:
        return {"bool"}
    if tp is int:
        return {"int"}
    if tp is float:
        return {"float"}
    if tp is str or (isinstance(tp, type) and issubclass(tp, enum.Enum)):
        return {"str"}
    if dataclasses.is_dataclass(tp):
        return {"dict"}
    return {"any"}


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
    else:
        return None
    return json.loads(json.dumps(value, default=str))


def field_kinds(cls: type) -> dict[str, dict]:
    """{field: {"kinds": [...], "default": ...}} for every init field of dataclass `cls`."""
    hints = typing.get_type_hints(cls)
    return {
        f.name: {"kinds": sorted(_kinds(hints.get(f.name, Any))), "default": _default(f)}
        for f in dataclasses.fields(cls)
        if f.init
    }


@cache
def load_schema() -> dict:
    if not SCHEMA_FILE.exists():
        return {}
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def schema_of(stage: str) -> dict | None:
    return load_schema().get(stage)


def _matches(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "null":
        return value is None
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if kind == "float":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if isinstance(value, str):
            try:
                float(value)
                return True
            except ValueError:
                return False
        return False
    if kind == "str":
        return isinstance(value, str) or (isinstance(value, int | float) and not isinstance(value, bool))
    if kind == "list":
        return isinstance(value, list | tuple | str)
    if kind == "dict":
        return isinstance(value, dict)
    if kind.startswith("choice:"):
        return value in json.loads(kind[7:])
    return True


def check_fields(stage: str, data: dict, schema: dict, where: str) -> None:
    """Unknown keys and values of the wrong kind raise ConfigError, as `from_dict` would."""
    fields = schema["fields"]
    for key, value in data.items():
        if key not in fields:
            raise ConfigError(f"{where}: unknown key '{key}'{close_matches(str(key), fields)}")
        kinds = fields[key]["kinds"]
        if not any(_matches(value, kind) for kind in kinds):
            wanted = ", ".join(k.removeprefix("choice:") for k in kinds)
            raise ConfigError(f"{where}.{key}: expected {wanted}, got {shorten(repr(value))}")


def _write() -> Path:
    """Regenerate the schema of every stage whose config is heavy, from the installed libraries."""
    from deepmath.registry import STAGES

    schema = {}
    for name, spec in STAGES.items():
        if spec.heavy_config:
            cls = spec.config_class()
            schema[name] = {"config": spec.config, "fields": field_kinds(cls)}
    SCHEMA_FILE.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return SCHEMA_FILE


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["write"]:
        print(_write())
    else:
        print("usage: python -m deepmath.schema write")
