"""TRL-shaped reward functions for the bridge tests, addressed as `tests.train.slow_rewards:<name>`."""

import time


def sleepy(completions, **kwargs):
    """Never finishes in time: stands for a grader stuck in C code."""
    time.sleep(600)
    return [1.0] * len(completions)


def explode(completions, **kwargs):
    raise RuntimeError("reward function bug")


def length(completions, **kwargs):
    return [float(len(c if isinstance(c, str) else c[-1]["content"])) for c in completions]
