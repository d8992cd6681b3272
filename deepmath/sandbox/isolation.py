"""How a program is started: inside bubblewrap (the boundary) or, as a loud fallback, as a plain child process.

    argv, mode = launch_command(limits)     # mode "bwrap" or "inprocess"; raises SandboxUnavailable if required

The bwrap command line (built once per process, see `_bwrap_args`):

- `--unshare-ipc --unshare-pid --unshare-net --unshare-uts --unshare-cgroup-try`: no network (only a down
  loopback), no other process visible or signalable, no shared memory with the host.
- a new root that is an empty tmpfs holding only read-only binds of /usr (and /bin, /lib*, /sbin), the Python
  prefixes (venv and base interpreter) and the wrapper script; a fresh /proc of the new PID namespace, a minimal
  /dev and one size-limited writable tmpfs (`/tmp`; the working folder is /tmp/work); the root and /dev are
  remounted read-only, so /tmp is the only place to write. No /etc, /home, /root, /work or the caller's folders.
- `--clearenv` plus a minimal environment; bwrap itself is started with a minimal environment too, because its
  process is PID 1 inside and /proc/1/environ would otherwise show the caller's environment.
- `--new-session` (no TIOCSTI into the caller's terminal), `--die-with-parent`.
- as a normal user: a new user namespace (`--unshare-user`, `--disable-userns` where bwrap has it), no capability.
  As root (CI, containers): no user namespace, every capability dropped except CAP_SETUID/CAP_SETGID, which the
  wrapper uses at once to become a random unprivileged uid that owns no file; that also makes RLIMIT_NPROC count
  (root is exempt from it, and a namespace mapping to root would be too). NO_NEW_PRIVS is always set by bwrap.

Where bwrap is missing or cannot start (no user namespaces, macOS) the program runs as a plain child process
with the in-process guards of the wrapper: NOT a boundary. We say so once per process with a warning, and
`require_isolation` (or DEEPMATH_SANDBOX_REQUIRE=1) refuses to run instead.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["SandboxUnavailable", "bwrap_problem", "launch_command", "require_from_env", "sandbox_environment"]

logger = logging.getLogger(__name__)

WRAPPER = Path(__file__).with_name("_wrapper.py")
INSIDE_WRAPPER = "/.deepmath-sandbox/wrapper.py"
INSIDE_TMP = "/tmp"  # the one writable tmpfs
INSIDE_WORK = "/tmp/work"  # the program's folder (cwd, HOME, TMPDIR): the guards allow writes only below it
_warned = threading.Event()


class SandboxUnavailable(RuntimeError):
    """The real sandbox was required but bwrap cannot run here (the message says why)."""


def require_from_env() -> bool:
    return os.environ.get("DEEPMATH_SANDBOX_REQUIRE", "").strip().lower() in ("1", "true", "yes")


def sandbox_environment(home: str) -> dict[str, str]:
    """The program's whole environment: nothing of the caller's (credentials, proxies, Python settings)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[name] = "1"  # thread pools reserve address space per thread and would trip the memory limit
    return env


def _python_roots() -> list[str]:
    """Folders the interpreter needs, outside /usr: the venv, the base installation, the real executable's."""
    roots = set()
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        roots.add(os.path.realpath(path))
    real = Path(os.path.realpath(sys.executable))
    roots.add(str(real.parent.parent))
    kept = []
    for root in sorted(roots, key=len):
        if root in ("/", "") or root == "/usr" or root.startswith("/usr/"):
            continue
        if any(root.startswith(k + "/") for k in kept):
            continue
        kept.append(root)
    return kept


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(name):
            args += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            args += ["--ro-bind", name, name]
    return args


