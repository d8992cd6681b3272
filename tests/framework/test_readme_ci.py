"""The README's two commands are what CI runs: this keeps them from drifting apart."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S).group(1)
    return [line.strip() for line in first_block.splitlines() if line.strip()]


def test_readme_starts_with_setup_and_test_commands():
    setup, test = _readme_commands()[:2]
    assert "pip install" in setup and "torch==2.13.0" in setup
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_commands():
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    for command in _readme_commands():
        assert command in ci_lines, f"README command missing from .ci/run: {command}"
    assert "export DEEPMATH_REQUIRE_SHARED=1" in ci_lines
