"""Hostile programs through the REAL sandbox (bubblewrap): each is contained, counted, and the host sees nothing.

Every escape that got out of the old in-process layer (issue 15) is here, plus the usual hostile programs. Each
test checks three things: the program got a verdict that is not a verified value (counted as a rejection by
`program_reason`), the host's files, processes and environment are untouched, and nothing outlives the run.
The programs run with require_isolation=True (without bubblewrap they are skipped, never run unprotected) and
guards=False: the in-process audit hook that sits on top by default is off, so bubblewrap alone contains them.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from deepmath.sandbox import ProgramResult, SandboxLimits, bwrap_problem, run_program, run_programs
from deepmath.sftmix.verify import program_reason

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason=f"real sandbox unavailable: {bwrap_problem()}")

LIMITS = SandboxLimits(timeout=6.0, cpu_seconds=2, memory_mb=512, require_isolation=True, guards=False)


def _token() -> str:
    return "dm" + uuid.uuid4().hex[:12]  # 14 characters: fits a process name (15)


def _processes_named(token: str) -> list[int]:
    """Host pids whose name (comm) or command line contains `token`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm", "rb") as handle:
                comm = handle.read()
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if token.encode() in comm or token.encode() in cmdline:
            found.append(int(entry))
    return found


def _name_self(token: str) -> str:
    """Program lines that rename the process (children and threads inherit it), so the host can look for it."""
    return f"import ctypes\nctypes.CDLL(None).prctl(15, {token.encode()!r}, 0, 0, 0)\n"


@pytest.fixture
def host(tmp_path, monkeypatch):
    """A host folder with a victim file, a sacrificial process and a secret in the environment; checked after."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    monkeypatch.chdir(tmp_path)  # the harness's working folder: what dir_fd tricks aimed at
    monkeypatch.setenv("DEEPMATH_TEST_SECRET", "hunter2-" + uuid.uuid4().hex)
    bystander = subprocess.Popen(["sleep", "300"])
    state = {
        "folder": tmp_path,
        "victim": victim,
        "bystander": bystander,
        "secret": os.environ["DEEPMATH_TEST_SECRET"],
    }
    before = sorted(p.name for p in tmp_path.iterdir())
    try:
        yield state
        assert sorted(p.name for p in tmp_path.iterdir()) == before, "the program changed the host folder"
        assert victim.read_text() == "keep me"
        assert bystander.poll() is None, "a host process was killed"
    finally:
        bystander.kill()
        bystander.wait()


def _rejected(result: ProgramResult, gold: str = "42") -> str:
    assert result.isolation == "bwrap"
    reason = program_reason(result, gold)
    assert reason is not None, result
    return reason


def test_ctypes_libc_cannot_kill_the_parent_or_a_host_process(host):
    program = (
        "import ctypes, os\nlibc = ctypes.CDLL(None)\n"
        f"codes = [libc.kill(os.getppid(), 9), libc.kill({os.getpid()}, 9), libc.kill({host['bystander'].pid}, 9)]\n"
        "print(codes)\nans = 41"
    )
    result = run_program(program, LIMITS)
    assert _rejected(result) == "wrong_answer"
    assert result.value == "41" and "0" not in result.stdout.strip("[]\n").split(", ")  # every kill failed


def test_ctypes_connect_to_localhost_reaches_nothing(host):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    program = (
        "import ctypes, socket, struct\nlibc = ctypes.CDLL(None, use_errno=True)\n"
        "fd = libc.socket(2, 1, 0)\n"
        f"addr = struct.pack('<HH4s8x', 2, socket.htons({port}), bytes([127, 0, 0, 1]))\n"
        "rc = libc.connect(fd, addr, len(addr))\nprint(rc, ctypes.get_errno())\nans = 42 if rc == 0 else 0"
    )
    try:
        result = run_program(program, LIMITS)
        assert result.value == "0" and result.stdout.startswith("-1")
        assert _rejected(result) == "wrong_answer"
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()


@pytest.mark.parametrize("how", ["os.fork", "ctypes", "double-fork-setsid"])
def test_forked_child_does_not_outlive_the_run(host, how):
    token = _token()
    fork = {
        "os.fork": "pid = os.fork()",
        "ctypes": "pid = ctypes.CDLL(None).fork()",
        "double-fork-setsid": "pid = os.fork()\nif pid == 0:\n    os.setsid()\n    pid = os.fork()\n    if pid:\n        os._exit(0)",
    }[how]
    program = (
        _name_self(token)
        + "import os, time\n"
        + fork
        + f"\nif pid == 0:\n    time.sleep(120)\n    open({str(host['folder'] / 'late.txt')!r}, 'w')\n    os._exit(0)\n"
        + "ans = 41"
    )
    result = run_program(program, LIMITS)
    assert _rejected(result) == "wrong_answer"
    time.sleep(0.2)
    assert _processes_named(token) == []


def test_posixsubprocess_shell_cannot_write_outside(host):
    target = host["folder"] / "escape.txt"
    shell = f"echo pwned > {target}; echo pwned > /usr/pwned; echo pwned > $HOME/inside.txt; cat $HOME/inside.txt"
    program = f"""
