"""`import rewards` stays light, and no module of the package touches `signal`."""

import json
import re
import subprocess
import sys
from pathlib import Path

import rewards

HEAVY = ("torch", "transformers", "trl", "datasets", "deepmath", "sympy", "math_verify", "latex2sympy2_extended")


def test_import_loads_no_heavy_module():
    code = (
        "import json, sys, rewards; rewards.grade('1/2', 'so \\\\boxed{0.5}'); print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    loaded = set(json.loads(result.stdout))
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}, "a fast-path grade must not import sympy or torch"
    assert "rewards" in loaded


def test_no_signal_module_in_the_package():
    package = Path(rewards.__file__).parent
    pattern = re.compile(r"^\s*(?:import\s+signal\b|from\s+signal\s+import)", re.M)
    offenders = [p.name for p in package.glob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_public_api():
    assert sorted(rewards.__all__) == sorted(
        [
            "DEFAULT_POLICY",
            "NumericPolicy",
            "Verdict",
            "answers_equal",
            "available",
            "boxed_format",
            "clear_caches",
            "extract_answer",
            "get",
            "grade",
            "grade_batch",
            "math_accuracy",
            "normalize_answer",
            "register",
            "shutdown",
            "stats",
            "think_answer_format",
            "verify",
            "warmup",
        ]
    )
    for name in rewards.__all__:
        assert getattr(rewards, name).__doc__, f"{name} needs a docstring"
