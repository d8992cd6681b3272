"""Moved to `deepmath.problems` (a shared layer: evaluation and the SFT mix read problems too); kept so that
`from deepmath.train.data import ...` goes on working."""

from deepmath.problems import *  # noqa: F403
from deepmath.problems import __all__  # noqa: F401
