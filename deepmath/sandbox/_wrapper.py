"""The harness side inside the sandbox (see `deepmath.sandbox`); stdlib only, run as a script:

    python -I -B _wrapper.py        (stdin: 10-digit header length, JSON header, then the program's own stdin)

The header carries the program, the limits, the per-run nonce and, when the sandbox was started by root, the
unprivileged uid to switch to. Order matters: read the header (exactly its bytes, so the program's stdin is
untouched), lower the resource limits, drop to the unprivileged uid and check no capability is left, install the
in-process guards (unless turned off; always in the fallback), and only then run the program.

Exit codes are a convention the parent reads, not a trusted channel: 0 the program finished (the result record is
the last line of stdout), 10 it raised, 11 MemoryError, 12 a guard refused an operation, 13 the
harness could not set up. Anything the program could fake here only turns its own run into a failure.
"""

import builtins
import contextlib
import json
import os
import resource
import sys
import traceback

RECORD = "\x00deepmath-sandbox-record "  # + nonce + " " + JSON; the parent knows the nonce, the program does not
EXIT_ERROR, EXIT_MEMORY, EXIT_BLOCKED, EXIT_SETUP = 10, 11, 12, 13
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
    "os.posix_spawn",
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
    """Raised inside the program for an operation the in-process guards refuse."""


def _read_exactly(count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = os.read(0, count - len(data))
        if not chunk:
            raise EOFError("header cut short")
        data += chunk
    return data


def _limit(which: int, soft: int, hard: int | None = None) -> None:
    """Lower a limit (never above the hard limit this process inherited)."""
    inherited = resource.getrlimit(which)[1]
    hard = soft if hard is None else hard
    if inherited != resource.RLIM_INFINITY:
        soft, hard = min(soft, inherited), min(hard, inherited)
    resource.setrlimit(which, (soft, hard))


def _effective_capabilities() -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return 0


def _install_guards(work: str) -> list:
    """An audit hook that refuses writes outside `work`, processes, signals, sockets and ctypes library loads.

    NOT a boundary (ctypes.CDLL(None), `_posixsubprocess`, `dir_fd`-relative calls get past it): inside bwrap it
    keeps the old layer's verdicts and is a second line; in the fallback it is all there is.
    """
    blocked: list[str] = []
    busy = [False]
    realpath, fsdecode, join, getcwd, sep = os.path.realpath, os.fsdecode, os.path.join, os.getcwd, os.sep

    def inside(path) -> bool:
        if isinstance(path, int):
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


def _setup(header: dict) -> None:
    limits = header["limits"]
    _limit(resource.RLIMIT_AS, limits["memory_bytes"])
    _limit(resource.RLIMIT_FSIZE, limits["file_bytes"])
    _limit(resource.RLIMIT_CORE, 0)
    # soft limit: SIGXCPU (the program dies); hard limit one second later: SIGKILL, in case SIGXCPU is caught
    _limit(resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 1)
    if limits.get("processes"):  # only inside the namespaces: on the host it would count all of the user's tasks
        _limit(resource.RLIMIT_NPROC, limits["processes"])
    uid = header.get("uid")
    if uid is not None:  # started by root: become a uid that owns nothing on the host (clears all capabilities)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    if header.get("isolated") and _effective_capabilities():
        raise PermissionError("capabilities left in the sandbox")


def main() -> None:
    try:
        header = json.loads(_read_exactly(int(_read_exactly(10))))
        _setup(header)
    except Exception as err:  # any setup failure is the harness's, reported as such
        sys.stderr.write(f"deepmath-sandbox: setup failed: {type(err).__name__}: {err}\n")
        os._exit(EXIT_SETUP)
    nonce, source, guards = header["nonce"], header["program"], header.get("guards")
    del header
    blocked = _install_guards(os.getcwd()) if guards else []
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    code = 0
    try:
        exec(compile(source, "<program>", "exec"), namespace)
    except SystemExit:
        pass  # sys.exit() ends the program normally, as it does for a script
    except BaseException as err:  # the program's own failure is a verdict, not a crash of the harness
        code = EXIT_MEMORY if isinstance(err, MemoryError) else EXIT_ERROR
        code = EXIT_BLOCKED if isinstance(err, SandboxBlocked) else code
        # a MemoryError can leave no room to format the traceback; the exit code still says what happened
        with contextlib.suppress(BaseException):
            sys.stderr.write("".join(traceback.format_exception(err, limit=-3))[-4_000:])
    if blocked:
        sys.stderr.write(f"\nsandbox: blocked: {blocked[0]}\n")
        code = EXIT_BLOCKED
    ans = None
    if not code and "ans" in namespace:
        try:
            ans = str(namespace["ans"])[:10_000]
        except BaseException as err:  # a result whose str() fails
            sys.stderr.write(f"result not printable: {type(err).__name__}\n")
            code = EXIT_ERROR
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # a closed or broken stdout: the parent judges from what it received
        pass
    if not code:
        try:
            os.write(1, ("\n" + RECORD + nonce + " " + json.dumps({"ans": ans}) + "\n").encode("utf-8"))
        except OSError:  # the program closed its stdout: there is no result to report
            code = EXIT_ERROR
    os._exit(code)  # skip atexit handlers and thread joins the program may have left behind


if __name__ == "__main__":
    main()