import _posixsubprocess, os
out_r, out_w = os.pipe()
err_r, err_w = os.pipe()
args = [b"/bin/sh", b"-c", {shell.encode()!r}]
common = [args, [b"/bin/sh"], True, (), None, None, -1, -1, -1, out_w, -1, -1, err_r, err_w, True, False]
try:  # the argument list changed within 3.11 (use_vfork)
    pid = _posixsubprocess.fork_exec(*common, -1, None, None, None, -1, None, True)
except TypeError:
    pid = _posixsubprocess.fork_exec(*common, -1, None, None, None, -1, None)
os.close(out_w)
os.waitpid(pid, 0)
print(os.read(out_r, 1000).decode().strip())
ans = 41
"""
    result = run_program(program, LIMITS)
    assert result.status == "ok" and result.stdout.strip() == "pwned"  # the shell ran, inside the sandbox only
    assert _rejected(result) == "wrong_answer"
    assert not target.exists() and not os.path.exists("/usr/pwned")


def test_dir_fd_tricks_reach_no_host_folder(host):
    folder = str(host["folder"])
    program = f"""
import os
done = []
for base in ("..", "/", {folder!r}, "/proc/1/cwd", "/proc/self/cwd/.."):
    try:
        fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        continue
    for action in (
        lambda: os.close(os.open("victim.txt", os.O_WRONLY | os.O_TRUNC | os.O_NONBLOCK, dir_fd=fd)),
        lambda: os.unlink("victim.txt", dir_fd=fd),
        lambda: os.mkfifo("victim.txt", dir_fd=fd),
        lambda: os.close(os.open({folder.lstrip("/") + "/victim.txt"!r}, os.O_WRONLY | os.O_TRUNC | os.O_NONBLOCK, dir_fd=fd)),
        lambda: os.unlink({folder.lstrip("/") + "/victim.txt"!r}, dir_fd=fd),
        lambda: os.mkfifo({folder.lstrip("/") + "/fifo"!r}, dir_fd=fd),
    ):
        try:
            action()
            done.append(base)
        except OSError:
            pass
print(done)
ans = 41
"""
    result = run_program(program, LIMITS)
    assert _rejected(result) == "wrong_answer"
    assert "victim" not in result.stdout  # whatever it did, it did to its own tmpfs; the fixture checks the host


def test_no_environment_or_secret_of_the_parent_is_readable(host):
    secret = host["secret"]
    program = f"""
