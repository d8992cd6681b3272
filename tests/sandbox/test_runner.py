"""The runner's contract: results, stdin, the parent-side verdict, and what happens without bubblewrap."""

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import deepmath.sandbox.isolation as isolation
from deepmath.sandbox import SandboxLimits, SandboxUnavailable, bwrap_problem, check_isolation, run_program
from deepmath.sandbox.runner import _verdict

NONCE = "ab" * 16
RECORD = b"\n\x00deepmath-sandbox-record " + NONCE.encode() + b" "
REAL = pytest.mark.skipif(bwrap_problem() is not None, reason=f"real sandbox unavailable: {bwrap_problem()}")
LIMITS = SandboxLimits(timeout=5.0, cpu_seconds=2, memory_mb=512)
BARE = SandboxLimits(timeout=5.0, cpu_seconds=2, memory_mb=512, guards=False)  # bubblewrap alone, no audit hook


@pytest.mark.parametrize(
    ("code", "out", "expected"),
    [
        (0, b"7\n" + RECORD + b'{"ans": "42"}\n', ("ok", "42", "ans")),
        (0, b"working\n 7 \n" + RECORD + b'{"ans": null}\n', ("ok", "7", "stdout")),
        (0, RECORD + b'{"ans": null}\n', ("ok", None, "none")),
        (0, b"42\n", ("error", None, "none")),  # os._exit(0) before the harness's record
        (0, b"\x00deepmath-sandbox-result\x00{}\n" + RECORD + b'{"ans": "42"}\n', ("forged", None, "none")),
        (0, b"\n\x00deepmath-sandbox-record " + b"cd" * 16 + b' {"ans": "42"}\n', ("forged", None, "none")),
        (0, RECORD + b'{"ans": "41"}\n' + RECORD + b'{"ans": "42"}\n', ("forged", None, "none")),
        (0, RECORD + b'{"ans": "42"}\nmore\n', ("forged", None, "none")),  # the record must be last
        (10, b"42\n", ("error", None, "none")),
        (11, b"", ("memory", None, "none")),
        (128 + 24, b"42\n", ("timeout", None, "none")),  # SIGXCPU
        (128 + 25, b"", ("file_size", None, "none")),  # SIGXFSZ
        (128 + 11, b"", ("killed", None, "none")),  # SIGSEGV
        (3, b"42\n", ("error", None, "none")),
        (None, b"42\n", ("killed", None, "none")),
    ],
)
def test_verdict_comes_from_exit_status_and_the_nonce_record(code, out, expected):
    assert _verdict(code, out, NONCE)[:3] == expected


def test_stdin_reaches_the_program_untouched():
    text = "".join(f"{i}\n" for i in range(200_000))  # > a pipe buffer: written while the program reads
    result = run_program("import sys\nans = sum(int(line) for line in sys.stdin)", LIMITS, stdin=text)
    assert (result.status, result.value) == ("ok", str(sum(range(200_000))))
    result = run_program("print(input()[::-1])", LIMITS, stdin="24\n")
    assert (result.status, result.value, result.origin) == ("ok", "42", "stdout")


def test_results_record_stderr_time_and_mode():
    result = run_program("import sys\nprint('oops', file=sys.stderr)\nraise ValueError('bad input')", LIMITS)
    assert result.status == "error" and result.error == "ValueError: bad input"
    assert "oops" in result.stderr and result.seconds > 0
    assert result.isolation == ("bwrap" if bwrap_problem() is None else "inprocess")


@REAL
def test_the_sandbox_sees_only_its_own_world():
    program = (
        "import os, socket\nprint(sorted(os.listdir('/')))\nprint(os.getcwd(), os.environ['HOME'])\n"
        "print(sorted(p for p in os.listdir('/proc') if p.isdigit()))\nprint(socket.gethostname())\n"
        "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])\nans = 1"
    )
    result = run_program(program, BARE)
    assert result.status == "ok" and result.isolation == "bwrap"
    listing, folders, pids, hostname, caps = result.stdout.strip().splitlines()
    assert "'etc'" not in listing and "'home'" not in listing
    assert folders == "/tmp/work /tmp/work" and hostname == "sandbox" and int(caps, 16) == 0
    assert pids in ("['1', '2']", "['1', '2', '3']")  # bwrap's init and the program (and its own listing)


@REAL
def test_numpy_and_sympy_work_inside():
    program = "import numpy, sympy\nx = sympy.Symbol('x')\nans = int(numpy.sum(numpy.arange(5))) + len(sympy.solve(x**2 - 1))"
    result = run_program(program, LIMITS)
    assert (result.status, result.value) == ("ok", "12")


@pytest.fixture
def no_bwrap(monkeypatch):
    """This process's PATH without bwrap: the real detection then finds none."""
    empty = Path(os.environ.get("TMPDIR", "/tmp")) / f"no-bwrap-{os.getpid()}"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("PATH", str(empty))
    isolation.bwrap_problem.cache_clear()
    isolation._warned.clear()
    yield
    monkeypatch.undo()
    isolation.bwrap_problem.cache_clear()
    shutil.rmtree(empty, ignore_errors=True)


