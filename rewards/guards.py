"""Cheap checks that keep hostile answers away from sympy.

sympy evaluates `5^{5^{5^{5^5}}}` or `100000!` eagerly in C-level bigint code that no timeout can interrupt short
of killing the process; the watchdog pool does kill it, but a worker restart costs a second of CPU. These checks
reject such answers in microseconds, before any parsing, with a reason the verdict reports (`rejected:huge_power`).
They are estimates on the cleaned string, tuned to never fire on real competition answers (`2^{2010}`, `10^{100}`,
`20!` pass).
"""

from __future__ import annotations

import math
import re

__all__ = ["MAX_NESTING", "control_characters", "guard"]

MAX_NESTING = 40  # bracket depth; real answers stay under 10
MAX_LOG10 = 20_000  # a power with more digits than this is rejected
MAX_EXPONENT = 10**6  # x^{10^7} is not an answer, and expanding it would not end
MAX_FACTORIAL = 2000
_BIG = "\ue000"  # stands for an already estimated power: "\ue000<log10>\ue001"
_END = "\ue001"
_ESTIMATE = _BIG + r"[\d.]+" + _END
_POWER_RE = re.compile(r"(\d+(?:\.\d+)?|" + _ESTIMATE + r")\s*\^\s*(?:\{\s*(-?\d+|" + _ESTIMATE + r")\s*\}|(\d))")
_BIG_EXPONENT_RE = re.compile(r"\^\s*\{?\s*(?:" + _BIG + r"([\d.]+)" + _END + r"|(\d{7,}))")
_FACTORIAL_RE = re.compile(r"(\d+|" + _ESTIMATE + r")\s*[)}]?\s*!")
_DIGITS_RE = re.compile(r"\d{1001,}")
_SCI_HUGE_RE = re.compile(r"\d[eE][-+]?\d{5,}")
_CHAIN_RE = re.compile(r"\^\s*(\d+)\s*\^\s*(\d+|\{[^{}]*\})")  # 9^9^9 is 9^(9^9)


_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")


def control_characters(answer: str) -> bool:
    """Whether a raw answer holds C0/C1 control characters (NUL, ESC, ...): garbage, never a way to write math.

    Such an answer is rejected rather than cleaned, because dropping the characters would join what they separate
    (`\\boxed{4\\x002}` is not 42). Tabs, newlines, carriage returns and form feeds are whitespace, not garbage.
    """
    return _CONTROL_RE.search(answer) is not None


def _log10(token: str) -> float:
    if token.startswith(_BIG):
        return float(token[1:-1])
    value = float(token)
    return math.log10(value) if value > 0 else -math.inf


def _estimate_powers(s: str) -> tuple[str | None, str]:
    """Replace numeric powers, innermost first, by their size: `(reason or None, rewritten string)`."""
    for _ in range(64):
        match = _POWER_RE.search(s)
        if match is None:
            return None, s
        base = _log10(match.group(1))
        exponent_token = match.group(2) or match.group(3)
        if base <= 0:  # 1^{anything}, 0^{anything}, 0.5^{anything}: small
            replacement = "1"
        elif exponent_token.startswith(_BIG):
            exponent_log = _log10(exponent_token)
            if exponent_log > 15 or exponent_log + math.log10(base) > math.log10(MAX_LOG10):
                return "huge_power", s
            replacement = f"{_BIG}{10**exponent_log * base:.3f}{_END}"
        else:
            exponent = int(exponent_token)
            size = exponent * base
            if size > MAX_LOG10:
                return "huge_power", s
            if exponent < 0:
                replacement = "1"
            elif size <= 6:
                replacement = str(round(10**size))
            else:
                replacement = f"{_BIG}{size:.3f}{_END}"
        s = s[: match.start()] + replacement + s[match.end() :]
    return "huge_power", s


def _nesting(s: str) -> int:
    depth = deepest = 0
    for c in s:
        if c in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in ")]}":
            depth -= 1
    return deepest


def guard(answer: str, max_chars: int) -> str | None:
    """Why `answer` (a cleaned string) must not reach sympy, or None when it may."""
    if len(answer) > max_chars:
        return "too_long"
    if _nesting(answer) > MAX_NESTING:
        return "deep_nesting"
    if _DIGITS_RE.search(answer) or _SCI_HUGE_RE.search(answer):
        return "huge_number"
    if "^" in answer:
        for _ in range(16):
            chained = _CHAIN_RE.sub(r"^{\1^\2}", answer)
            if chained == answer:
                break
            answer = chained
        reason, answer = _estimate_powers(answer)
        if reason:
            return reason
        for match in _BIG_EXPONENT_RE.finditer(answer):
            if match.group(2) or float(match.group(1)) > math.log10(MAX_EXPONENT):
                return "huge_power"
    if "!" in answer:
        for match in _FACTORIAL_RE.finditer(answer):
            if match.group(1).startswith(_BIG) or int(match.group(1)) > MAX_FACTORIAL:
                return "huge_factorial"
    return None
