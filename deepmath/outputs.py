"""Output folders: a stage writes and deletes only inside a folder it owns, one run at a time.

- `--output` is required; the working directory, a parent of it, a home folder, a filesystem root and a
  repository root (a folder holding `.git`) are refused, so no typo can put a card over the user's README or let
  `--overwrite` wipe a checkout.
- A folder deepmath creates carries an owner marker (`.deepmath`). An existing folder is used only when it is empty
  or carries that marker (or is a stage folder of an earlier deepmath version: `config.yaml` beside a
  `_config_hash.json` or `_SUCCESS`). `--overwrite` clears only such a folder, and never one that holds an input
  of the run.
- One run per folder at a time: `OutputLock` holds a POSIX lock on `.lock` (with the owner's pid in it) for the
  whole run. The kernel drops the lock when the process dies, so a lock left by a killed run is simply taken over.
- A run that failed before it left any work behind (a bad input, a typo) removes the folder it created, so the
  corrected command starts clean instead of being refused as "a different config".
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from dataclasses import fields, is_dataclass
from pathlib import Path

from deepmath.config import ConfigError

__all__ = ["OWNER_MARKER", "OutputLock", "check_output", "claim_output", "clear_output", "has_progress", "is_owned"]

logger = logging.getLogger(__name__)

OWNER_MARKER = ".deepmath"
LOCK_FILE = ".lock"
_BOOKKEEPING = {OWNER_MARKER, LOCK_FILE, "config.yaml", "_config_hash.json", "stats.json", "README.md"}


def _protected(path: Path) -> str | None:
    """Why `path` may never be an output folder, or None."""
    cwd = Path.cwd().resolve()
    if path == cwd:
        return "it is the working directory"
    if path in cwd.parents:
        return "it is a parent of the working directory"
    if path == Path(path.anchor):
        return "it is a filesystem root"
    if path == Path.home().resolve():
        return "it is a home folder"
    if (path / ".git").exists():
        return "it is a repository root"
    return None


def is_owned(path: Path) -> bool:
    """True when deepmath made `path` (owner marker), or it is a stage folder (or a recipe's folder of stage
    folders) of an earlier deepmath version."""
    if (path / OWNER_MARKER).exists() or _is_old_stage_folder(path):
        return True
    # a recipe's run folder of an earlier version: it holds stage folders
    try:
        return any(child.is_dir() and _is_old_stage_folder(child) for child in path.iterdir())
    except OSError:
        return False


def _is_old_stage_folder(path: Path) -> bool:
    return (path / "config.yaml").exists() and ((path / "_config_hash.json").exists() or (path / "_SUCCESS").exists())


def check_output(stage: str, output: str | Path | None) -> Path:
    """The output folder as a Path, or a ConfigError saying why it cannot be one (nothing is created)."""
    if output is None or not str(output).strip():
        raise ConfigError(f"{stage}: an output folder is required (--output DIR)")
    path = Path(str(output)).expanduser()
    resolved = path.resolve()
    reason = _protected(resolved)
    if reason:
        raise ConfigError(f"{stage}: refusing to write into {path}: {reason}; give a new folder with --output")
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(f"{stage}: --output {path} is a file, not a folder")
    if resolved.is_dir() and any(resolved.iterdir()) and not is_owned(resolved):
        raise ConfigError(
            f"{stage}: {path} already holds files that deepmath did not write; give a new or empty folder with --output"
        )
    return path


def claim_output(path: Path) -> bool:
    """Create `path` (and its owner marker) when needed; True when this call created the folder."""
    created = not path.exists()
    path.mkdir(parents=True, exist_ok=True)
    marker = path / OWNER_MARKER
    if not marker.exists():
        marker.write_text("This folder was created by deepmath; `--overwrite` may clear it.\n")
    return created


def _path_values(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _path_values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _path_values(item)
    elif is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            yield from _path_values(getattr(value, f.name))


def inputs_inside(cfg, output: Path) -> list[str]:
    """Config values naming existing paths inside `output` (which `--overwrite` would delete)."""
    root = output.resolve()
    skip = {"output", "output_dir", "logging_dir"}
    found = []
    for f in fields(cfg) if is_dataclass(cfg) else []:
        if f.name in skip:
            continue
        for text in _path_values(getattr(cfg, f.name, None)):
            if not text or len(text) > 4096 or "\n" in text:
                continue
            try:
                candidate = Path(text).expanduser()
                if candidate.exists() and (candidate.resolve() == root or root in candidate.resolve().parents):
                    found.append(text)
            except (OSError, ValueError):
                continue
    return found


def clear_output(stage: str, cfg, path: Path) -> None:
    """`--overwrite`: delete what an owned folder holds (its marker and lock stay), never an input of the run."""
    if not is_owned(path):
        raise ConfigError(f"{stage}: --overwrite refuses to clear {path}: deepmath did not create it")
    inside = inputs_inside(cfg, path)
    if inside:
        raise ConfigError(f"{stage}: --overwrite would delete the input {inside[0]} (it is inside {path})")
    for entry in path.iterdir():
        if entry.name in (OWNER_MARKER, LOCK_FILE):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def has_progress(path: Path) -> bool:
    """True when `path` holds work a re-run would resume from (data, checkpoints, finished tasks, anything
    unknown); False when it holds only the bookkeeping a run writes before it starts working."""
    if not path.is_dir():
        return False
    for entry in path.iterdir():
        if entry.name in _BOOKKEEPING:
            continue
        if entry.name == "_logs" and entry.is_dir():
            if any(p.is_file() for p in entry.glob("*/completions/*")):
                return True
            continue
        if entry.name == "data" and entry.is_dir():
            if any(p.is_file() for p in entry.rglob("*")):
                return True
            continue
        return True
    return False


class OutputLock:
    """An exclusive lock on `OUTPUT/.lock` for the duration of a run; a second run refuses with the owner's pid."""

    def __init__(self, stage: str, path: Path):
        self.stage = stage
        self.path = path / LOCK_FILE
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # POSIX record locks belong to the process: forked workers do not inherit them, and the kernel
            # releases them when the owner dies (a stale lock of a killed run is taken over here)
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            owner = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise ConfigError(
                f"{self.stage}: another deepmath run (pid {owner}) is writing {self.path.parent}; "
                "wait for it to finish or use another --output"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing releases the lock; the file stays (removing it would race a waiter)
            self._fd = None
