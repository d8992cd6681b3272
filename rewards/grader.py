"""grade / verify / answers_equal: extraction, cleanup, the fast path, guards, then the watchdog pool.

Order of work for one (gold, completion) pair, cheapest first:

1. extract the predicted answer (and the gold's, when the gold is a full solution with a marker); several boxes of
   one final answer are graded joined when the gold has several items, else the last box is;
2. clean both (cached), apply the pair notation rules (`rewards.notations`) and compare the cleaned strings;
3. guards: answers too long, too deep or with huge powers/factorials are rejected here, never parsed;
4. the fast tree comparison (numbers, text, choices, structure) decides most pairs without sympy;
5. only what is still undecided goes to a worker process, with what is left of the wall-clock budget.

A timeout is a False verdict with reason "timeout" and is counted in `stats()`; so is a worker error. Numbers follow
a `NumericPolicy` (`rewards.policy`), passed as `config` (default: `DEFAULT_POLICY`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from rewards.compare import FastComparator, compare
from rewards.extract import MAX_ANSWER_CHARS, Extraction, completion_text, extract, has_marker
from rewards.guards import control_characters, guard
from rewards.normalize import clean
from rewards.notations import rewrite_pair
from rewards.policy import DEFAULT_POLICY, NumericPolicy
from rewards.pool import PoolClosed, get_pool, prestart
from rewards.pool import counters as pool_counters
from rewards.structure import Node, Seq, System, canonical, parse_answer, space_key

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
    `gold_unparseable`, `rejected:<guard>`, `timeout`, `error` or `shutdown` (the interpreter was exiting);
    `source` names the extraction step (`boxed`, `boxes`, `answer_tag`, ..., `bare`, `math_span`, `last_number`
    for the unlabelled fallback, `malformed_box` when a broken box gave no answer).
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
        return space_key(self.cleaned)


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
    if control_characters(answer):
        return _Answer("", None, "control_characters")
    return _parsed(clean(answer))


@lru_cache(maxsize=65536)
def _parsed(cleaned: str) -> _Answer:
    rejected = guard(cleaned, MAX_ANSWER_CHARS)
    return _Answer(cleaned, None if rejected else parse_answer(cleaned), rejected)


@lru_cache(maxsize=16384)
def _gold_answer(gold: str) -> tuple[str | None, _Answer | None]:
    """The gold's answer (extracted when `gold` is a full solution with a marker) and its parsed form."""
    text = gold.strip()
    if has_marker(text):
        text = extract(text).answer or ""
    if not text:
        return None, None
    prepared = _prepare(text)
    if not prepared.cleaned or prepared.rejected in ("too_long", "control_characters"):
        return text, None  # not an answer (e.g. a solution without any answer marker)
    return text, prepared


class _PairCache:
    """(gold, pred, policy) -> value; a thread-safe LRU (sympy work is the expensive part, and GRPO groups repeat)."""

    def __init__(self, size: int) -> None:
        self._data: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key: tuple):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple, value) -> None:
        with self._lock:
            self._data[key] = value
            if len(self._data) > self._size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_pairs = _PairCache(_PAIR_CACHE_SIZE)  # sympy verdicts
_timeouts = _PairCache(_PAIR_CACHE_SIZE)  # the largest budget a pair has already overrun


@lru_cache(maxsize=64)
def _fast_comparator(policy: NumericPolicy) -> FastComparator:
    return FastComparator(policy)


def _with_notations(gold: _Answer, pred: _Answer) -> tuple[_Answer, _Answer]:
    if gold.rejected or pred.rejected:
        return gold, pred
    gold_text, pred_text = rewrite_pair(gold.cleaned, pred.cleaned)
    if gold_text == gold.cleaned and pred_text == pred.cleaned:
        return gold, pred
    return _parsed(gold_text), _parsed(pred_text)


def _fast(gold: _Answer, pred: _Answer, policy: NumericPolicy) -> tuple[bool | None, str]:
    """Decide without sympy when possible: `(equal, reason)`, equal None when the workers must decide."""
    if gold.key == pred.key and gold.key:
        return True, "equal:string"
    if pred.rejected:
        return False, f"rejected:{pred.rejected}"
    if gold.rejected:
        return False, f"rejected:gold_{gold.rejected}"
    result = compare(gold.node, pred.node, _fast_comparator(policy))
    if result is None:
        return None, ""
    return result, "equal:fast" if result else "different:fast"


def _symbolic(gold: _Answer, pred: _Answer, budget: float, policy: NumericPolicy) -> tuple[bool, str]:
    key = (gold.cleaned, pred.cleaned, policy)
    cached = _pairs.get(key)
    if cached is not None:
        return cached, "equal:symbolic" if cached else "different:symbolic"
    budget -= _KILL_MARGIN
    overrun = _timeouts.get(key)
    if budget <= 0 or (overrun is not None and 0.9 * budget <= overrun):
        return False, "timeout"  # a pair that overran (about) this budget once will again: no second second
    try:
        pool = get_pool()
    except PoolClosed:
        return False, "shutdown"
    wire = None if policy == DEFAULT_POLICY else policy.to_dict()
    status, equal = pool.compare(gold.cleaned, pred.cleaned, budget, wire)
    if status == "timeout":
        _timeouts.put(key, max(budget, overrun or 0.0))
        return False, "timeout"
    if status == "closed":
        return False, "shutdown"
    if status != "ok":
        return False, "error"
    _pairs.put(key, equal)
    return equal, "equal:symbolic" if equal else "different:symbolic"


def _compare_answers(gold: _Answer, pred: _Answer, deadline: float, policy: NumericPolicy) -> tuple[bool, str]:
    result, reason = _fast(gold, pred, policy)
    if result is not None:
        return result, reason
    return _symbolic(gold, pred, deadline - time.monotonic(), policy)


