"""rewards: math answer checking for RL rewards and data filtering; string in, verdict out.

What: `grade(gold, completion)` extracts the completion's final answer (a cascade documented in `rewards.extract`:
`<answer>` tags, the last `\\boxed{}` and the boxes joined to it, "the answer is", GSM8K `####`, Minerva's "Final
Answer", an `A:` line, then a bare answer, the last math span of prose, and the last number of plain prose as a
labelled guess; a malformed box gives no answer) and decides whether it equals the gold answer: numbers,
fractions, decimals, percents, units, radicals, expressions, equations, tuples, sets, intervals, inequalities,
matrices, choice letters, text, labelled answers (`AB = 4`). Importing this package loads neither sympy nor
anything heavy; sympy runs only in watchdog worker processes.

How::

    import rewards
    rewards.verify("\\frac{1}{2}", "... so the answer is $\\boxed{0.5}$")  # True (gold first)
    rewards.grade("18", "...\\nA: 18")  # Verdict(correct=True, predicted='18', reason='equal:string', ...)
    reward_fn = rewards.get("math_accuracy")  # TRL: reward_fn(completions, answer=[...]) -> [1.0, 0.0, None]
    lenient = rewards.NumericPolicy(rounded_digits=3)  # accept 1.414 for \\sqrt{2} (off by default)
    rewards.verify("\\sqrt{2}", "\\boxed{1.414}", lenient)  # True; the reward: rewards.get("math_accuracy", lenient)
    rewards.normalize_answer("\\dfrac{2}{4}")  # '1/2': to store gold answers and group votes (maj@k)

    python -m rewards check "\\frac{1}{2}" "The answer is 0.5."

Call `rewards.warmup()` before timing anything: worker start-up (about a second, once; started in the background
by the first grade) is not charged to budgets and is counted apart (`stats()["worker_startup_ms"]`).

Where we depart from math-verify (which we use as the LaTeX parsing engine and for leaf sets/matrices):

- no `signal.alarm`: the budget (default 1 s per completion) is enforced by killing a worker process, so it works
  in threads, asyncio and subprocesses and interrupts C-level bigint work; guards reject power towers, huge
  factorials, 10k-deep brackets and megabyte answers before any parsing. A timeout is a counted False verdict
  (`stats()`), never an exception.
- plain numbers, fractions, text and choices never reach sympy (the fast path runs in-process);
- the last `\\boxed{}` is the answer (not the first), `<answer>` tags and `A:` lines are understood;
- sets compare as sets, tuples in order, intervals with their open/closed ends, `x > 2` equals `(2, \\infty)`;
- a documented numeric policy (`NumericPolicy`, frozen, passed as `config`): exact values compare exactly
  (`\\frac{1}{2^{99}}` is not `\\frac{1}{2^{98}}`, 500 is not 5, `(1,2)` is not `(1,2]`), a decimal matches an exact
  non-integer gold only within 1e-6 relative (`1.414` is not `\\sqrt{2}`, `6.28` is not `2\\pi`);
- a bare answer is graded whole (math-verify needs delimiters), and no answer is guessed from a broken `\\boxed{`.
"""

from rewards.extract import extract_answer
from rewards.grader import (
    Verdict,
    answers_equal,
    clear_caches,
    grade,
    grade_batch,
    normalize_answer,
    stats,
    verify,
)
from rewards.policy import DEFAULT_POLICY, NumericPolicy
from rewards.pool import shutdown, warmup
from rewards.registry import available, get, register
from rewards.reward_funcs import boxed_format, math_accuracy, think_answer_format

__all__ = [
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
