"""Moved to `deepmath.tasks.arithmetic` (a shared layer: the demo and evaluation use the task too); kept so that
`from deepmath.train.tiny_task import ...` goes on working."""

from deepmath.tasks.arithmetic import *  # noqa: F403
from deepmath.tasks.arithmetic import __all__  # noqa: F401
