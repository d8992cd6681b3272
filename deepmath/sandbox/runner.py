"""Run one program in the sandbox and judge what it did from what the parent can trust.

The parent never believes a status the program reports. It decides from:
- its own wall clock and its own count of the bytes the program printed (timeout, output_limit);
- the exit status, read from bwrap's `--json-status-fd` (written by bwrap outside the sandbox) or from waitpid;
- the program's stdout, captured through a pipe: the result record the wrapper writes after the program must be
  the very last line and carry the per-run nonce, which only the parent and the wrapper know. Anything that looks
  like a record anywhere else (the old fixed marker, a guessed nonce, a second record) makes the run `forged`.
A program that digs the nonce out of its own process memory can still write a valid-looking record, but the value
in it is then simply a value the program chose to report, exactly what it gets by printing it; it cannot turn a
failure, a timeout or a kill into "ok".
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass

from deepmath.sandbox.isolation import SandboxUnavailable, launch_command, require_from_env, sandbox_environment

__all__ = ["ProgramResult", "SandboxLimits", "check_isolation", "run_program", "run_programs"]

_RECORD = b"\x00deepmath-sandbox-record "  # _wrapper.RECORD
_LOOKALIKE = b"\x00deepmath-sandbox"  # also the fixed marker of the old in-process layer
_EXIT_STATUS = {0: "ok", 10: "error", 11: "memory", 12: "blocked", 13: "sandbox_error"}
_SIGNAL_STATUS = {signal.SIGXCPU: "timeout", signal.SIGXFSZ: "file_size"}  # SIGKILL: killed
_STDERR_KEEP = 8_000


@dataclass(frozen=True)
class SandboxLimits:
    """Per-program limits and how strictly the program must be isolated."""

    timeout: float = 10.0  # wall-clock seconds, then the whole sandbox is killed
    cpu_seconds: int = 5
    memory_mb: int = 1024  # address space per process (RLIMIT_AS): counts reservations, not only touched pages
    file_mb: int = 16  # largest file the program may write (RLIMIT_FSIZE)
    output_chars: int = 2_000  # tail of the printed output kept in ProgramResult.stdout
    output_bytes: int = 1_000_000  # printing more than this kills the program (status output_limit)
    processes: int = 8  # tasks (processes + threads) inside the sandbox (RLIMIT_NPROC); bwrap only
    tmpfs_mb: int = 64  # size of the writable working folder; bwrap only
    isolation: str = "auto"  # auto (bwrap where it runs, else the warned fallback) | bwrap | inprocess
    require_isolation: bool = False  # refuse to run without bwrap (also DEEPMATH_SANDBOX_REQUIRE=1)
    # the in-process audit-hook guards (status "blocked": subprocess, sockets, writes outside the folder, ...) on
    # top of bwrap too: the same verdicts as the old layer, and a second line; always on in the fallback
    guards: bool = True

    def __post_init__(self):
        if self.timeout <= 0 or self.cpu_seconds < 1 or self.memory_mb < 64 or self.file_mb < 1:
            raise ValueError("sandbox limits: timeout > 0, cpu_seconds >= 1, memory_mb >= 64 and file_mb >= 1")
        if self.output_chars < 0 or self.output_bytes < 1 or self.processes < 1 or self.tmpfs_mb < 1:
            raise ValueError("sandbox limits: output_chars >= 0, output_bytes, processes and tmpfs_mb >= 1")
        if self.isolation not in ("auto", "bwrap", "inprocess"):
            raise ValueError(f"sandbox limits: isolation must be auto, bwrap or inprocess, not {self.isolation!r}")


@dataclass
class ProgramResult:
    """What a program did.

    status: ok | error | timeout | memory | file_size | output_limit | forged | killed | blocked (the in-process
    guards refused an operation) | sandbox_error (the harness, not the program, failed). `value` is set only for ok: the program's `ans`
    variable if it set one (origin "ans"), else the last line it printed (origin "stdout").
    """

    status: str
    value: str | None = None
    origin: str = "none"  # ans | stdout | none
    error: str = ""
    stdout: str = ""  # the last `output_chars` characters printed
    stderr: str = ""  # the tail of what the program wrote to stderr
    seconds: float = 0.0
    pid: int = 0  # host pid of the process group leader (bwrap, or the fallback child)
    isolation: str = ""  # bwrap | inprocess

    @property
    def ok(self) -> bool:
        return self.status == "ok" and self.value is not None

    def to_dict(self) -> dict:
        return asdict(self)


def _header(program: str, limits: SandboxLimits, nonce: str, mode: str) -> bytes:
    header = {
        "program": program,
        "nonce": nonce,
        "isolated": mode == "bwrap",
        "guards": limits.guards or mode == "inprocess",
        # a random uid per run owns no host file and shares its RLIMIT_NPROC count with nothing
        "uid": 1_000_000 + secrets.randbelow(1_000_000_000) if mode == "bwrap" and os.geteuid() == 0 else None,
        "limits": {
            "memory_bytes": limits.memory_mb * 1024 * 1024,
            "cpu_seconds": max(1, int(limits.cpu_seconds)),
            "file_bytes": limits.file_mb * 1024 * 1024,
            "processes": limits.processes if mode == "bwrap" else 0,
        },
    }
    body = json.dumps(header).encode("utf-8")
    return b"%010d" % len(body) + body


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class _Capture:
    """Feeds stdin and drains stdout, stderr and bwrap's status pipe until all close, a limit or the deadline."""

    def __init__(self, proc: subprocess.Popen, stdin: bytes, status_fd: int | None, limits: SandboxLimits):
        self.proc, self.limits = proc, limits
        self.stdout, self.stderr, self.status = bytearray(), bytearray(), bytearray()
        self.timed_out = self.too_long = False
        self.selector = selectors.DefaultSelector()
        self.pending = memoryview(stdin)
        os.set_blocking(proc.stdin.fileno(), False)
        self.selector.register(proc.stdin.fileno(), selectors.EVENT_WRITE, "stdin")
        self.selector.register(proc.stdout.fileno(), selectors.EVENT_READ, "stdout")
        self.selector.register(proc.stderr.fileno(), selectors.EVENT_READ, "stderr")
        if status_fd is not None:
            self.selector.register(status_fd, selectors.EVENT_READ, "status")

    def run(self, deadline: float) -> None:
        try:
            while self.selector.get_map():
                left = deadline - time.monotonic()
                if left <= 0:
                    self.timed_out = True
                    return
                for key, _ in self.selector.select(timeout=min(left, 1.0)):
                    if key.data == "stdin":
                        self._write(key.fd)
                    else:
                        self._read(key.fd, key.data)
                    if self.too_long:
                        return
        finally:
            self.selector.close()

    def drain(self, seconds: float) -> None:
        """After the kill: read stdout/stderr to their end, discarding it. Every process of the sandbox holds
        them, so the end means the PID namespace is torn down and nothing of the program is left running."""
        ends = [f for f in (self.proc.stdout, self.proc.stderr) if not f.closed]
        with selectors.DefaultSelector() as selector:
            for stream in ends:
                selector.register(stream.fileno(), selectors.EVENT_READ)
            deadline = time.monotonic() + seconds
            while selector.get_map() and time.monotonic() < deadline:
                for key, _ in selector.select(timeout=0.5):
                    try:
                        chunk = os.read(key.fd, 65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        selector.unregister(key.fd)

    def _write(self, fd: int) -> None:
        try:
            written = os.write(fd, self.pending[:65536])
            self.pending = self.pending[written:]
        except BlockingIOError:
            return
        except OSError:  # the program closed its stdin
            self.pending = self.pending[:0]
        if not self.pending:
            self.selector.unregister(fd)
            self.proc.stdin.close()

    def _read(self, fd: int, name: str) -> None:
        chunk = os.read(fd, 65536)
        if not chunk:
            self.selector.unregister(fd)
            return
        if name == "stdout":
            self.stdout += chunk
            if len(self.stdout) > self.limits.output_bytes + 4096:  # + room for the result record
                self.too_long = True
        elif name == "stderr":
            self.stderr += chunk
            del self.stderr[:-_STDERR_KEEP]
        else:
            self.status += chunk


def _exit_code(proc: subprocess.Popen, status: bytes, mode: str) -> tuple[int | None, bool]:
    """(exit code as a shell reports it, whether the program started at all)."""
    if mode == "bwrap":
        started = b'"child-pid"' in status
        found = re.findall(rb'"exit-code"\s*:\s*(-?\d+)', status)
        return (int(found[-1]) if found else None), started
    code = proc.returncode
    return (128 - code if code is not None and code < 0 else code), True


def _verdict(code: int | None, out: bytes, nonce: str) -> tuple[str, str | None, str, str]:
    """(status, value, origin, error) from the exit code and the captured stdout; see the module docstring."""
    genuine = _RECORD + nonce.encode("ascii") + b" "
    start = out.rfind(b"\n" + genuine)
    record = None
    if start >= 0 and out.endswith(b"\n") and out.count(b"\n", start + 1) == 1:
        with contextlib.suppress(ValueError):
            record = json.loads(out[start + 1 + len(genuine) :].decode("utf-8"))
    printed = out[:start] if record is not None else out
    if _LOOKALIKE in printed:
        return "forged", None, "none", "the output contains a forged result record"
    if code is None:
        return "killed", None, "none", "no exit status"
    if code >= 128:
        signum = code - 128
        name = signal.Signals(signum).name if signum in signal.Signals._value2member_map_ else str(signum)
        return _SIGNAL_STATUS.get(signum, "killed"), None, "none", f"killed by {name}"
    if code in _EXIT_STATUS and code != 0:
        return _EXIT_STATUS[code], None, "none", ""
    if code != 0:
        return "error", None, "none", f"exit code {code}"
    if record is None or not isinstance(record, dict):
        return "error", None, "none", "the program ended without the harness's result record (os._exit?)"
    if record.get("ans") is not None:
        return "ok", str(record["ans"]), "ans", ""
    lines = [line.strip() for line in printed.decode("utf-8", "replace").splitlines() if line.strip()]
    return ("ok", lines[-1][:10_000], "stdout", "") if lines else ("ok", None, "none", "")


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][-500:] if lines else ""


