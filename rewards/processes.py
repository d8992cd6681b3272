"""Handles on worker processes, as seen from the grading process (the worker side is `rewards._worker`).

Two ways to get a worker, both talking JSON lines over a pair of pipes:

- `ForkedWorker` (Linux/macOS): forked by a *zygote*, one `python -m rewards._worker --zygote` per pool that has
  imported sympy and built the LaTeX parser. We hand it the two pipe ends over a Unix socket (`socket.send_fds`);
  it forks, so a worker starts (or restarts after a kill) in milliseconds instead of a second. The zygote is also
  the one that kills its children, so a recycled pid can never be hit.
- `SubprocessWorker` (Windows, or where fd passing is missing): a fresh `python -m rewards._worker`.

Why not `multiprocessing`: its spawn and forkserver children re-run the caller's `__main__` (scripts without an
`if __name__ == "__main__"` guard break), and daemonic processes (e.g. `multiprocessing.Pool` workers,
`datasets.map(num_proc=...)`) may not start children at all. `subprocess` has neither restriction.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["STARTUP_TIMEOUT", "ForkedWorker", "SubprocessWorker", "WorkerDied", "Zygote", "zygote_supported"]

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT = 120.0  # seconds; generous for cold caches on busy machines
_PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


class WorkerDied(RuntimeError):
    """The worker (or the zygote) is gone; the caller discards it."""


def zygote_supported() -> bool:
    return hasattr(os, "fork") and hasattr(socket, "send_fds")


def _worker_command(*args: str) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_PARENT, env.get("PYTHONPATH")) if p)
    return [sys.executable, "-m", "rewards._worker", *args], env


class _PipeWorker:
    """JSON requests down one pipe, replies read by a thread from the other (so waiting can time out anywhere)."""

    def __init__(self, requests, replies, name: str) -> None:
        self._requests = requests
        self._replies_stream = replies
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._next_id = 0
        threading.Thread(target=self._read, name=name, daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self._replies_stream:
                self._replies.put(line)
        except (OSError, ValueError):
            pass
        self._replies.put(None)

    def wait_ready(self) -> None:
        try:
            line = self._replies.get(timeout=STARTUP_TIMEOUT)
        except queue.Empty:
            line = None
        if not line or not json.loads(line).get("ready"):
            self.reap()
            raise RuntimeError("a rewards worker did not start; see its traceback on stderr")

    def ask(self, gold: str, pred: str, timeout: float, policy: dict | None = None) -> dict:
        """The reply to one request; `TimeoutError` when it is late, `WorkerDied` when the worker is gone."""
        self._next_id += 1
        request = {"id": self._next_id, "gold": gold, "pred": pred}
        if policy:
            request["policy"] = policy
        try:
            self._requests.write(json.dumps(request) + "\n")
            self._requests.flush()
        except (OSError, ValueError) as exc:
            raise WorkerDied(str(exc)) from exc
        try:
            line = self._replies.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if line is None:
            raise WorkerDied("the worker exited")
        reply = json.loads(line)
        if reply.get("id") != self._next_id:
            raise WorkerDied(f"out-of-order reply {reply.get('id')} (expected {self._next_id})")
        return reply

    def _close_streams(self) -> None:
        for stream in (self._requests, self._replies_stream):
            with contextlib.suppress(OSError, ValueError):
                stream.close()

    def kill(self) -> None:
        raise NotImplementedError

    def reap(self) -> None:
        """Kill (if needed) and release everything."""
        self.kill()
        self._close_streams()

    def close(self) -> None:
        """Polite stop: end of input makes the worker exit."""
        self._close_streams()


class SubprocessWorker(_PipeWorker):
    def __init__(self) -> None:
        command, env = _worker_command()
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True, encoding="utf-8", bufsize=1
        )
        super().__init__(self.process.stdin, self.process.stdout, f"rewards-worker-{self.process.pid}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def reap(self) -> None:
        super().reap()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            logger.warning("rewards worker %d did not exit after kill", self.process.pid)

    def close(self) -> None:
        super().close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.reap()


class Zygote:
    """The process that forks warm workers on request and kills them on request (one per pool)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        command, env = _worker_command("--zygote", str(theirs.fileno()))
        self.process = subprocess.Popen(command, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, env=env)
        theirs.close()
        self._sock = ours
        self._lock = threading.Lock()
        try:
            with self._lock:
                ready = self._reply(STARTUP_TIMEOUT) == "ready"
        except WorkerDied:
            ready = False
        if not ready:
            self.close()
            raise RuntimeError("the rewards zygote did not start; see its traceback on stderr")

    def _reply(self, timeout: float) -> str:
        self._sock.settimeout(timeout)
        data = b""
        try:
            while not data.endswith(b"\n"):
                chunk = self._sock.recv(64)
                if not chunk:
                    raise WorkerDied("the rewards zygote exited")
                data += chunk
        except OSError as exc:  # includes socket timeouts
            raise WorkerDied(f"the rewards zygote does not answer: {exc}") from exc
        return data.decode().strip()

    def alive(self) -> bool:
        return self.process.poll() is None

    def fork(self, fds: list[int]) -> int:
        with self._lock:
            try:
                socket.send_fds(self._sock, [b"fork\n"], fds)
            except OSError as exc:
                raise WorkerDied(f"the rewards zygote is gone: {exc}") from exc
            reply = self._reply(30)
        if not reply.isdigit():
            raise WorkerDied(f"the rewards zygote could not fork: {reply!r}")
        return int(reply)

    def kill(self, pid: int) -> None:
        with self._lock:
            try:
                self._sock.sendall(f"kill {pid}\n".encode())
            except OSError as exc:
                raise WorkerDied(f"the rewards zygote is gone: {exc}") from exc
            self._reply(30)

    def close(self) -> None:
        self._sock.close()  # end of input: the zygote kills its children and exits
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class ForkedWorker(_PipeWorker):
    def __init__(self, zygote: Zygote) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        try:
            self.pid = zygote.fork([request_read, reply_write])
        except BaseException:
            for fd in (request_write, reply_read):
                os.close(fd)
            raise
        finally:
            os.close(request_read)
            os.close(reply_write)
        self._zygote = zygote
        self._killed = False
        super().__init__(
            os.fdopen(request_write, "w", encoding="utf-8", buffering=1),
            os.fdopen(reply_read, "r", encoding="utf-8"),
            f"rewards-worker-{self.pid}",
        )

    def kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        with contextlib.suppress(WorkerDied):  # the zygote is gone, and with it (at its exit) its children
            self._zygote.kill(self.pid)
