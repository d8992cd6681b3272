"""Programs in evaluation: program-of-thought (PoT) and the tool-integrated (TIR) loop, both through the sandbox.

    results = run_pot(["```python\\nprint(6*7)\\n```"], limits)          # [{"answer": "42", "status": "ok", ...}]
    samples = run_tir(generator, prompts, settings, max_calls=4, limits=limits)   # per prompt, n sample dicts

PoT: the completion's last ```python block (or, for PAL-style few-shot completions, the whole text when it defines
`solution()`) runs in the sandbox; its printed result (or `ans` variable) is the answer, graded as `\\boxed{answer}`.
A program that fails, times out or is refused gives no answer (graded wrong) and its status is recorded.

TIR (ToRA-style, DeepSeekMath 5.1 "tool-integrated reasoning"): generate until a ```python block closes (text the
model wrote after the closing fence is discarded: the output must come first), run the block, append
"```output\\n...\\n```" with its printed output or its error, and continue the same assistant turn; stop when a turn
holds no program or after `max_calls` programs (a further program is not run: status `too_many_calls`, graded as
no answer). The final answer is read from the whole turn with `rewards` (last \\boxed{}), as for chat completions.

Where we depart from ToRA's harness: the output block carries the error's last line rather than a full traceback,
and all samples of a round run their programs in parallel (threads, each program its own sandbox process).
"""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor

from deepmath.evaluate.generation import Prompt, SamplingSettings
from deepmath.evaluate.sandbox import ProgramResult, SandboxLimits, run_program

__all__ = ["TIR_STOP", "extract_program", "program_output", "run_pot", "run_tir"]

logger = logging.getLogger(__name__)

_BLOCK = re.compile(r"```(?:python|py|python3)[ \t]*\n(.*?)```", re.S)
TIR_STOP = ["```output"]
OUTPUT_CHARS = 1000


def extract_program(text: str) -> str | None:
    """The last ```python block of `text`, else the whole text if it defines a PAL `solution()`; None otherwise."""
    blocks = _BLOCK.findall(text)
    code = blocks[-1] if blocks else (text if re.search(r"^def solution\(", text, re.M) else None)
    if code is None or not code.strip():
        return None
    if re.search(r"^def solution\(", code, re.M) and not re.search(r"^(print\()?solution\(\)", code, re.M):
        code = code.rstrip() + "\n\nprint(solution())\n"  # PAL: the function's result is the answer
    return code


def _run_all(programs: list[str], limits: SandboxLimits, workers: int) -> list[ProgramResult]:
    if not programs:
        return []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="eval-sandbox") as pool:
        return list(pool.map(lambda code: run_program(code, limits), programs))


def program_output(result: ProgramResult) -> str:
    """What the model sees after its program: the printed output, or the error (status and last line)."""
    if result.status == "ok":
        text = (result.stdout or result.value or "").strip()
    else:
        text = f"{result.status}: {result.error}".strip()
    return text[:OUTPUT_CHARS] + (" ..." if len(text) > OUTPUT_CHARS else "")


def run_pot(completions: list[str], limits: SandboxLimits, workers: int = 2) -> list[dict]:
    """Run each completion's program; per completion: program, status, answer (None when it gave none), graded text."""
    programs = [extract_program(c) for c in completions]
    results = iter(_run_all([p for p in programs if p is not None], limits, workers))
    out = []
    for program in programs:
        if program is None:
            out.append({"program": None, "status": "no_program", "answer": None, "graded_text": ""})
            continue
        result = next(results)
        answer = result.value.strip() if result.ok and result.value and result.value.strip() else None
        out.append(
            {
                "program": program,
                "status": result.status,
                "error": result.error,
                "answer": answer,
                "graded_text": f"\\boxed{{{answer}}}" if answer is not None else "",
            }
        )
    return out


def _first_block_end(text: str) -> int | None:
    match = _BLOCK.search(text)
    return match.end() if match else None


def run_tir(
    generator,
    prompts: list[Prompt],
    settings: SamplingSettings,
    max_calls: int,
    limits: SandboxLimits,
    workers: int = 2,
) -> list[list[dict]]:
    """n samples per prompt, each {"completion", "calls", "status", "programs": [{"status", "output"}]}."""
    first = generator.generate(prompts, SamplingSettings(**{**settings.__dict__, "stop": TIR_STOP}))
    states = [
        [{"prefix": "", "calls": 0, "status": "", "programs": [], "turn": turn} for turn in turns] for turns in first
    ]
    round_number = 0
    while True:
        pending: list[tuple[dict, str]] = []
        for state in (s for sample in states for s in sample):
            turn = state.pop("turn", None)
            if turn is None:
                continue
            end = _first_block_end(turn)
            if end is None:  # no program: the model answered
                state["prefix"] += turn
                state["status"] = state["status"] or "answered"
                continue
            state["prefix"] += turn[:end]
            if state["calls"] >= max_calls:
                state["status"] = "too_many_calls"
                continue
            pending.append((state, _BLOCK.findall(turn[:end])[-1]))
        if not pending:
            break
        round_number += 1
        results = _run_all([code for _, code in pending], limits, workers)
        for (state, _), result in zip(pending, results):
            output = program_output(result)
            state["calls"] += 1
            state["programs"].append({"status": result.status, "output": output})
            state["prefix"] += f"\n```output\n{output}\n```\n"
        pending_ids = {id(state) for state, _ in pending}
        continuing = [(i, state) for i, sample in enumerate(states) for state in sample if id(state) in pending_ids]
        again = generator.generate(
            [Prompt(prompts[i].messages, prompts[i].text, state["prefix"]) for i, state in continuing],
            SamplingSettings(**{**settings.__dict__, "n": 1, "stop": TIR_STOP, "seed": settings.seed + round_number}),
        )
        for (_, state), turns in zip(continuing, again):
            state["turn"] = turns[0]
    return [
        [
            {"completion": s["prefix"], "calls": s["calls"], "status": s["status"], "programs": s["programs"]}
            for s in sample
        ]
        for sample in states
    ]
