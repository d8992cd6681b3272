"""Every place deepmath leans on another library's private names, in one module, checked against tested versions.

deepmath runs datatrove pipelines and TRL trainers; three behaviours need a hand on their internals. Each shim here
guards the private name it touches and falls back to the library's own behaviour when that name moved, and
`check_versions()` warns once when an installed version is outside the range the shims were tested with
(`pyproject.toml` pins the same ranges).

- `cache_loguru_lib_dirs`: loguru's exception formatter expands every sysconfig scheme each time datatrove adds a
  task sink (~3 ms, a few hundred ms per stage of many short tasks); the answer depends only on `sys.path`, and is
  computed once per process with a quarter of loguru's path expansions.
  Offered upstream as "cache ExceptionFormatter._get_lib_dirs" (not merged at the time of writing).
- `without_manager_process`: datatrove's local executor starts a multiprocess Manager server (~30-50 ms) even for
  one worker running tasks one after another in this process; a plain queue does the same job.
- `lazy_hub_filesystem`: `datatrove.io` imports `huggingface_hub.HfFileSystem` at its top only to test whether a
  folder is on the Hub; that import loads the Hub client (~0.1 s, half the import time of a corpus command). While
  `datatrove.io` loads, its name is bound to a stand-in class that behaves as the real one (instances, subclasses,
  calls and attributes all go to it) and loads it only on first use. Installed by `import deepmath`, one shot.
- `fork_worker_pool`: with several workers and the `fork` start method, datatrove's local executor still starts a
  Manager server and pickles the executor (with dill) for every task (~75 ms per pipeline of tiny tasks);
  `deepmath.fork_pool` forks the workers once and sends them task numbers.
- `quiet_task_logger`: datatrove's `add_task_logger` prints every task's log and stats block on stderr (~800 lines
  per demo run); at default verbosity only warnings reach the console and everything still goes to the task's log
  file under `OUTPUT/_logs/<pipeline>/logs/`. `-v` restores datatrove's console output.

How much the shims are worth is measured in `bench/README.md` (dedup, with and without the shims).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import queue
import sys
import types

__all__ = [
    "TESTED",
    "cache_loguru_lib_dirs",
    "check_versions",
    "fork_worker_pool",
    "lazy_hub_filesystem",
    "prepare_datatrove",
    "quiet_task_logger",
    "without_manager_process",
]

logger = logging.getLogger(__name__)

# (lowest tested, first untested) per library: the same bounds as pyproject.toml
TESTED = {"datatrove": ("0.10", "0.11"), "trl": ("1.16", "1.17"), "loguru": ("0.7", "0.8")}
_checked: set[str] = set()
SHIMS_ENV = "DEEPMATH_NO_SHIMS"  # "1": run datatrove as it ships (for measuring what the shims are worth)


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def check_versions(*names: str) -> list[str]:
    """Warn once per library installed outside its tested range; returns the warnings."""
    from importlib import metadata

    warnings = []
    for name in names or TESTED:
        if name in _checked or name not in TESTED:
            continue
        _checked.add(name)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        low, high = TESTED[name]
        if not _version_tuple(low) <= _version_tuple(installed) < _version_tuple(high):
            message = f"{name} {installed} is outside the range deepmath was tested with (>={low},<{high})"
            logger.warning("%s; its shims fall back to the library's own behaviour where they no longer fit", message)
            warnings.append(message)
    return warnings


def shims_enabled() -> bool:
    return os.environ.get(SHIMS_ENV, "") != "1"


def cache_loguru_lib_dirs() -> bool:
    """Compute loguru's library folders once per `sys.path`; False when loguru's private name moved."""
    try:
        from loguru._better_exceptions import ExceptionFormatter
    except ImportError:  # pragma: no cover - a private name may move
        return False
    lookup = getattr(ExceptionFormatter, "_get_lib_dirs", None)
    if lookup is None:
        return False
    if getattr(lookup, "deepmath_cached", False):
        return True
    cache: dict[tuple, list] = {}

    def cached() -> list:
        key = tuple(sys.path)
        if key not in cache:
            cache[key] = _lib_dirs()
        return list(cache[key])

    cached.deepmath_cached = True
    ExceptionFormatter._get_lib_dirs = staticmethod(cached)
    return True


def _lib_dirs() -> list[str]:
    """What loguru 0.7's `_get_lib_dirs` returns (the sysconfig paths of every install scheme that are on
    `sys.path`, lower-cased, with a trailing separator; in no particular order), with one `sysconfig.get_paths` per
    scheme instead of one per path name: ~5 ms instead of ~18 ms, once per process (tests/framework compare)."""
    import sysconfig

    names = ("stdlib", "platstdlib", "platlib", "purelib")
    paths = set()
    for scheme in sysconfig.get_scheme_names():
        found = sysconfig.get_paths(scheme)
        paths.update(found[name] for name in names if name in found)
    return [os.path.abspath(path).lower() + os.sep for path in paths if path in sys.path]


class _DeferredHubClass(type):
    """The metaclass of `_HubFileSystem`: everything asked of the class is asked of huggingface_hub's real
    `HfFileSystem`, which is imported at that moment; an isinstance check needs no import (an instance of the real
    class means its module is loaded already)."""

    def __instancecheck__(cls, obj) -> bool:
        module = sys.modules.get("huggingface_hub.hf_file_system")
        return module is not None and isinstance(obj, module.HfFileSystem)

    def __subclasscheck__(cls, other) -> bool:
        return issubclass(other, _real_hub_filesystem())

    def __call__(cls, *args, **kwargs):
        return _real_hub_filesystem()(*args, **kwargs)

    def __getattr__(cls, name: str):
        return getattr(_real_hub_filesystem(), name)


def _real_hub_filesystem() -> type:
    from huggingface_hub.hf_file_system import HfFileSystem

    return HfFileSystem


class _HubFileSystem(metaclass=_DeferredHubClass):
    """What `datatrove.io` binds as `HfFileSystem` (see `lazy_hub_filesystem`)."""


class _DatatroveIoLoader:
    """Loads `datatrove.io` with `_HubFileSystem` in huggingface_hub's namespace, removed again afterwards (so every
    other importer gets huggingface_hub's own lazy attribute)."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        import huggingface_hub

        placed = "HfFileSystem" not in vars(huggingface_hub)
        if placed:
            huggingface_hub.HfFileSystem = _HubFileSystem
        try:
            self.loader.exec_module(module)
        finally:
            if placed and vars(huggingface_hub).get("HfFileSystem") is _HubFileSystem:
                del huggingface_hub.HfFileSystem


