"""Moved to `deepmath.grading` (a shared layer: evaluation grades with it too); kept so that
`from deepmath.train.rewards_bridge import ...` goes on working."""

from deepmath.grading import *  # noqa: F403
from deepmath.grading import __all__  # noqa: F401
