"""The periodic-evaluation log is append-only: a line a kill cut short must not break the resumed run or the card."""

from __future__ import annotations

import json
from types import SimpleNamespace

from deepmath.train.runs import PeriodicEvalCallback, eval_curve

METRICS = {"pass@1": 0.5, "pass@k": 0.75, "maj@k": 0.5, "k": 4, "problems": 8}


def test_a_cut_last_line_is_left_out_not_fatal(tmp_path):
    rows = [{"step": 10, **METRICS}, {"step": 20, **METRICS, "pass@1": 0.6}]
    text = "".join(json.dumps(r) + "\n" for r in rows) + '{"step": 30, "pass@1": 0.'
    (tmp_path / "eval_steps.jsonl").write_text(text)
    points = eval_curve(tmp_path, {"step": 0, **METRICS}, {**METRICS, "pass@1": 0.9}, final_step=40)
    assert [p["step"] for p in points] == [0, 10, 20, 40]
    assert [p["pass@1"] for p in points] == [0.5, 0.5, 0.6, 0.9]
    callback = PeriodicEvalCallback(SimpleNamespace(), [], tmp_path)
    assert callback._done() == {10, 20}  # step 30 is evaluated again on resume