class _DatatroveIoFinder:
    """A `sys.meta_path` entry for `datatrove.io` alone; it takes itself off at the first import it sees."""

    def find_spec(self, name: str, path=None, target=None):
        if name != "datatrove.io":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        import importlib.util

        try:
            spec = importlib.util.find_spec(name)
            import huggingface_hub  # noqa: F401 - cheap: its attributes load lazily
        except ImportError:
            return None
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return None
        spec.loader = _DatatroveIoLoader(spec.loader)
        return spec


def lazy_hub_filesystem() -> bool:
    """Make the coming import of `datatrove.io` skip loading the Hugging Face Hub client (see the module docstring);
    False when `datatrove.io` is loaded already or the shims are off."""
    if not shims_enabled() or "datatrove.io" in sys.modules:
        return False
    if not any(isinstance(entry, _DatatroveIoFinder) for entry in sys.meta_path):
        sys.meta_path.insert(0, _DatatroveIoFinder())
    return True


class _SameProcessManager:
    """What LocalPipelineExecutor.run asks of its multiprocess Manager when workers == 1 and the tasks run one after
    another in this process: a queue of local ranks."""

    Queue = staticmethod(queue.SimpleQueue)

    def shutdown(self) -> None:
        pass


@contextlib.contextmanager
def without_manager_process():
    """Let datatrove's local executor use `_SameProcessManager` for the duration of one single-worker run."""
    import datatrove.executor.local as local

    real = getattr(local, "multiprocess", None)
    if not shims_enabled() or real is None or not hasattr(real, "get_context"):  # datatrove changed: its own way
        yield
        return
    local.multiprocess = types.SimpleNamespace(Manager=_SameProcessManager, get_context=real.get_context)
    try:
        yield
    finally:
        local.multiprocess = real