def _several(node: Node | None) -> bool:
    """Whether a gold answer has several items (a tuple, set, list or system), so several boxes may be its parts."""
    if isinstance(node, Seq):
        return len(node.items) > 1
    if isinstance(node, System):
        return True
    value = getattr(node, "value", None)  # Assign: x = 1, 2
    return value is not None and _several(value)


def _policy(config: NumericPolicy | None) -> NumericPolicy:
    if config is None:
        return DEFAULT_POLICY
    if not isinstance(config, NumericPolicy):
        raise TypeError(f"config must be a rewards.NumericPolicy, got {type(config).__name__}")
    return config


def _prediction(gold: _Answer, completion) -> tuple[str | None, str, _Answer | None]:
    """The graded prediction: `(text, source, prepared)`; boxes of one answer are joined only for a multi-item
    gold (else the last box is the answer, as before boxes were joined)."""
    found: Extraction = extract(completion_text(completion))
    if found.answer is None:
        return None, found.source, None
    predicted = found.answer
    if found.source == "boxes" and not _several(gold.node):
        predicted = found.parts[-1]
    return predicted, found.source, _prepare(predicted)


def grade(
    gold: str, completion: str, config: NumericPolicy | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> Verdict:
    """Grade one completion against a gold answer (gold first: a bare answer or a full solution).

    `completion` may also be a chat (a list of messages; the last assistant message is graded); `config` is the
    numeric policy (`rewards.NumericPolicy`; default: decimals match exact non-integer golds within 1e-6).
    Never raises on bad completions and never spends more than `timeout` seconds of wall-clock time on one
    completion's work. Not charged: worker start-up, and waiting for a free worker when more threads grade at once
    than there are workers (so verdicts do not depend on load). Raises RuntimeError only when worker processes
    cannot start at all (a broken installation must not turn into silent zero rewards).
    """
    policy = _policy(config)
    deadline = time.monotonic() + timeout
    prestart()
    verdict = _grade(gold, completion, deadline, policy)
    _count(verdict.reason)
    return verdict


def _text(value) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def _grade(gold, completion, deadline: float, policy: NumericPolicy) -> Verdict:
    _, gold_answer = _gold_answer(_text(gold))
    if gold_answer is None:
        return Verdict(False, None, "gold_unparseable")
    predicted, source, pred_answer = _prediction(gold_answer, completion)
    if pred_answer is None:
        return Verdict(False, None, "no_answer", source)
    correct, reason = _compare_answers(*_with_notations(gold_answer, pred_answer), deadline, policy)
    return Verdict(correct, predicted, reason, source)


def verify(
    gold: str, completion: str, config: NumericPolicy | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> bool:
    """Whether `completion` answers `gold` correctly (see `grade`)."""
    return grade(gold, completion, config, timeout=timeout).correct


def grade_batch(
    golds: list[str],
    completions: list[str],
    config: NumericPolicy | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> list[Verdict]:
    """Grade many pairs: the fast path inline, the rest in parallel worker processes (each with its own budget).

    Identical (gold, answer) pairs are compared once, which matters for GRPO groups.
    """
    if len(golds) != len(completions):
        raise ValueError(f"{len(golds)} gold answers for {len(completions)} completions")
    policy = _policy(config)
    prestart()
    verdicts: list[Verdict | None] = [None] * len(golds)
    pending: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    answers: dict[tuple[str, str], tuple[_Answer, _Answer]] = {}
    for i, (gold, completion) in enumerate(zip(golds, completions)):
        _, gold_answer = _gold_answer(_text(gold))
        if gold_answer is None:
            verdicts[i] = Verdict(False, None, "gold_unparseable")
            continue
        predicted, source, pred_answer = _prediction(gold_answer, completion)
        if pred_answer is None:
            verdicts[i] = Verdict(False, None, "no_answer", source)
            continue
        gold_answer, pred_answer = _with_notations(gold_answer, pred_answer)
        result, reason = _fast(gold_answer, pred_answer, policy)
        if result is not None:
            verdicts[i] = Verdict(result, predicted, reason, source)
            continue
        key = (gold_answer.cleaned, pred_answer.cleaned)
        pending.setdefault(key, []).append((i, predicted, source))
        answers[key] = (gold_answer, pred_answer)
    if pending:
        try:
            threads = min(len(pending), workers or get_pool().max_workers)
        except PoolClosed:
            threads = 1

        def run(key: tuple[str, str]) -> tuple[tuple[str, str], tuple[bool, str]]:
            gold_answer, pred_answer = answers[key]
            return key, _symbolic(gold_answer, pred_answer, timeout, policy)

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
    _parsed.cache_clear()
    _gold_answer.cache_clear()
    _pairs.clear()
    _timeouts.clear()


def answers_equal(a: str, b: str, config: NumericPolicy | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> bool:
    """Whether two already extracted answers are the same (for majority voting; `a` plays the gold)."""
    if a is None or b is None:
        return False
    first, second = _prepare(a), _prepare(b)
    if not first.cleaned or not second.cleaned:
        return False
    return _compare_answers(*_with_notations(first, second), time.monotonic() + timeout, _policy(config))[0]


def normalize_answer(answer: str) -> str:
    """Canonical string of an answer: `\\dfrac{1}{2}` -> `1/2`, `x = 3` -> `3`, `\\{2, 1\\}` -> `\\{1,2\\}`.

    Equal strings mean equal answers; the converse needs `answers_equal` (e.g. `\\sqrt{4}` vs `2`).
    """
    prepared = _prepare(answer)
    if prepared.node is None:
        return prepared.cleaned
    return canonical(prepared.node)
