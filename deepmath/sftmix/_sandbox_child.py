"""The child side of the program sandbox (see `deepmath.sftmix.sandbox`); stdlib only, run as a script:

    python -I -B _sandbox_child.py ROOT LIMITS_JSON     (cwd = ROOT/work, program in ROOT/program.py)

Order matters: read the program, keep a handle on the real stdout for the result line, set resource limits,
install the audit hook, and only then run the program, so nothing the program does happens before the guards.
"""

import builtins
import json
import os
import resource
import sys
import traceback

MARKER = "\x00deepmath-sandbox-result\x00"
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {
    "os.remove",
    "os.rename",
    "os.rmdir",
    "os.mkdir",
    "os.symlink",
    "os.link",
    "os.chmod",
    "os.chown",
    "os.chflags",
    "os.lchflags",
    "os.truncate",
    "os.utime",
    "os.mkfifo",
    "os.mknod",
    "os.setxattr",
    "os.removexattr",
    "shutil.rmtree",
    "shutil.move",
    "shutil.chown",
}
_BLOCKED_EVENTS = {
    "subprocess.Popen",
    "os.system",
    "os.exec",
    "os.posix_spawn",
    "os.spawn",
    "os.fork",
    "os.forkpty",
    "os.kill",
    "os.killpg",
    "signal.pthread_kill",
    "pty.spawn",
    "resource.setrlimit",
    "resource.prlimit",
    "webbrowser.open",
    "urllib.Request",
    "http.client.connect",
    "ftplib.connect",
    "smtplib.connect",
    "imaplib.open",
    "poplib.connect",
    "telnetlib.Telnet.open",
}


class SandboxBlocked(PermissionError):
    """Raised inside the program for an operation the sandbox refuses."""


class _BoundedText:
    """A write-only text stream that keeps the last `limit` characters (the result is at the end)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def write(self, text: str) -> int:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 2 * self.limit:
            kept = "".join(self.parts)[-self.limit :]
            self.parts, self.size = [kept], len(kept)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        return "".join(self.parts)[-self.limit :]


def _install_guards(work: str) -> list:
    """Audit hook: writes only under `work`; no processes, signals, sockets, native libraries or limit changes."""
    blocked: list[str] = []
    busy = [False]
    realpath, fsdecode, join, getcwd, sep = os.path.realpath, os.fsdecode, os.path.join, os.getcwd, os.sep

    def inside(path) -> bool:
        if isinstance(path, int):  # an fd: it was opened under the same rules
            return True
        try:
            full = realpath(join(getcwd(), fsdecode(path)))
        except (TypeError, ValueError, OSError):
            return False
        return full == work or full.startswith(work + sep)

    def refuse(event: str, detail="") -> None:
        blocked.append(f"{event} {detail}".strip())
        raise SandboxBlocked(f"sandbox: {event} is not allowed {detail}".strip())

    def hook(event: str, args) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "open":
                path, mode, flags = (*args, None, None, None)[:3]
                writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                    isinstance(flags, int) and flags & _WRITE_FLAGS
                )
                if writing and path is not None and not inside(path):
                    refuse("open for writing", f"outside the sandbox folder: {path!r}")
            elif event in _PATH_EVENTS:
                for arg in args:
                    if isinstance(arg, str | bytes | os.PathLike) and not inside(arg):
                        refuse(event, f"outside the sandbox folder: {arg!r}")
            elif event in _BLOCKED_EVENTS or event.startswith(("socket.", "os.exec", "os.spawn")):
                refuse(event)
            elif event == "ctypes.dlopen" and args and args[0] is not None:
                refuse(event, repr(args[0]))
        finally:
            busy[0] = False

    sys.addaudithook(hook)
    return blocked


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit (never above the hard limit this process inherited)."""
    inherited = resource.getrlimit(which)[1]
    hard = soft if hard is None else hard
    if inherited != resource.RLIM_INFINITY:
        soft, hard = min(soft, inherited), min(hard, inherited)
    resource.setrlimit(which, (soft, hard))


def _value(namespace: dict, printed: str) -> tuple[str | None, str]:
    """The program's result: the `ans` variable if it set one, else the last printed line."""
    if "ans" in namespace:
        return str(namespace["ans"])[:10_000], "ans"
    lines = [line.strip() for line in printed.splitlines() if line.strip()]
    return (lines[-1][:10_000], "stdout") if lines else (None, "none")


def main() -> None:
    root, limits = sys.argv[1], json.loads(sys.argv[2])
    work = os.path.realpath(os.path.join(root, "work"))
    with open(os.path.join(root, "program.py"), encoding="utf-8") as handle:
        source = handle.read()
    result_channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    _limit(resource.RLIMIT_AS, limits["memory_bytes"])
    _limit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    _limit(resource.RLIMIT_CORE, 0)
    # soft limit: SIGXCPU (the program dies); hard limit one second later: SIGKILL, in case SIGXCPU is caught
    _limit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    blocked = _install_guards(work)
    printed = _BoundedText(limits["output_chars"])
    errors = _BoundedText(4_000)
    sys.stdout, sys.stderr = printed, errors
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    status, error = "ok", ""
    try:
        exec(compile(source, "<program>", "exec"), namespace)
    except SystemExit:
        pass
    except MemoryError:
        status, error = "memory", "MemoryError"
    except SandboxBlocked as err:
        status, error = "blocked", str(err)
    except BaseException as err:  # the program's own failure is a verdict, not a crash of the sandbox
        status = "error"
        error = "".join(traceback.format_exception_only(type(err), err)).strip()[-2_000:]
    if blocked:
        status, error = "blocked", blocked[0]
    try:
        value, origin = _value(namespace, printed.getvalue())
    except BaseException as err:  # a result whose str() fails
        value, origin, status, error = None, "none", "error", f"result not printable: {type(err).__name__}"
    record = {
        "status": status,
        "value": value,
        "origin": origin,
        "error": error,
        "stdout": printed.getvalue()[-2_000:],
    }
    result_channel.write(MARKER + json.dumps(record) + "\n")
    result_channel.flush()
    os._exit(0)  # skip atexit handlers and thread joins the program may have left behind


if __name__ == "__main__":
    main()
