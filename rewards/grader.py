"""grade / verify / answers_equal: extraction, cleanup, the fast path, guards, then the watchdog pool.

Order of work for one (gold, completion) pair, cheapest first:

1. extract the predicted answer (and the gold's, when the gold is a full solution with a marker);
2. clean both (cached) and compare the cleaned strings;
3. guards: answers too long, too deep or with huge powers/factorials are rejected here, never parsed;
4. the fast tree comparison (numbers, text, choices, structure) decides most pairs without sympy;
5. only what is still undecided goes to a worker process, with what is left of the wall-clock budget.

A timeout is a False verdict with reason "timeout" and is counted in `stats()`; so is a worker error.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from rewards.compare import FAST, compare
from rewards.extract import MAX_ANSWER_CHARS, completion_text, extract_with_source, has_marker
from rewards.guards import guard
from rewards.normalize import clean
from rewards.pool import counters as pool_counters
from rewards.pool import get_pool
from rewards.structure import Node, canonical, parse_answer

__all__ = [
    "Verdict",
    "answers_equal",
    "clear_caches",
    "grade",
    "grade_batch",
    "normalize_answer",
    "stats",
    "verify",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 1.0
_PAIR_CACHE_SIZE = 65536
_KILL_MARGIN = 0.05  # seconds kept back from the budget to drop a late worker and return


@dataclass(frozen=True, slots=True)
class Verdict:
    """The result of grading one completion.

    `reason` is `equal:<how>`, `different:<how>` (how = string, fast, symbolic), `no_answer`,
    `gold_unparseable`, `rejected:<guard>`, `timeout` or `error`; `source` names the extraction marker
    (`boxed`, `answer_tag`, ..., `last_number` for the unlabelled fallback).
    """

    correct: bool
    predicted: str | None
    reason: str
    source: str = "none"


@dataclass(frozen=True, slots=True)
class _Answer:
    cleaned: str
    node: Node | None  # None when guarded
    rejected: str | None  # the guard's reason

    @property
    def key(self) -> str:
        return self.cleaned.replace(" ", "")


_stats: Counter = Counter()
_stats_lock = threading.Lock()


def _count(reason: str) -> None:
    with _stats_lock:
        _stats[reason] += 1


def stats(reset: bool = False) -> dict[str, int]:
    """Counts of verdict reasons since start or the last reset, plus the worker pool's timeouts and restarts."""
    with _stats_lock:
        snapshot = dict(_stats)
        if reset:
            _stats.clear()
    return {**snapshot, **pool_counters()}


@lru_cache(maxsize=65536)
def _prepare(answer: str) -> _Answer:
    """Clean, guard and parse one extracted answer (cached: gold answers and repeated predictions)."""
    if len(answer) > MAX_ANSWER_CHARS:
        return _Answer("", None, "too_long")  # empty: never string-equal to anything
    cleaned = clean(answer)
    rejected = guard(cleaned, MAX_ANSWER_CHARS)
    return _Answer(cleaned, None if rejected else parse_answer(cleaned), rejected)


@lru_cache(maxsize=16384)
def _gold_answer(gold: str) -> tuple[str | None, _Answer | None]:
    """The gold's answer (extracted when `gold` is a full solution with a marker) and its parsed form."""
    text = gold.strip()
    if has_marker(text):
        text = extract_with_source(text)[0] or ""
    if not text:
        return None, None
    prepared = _prepare(text)
    if not prepared.cleaned or prepared.rejected == "too_long":
        return text, None  # not an answer (e.g. a solution without any answer marker)
    return text, prepared


class _PairCache:
    """(gold, pred) -> value; a thread-safe LRU (sympy work is the expensive part, and GRPO groups repeat)."""

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple[str, str]):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[str, str], value) -> None:
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_pairs = _PairCache(_PAIR_CACHE_SIZE)  # sympy verdicts
_timeouts = _PairCache(_PAIR_CACHE_SIZE)  # the largest budget a pair has already overrun


def _fast(gold: _Answer, pred: _Answer) -> tuple[bool | None, str]:
    """Decide without sympy when possible: `(equal, reason)`, equal None when the workers must decide."""
    if gold.key == pred.key and gold.key:
        return True, "equal:string"
    if pred.rejected:
        return False, f"rejected:{pred.rejected}"
    if gold.rejected:
        return False, f"rejected:gold_{gold.rejected}"
    result = compare(gold.node, pred.node, FAST)
    if result is None:
        return None, ""
    return result, "equal:fast" if result else "different:fast"


def _symbolic(gold: _Answer, pred: _Answer, budget: float) -> tuple[bool, str]:
    key = (gold.cleaned, pred.cleaned)
    cached = _pairs.get(key)
    if cached is not None:
        return cached, "equal:symbolic" if cached else "different:symbolic"
    budget -= _KILL_MARGIN
    overrun = _timeouts.get(key)
    if budget <= 0 or (overrun is not None and 0.9 * budget <= overrun):
        return False, "timeout"  # a pair that overran (about) this budget once will again: no second second
    status, equal = get_pool().compare(gold.cleaned, pred.cleaned, budget)
    if status == "timeout":
        _timeouts.put(key, max(budget, overrun or 0.0))
        return False, "timeout"
    if status != "ok":
        return False, "error"
    _pairs.put(key, equal)
    return equal, "equal:symbolic" if equal else "different:symbolic"


