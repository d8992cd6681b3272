"""Same verdicts serially, from a thread pool, from asyncio, in batch mode and inside other processes."""

import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import rewards
from rewards.pool import WatchdogPool
from tests.rewards.cases import ROWS
from tests.rewards.categories import CATEGORIES

PAIRS = [(gold, completion) for _, gold, completion, _ in ROWS] + [
    (gold, prediction) for rows in CATEGORIES.values() for gold, prediction, _ in rows
]
SYMBOLIC = [
    ("x^2+2x+1", "\\boxed{(x+1)^2}", True),
    ("\\frac{\\sqrt{2}}{2}", "\\boxed{\\frac{1}{\\sqrt{2}}}", True),
    ("\\frac{1}{2^{99}}", "\\boxed{\\frac{1}{2^{98}}}", False),
    ("y=2x+3", "\\boxed{2x-y+3=0}", True),
]


def _verdicts(pairs):
    return [(v.correct, v.predicted, v.reason.split(":")[0]) for v in (rewards.grade(g, c) for g, c in pairs)]


@pytest.fixture(scope="module")
def serial(warm_pool):
    return _verdicts(PAIRS)


def test_thread_pool_matches_serial(serial):
    rewards.clear_caches()  # make the threads do the sympy work themselves, concurrently
    with ThreadPoolExecutor(max_workers=8) as executor:
        threaded = list(executor.map(lambda pair: _verdicts([pair])[0], PAIRS))
    assert threaded == serial


def test_asyncio_matches_serial(serial):
    rewards.clear_caches()

    async def grade_all():
        # in the event loop thread directly, and from worker threads via to_thread
        direct = [_verdicts([pair])[0] for pair in PAIRS[:50]]
        threaded = await asyncio.gather(*(asyncio.to_thread(_verdicts, [pair]) for pair in PAIRS))
        return direct, [v[0] for v in threaded]

    direct, threaded = asyncio.run(grade_all())
    assert direct == serial[:50]
    assert threaded == serial


def test_grade_batch_matches_serial(serial):
    rewards.clear_caches()
    golds, completions = zip(*PAIRS)
    batch = rewards.grade_batch(list(golds), list(completions))
    assert [(v.correct, v.predicted, v.reason.split(":")[0]) for v in batch] == serial


def test_grade_batch_rejects_length_mismatch():
    with pytest.raises(ValueError, match="2 gold answers for 1 completions"):
        rewards.grade_batch(["1", "2"], ["1"])


def _grade_symbolic(_):
    return [rewards.verify(gold, completion) for gold, completion, _ in SYMBOLIC]


def test_inside_a_daemonic_multiprocessing_worker():
    # multiprocessing.Pool workers are daemonic and may not start multiprocessing children; ours are subprocesses
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        assert pool.map(_grade_symbolic, [0]) == [[expected for *_, expected in SYMBOLIC]]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_after_fork_the_child_starts_its_own_workers(warm_pool):
    assert _grade_symbolic(0) == [expected for *_, expected in SYMBOLIC]  # the parent's pool is up
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.map(_grade_symbolic, [0]) == [[expected for *_, expected in SYMBOLIC]]
    assert _grade_symbolic(0) == [expected for *_, expected in SYMBOLIC]  # and still works here


@pytest.mark.parametrize("start_method", ["zygote", "subprocess"])
def test_both_start_methods_compare_and_time_out(start_method):
    if start_method == "zygote" and not hasattr(os, "fork"):
        pytest.skip("the zygote needs fork")
    pool = WatchdogPool(max_workers=1, start_method=start_method)
    try:
        assert pool.compare("x^2+2x+1", "(x+1)^2", timeout=30) == ("ok", True)
        assert pool.compare("x", "(x+1)^{40000}", timeout=0.3) == ("timeout", None)
        assert pool.compare("\\sqrt{8}", "2\\sqrt{2}", timeout=30) == ("ok", True)  # a fresh worker
        assert (pool.timeouts, pool.restarts) == (1, 1)
        pool._idle[0].kill()  # a worker that died while idle is an error verdict once, then replaced
        assert pool.compare("x", "x+0", timeout=30) == ("error", None)
        assert pool.compare("x^2", "x \\cdot x", timeout=30) == ("ok", True)
        assert pool.restarts == 2
    finally:
        pool.shutdown()


def test_worker_reports_errors_instead_of_dying():
    import io

    from rewards._worker import _serve

    replies = io.StringIO()
    _serve(io.StringIO('{"id": 1}\n{"id": 2, "gold": "x", "pred": "x"}\n'), replies)
    lines = [json.loads(line) for line in replies.getvalue().splitlines()]
    assert lines[0] == {"ready": True}
    assert lines[1]["id"] == 1 and lines[1]["error"].startswith("KeyError")
    assert lines[2] == {"id": 2, "equal": True}


def test_unknown_start_method():
    with pytest.raises(ValueError, match="unknown start method"):
        WatchdogPool(start_method="threads")


def test_shutdown_then_lazy_restart(warm_pool):
    rewards.shutdown()
    assert _grade_symbolic(0) == [expected for *_, expected in SYMBOLIC]  # a new pool starts on demand
    rewards.warmup()  # leave a warm pool for the timed tests that follow


def test_numeric_policy_reaches_the_workers_from_threads(warm_pool):
    # 2\pi vs a decimal needs sympy: the policy travels with each request to the worker processes
    lenient = rewards.NumericPolicy(rounded_digits=3)
    pairs = [("2\\pi", "\\boxed{6.283}"), ("\\frac{\\sqrt{3}}{2}", "\\boxed{0.866}"), ("2\\pi", "\\boxed{6.2831853}")]
    rewards.clear_caches()
    jobs = [(gold, completion, policy) for gold, completion in pairs for policy in (None, lenient)] * 4
    with ThreadPoolExecutor(max_workers=8) as executor:
        verdicts = list(executor.map(lambda job: rewards.verify(job[0], job[1], job[2]), jobs))
    assert verdicts == [False, True, False, True, True, True] * 4


def test_first_sympy_grade_in_a_fresh_process_is_not_charged_start_up():
    # start-up (about a second, more on a loaded machine) is counted apart, never against the 0.5 s budget
    code = (
        "import json, rewards; v = rewards.grade('x^2+2x+1', '\\\\boxed{(x+1)^2}', timeout=0.5); "
        "print(json.dumps([v.correct, v.reason, rewards.stats()['worker_startup_ms']]))"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    correct, reason, startup_ms = json.loads(result.stdout.strip().splitlines()[-1])
    assert (correct, reason) == (True, "equal:symbolic")
    assert startup_ms > 0
