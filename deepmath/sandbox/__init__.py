"""The program sandbox: run model-written Python (program-of-thought, tool calls, code rewards) and read its result.

    from deepmath.sandbox import SandboxLimits, run_program, run_programs
    result = run_program("ans = 6 * 7", SandboxLimits(timeout=5))      # status "ok", value "42", origin "ans"
    result = run_program("print(int(input()) + 1)", stdin="41\\n")      # status "ok", value "42", origin "stdout"
    for key, result in run_programs([("a", "print(1)"), ("b", "ans = 2")], workers=2): ...

One shared runner for `deepmath sft-mix` (PoT rows), tool-integrated / program-of-thought evaluation and any
code-execution reward. `ProgramResult.status` is one of ok | error | timeout | memory | file_size | output_limit |
forged | killed | blocked | sandbox_error; `value` is set for ok only: the program's `ans` variable
if it set one, else the last line it printed. A program's failure is always a result, never an exception; the
only exception is SandboxUnavailable, when isolation is required and bubblewrap cannot run.

What is isolated (each program in its own bubblewrap sandbox, see `isolation.py`):
- network: a new network namespace with only a down loopback: no internet, no host services on 127.0.0.1;
- processes: a new PID namespace: the program sees and signals only its own processes (its "parent" is the
  sandbox's PID 1), and everything in it dies with the sandbox (wall-clock kill, or the caller exiting);
- files: the root is an empty tmpfs with read-only binds of /usr, /bin, /lib*, /sbin, the Python installation
  (venv and base prefix) and the wrapper; the only writable place is a private size-limited tmpfs (/tmp; the
  working folder is /tmp/work) that vanishes with the sandbox. /etc, /home, /root, /work, the caller's folders and its open
  files are not there;
- environment: cleared, then PATH/HOME/LANG and thread-count variables; IPC and UTS namespaces are new too;
- privileges: no capabilities, NO_NEW_PRIVS; as root, a random uid that owns no file (see `isolation.py`);
- resources: CPU seconds, address space per process, file size, number of tasks (RLIMIT_NPROC), tmpfs size,
  printed bytes (counted by the parent) and a wall-clock limit that kills the whole sandbox.
- result: decided by the parent from its own clock, the exit status bwrap reports from outside, and a final
  record tagged with a per-run nonce (see `runner.py`); a forged record is status `forged`, never a value.
- on top, by default (`SandboxLimits.guards`): the old in-process audit hook, which refuses subprocesses, sockets,
  signals, ctypes library loads and writes outside the working folder with status `blocked`. It keeps the
  verdicts of the old layer and is a second line, not the boundary; tests/sandbox turn it off to show that
  bubblewrap alone contains each escape.

What is NOT isolated:
- the kernel: this is namespaces + rlimits, not a VM; a kernel exploit escapes (no seccomp filter is loaded);
- reads of what is bound: the program can read the Python installation and /usr (world-readable, no secrets
  expected there), and /proc of its own namespace (host-wide facts like /proc/cpuinfo and load are visible);
  the host paths of the interpreter and the wrapper show in its mounts and in bwrap's command line (/proc/1);
- memory in total: RLIMIT_AS is per process, so the ceiling is memory_mb x processes (8 GB by default; no cgroup);
- CPU share: programs compete with the host for cores (no cgroup); CPU seconds and wall clock bound each run;
- side channels and timing; and anything the nonce protects if the program reads it from its own memory (it can
  then report a value it chose, which is no more than printing it: it cannot turn a failure into ok).

Fallback: where bubblewrap is missing or cannot start (no user namespaces, macOS), programs run as plain child
processes with only the in-process audit-hook layer (always on there). That is NOT a boundary (ctypes.CDLL(None), `_posixsubprocess`, `dir_fd` calls get
past it); it is logged as a warning once per process, and `SandboxLimits(require_isolation=True)` or
DEEPMATH_SANDBOX_REQUIRE=1 refuses to run without bubblewrap instead.
"""

from deepmath.sandbox.isolation import SandboxUnavailable, bwrap_problem
from deepmath.sandbox.runner import ProgramResult, SandboxLimits, check_isolation, run_program, run_programs

__all__ = [
    "ProgramResult",
    "SandboxLimits",
    "SandboxUnavailable",
    "bwrap_problem",
    "check_isolation",
    "run_program",
    "run_programs",
]