@contextlib.contextmanager
def fork_worker_pool():
    """Let datatrove's local executor run its workers in `deepmath.fork_pool` (forked once, tasks not pickled) for
    the duration of one run that uses the `fork` start method with several workers."""
    import datatrove.executor.local as local

    real = getattr(local, "multiprocess", None)
    if not shims_enabled() or real is None or not hasattr(real, "get_context"):  # datatrove changed: its own way
        yield
        return
    from deepmath.fork_pool import ForkContext, ForkManager

    def get_context(method: str):
        return ForkContext() if method == "fork" else real.get_context(method)

    local.multiprocess = types.SimpleNamespace(Manager=ForkManager, get_context=get_context)
    try:
        yield
    finally:
        local.multiprocess = real


def console_verbose() -> bool:
    """True when the user asked for library output on the console (`deepmath -v`)."""
    return os.environ.get("DEEPMATH_VERBOSE", "0") not in ("", "0")


def quiet_task_logger() -> bool:
    """Route datatrove's per-task console output to its log file only (warnings still reach the console)."""
    try:
        import datatrove.executor.base as base
        from datatrove.utils import logging as dt_logging
    except ImportError:  # pragma: no cover
        return False
    original = getattr(dt_logging, "add_task_logger", None)
    if original is None or getattr(base, "add_task_logger", None) is None:
        return False
    if getattr(base.add_task_logger, "deepmath_quiet", False):
        return True

    original_close = dt_logging.close_task_logger

    def add_task_logger(logging_dir, rank: int, local_rank: int = 0, node_rank: int = -1):
        if console_verbose():
            return original(logging_dir, rank, local_rank, node_rank=node_rank)
        from loguru import logger as loguru_logger

        # datatrove adds a stderr sink and a file sink and logs its first line to both: let the console sink write
        # into a buffer, then keep the file and give the console a warnings-only sink
        with contextlib.redirect_stderr(io.StringIO()):
            logfile = original(logging_dir, rank, local_rank, node_rank=node_rank)
            loguru_logger.remove()
        loguru_logger.add(sys.stderr, level="WARNING", format="{level} | {name}: {message}")
        loguru_logger.add(logfile, level="DEBUG", format="{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {message}")
        return logfile

    def close_task_logger(logfile):
        original_close(logfile)  # datatrove puts its default (INFO) console sink back here
        if not console_verbose():
            _quiet_console(force=True)

    add_task_logger.deepmath_quiet = True
    base.add_task_logger = add_task_logger
    base.close_task_logger = close_task_logger
    return True


_console_quiet = False


def _quiet_console(force: bool = False) -> None:
    """This process's loguru console sink shows warnings only (datatrove's executor logs "1/4 tasks completed" and a
    stats block per pipeline at INFO/SUCCESS); the task logs still go to their files."""
    global _console_quiet
    if (_console_quiet and not force) or console_verbose():
        return
    from loguru import logger as loguru_logger

    loguru_logger.remove()
    loguru_logger.add(sys.stderr, level="WARNING", format="{level} | {name}: {message}")
    _console_quiet = True


def prepare_datatrove() -> None:
    """What `run_pipeline` (and each task, in its own process) does first: version check once, the shims unless
    disabled, and a quiet console unless `deepmath -v`."""
    check_versions("datatrove", "loguru")
    if shims_enabled():
        cache_loguru_lib_dirs()
    quiet_task_logger()
    _quiet_console()
