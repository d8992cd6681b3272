"""Checking candidates: CoT/TIR answers with `rewards`, PoT programs by running them in the sandbox.

    reasons = check_texts(candidates)                                   # {key: None (kept) or rejection reason}
    reasons = check_programs(candidates, limits, workers=2, cache=path)  # runs programs, sets candidate.result

Programs run in `deepmath.sandbox` (bubblewrap); a hostile program is one counted rejection
(`program_forged`, `program_timeout`, `program_output_limit`, ...), never a crash of the stage.
Program results are appended to a JSONL cache (keyed by the program's hash) as they finish, so a killed run
resumes without running any program twice, and identical programs run once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import re
from pathlib import Path

from tqdm import tqdm

from deepmath.sandbox import ProgramResult, SandboxLimits, check_isolation, run_programs
from deepmath.sftmix.formats import Candidate

__all__ = ["check_programs", "check_texts", "program_reason", "program_value", "verdict_reason"]

logger = logging.getLogger(__name__)


def verdict_reason(verdict) -> str | None:
    """None for a correct `rewards.Verdict`, else the rejection reason counted in the mix stats."""
    if verdict.correct:
        return None
    if verdict.reason == "no_answer":
        return "no_final_answer"
    if verdict.reason == "gold_unparseable":
        return "bad_gold"
    if verdict.reason in ("timeout", "error"):
        return f"check_{verdict.reason}"
    return "wrong_answer"


def check_texts(candidates: list[Candidate], workers: int = 2) -> dict[str, str | None]:
    """Whether each CoT/TIR candidate's final answer equals its gold (`rewards.grade_batch`, gold first)."""
    import rewards

    if not candidates:
        return {}
    verdicts = rewards.grade_batch([c.gold for c in candidates], [c.text for c in candidates], workers=workers)
    return {c.key: verdict_reason(v) for c, v in zip(candidates, verdicts)}


_FLOAT = re.compile(r"^-?\d+\.\d*(e[-+]?\d+)?$|^-?\d+e[-+]?\d+$", re.IGNORECASE)


def program_value(value: str) -> str:
    """A program's result as an answer: binary floating-point noise rounded away (`5.000000000000002` -> `5`).

    `rewards` compares exact values exactly, which is right for written answers but not for float arithmetic.
    """
    if not _FLOAT.match(value.strip()):
        return value
    number = float(f"{float(value):.12g}")  # 12 significant digits: float64 noise sits in the 16th
    if not math.isfinite(number):
        return value
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def program_reason(result: ProgramResult, gold: str) -> str | None:
    """None when the program ran and its result equals `gold`, else the rejection reason."""
    import rewards

    if result.status != "ok":
        return f"program_{result.status}"
    if result.value is None:
        return "program_no_result"
    return verdict_reason(rewards.grade(gold, f"\\boxed{{{program_value(result.value)}}}"))


def _program_hash(program: str) -> str:
    return hashlib.sha256(program.encode("utf-8")).hexdigest()[:32]


def _load_cache(path: Path) -> dict[str, ProgramResult]:
    """Results of earlier runs; a line cut short by a kill is ignored (that program simply runs again)."""
    results: dict[str, ProgramResult] = {}
    if not path.exists():
        return results
    from deepmath.io.rows import iter_rows

    for _, record in iter_rows(str(path), on_skip=lambda reason: None, warn=False):
        try:
            results[record["hash"]] = ProgramResult(**record["result"])
        except (KeyError, TypeError):
            continue
    return results


def check_programs(
    candidates: list[Candidate], limits: SandboxLimits, workers: int = 2, cache: str | Path | None = None
) -> tuple[dict[str, str | None], dict]:
    """Run each PoT candidate's program (once per distinct program) and compare its result with the gold.

    Sets `candidate.result` for the ones that ran; returns ({key: reason or None}, run counts).
    """
    cache_path = Path(cache) if cache else None
    results = _load_cache(cache_path) if cache_path else {}
    hashes = {c.key: _program_hash(c.program) for c in candidates}
    todo = {}
    for c in candidates:
        if hashes[c.key] not in results:
            todo.setdefault(hashes[c.key], c.program)
    counts = {"programs": len(set(hashes.values())), "programs_run": len(todo), "programs_cached": 0}
    counts["isolation"] = check_isolation(limits)
    counts["programs_cached"] = counts["programs"] - len(todo)
    if todo:
        logger.info(
            "sft-mix: running %d programs (%d cached), %d at a time", len(todo), counts["programs_cached"], workers
        )
        with open(cache_path, "a", encoding="utf-8") if cache_path else contextlib.nullcontext() as handle:
            for digest, result in tqdm(
                run_programs(todo.items(), limits, workers), total=len(todo), desc="programs", disable=len(todo) < 50
            ):
                results[digest] = result
                if handle and result.status != "sandbox_error":  # the harness's failure: run it again next time
                    handle.write(json.dumps({"hash": digest, "result": result.to_dict()}) + "\n")
                    handle.flush()  # one line per finished program: a killed run loses at most the running ones
    harness_failures = [r for r in results.values() if r.status == "sandbox_error"]
    if harness_failures:  # counted as program_sandbox_error, not cached: a re-run tries them again
        logger.warning(
            "sft-mix: the sandbox itself failed on %d programs (first: %s)",
            len(harness_failures),
            harness_failures[0].error,
        )
    reasons = {}
    for c in candidates:
        result = results[hashes[c.key]]
        if result.value is not None:
            c.result = result.value
        reasons[c.key] = program_reason(result, c.gold)
    return reasons, counts