def run_program(code: str, limits: SandboxLimits | None = None, stdin: str = "") -> ProgramResult:
    """Run one program in a fresh sandbox and return its status, value and output.

    Raises SandboxUnavailable only when isolation is required and bwrap cannot run; every failure of the program
    itself, hostile or not, is a ProgramResult.
    """
    limits = limits or SandboxLimits()
    require = limits.require_isolation or require_from_env()
    status_read, status_write = os.pipe()
    try:
        argv, mode = launch_command(limits.isolation, require, limits.tmpfs_mb, status_write)
    except BaseException:
        os.close(status_read)
        os.close(status_write)
        raise
    if mode != "bwrap":
        os.close(status_read)
        os.close(status_write)
        status_read = status_write = None
    nonce = secrets.token_hex(16)
    data = _header(code, limits, nonce, mode) + stdin.encode("utf-8")
    folder = tempfile.mkdtemp(prefix="deepmath-sandbox-") if mode == "inprocess" else None
    start = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=folder or "/",
            env=sandbox_environment(folder or "/tmp"),  # bwrap's own environment is visible as /proc/1/environ
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: one killpg ends it and anything it started
            close_fds=True,
            pass_fds=(status_write,) if status_write is not None else (),
        )
    except OSError as err:
        for fd in (status_read, status_write):
            if fd is not None:
                os.close(fd)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        return ProgramResult("sandbox_error", error=f"cannot start: {err}", isolation=mode)
    if status_write is not None:
        os.close(status_write)
    capture = _Capture(proc, data, status_read, limits)
    try:
        capture.run(start + limits.timeout)
        if not (capture.timed_out or capture.too_long):  # its pipes are closed; it may still be running
            try:
                proc.wait(timeout=max(0.0, start + limits.timeout - time.monotonic()))
            except subprocess.TimeoutExpired:
                capture.timed_out = True
    finally:
        _kill_group(proc.pid)  # the whole sandbox: bwrap's PID 1 takes every process inside with it
        proc.wait()
        capture.drain(10.0)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):
                stream.close()
        if status_read is not None:
            with contextlib.suppress(OSError):
                os.set_blocking(status_read, False)
                capture.status += os.read(status_read, 65536)
            os.close(status_read)
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    seconds = round(time.monotonic() - start, 3)
    out = bytes(capture.stdout)
    stderr = capture.stderr.decode("utf-8", "replace")
    code_, started = _exit_code(proc, bytes(capture.status), mode)
    if capture.timed_out:
        status, value, origin, error = "timeout", None, "none", f"wall-clock limit of {limits.timeout}s"
    elif capture.too_long:
        status, value, origin, error = "output_limit", None, "none", f"printed more than {limits.output_bytes} bytes"
    elif not started:
        status, value, origin, error = "sandbox_error", None, "none", _last_line(stderr) or "bwrap failed"
    else:
        status, value, origin, error = _verdict(code_, out, nonce)
        if status in ("error", "memory", "blocked", "sandbox_error") and not error:
            error = _last_line(stderr) or f"exit code {code_}"
    printed = out.rsplit(b"\n" + _RECORD, 1)[0] if status in ("ok", "error") else out
    return ProgramResult(
        status,
        value=value,
        origin=origin,
        error=error,
        stdout=printed.decode("utf-8", "replace")[-limits.output_chars :] if limits.output_chars else "",
        stderr=stderr[-2_000:],
        seconds=seconds,
        pid=proc.pid,
        isolation=mode,
    )


