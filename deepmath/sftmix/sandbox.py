"""Run program-of-thought programs in a separate process with limits, and read back their result.

    from deepmath.sftmix.sandbox import SandboxLimits, run_program, run_programs
    result = run_program("ans = 6 * 7", SandboxLimits(timeout=5))   # result.status == "ok", result.value == "42"

Each program runs as `python -I -B _sandbox_child.py` in its own session (process group), with a stripped
environment, stdin closed and its working folder a fresh temporary folder that is deleted afterwards. Inside the
child, before the program starts: address-space, CPU-time, file-size and core-dump limits (`resource.setrlimit`),
and an audit hook (`sys.addaudithook`) that refuses writes outside the working folder, sockets and other network
clients, new processes (`subprocess`, `os.system`, `fork`, `exec`, `spawn`), signals to other processes, loading
native libraries through ctypes, and changing the limits. The parent kills the whole process group on the
wall-clock timeout. The result is the program's `ans` variable if it set one, else the last line it printed.

This is a safety layer against programs that are wrong, slow, greedy or careless (the usual failures of
model-written code), NOT a security boundary for hostile code: audit hooks can be bypassed from Python (ctypes on
`pythonapi`, `dir_fd`-relative calls, C extensions), reads are not restricted, and nothing isolates the kernel.
Run untrusted code in a container or VM with no network.

Where we depart from the usual recipe: limits are set by the child itself before the program runs instead of in a
`preexec_fn`, because `preexec_fn` is documented as unsafe with threads and programs run from a thread pool. No
RLIMIT_NPROC: it counts every process of the user, so on a shared machine it breaks unrelated work; new processes
are refused by the audit hook and the process group is killed at the end anyway. Sockets are refused through the
`socket.__new__` audit event rather than by replacing `socket.socket`, which C code and `_socket` would bypass.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["ProgramResult", "SandboxLimits", "run_program", "run_programs"]

logger = logging.getLogger(__name__)

_CHILD = Path(__file__).with_name("_sandbox_child.py")
_MARKER = "\x00deepmath-sandbox-result\x00"  # same as _sandbox_child.MARKER


@dataclass(frozen=True)
class SandboxLimits:
    """Per-program limits."""

    timeout: float = 10.0  # wall-clock seconds, then the process group is killed
    cpu_seconds: int = 5
    memory_mb: int = 1024  # address space (RLIMIT_AS), so it counts reservations, not only touched pages
    file_mb: int = 16  # largest file the program may write (RLIMIT_FSIZE)
    output_chars: int = 100_000  # printed output kept for the result; the rest is discarded


@dataclass
class ProgramResult:
    """What a program did: status ok | error | timeout | memory | blocked | file_size | killed, and its value."""

    status: str
    value: str | None = None
    origin: str = "none"  # ans | stdout | none
    error: str = ""
    stdout: str = ""
    seconds: float = 0.0
    pid: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None

    def to_dict(self) -> dict:
        return asdict(self)


def _environment(folder: str) -> dict[str, str]:
    """A minimal environment: no credentials, proxies or Python settings of the host leak into the child."""
    env = {"PATH": "/usr/bin:/bin", "HOME": folder, "TMPDIR": folder, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[name] = "1"  # thread pools reserve address space per thread and would trip the memory limit
    return env


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _signal_status(returncode: int) -> str:
    signum = -returncode
    if signum in (signal.SIGXCPU, signal.SIGKILL):
        return "timeout"  # CPU soft limit (SIGXCPU) or hard limit (SIGKILL)
    if signum == signal.SIGXFSZ:
        return "file_size"
    return "killed"


def run_program(program: str, limits: SandboxLimits | None = None) -> ProgramResult:
    """Run one program in a fresh sandbox and return its status and result."""
    limits = limits or SandboxLimits()
    root = tempfile.mkdtemp(prefix="deepmath-sandbox-")
    start = time.monotonic()
    try:
        work = Path(root) / "work"
        work.mkdir()
        (Path(root) / "program.py").write_text(program, encoding="utf-8")
        child_limits = {
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "cpu_seconds": max(1, int(limits.cpu_seconds)),
            "file_bytes": limits.file_mb * 1024 * 1024,
            "output_chars": limits.output_chars,
        }
        out_path, err_path = Path(root) / "stdout.txt", Path(root) / "stderr.txt"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-B", str(_CHILD), root, json.dumps(child_limits)],
                cwd=work,
                env=_environment(str(work)),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,  # its own process group: one killpg ends it and anything it started
                close_fds=True,
            )
        timed_out = False
        try:
            proc.wait(timeout=limits.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            proc.wait()
        _kill_group(proc.pid)  # leftovers of a finished program
        seconds = round(time.monotonic() - start, 3)
        if timed_out:
            return ProgramResult(
                "timeout", error=f"wall-clock limit of {limits.timeout}s", seconds=seconds, pid=proc.pid
            )
        record = _read_record(out_path)
        if record is None:
            stderr = err_path.read_bytes()[-2_000:].decode("utf-8", "replace")
            if proc.returncode < 0:
                status = _signal_status(proc.returncode)
                error = f"killed by {signal.Signals(-proc.returncode).name}"
            else:
                status = "memory" if "MemoryError" in stderr else "error"
                error = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit code {proc.returncode}"
            return ProgramResult(status, error=error, seconds=seconds, pid=proc.pid)
        return ProgramResult(
            record["status"],
            value=record.get("value"),
            origin=record.get("origin", "none"),
            error=record.get("error", ""),
            stdout=record.get("stdout", ""),
            seconds=seconds,
            pid=proc.pid,
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _read_record(path: Path) -> dict | None:
    """The child's result line (the last line starting with the marker), or None when it died before writing it."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64_000))
        tail = handle.read().decode("utf-8", "replace")
    start = tail.rfind(_MARKER)
    if start < 0:
        return None
    try:
        return json.loads(tail[start + len(_MARKER) :].splitlines()[0])
    except (json.JSONDecodeError, IndexError):
        return None


def run_programs(
    programs: Iterable[tuple[str, str]], limits: SandboxLimits | None = None, workers: int = 2
) -> Iterator[tuple[str, ProgramResult]]:
    """(key, result) for each (key, program), as they finish; `workers` programs run at once, each in its own process."""
    limits = limits or SandboxLimits()
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sandbox") as pool:
        futures = {pool.submit(run_program, program, limits): key for key, program in programs}
        for future in as_completed(futures):
            yield futures[future], future.result()
