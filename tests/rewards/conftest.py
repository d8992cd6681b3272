"""Fixtures for the rewards tests: a warm worker pool, so start-up never counts against a timed budget."""

import pytest

import rewards


@pytest.fixture(scope="session")
def warm_pool():
    rewards.warmup()
    yield