def test_without_bwrap_the_fallback_runs_and_warns_once(no_bwrap, caplog):
    assert "not installed" in isolation.bwrap_problem()
    with caplog.at_level(logging.WARNING, logger="deepmath.sandbox.isolation"):
        first = run_program("ans = 6 * 7", LIMITS)
        second = run_program("ans = 6 * 8", LIMITS)
    assert (first.status, first.value, first.isolation) == ("ok", "42", "inprocess")
    assert second.value == "48"
    warnings = [r for r in caplog.records if "NOT A BOUNDARY" in r.getMessage()]
    assert len(warnings) == 1


def test_without_bwrap_a_required_sandbox_refuses_to_run(no_bwrap, monkeypatch):
    with pytest.raises(SandboxUnavailable, match="required but bwrap is not installed"):
        run_program("ans = 1", SandboxLimits(require_isolation=True))
    with pytest.raises(SandboxUnavailable):
        check_isolation(SandboxLimits(isolation="bwrap"))
    monkeypatch.setenv("DEEPMATH_SANDBOX_REQUIRE", "1")
    with pytest.raises(SandboxUnavailable):
        run_program("ans = 1", LIMITS)


@pytest.mark.parametrize(
    "bad", [{"isolation": "docker"}, {"timeout": 0}, {"memory_mb": 8}, {"tmpfs_mb": 0}, {"processes": 0}]
)
def test_bad_limits_are_a_clear_error(bad):
    with pytest.raises(ValueError, match="sandbox limits"):
        SandboxLimits(**bad)


def test_a_sandbox_that_never_started_is_the_harness_failure():
    from deepmath.sandbox.runner import _exit_code

    class Finished:
        returncode = 1

    assert _exit_code(Finished(), b"", "bwrap") == (None, False)  # bwrap wrote no child-pid: setup failed
    assert _exit_code(Finished(), b'{ "child-pid": 7 }\n{ "exit-code": 10 }', "bwrap") == (10, True)
    assert _verdict(13, b"", NONCE)[0] == "sandbox_error"  # the wrapper could not set up


@REAL
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("runuser"), reason="needs root to act as another user")
def test_unprivileged_user_mode_with_the_system_python():
    """As a normal user bwrap makes a user namespace; check that path with the system Python as `nobody`."""
    python = shutil.which("python3", path="/usr/bin")
    if python is None:
        pytest.skip("no /usr/bin/python3")
    repo = Path(__file__).resolve().parents[2]
    copy = Path(tempfile.mkdtemp(prefix="deepmath-sandbox-test-"))  # pytest's tmp_path is private to root
    os.chmod(copy, 0o755)
    shutil.copytree(repo / "deepmath" / "sandbox", copy / "deepmath" / "sandbox")
    (copy / "deepmath" / "__init__.py").write_text("")
    script = (
        "from deepmath.sandbox import run_program, SandboxLimits\n"
        "r = run_program('import os\\nprint(open(\"/proc/self/uid_map\").read().split())\\nans = 6 * 7', "
        "SandboxLimits(require_isolation=True))\n"
        "print(r.status, r.value, r.isolation, r.stdout.strip())\n"
        "r = run_program('import os\\nwhile True:\\n    try:\\n        os.fork()\\n    except OSError:\\n        pass', "
        "SandboxLimits(timeout=3, cpu_seconds=1, require_isolation=True, guards=False))\nprint(r.status)\n"
        "r = run_program('import os, time\\nn = 0\\ntry:\\n    for _ in range(100):\\n        if os.fork() == 0:\\n"
        "            time.sleep(30)\\n            os._exit(0)\\n        n += 1\\nexcept OSError:\\n    pass\\nans = n', "
        "SandboxLimits(require_isolation=True, guards=False))\nprint(r.status, r.value)\n"
    )
    try:
        done = subprocess.run(
            [
                "runuser",
                "-u",
                "nobody",
                "--",
                python,
                "-I",
                "-c",
                f"import sys; sys.path.insert(0, {str(copy)!r})\n{script}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            cwd="/",
        )
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    if "SandboxUnavailable" in done.stderr:  # e.g. unprivileged user namespaces switched off on this machine
        pytest.skip(f"unprivileged user namespaces are not allowed here: {done.stderr.strip()[-200:]}")
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("ok 42 bwrap"), done.stdout + done.stderr
    assert lines[1] == "timeout"
    status, forks = lines[2].split()
    assert status == "ok" and 0 < int(forks) < SandboxLimits().processes  # RLIMIT_NPROC counts per namespace


def test_a_program_that_closes_its_output_still_runs_to_the_end():
    program = "import os, sys, time\nsys.stdout.flush()\nos.close(1)\nos.close(2)\ntime.sleep(0.5)\nans = 1"
    for limits in (LIMITS, SandboxLimits(timeout=5.0, isolation="inprocess")):
        result = run_program(program, limits)
        assert (result.status, result.value) == ("error", None)  # its result line could not be written
        assert result.seconds >= 0.5


@REAL
def test_only_the_private_tmp_is_writable():
    program = (
        "import os\nwritable = []\n"
        "for folder in ('/', '/dev', '/dev/shm', '/usr', '/proc', '/tmp', '/.deepmath-sandbox', os.path.dirname(os.__file__)):\n"
        "    try:\n        open(os.path.join(folder, 'probe'), 'w').close()\n        writable.append(folder)\n"
        "    except OSError:\n        pass\n"
        "open('/dev/null', 'w').write('devices still work')\nans = ' '.join(writable)"
    )
    result = run_program(program, BARE)
    assert (result.status, result.value) == ("ok", "/tmp")
