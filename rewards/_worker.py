"""The worker side (started by `rewards.processes`): compare two cleaned answers with sympy, one request at a time.

`python -m rewards._worker` serves JSON lines on stdin/stdout. `python -m rewards._worker --zygote FD` loads
sympy once, then waits on the Unix socket FD for `fork` (with two pipe ends attached: requests, replies) and
`kill PID` commands. Forked children serve their pipes; the zygote reaps them and kills them when asked, which keeps
pids valid (a pid is not recycled before its parent reaps it). The grading process kills a worker whose reply is
late; that is the whole timeout mechanism.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys

__all__ = ["main"]

_SIGKILL = 9  # POSIX value; sending it needs os.kill only, no signal handling
# one of each kind of sympy work, so that lazily imported sympy parts are loaded before any fork
_WARMUP = [
    ("x+1", "1+x"),
    ("x^2-1", "(x-1)(x+1)"),
    ("\\frac{\\sqrt{2}}{2}", "\\frac{1}{\\sqrt{2}}"),
    ("\\pi", "3.14"),
    ("y=2x+3", "2x-y+3=0"),
    ("(0,9)\\cup(9,36)", "(0,36)\\setminus\\{9\\}"),
    ("2+3i", "3i+2"),
]


def _setup() -> None:
    # library output must never reach a reply channel
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(level=logging.WARNING, format="rewards worker %(process)d: %(levelname)s %(message)s")
    logging.getLogger("math_verify").setLevel(logging.ERROR)  # its "timeout disabled" notice: we are the timeout


def _serve(requests, replies) -> None:
    from rewards.policy import NumericPolicy
    from rewards.symbolic import compare_symbolic

    replies.write('{"ready": true}\n')
    replies.flush()
    for line in requests:
        request = json.loads(line)
        try:
            policy = NumericPolicy.from_dict(request.get("policy"))
            reply = {"id": request["id"], "equal": compare_symbolic(request["gold"], request["pred"], policy)}
        except Exception as exc:  # reported to the grading process, which counts it and grades False
            reply = {"id": request["id"], "error": f"{type(exc).__name__}: {exc}"[:300]}
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def _reap(children: set[int]) -> None:
    for pid in list(children):
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def _kill(pid: int, children: set[int]) -> None:
    if pid in children:
        try:
            os.kill(pid, _SIGKILL)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        children.discard(pid)


def _zygote(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    from rewards.symbolic import compare_symbolic

    for gold, pred in _WARMUP:  # builds the LaTeX parser and loads sympy's lazy parts once, before any fork
        compare_symbolic(gold, pred)
    children: set[int] = set()
    try:
        sock.sendall(b"ready\n")
        _zygote_loop(sock, children)
    except OSError:
        pass  # the grading process went away (it exited while we started): nothing to report to anyone
    for pid in list(children):
        _kill(pid, children)


def _zygote_loop(sock: socket.socket, children: set[int]) -> None:
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, 256, 2)
        except OSError:
            break
        if not message:
            break
        _reap(children)
        command = message.decode().split()
        if command[:1] == ["fork"] and len(fds) == 2:
            pid = os.fork()
            if pid == 0:
                sock.close()
                status = 0
                try:
                    _serve(os.fdopen(fds[0], "r", encoding="utf-8"), os.fdopen(fds[1], "w", encoding="utf-8"))
                except BaseException:
                    status = 1
                os._exit(status)
            for descriptor in fds:
                os.close(descriptor)
            children.add(pid)
            sock.sendall(f"{pid}\n".encode())
        elif command[:1] == ["kill"] and len(command) == 2:
            _kill(int(command[1]), children)
            sock.sendall(b"ok\n")
        else:
            for descriptor in fds:
                os.close(descriptor)
            sock.sendall(b"error\n")


def main() -> None:
    if sys.argv[1:2] == ["--zygote"]:
        _setup()
        _zygote(int(sys.argv[2]))
        return
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    _setup()
    with contextlib.suppress(BrokenPipeError, ConnectionError):  # the grading process exited while we answered
        _serve(sys.stdin, replies)


if __name__ == "__main__":
    main()