@functools.lru_cache(maxsize=1)
def _bwrap_help() -> str:
    try:
        return subprocess.run(["bwrap", "--help"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _under_tmp(root: str) -> bool:
    return Path(root) == Path(INSIDE_TMP) or Path(INSIDE_TMP) in Path(root).parents


def _root_binds(roots: list[str], created: set[str]) -> list[str]:
    """Read-only binds of `roots`, their parent folders created 0755 first (bwrap would copy the host's modes:
    a 0700 /root hides pyenv)."""
    args: list[str] = []
    for root in roots:
        for parent in (str(p) for p in reversed(Path(root).parents) if str(p) != "/"):
            if parent not in created:
                args += ["--perms", "0755", "--dir", parent]
                created.add(parent)
        args += ["--ro-bind", root, root]
    return args


@functools.lru_cache(maxsize=1)
def _bwrap_args() -> tuple[str, ...]:
    """Everything of the bwrap command line that does not depend on the run (see the module docstring)."""
    args = ["bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if os.geteuid() == 0:
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        args += ["--unshare-user"]
        if "--disable-userns" in _bwrap_help():
            args += ["--disable-userns"]
    args += ["--die-with-parent", "--new-session", "--hostname", "sandbox", "--clearenv"]
    for name, value in sandbox_environment(INSIDE_WORK).items():
        args += ["--setenv", name, value]
    args += _system_binds()
    created = {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/tmp", "/proc", "/dev"}
    args += _root_binds([r for r in _python_roots() if not _under_tmp(r)], created)
    args += ["--perms", "0755", "--dir", str(Path(INSIDE_WRAPPER).parent)]
    args += ["--ro-bind", str(WRAPPER), INSIDE_WRAPPER]
    args += ["--proc", "/proc", "--dev", "/dev"]
    return tuple(args)


def bwrap_command(tmpfs_mb: int, status_fd: int | None = None) -> list[str]:
    """The command line that runs the wrapper inside bwrap, working folder a `tmpfs_mb` MB tmpfs.

    bwrap writes the child's exit code as JSON to `status_fd` from outside the sandbox (the child does not
    inherit that descriptor), which is the exit status the parent trusts.
    """
    return [
        *_bwrap_args(),
        *("--perms", "1777", "--size", str(tmpfs_mb * 1024 * 1024), "--tmpfs", INSIDE_TMP),
        # an interpreter that lives under /tmp (a venv in a scratch clone) is bound after /tmp's tmpfs, not under it
        *_root_binds([r for r in _python_roots() if _under_tmp(r)], {INSIDE_TMP}),
        *("--perms", "1777", "--dir", INSIDE_WORK, "--chdir", INSIDE_WORK),
        # the new root and /dev are tmpfs without a size limit, owned by the user in a user namespace: read-only
        *("--remount-ro", "/dev", "--remount-ro", "/"),
        *(("--json-status-fd", str(status_fd)) if status_fd is not None else ()),
        "--",
        sys.executable,
        "-I",
        "-B",
        INSIDE_WRAPPER,
    ]


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None when bwrap runs our interpreter here, else why not (checked once per process)."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return "bwrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    command = bwrap_command(1)
    command = [*command[: command.index("--") + 2], "-I", "-c", "import sys; sys.exit(0)"]
    try:
        probe = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=30,
            env={"PATH": "/usr/bin:/bin"},
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as err:
        return f"bwrap could not start: {err}"
    if probe.returncode != 0:
        lines = probe.stderr.strip().splitlines()
        return f"bwrap cannot run here: {lines[-1] if lines else f'exit code {probe.returncode}'}"
    return None


def launch_command(isolation: str, require: bool, tmpfs_mb: int, status_fd: int | None) -> tuple[list[str], str]:
    """(argv, mode): the wrapper inside bwrap when it can run here, else the plain wrapper (warned once)."""
    if isolation not in ("auto", "bwrap", "inprocess"):
        raise ValueError(f"isolation must be auto, bwrap or inprocess, not {isolation!r}")
    if isolation != "inprocess":
        problem = bwrap_problem()
        if problem is None:
            return bwrap_command(tmpfs_mb, status_fd), "bwrap"
        if require or isolation == "bwrap":
            raise SandboxUnavailable(f"the program sandbox is required but {problem}")
        if not _warned.is_set():
            _warned.set()
            logger.warning(
                "PROGRAM SANDBOX IS NOT A BOUNDARY: %s; programs run as plain child processes with in-process "
                "guards that hostile code can bypass. Install bubblewrap, or set DEEPMATH_SANDBOX_REQUIRE=1 to "
                "refuse to run without it.",
                problem,
            )
    return [sys.executable, "-I", "-B", str(WRAPPER)], "inprocess"
