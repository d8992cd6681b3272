"""The program sandbox as sft-mix uses it: results come back, and wrong, slow, greedy or careless programs are stopped.

Most tests run in the default mode (bubblewrap where it runs); the `blocked` tests exercise the in-process fallback
layer explicitly (isolation="inprocess"). Hostile programs against the real sandbox are in tests/sandbox.
"""

import os
import socket
import uuid

import pytest

from deepmath.sftmix.sandbox import SandboxLimits, run_program, run_programs
from deepmath.sftmix.verify import program_reason

LIMITS = SandboxLimits(timeout=4.0, cpu_seconds=1, memory_mb=512)
FALLBACK = SandboxLimits(timeout=4.0, cpu_seconds=1, memory_mb=512, isolation="inprocess")


def _group_gone(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize(
    ("program", "value", "origin"),
    [
        ("eggs = 16 - 3 - 4\nans = eggs * 2", "18", "ans"),
        ("print('working...')\nprint(' 42 ')", "42", "stdout"),
        ("def f():\n    return 7 / 2\nprint(f())\nans = f()", "3.5", "ans"),
        ("import math\nans = math.comb(5, 2)", "10", "ans"),
        ("print(3)\nraise SystemExit(1)", "3", "stdout"),
        ("open('scratch.txt', 'w').write('5')\nans = int(open('scratch.txt').read()) + 1", "6", "ans"),
    ],
)
def test_correct_programs_give_their_result(program, value, origin):
    result = run_program(program, LIMITS)
    assert (result.status, result.value, result.origin) == ("ok", value, origin)
    assert program_reason(result, value) is None


def test_wrong_answer_and_errors_are_rejected():
    assert program_reason(run_program("ans = 17", LIMITS), "18") == "wrong_answer"
    assert program_reason(run_program("ans = 1 / 0", LIMITS), "18") == "program_error"
    assert program_reason(run_program("x = 1", LIMITS), "18") == "program_no_result"
    assert program_reason(run_program("def f(:\n  pass", LIMITS), "18") == "program_error"


def test_sympy_program_runs_under_the_memory_limit():
    result = run_program("import sympy\nx = sympy.Symbol('x')\nans = sorted(sympy.solve(x**2 - 4, x))[-1]", LIMITS)
    assert result.status == "ok" and result.value == "2"


def test_infinite_loop_is_stopped_by_the_cpu_limit():
    result = run_program("while True:\n    pass", LIMITS)
    assert result.status == "timeout" and result.seconds < LIMITS.timeout + 5
    assert program_reason(result, "1") == "program_timeout"
    assert _group_gone(result.pid)


def test_sleeping_loop_is_stopped_by_the_wall_clock():
    limits = SandboxLimits(timeout=1.0, cpu_seconds=30)
    result = run_program("import time\nwhile True:\n    time.sleep(0.05)", limits)
    assert result.status == "timeout" and "wall-clock" in result.error
    assert 1.0 <= result.seconds < 6
    assert _group_gone(result.pid)


@pytest.mark.parametrize(
    "program", ["x = bytearray(8 * 1024 ** 3)", "x = [0] * (10 ** 9)", "import numpy\nx = numpy.ones(10 ** 9)"]
)
def test_8gb_allocation_is_refused(program):
    result = run_program(program, LIMITS)
    assert result.status in ("memory", "error") and "Memory" in result.error + result.status
    assert program_reason(result, "1") in ("program_memory", "program_error")


def test_fallback_blocks_writes_outside_the_folder(tmp_path):
    target = tmp_path / f"escape-{uuid.uuid4().hex}.txt"
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    programs = [
        f"open({str(target)!r}, 'w').write('x')",
        f"import os\nfd = os.open({str(target)!r}, os.O_CREAT | os.O_WRONLY)",
        f"import pathlib\npathlib.Path({str(target)!r}).write_text('x')",
        f"import os\nos.remove({str(victim)!r})",
        f"import os\nos.rename({str(victim)!r}, {str(target)!r})",
        f"import shutil\nshutil.rmtree({str(tmp_path)!r})",
        f"import os\nos.chdir({str(tmp_path)!r})\nopen('x.txt', 'w')",
        f"try:\n    open({str(target)!r}, 'w')\nexcept OSError:\n    pass\nans = 1",  # caught: still rejected
    ]
    for program in programs:
        result = run_program(program, FALLBACK)
        assert result.status == "blocked", (program, result)
        assert program_reason(result, "1") == "program_blocked"
    assert not target.exists() and not (tmp_path / "x.txt").exists()
    assert victim.read_text() == "keep me"


def test_fallback_blocks_network_and_processes(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.setblocking(False)
    port = server.getsockname()[1]
    marker = tmp_path / "touched"
    programs = [
        f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))",
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)",
        f"import urllib.request\nurllib.request.urlopen('http://127.0.0.1:{port}/')",
        f"import subprocess\nsubprocess.run(['touch', {str(marker)!r}])",
        f"import os\nos.system('touch {marker}')",
        "import os\nos.fork()",
        "import os\nos.kill(os.getppid(), 9)",
        "import ctypes\nctypes.CDLL('libc.so.6')",
        "import resource\nresource.setrlimit(resource.RLIMIT_CPU, (100, 100))",
    ]
    try:
        for program in programs:
            result = run_program(program, FALLBACK)
            assert result.status == "blocked", (program, result)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody connected
    finally:
        server.close()
    assert not marker.exists()


@pytest.mark.parametrize("limits", [LIMITS, FALLBACK], ids=["default", "fallback"])
def test_environment_is_stripped(monkeypatch, limits):
    monkeypatch.setenv("DEEPMATH_SECRET_TOKEN", "hunter2")
    result = run_program("import os\nans = ','.join(sorted(os.environ))", limits)
    assert result.status == "ok" and "DEEPMATH_SECRET_TOKEN" not in result.value and "HOME" in result.value


def test_long_output_keeps_its_tail_and_huge_output_is_cut_off():
    result = run_program("for i in range(5000):\n    print('x' * 100)\nprint(5)", LIMITS)
    assert (result.status, result.value) == ("ok", "5")
    assert len(result.stdout) <= 2_000 and result.stdout.endswith("x\n5\n")
    result = run_program("for i in range(10 ** 5):\n    print('x' * 100)\nprint(5)", LIMITS)
    assert (result.status, result.value) == ("output_limit", None)
    assert program_reason(result, "5") == "program_output_limit"


def test_run_programs_in_parallel():
    programs = [(f"p{i}", f"ans = {i} * {i}") for i in range(6)]
    results = dict(run_programs(programs, LIMITS, workers=3))
    assert {k: r.value for k, r in results.items()} == {f"p{i}": str(i * i) for i in range(6)}
