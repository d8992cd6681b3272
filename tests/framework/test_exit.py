"""The `deepmath` command's quick exit (`cli.run`): exit handlers run, output is flushed, the exit code is main's,
and a non-daemon thread still at work is waited for. Each case is a fresh interpreter, as a user's command is."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _command(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_exit_handlers_run_and_piped_output_is_flushed():
    done = _command(
        "import atexit, sys\n"
        "atexit.register(lambda: print('handler ran'))\n"
        "print('x' * 100000)\n"  # block-buffered on a pipe: lost unless flushed before os._exit
        "sys.argv = ['deepmath', '--version']\n"
        "from deepmath.cli import run\n"
        "run()\n"
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "x" * 100000
    assert lines[1] == __import__("deepmath").__version__
    assert lines[-1] == "handler ran"


def test_exit_code_is_mains():
    done = _command("import sys; sys.argv = ['deepmath', 'no-such-stage']; from deepmath.cli import run; run()")
    assert done.returncode == 2
    assert "unknown stage 'no-such-stage'" in done.stderr


def test_a_running_non_daemon_thread_is_waited_for(tmp_path: Path):
    marker = tmp_path / "written-by-thread"
    done = _command(
        "import sys, threading, time\n"
        f"def late(): time.sleep(0.5); open({str(marker)!r}, 'w').write('done')\n"
        "threading.Thread(target=late).start()\n"
        "sys.argv = ['deepmath', '--version']\n"
        "from deepmath.cli import run\n"
        "run()\n"
    )
    assert done.returncode == 0, done.stderr
    assert marker.read_text() == "done"


def test_python_dash_m_is_the_same_command():
    done = subprocess.run([sys.executable, "-m", "deepmath", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == __import__("deepmath").__version__
