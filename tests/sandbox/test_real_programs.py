"""Real model-written programs from ../shared/data still run: no false rejections from the stricter sandbox.

- sft/tora: each tool-integrated trajectory's code cells, run cumulatively as ToRA's harness does, must print the
  ```output block recorded after them, in the bubblewrap sandbox exactly as often as in the in-process layer.
- pot/: PoT and ToRA-70B programs get the same status and value in both modes (the full 2,637 programs are
  compared by `bench/sandbox.py`; the agreement numbers are in bench/README.md).
"""

import json
import re

import pytest

from deepmath.sandbox import SandboxLimits, bwrap_problem, run_programs
from deepmath.sftmix.formats import extract_program
from tests.conftest import require_shared

pytestmark = pytest.mark.skipif(bwrap_problem() is not None, reason=f"real sandbox unavailable: {bwrap_problem()}")

_CELL = re.compile(r"```python\n(.*?)```\s*```output\n(.*?)```", re.DOTALL)
# generous time: one ToRA cell needs ~10 s of sympy on a loaded machine; the comparison is about what runs, not speed
BWRAP = SandboxLimits(timeout=60.0, cpu_seconds=40, memory_mb=1024, require_isolation=True)
INPROCESS = SandboxLimits(timeout=60.0, cpu_seconds=40, memory_mb=1024, isolation="inprocess")


def _both(programs: list[tuple[str, str]]) -> tuple[dict, dict]:
    return dict(run_programs(programs, BWRAP, workers=2)), dict(run_programs(programs, INPROCESS, workers=2))


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_tora_tir_cells_reproduce_their_recorded_outputs():
    path = require_shared("sft", "tora", "examples.jsonl")
    programs, expected = [], {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        cells = _CELL.findall(row["messages"][-1]["content"])
        for index, (_, output) in enumerate(cells):
            key = f"{row['id']}:{index}"
            programs.append((key, "\n".join(code for code, _ in cells[: index + 1])))
            expected[key] = _norm(output)
    assert len(programs) >= 20  # 25 code cells in the 30 trajectories
    ours, old = _both(programs)
    reproduced = {k for k, r in ours.items() if r.status == "ok" and _norm(r.stdout) == expected[k]}
    reproduced_old = {k for k, r in old.items() if r.status == "ok" and _norm(r.stdout) == expected[k]}
    assert reproduced == reproduced_old
    assert len(reproduced) >= 0.8 * len(programs)  # the rest print floats/objects formatted by other versions
    assert all(r.isolation == "bwrap" for r in ours.values())


@pytest.mark.parametrize(
    ("path", "field", "count"),
    [
        (("pot", "program_of_thoughts", "gsm8K_s0_e-1_11_17_10_20.jsonl"), "generated", 60),
        (("pot", "tora_70b_gsm8k", "test_tora_-1_seed0_t0.0_s0_e1319.jsonl"), "code", 60),
    ],
)
def test_pot_programs_get_the_same_verdict_in_both_modes(path, field, count):
    programs = []
    with open(require_shared(*path), encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if field in row and "question" in row:
                programs.append((str(len(programs)), extract_program(row[field][0])))
            if len(programs) == count:
                break
    ours, old = _both(programs)
    assert {k: (r.status, r.value) for k, r in ours.items()} == {k: (r.status, r.value) for k, r in old.items()}
    assert sum(r.status == "ok" for r in ours.values()) >= 0.9 * count
