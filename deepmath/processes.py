"""Helper processes never outlive the run that started them.

The OOM killer (or a user's `kill -9`) ends only the main process; its forked pool workers and plot process would
otherwise run on, holding memory and the output folder. On Linux a child asks the kernel for SIGKILL when its
parent dies (`prctl(PR_SET_PDEATHSIG)`), set right after `fork`:

- `die_with_parent()` in a child we fork ourselves (the plot process);
- `children_die_with_parent()` around code that forks children we do not control (datatrove's worker pool with the
  `fork` start method): an at-fork hook sets the signal in every child forked while it is active.

Children started through a fresh interpreter (forkserver, spawn) are not covered by the hook: datatrove's forkserver
exits when its parent's socket closes, and its children when their pipe does. Elsewhere (macOS) these are no-ops.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import signal
import sys

__all__ = ["children_die_with_parent", "die_with_parent"]

_PR_SET_PDEATHSIG = 1
_active = 0
_hook_installed = False


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, loaded once (a forked child inherits it): `find_library` runs `ldconfig -p` in a subprocess,
    ~5 ms in every pool worker, so glibc's usual name is tried first."""
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL this process when its parent dies; False where that is not possible."""
    if sys.platform != "linux":
        return False
    try:
        libc = _libc()
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    # the parent may have died between fork and prctl: then we are already an orphan
    return os.getppid() != 1


def _after_fork_in_child() -> None:
    global _active
    if _active:
        _active = 0  # the child's own children are its business
        die_with_parent()


@contextlib.contextmanager
def children_die_with_parent():
    """Every child forked inside this block is killed when this process dies."""
    global _active, _hook_installed
    if not _hook_installed and hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
        _hook_installed = True
    if sys.platform == "linux":
        with contextlib.suppress(OSError, TypeError):
            _libc()  # here, once, not in every child
    _active += 1
    try:
        yield
    finally:
        _active -= 1
