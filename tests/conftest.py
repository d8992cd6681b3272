"""Shared fixtures: the real data in ../shared/data, skipped with a reason when absent (fails in CI)."""

import os
from pathlib import Path

import pytest

# Tests are offline by contract: hub clients answer from local files at once instead of retrying the network.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(
    os.environ.get("DEEPMATH_SHARED_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data")
)


def require_shared(*parts: str) -> Path:
    """Path under ../shared/data, or skip (fail when DEEPMATH_REQUIRE_SHARED=1) if it is not there."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = f"shared data not found: {path} (set DEEPMATH_SHARED_DATA or check out ../shared)"
        if os.environ.get("DEEPMATH_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared_data():
    """Root of ../shared/data (skips when absent, fails when DEEPMATH_REQUIRE_SHARED=1)."""
    return require_shared()
