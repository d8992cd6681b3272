"""A storm of slow pairs still grading at interpreter exit ends quietly: no traceback, exit status 0."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

STORM = textwrap.dedent(
    """
    import sys, threading, time
    import rewards

    pairs = [("x", "\\\\boxed{(x+%d)^{40001}}" % i) for i in range(40)]
    results = []
    def grade(pair):
        results.append(rewards.grade(pair[0], pair[1], timeout=0.4).reason)
    threads = [threading.Thread(target=grade, args=(pair,), daemon=True) for pair in pairs]
    for thread in threads:
        thread.start()
    time.sleep(float(sys.argv[1]))  # exit while threads wait for a worker, a reply or a restart
    print("exiting with", len(results), "verdicts")
    """
)


@pytest.mark.parametrize("exit_after", [0.3, 4.0])  # during worker start-up; amid timeouts and restarts
def test_slow_pair_storm_exits_cleanly(exit_after):
    env = {"PYTHONPATH": str(ROOT), "DEEPMATH_REWARDS_WORKERS": "2", "PATH": "/usr/bin:/bin"}
    for _ in range(2):  # the race is timing-dependent: two runs
        result = subprocess.run(
            [sys.executable, "-c", STORM, str(exit_after)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "exiting with" in result.stdout
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        assert "Exception" not in result.stderr, result.stderr[-2000:]