def check_isolation(limits: SandboxLimits | None = None) -> str:
    """The mode programs will run in ("bwrap" or "inprocess"); raises SandboxUnavailable if bwrap is required
    and cannot run. Call it once before a batch so a missing sandbox is one clear error, not one per program."""
    limits = limits or SandboxLimits()
    require = limits.require_isolation or require_from_env()
    return launch_command(limits.isolation, require, limits.tmpfs_mb, None)[1]


def _run_safely(code: str, limits: SandboxLimits, stdin: str) -> ProgramResult:
    try:
        return run_program(code, limits, stdin)
    except SandboxUnavailable:
        raise
    except Exception as err:  # a harness failure on one program is that program's counted failure
        return ProgramResult("sandbox_error", error=f"{type(err).__name__}: {err}"[:500])


def run_programs(
    programs: Iterable[tuple[str, str]], limits: SandboxLimits | None = None, workers: int = 2
) -> Iterator[tuple[str, ProgramResult]]:
    """(key, result) for each (key, program) as they finish; `workers` sandboxes run at once.

    A program's stdin is empty; use run_program for one with input.
    """
    limits = limits or SandboxLimits()
    check_isolation(limits)
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="sandbox") as pool:
        futures = {pool.submit(_run_safely, program, limits, ""): key for key, program in programs}
        for future in as_completed(futures):
            yield futures[future], future.result()
