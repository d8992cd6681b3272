"""Input resolution shared by every stage.

An input spec may be a folder another stage wrote (its `data/` shards are read, and only once the stage finished),
a JSONL(.gz)/Parquet file, a glob, a folder of such files, an fsspec URL (`s3://...`, `https://...`), or a Hugging
Face dataset id (`hf:owner/name[:split]`, or a bare `owner/name` that is not a local path).
"""

from __future__ import annotations

import glob as globlib
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from deepmath.errors import UserError
from deepmath.io.limits import shorten

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
logger = logging.getLogger(__name__)
_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
# a spec ending like a data file is a local path, never a hub id (`in/does_not_exist.warc.gz`)
_FILE_SUFFIXES = re.compile(r"\.(jsonl|json|parquet|arrow|csv|tsv|txt|warc|wet|arc|gz|zst|bz2|xz|zip|tar)$", re.I)


class InputError(UserError):
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
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count, e.g. symlinked folders not followed

    @property
    def is_hf(self) -> bool:
        return self.hf_id is not None


def is_stage_folder(path: str | Path) -> bool:
    """True when `path` is a folder written by a deepmath stage (finished or not)."""
    path = Path(path)
    return (path / "config.yaml").exists() and (path / "data").is_dir()


def _has_suffix(name: str, suffixes: tuple[str, ...]) -> bool:
    return name.endswith(suffixes)


def _symlinked_folders(root: str, dirs: list[str], skipped: dict[str, int]) -> None:
    """Count the symlinked folders of one walk step: never followed (a symlink loop would never end)."""
    links = sum(os.path.islink(os.path.join(root, d)) for d in dirs)
    if links:
        skipped["symlinked_folder"] = skipped.get("symlinked_folder", 0) + links
        logger.warning("input %s: %d symlinked folder(s) not followed", shorten(root), links)


def _folder_files(folder: Path, suffixes: tuple[str, ...], skipped: dict[str, int] | None = None) -> list[str]:
    files = []
    skipped = {} if skipped is None else skipped
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        _symlinked_folders(root, dirs, skipped)
        files.extend(
            os.path.join(root, n) for n in sorted(names) if _has_suffix(n, suffixes) and not n.startswith(".")
        )
    return sorted(files)


def _looks_local(spec: str) -> bool:
    """A relative path a user meant as a file: ./ ../ / ~ prefixes, a data-file suffix, or an existing first part."""
    if spec.startswith(("./", "../", "/", "~", ".\\")) or _FILE_SUFFIXES.search(spec):
        return True
    return os.path.lexists(spec.split("/", 1)[0])


def _glob(pattern: str, skipped: dict[str, int]) -> list[str]:
    """Files matching `pattern`; `**` walks folders without following symlinked folders (a symlink loop never ends
    Python's recursive glob). Entries that are not folders are kept, so readers count pipes and devices as skips."""
    if "**" not in pattern:
        return sorted(p for p in globlib.glob(pattern) if not os.path.isdir(p))
    parts = pattern.split("/")
    first_magic = next(i for i, part in enumerate(parts) if any(ch in part for ch in "*?["))
    root = "/".join(parts[:first_magic]) or ("/" if pattern.startswith("/") else ".")
    regex = re.compile(_translate("/".join(parts[first_magic:])))
    matches = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        _symlinked_folders(folder, dirs, skipped)
        dirs.sort()
        for name in names:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root)
            if regex.fullmatch(relative.replace(os.sep, "/")):
                matches.append(path if root != "." or pattern.startswith("./") else relative)
    return sorted(matches)


def _translate(pattern: str) -> str:
    """A glob pattern (with `**` for any number of folders) as a regular expression over `/`-separated paths."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body).replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


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
    skipped: dict[str, int] = {}
    if any(ch in local for ch in "*?["):
        matches = _glob(local, skipped)
        if not matches:
            raise InputError(f"input glob matched no files: {shorten(spec)}")
        return InputSource(spec, files=matches, skipped=skipped)
    if path.is_dir():
        if is_stage_folder(path):
            if not (path / SUCCESS_MARKER).exists():
                raise StageIncomplete(f"input folder {path} was written by a stage that has not finished; re-run it")
            files = _folder_files(path / "data", DOCUMENT_SUFFIXES)
        elif (path / "config.yaml").exists():
            raise InputError(f"{path} is a stage folder without a data/ folder: that stage writes no documents")
        else:
            files = _folder_files(path, suffixes, skipped)
        if not files:
            raise InputError(f"input folder has no readable files ({', '.join(suffixes)}): {shorten(spec)}")
        return InputSource(spec, files=files, skipped=skipped)
    if os.path.lexists(path):  # a file, or a pipe, device or dangling link that the reader counts as skipped
        return InputSource(spec, files=[str(path)])
    if _HF_ID.match(spec) and not _looks_local(spec):
        return InputSource(spec, hf_id=spec)
    if _looks_local(local):
        raise InputError(f"input not found: {shorten(spec)}: no such file or folder")
    raise InputError(f"input not found: {shorten(spec)} (a path, glob, folder, s3://... URL or hf:owner/name)")


def resolve_inputs(specs: str | list[str], suffixes: tuple[str, ...] = DOCUMENT_SUFFIXES) -> list[InputSource]:
    """Resolve one or more specs (a comma-free string or a list) into sources; errors name the bad spec."""
    if isinstance(specs, str):
        specs = [specs]
    if not specs:
        raise InputError("no input given")
    return [_resolve_one(str(s), suffixes) for s in specs]
