"""Input resolution shared by every stage.

An input spec may be a folder another stage wrote (its `data/` shards are read, and only once the stage finished),
a JSONL(.gz)/Parquet file, a glob, a folder of such files, an fsspec URL (`s3://...`, `https://...`), or a Hugging
Face dataset id (`hf:owner/name[:split]`, or a bare `owner/name` that is not a local path).
"""

from __future__ import annotations

import glob as globlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "DOCUMENT_SUFFIXES",
    "InputError",
    "InputSource",
    "StageIncomplete",
    "is_stage_folder",
    "resolve_inputs",
]

DOCUMENT_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".json", ".json.gz", ".parquet")
SUCCESS_MARKER = "_SUCCESS"
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class InputError(ValueError):
    """An input spec that names nothing readable."""


class StageIncomplete(InputError):
    """An input folder written by a stage that has not finished."""


@dataclass
class InputSource:
    """Files to read (local or fsspec URLs), or one Hugging Face dataset."""

    spec: str
    files: list[str] = field(default_factory=list)
    hf_id: str | None = None
    hf_split: str = "train"
    hf_config: str | None = None

    @property
    def is_hf(self) -> bool:
        return self.hf_id is not None


def is_stage_folder(path: str | Path) -> bool:
    """True when `path` is a folder written by a deepmath stage (finished or not)."""
    path = Path(path)
    return (path / "config.yaml").exists() and (path / "data").is_dir()


def _has_suffix(name: str, suffixes: tuple[str, ...]) -> bool:
    return name.endswith(suffixes)


def _folder_files(folder: Path, suffixes: tuple[str, ...]) -> list[str]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        files.extend(
            os.path.join(root, n) for n in sorted(names) if _has_suffix(n, suffixes) and not n.startswith(".")
        )
    return sorted(files)


def _resolve_one(spec: str, suffixes: tuple[str, ...]) -> InputSource:
    if spec.startswith("hf:"):
        parts = spec[3:].split(":")
        return InputSource(
            spec,
            hf_id=parts[0],
            hf_split=parts[1] if len(parts) > 1 and parts[1] else "train",
            hf_config=parts[2] if len(parts) > 2 else None,
        )
    if "://" in spec and not spec.startswith("file://"):
        import fsspec

        if any(ch in spec for ch in "*?["):
            _, _, paths = fsspec.get_fs_token_paths(spec)
            protocol = spec.split("://", 1)[0]
            return InputSource(spec, files=sorted(f"{protocol}://{p}" for p in paths))
        return InputSource(spec, files=[spec])
    local = spec.removeprefix("file://")
    path = Path(local)
    if any(ch in local for ch in "*?["):
        matches = sorted(p for p in globlib.glob(local, recursive=True) if Path(p).is_file())
        if not matches:
            raise InputError(f"input glob matched no files: {spec}")
        return InputSource(spec, files=matches)
    if path.is_dir():
        if is_stage_folder(path):
            if not (path / SUCCESS_MARKER).exists():
                raise StageIncomplete(f"input folder {path} was written by a stage that has not finished; re-run it")
            files = _folder_files(path / "data", DOCUMENT_SUFFIXES)
        elif (path / "config.yaml").exists():
            raise InputError(f"{path} is a stage folder without a data/ folder: that stage writes no documents")
        else:
            files = _folder_files(path, suffixes)
        if not files:
            raise InputError(f"input folder has no readable files ({', '.join(suffixes)}): {spec}")
        return InputSource(spec, files=files)
    if path.is_file():
        return InputSource(spec, files=[str(path)])
    if _HF_ID.match(spec):
        return InputSource(spec, hf_id=spec)
    raise InputError(f"input not found: {spec} (a path, glob, folder, s3://... URL or hf:owner/name)")


def resolve_inputs(specs: str | list[str], suffixes: tuple[str, ...] = DOCUMENT_SUFFIXES) -> list[InputSource]:
    """Resolve one or more specs (a comma-free string or a list) into sources; errors name the bad spec."""
    if isinstance(specs, str):
        specs = [specs]
    if not specs:
        raise InputError("no input given")
    return [_resolve_one(str(s), suffixes) for s in specs]