def _compare_answers(gold: _Answer, pred: _Answer, deadline: float) -> tuple[bool, str]:
    result, reason = _fast(gold, pred)
    if result is not None:
        return result, reason
    return _symbolic(gold, pred, deadline - time.monotonic())


def grade(gold: str, completion: str, *, timeout: float = DEFAULT_TIMEOUT) -> Verdict:
    """Grade one completion against a gold answer (gold first: a bare answer or a full solution).

    `completion` may also be a chat (a list of messages; the last assistant message is graded).
    Never raises on bad completions and never spends more than `timeout` seconds of wall-clock time on one
    completion's work. Not charged: worker start-up, and waiting for a free worker when more threads grade at once
    than there are workers (so verdicts do not depend on load). Raises RuntimeError only when worker processes
    cannot start at all (a broken installation must not turn into silent zero rewards).
    """
    deadline = time.monotonic() + timeout
    verdict = _grade(gold, completion, deadline)
    _count(verdict.reason)
    return verdict


def _text(value) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _grade(gold, completion, deadline: float) -> Verdict:
    _, gold_answer = _gold_answer(_text(gold))
    if gold_answer is None:
        return Verdict(False, None, "gold_unparseable")
    predicted, source = extract_with_source(completion_text(completion))
    if predicted is None:
        return Verdict(False, None, "no_answer", source)
    correct, reason = _compare_answers(gold_answer, _prepare(predicted), deadline)
    return Verdict(correct, predicted, reason, source)


def verify(gold: str, completion: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether `completion` answers `gold` correctly (see `grade`)."""
    return grade(gold, completion, timeout=timeout).correct


def grade_batch(
    golds: list[str], completions: list[str], *, timeout: float = DEFAULT_TIMEOUT, workers: int | None = None
) -> list[Verdict]:
    """Grade many pairs: the fast path inline, the rest in parallel worker processes (each with its own budget).

    Identical (gold, answer) pairs are compared once, which matters for GRPO groups.
    """
    if len(golds) != len(completions):
        raise ValueError(f"{len(golds)} gold answers for {len(completions)} completions")
    verdicts: list[Verdict | None] = [None] * len(golds)
    pending: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    answers: dict[tuple[str, str], tuple[_Answer, _Answer]] = {}
    for i, (gold, completion) in enumerate(zip(golds, completions)):
        _, gold_answer = _gold_answer(_text(gold))
        if gold_answer is None:
            verdicts[i] = Verdict(False, None, "gold_unparseable")
            continue
        predicted, source = extract_with_source(completion_text(completion))
        if predicted is None:
            verdicts[i] = Verdict(False, None, "no_answer", source)
            continue
        pred_answer = _prepare(predicted)
        result, reason = _fast(gold_answer, pred_answer)
        if result is not None:
            verdicts[i] = Verdict(result, predicted, reason, source)
            continue
        key = (gold_answer.cleaned, pred_answer.cleaned)
        pending.setdefault(key, []).append((i, predicted, source))
        answers[key] = (gold_answer, pred_answer)
    if pending:
        threads = min(len(pending), workers or get_pool().max_workers)

        def run(key: tuple[str, str]) -> tuple[tuple[str, str], tuple[bool, str]]:
            gold_answer, pred_answer = answers[key]
            return key, _symbolic(gold_answer, pred_answer, timeout)

        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rewards-batch") as executor:
            for key, (result, reason) in executor.map(run, list(pending)):
                for i, predicted, source in pending[key]:
                    verdicts[i] = Verdict(result, predicted, reason, source)
    for verdict in verdicts:
        _count(verdict.reason)
    return verdicts


def clear_caches() -> None:
    """Forget parsed answers and cached sympy verdicts (for benchmarks that must start cold)."""
    _prepare.cache_clear()
    _gold_answer.cache_clear()
    _pairs.clear()
    _timeouts.clear()


def answers_equal(a: str, b: str, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether two already extracted answers are the same (for majority voting; `a` plays the gold)."""
    if a is None or b is None:
        return False
    first, second = _prepare(a), _prepare(b)
    if not first.cleaned or not second.cleaned:
        return False
    return _compare_answers(first, second, time.monotonic() + timeout)[0]


def normalize_answer(answer: str) -> str:
    """Canonical string of an answer: `\\dfrac{1}{2}` -> `1/2`, `x = 3` -> `3`, `\\{2, 1\\}` -> `\\{1,2\\}`.

    Equal strings mean equal answers; the converse needs `answers_equal` (e.g. `\\sqrt{4}` vs `2`).
    """
    prepared = _prepare(answer)
    if prepared.node is None:
        return prepared.cleaned
    return canonical(prepared.node)
