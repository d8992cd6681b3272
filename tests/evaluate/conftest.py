"""The micro model fixture of tests/train, shared here."""

from tests.train.conftest import micro_model

__all__ = ["micro_model"]