import os
seen = [os.environ.get("DEEPMATH_TEST_SECRET", "")]
for pid in [p for p in os.listdir("/proc") if p.isdigit()] + ["{os.getpid()}", "{os.getppid()}"]:
    for name in ("environ", "cmdline"):
        try:
            seen.append(open(f"/proc/{{pid}}/{{name}}", "rb").read().decode("utf-8", "replace"))
        except OSError:
            pass
print("\\n".join(seen))
ans = 41
"""
    result = run_program(program, LIMITS)
    assert secret not in result.stdout and secret not in (result.value or "")
    assert _rejected(result) == "wrong_answer"


@pytest.mark.parametrize(
    "forgery",
    [
        # the old layer's fixed marker: made a program that computes 41 pass for gold 42
        "sys.stdout.write('\\x00deepmath-sandbox-result\\x00' + json.dumps({'status': 'ok', 'value': '42'}) + '\\n')",
        # the new record with a guessed nonce
        "sys.stdout.write('\\n\\x00deepmath-sandbox-record ' + '0' * 32 + ' ' + json.dumps({'ans': '42'}) + '\\n')",
    ],
)
@pytest.mark.parametrize("ending", ["sys.stdout.flush()\nos._exit(0)", "pass"])
def test_forged_result_record_is_reported_never_verified(forgery, ending):
    program = f"import json, os, sys\nans = 41\n{forgery}\n{ending}"
    result = run_program(program, LIMITS)
    assert (result.status, result.value) == ("forged", None)
    assert _rejected(result) == "program_forged"


def test_forged_record_after_os_exit_is_counted_as_forged():
    program = (
        "import os\nans = 41\n"
        'os.write(1, b\'\\x00deepmath-sandbox-result\\x00{"status": "ok", "value": "42"}\\n\')\nos._exit(0)'
    )
    result = run_program(program, LIMITS)
    assert (result.status, result.value) == ("forged", None)
    assert program_reason(result, "42") == "program_forged"


@pytest.mark.parametrize("path", ["/etc/shadow", "/etc/passwd", "~/.ssh/id_rsa", "HOST_HOME/.ssh", "/root/.ssh"])
def test_host_secrets_are_not_readable(host, path):
    path = path.replace("HOST_HOME", os.path.expanduser("~"))
    program = (
        "import os\np = os.path.expanduser(" + repr(path) + ")\n"
        "print(sorted(os.listdir(p)) if os.path.isdir(p) else open(p).read())\nans = 42"
    )
    result = run_program(program, LIMITS)
    assert result.status == "error" and ("FileNotFoundError" in result.error or "Permission" in result.error)
    assert _rejected(result) == "program_error" and result.stdout == ""


def test_fork_bomb_is_contained(host):
    token = _token()
    program = (
        _name_self(token) + "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass"
    )
    result = run_program(program, LIMITS)
    assert result.status in ("timeout", "killed") and result.seconds < LIMITS.timeout + 5
    assert _rejected(result) in ("program_timeout", "program_killed")
    time.sleep(0.2)
    assert _processes_named(token) == []


def test_process_count_is_limited():
    program = (
        "import os, time\nn = 0\ntry:\n    for _ in range(100):\n        if os.fork() == 0:\n"
        "            time.sleep(30)\n            os._exit(0)\n        n += 1\nexcept OSError:\n    pass\nans = n"
    )
    result = run_program(program, LIMITS)
    assert result.status == "ok" and 0 < int(result.value) < LIMITS.processes


@pytest.mark.parametrize("main_ends", [True, False])
def test_threads_do_not_outlive_the_run(host, main_ends):
    token = _token()
    program = (
        _name_self(token)
        + "import threading, time\n"
        + "def work():\n    while True:\n        time.sleep(0.01)\n"
        + "for _ in range(4):\n    threading.Thread(target=work).start()\n"
        + ("ans = 41" if main_ends else "while True:\n    time.sleep(1)")
    )
    limits = SandboxLimits(timeout=2.0, cpu_seconds=2, memory_mb=512, require_isolation=True, guards=False)
    result = run_program(program, limits)
    if main_ends:
        assert (result.status, result.value) == ("ok", "41")  # the non-daemon threads did not hold the run
    else:
        assert result.status == "timeout" and result.seconds < 6
    assert _rejected(result) in ("wrong_answer", "program_timeout")
    time.sleep(0.2)
    assert _processes_named(token) == []


def test_a_gigabyte_to_stdout_is_cut_off():
    program = "import sys\nchunk = 'x' * 2 ** 20\nfor _ in range(1024):\n    sys.stdout.write(chunk)\nans = 42"
    result = run_program(program, LIMITS)
    assert result.status == "output_limit" and result.value is None
    assert len(result.stdout) <= LIMITS.output_chars and result.seconds < LIMITS.timeout
    assert _rejected(result) == "program_output_limit"


@pytest.mark.parametrize("target", ["os.getppid()", "-1", "1", "HOST_PARENT", "BYSTANDER"])
def test_killing_the_parent_reaches_nothing_on_the_host(host, target):
    target = target.replace("HOST_PARENT", str(os.getpid())).replace("BYSTANDER", str(host["bystander"].pid))
    program = f"import os\ntry:\n    os.kill({target}, 9)\nexcept OSError:\n    pass\nans = 41"
    result = run_program(program, LIMITS)
    assert _rejected(result) in ("wrong_answer", "program_timeout", "program_killed")


def test_socket_to_localhost_reaches_nothing(host):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    programs = [
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\nans = 42",
        f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/', timeout=1)\nans = 42",
        "import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\nans = 42",
        "import socket\nans = socket.gethostbyname('example.com')",
    ]
    try:
        for program in programs:
            result = run_program(program, LIMITS)
            assert _rejected(result) == "program_error", result
        with pytest.raises(BlockingIOError):
            server.accept()
    finally:
        server.close()


def test_every_hostile_program_is_one_counted_failure_in_a_batch(host):
    """A batch mixing hostile and honest programs: each gets its own verdict; the honest ones still pass."""
    hostile = {
        "bomb": "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        "flood": "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)",
        "forge": 'import os\nos.write(1, b\'\\x00deepmath-sandbox-result\\x00{"status": "ok", "value": "42"}\\n\')'
        "\nos._exit(0)",
        "killer": "import os\nos.kill(-1, 9)",
        "memory": "x = bytearray(8 * 1024 ** 3)",
    }
    honest = {f"good{i}": f"ans = 40 + {i}" for i in range(4)}
    results = dict(run_programs({**hostile, **honest}.items(), LIMITS, workers=2))
    assert set(results) == set(hostile) | set(honest)
    reasons = {key: program_reason(result, "42") for key, result in results.items()}
    assert reasons["good2"] is None and reasons["good0"] == "wrong_answer"
    assert all(reasons[key] is not None for key in hostile)
    assert reasons["forge"] == "program_forged" and reasons["flood"] == "program_output_limit"
    assert reasons["memory"] == "program_memory"


def test_the_caller_exiting_takes_the_sandbox_with_it(tmp_path):
    """--die-with-parent: a harness killed mid-run leaves no program behind."""
    token = _token()
    script = tmp_path / "harness.py"
    script.write_text(
        "from deepmath.sandbox import SandboxLimits, run_program\n"
        f"run_program({(_name_self(token) + 'import time' + chr(10) + 'time.sleep(60)')!r}, "
        "SandboxLimits(timeout=60, cpu_seconds=60, require_isolation=True, guards=False))\n"
    )
    repo = str(Path(__file__).resolve().parents[2])
    harness = subprocess.Popen([sys.executable, str(script)], env={**os.environ, "PYTHONPATH": repo})
    deadline = time.monotonic() + 20
    while not _processes_named(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_named(token), "the program never started"
    harness.send_signal(signal.SIGKILL)
    harness.wait()
    deadline = time.monotonic() + 5
    while _processes_named(token) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_named(token) == []
