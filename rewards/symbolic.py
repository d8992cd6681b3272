"""sympy comparisons for what the fast path leaves undecided. Imported only inside watchdog workers.

LaTeX is parsed by latex2sympy2_extended with math-verify's normalisation (math-verify's parsing engine); sets,
relations and matrices that a single leaf still parses into are handed to `math_verify.verify` with its signal
timeout disabled (`timeout_seconds=None`; the worker process is the timeout). Where we depart from math-verify:

- exact constants are compared exactly (rationals) or to 40 significant digits relative, never after rounding to
  6 decimals or chopping small values, so `\\frac{1}{2^{99}}` is not `\\frac{1}{2^{98}}` and `10^{-9}` is not 0;
- a decimal approximation follows the numeric policy (`rewards.policy`; by default 1e-6 relative to an exact gold,
  so `1.414` is not `\\sqrt{2}`);
- expressions with variables are compared at random points (plus `expand`), not only with `simplify`;
- equations are equal when one is a nonzero multiple of the other (`y = 2x + 3` vs `2x - y + 3 = 0`).
"""

from __future__ import annotations

import logging
import random
from fractions import Fraction
from functools import lru_cache

import sympy
from latex2sympy2_extended.latex2sympy2 import latex2sympy
from latex2sympy2_extended.math_normalization import NormalizationConfig
from math_verify import verify as math_verify_verify
from math_verify.grader import should_treat_as_complex

from rewards.compare import FastComparator, compare
from rewards.numbers import Num, numbers_equal
from rewards.policy import DEFAULT_POLICY, NumericPolicy
from rewards.structure import Leaf, Relation, parse_answer

__all__ = ["SympyComparator", "compare_symbolic", "to_sympy"]

logger = logging.getLogger(__name__)

_NORMALIZATION = NormalizationConfig(
    basic_latex=True, units=True, malformed_operators=True, nits=True, boxed="none", equations=False
)
_DIGITS = 50
_RELATIVE = sympy.Float(10) ** -40
_POINTS = 4


@lru_cache(maxsize=4096)
def to_sympy(latex: str):
    """The sympy object of a LaTeX leaf, or None when it does not parse."""
    try:
        expr = latex2sympy(
            latex,
            is_real=not should_treat_as_complex(latex),
            convert_degrees=False,
            normalization_config=_NORMALIZATION,
        )
    except Exception:  # latex2sympy raises many exception types on bad input; unparsed means "not equal"
        logger.debug("latex2sympy failed on %r", latex, exc_info=True)
        return None
    if isinstance(expr, sympy.Basic):
        try:
            expr = expr.doit()
        except Exception:  # doit() can fail on unevaluated objects; the unevaluated form still compares
            logger.debug("doit failed on %r", latex, exc_info=True)
        imaginary = [s for s in expr.free_symbols if s.name == "i"]
        if imaginary and should_treat_as_complex(latex):
            expr = expr.subs(imaginary[0], sympy.I)  # a lone i in an answer is the imaginary unit
    return expr


def _fraction(value) -> Fraction | None:
    """A high-precision rational stand-in for a real number (for the approximation rules)."""
    try:
        number = sympy.N(value, _DIGITS)
        if not number.is_real or not number.is_finite:
            return None
        return Fraction(str(sympy.Float(number, _DIGITS)))
    except (TypeError, ValueError, ArithmeticError):
        return None


def _as_num(num: Num | None, expr) -> Num | None:
    if num is not None:
        return num
    value = _fraction(expr)
    return None if value is None else Num(value)


def _constants_equal(a, b, gold_num: Num | None, pred_num: Num | None, policy: NumericPolicy) -> bool:
    if (gold_num is not None and gold_num.ulp is not None) or (pred_num is not None and pred_num.ulp is not None):
        gold, pred = _as_num(gold_num, a), _as_num(pred_num, b)
        return gold is not None and pred is not None and numbers_equal(gold, pred, policy)
    if a.is_Rational and b.is_Rational:
        return a == b
    try:
        va, vb = sympy.N(a, _DIGITS), sympy.N(b, _DIGITS)
        if not (va.is_finite and vb.is_finite):
            return False
        scale = max(abs(va), abs(vb))
        if scale == 0:
            return True
        floats = a.has(sympy.Float) or b.has(sympy.Float)
        tolerance = sympy.Float(max(policy.relative_tolerance, policy.float_noise)) if floats else _RELATIVE
        return bool(abs(va - vb) <= tolerance * scale)
    except (TypeError, ValueError, ArithmeticError):
        return False


def _points(symbols, seed: str):
    rng = random.Random(seed)
    for _ in range(_POINTS):
        yield {
            s: sympy.Rational(rng.randint(1100, 2900), 1000) + sympy.Rational(rng.randint(1, 97), 9973)
            for s in symbols
        }


def _values(expr, point):
    value = sympy.N(expr.subs(point), 30)
    return value if value.is_finite else None


def _functions_equal(a, b) -> bool:
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    try:
        if sympy.expand(a - b) == 0:
            return True
    except Exception:
        logger.debug("expand failed", exc_info=True)
    checked = 0
    for point in _points(symbols, f"{a}|{b}"):
        try:
            va, vb = _values(a, point), _values(b, point)
        except (TypeError, ValueError, ArithmeticError):
            continue
        if va is None or vb is None:
            if (va is None) != (vb is None):
                return False
            continue
        if abs(va - vb) > sympy.Float("1e-20") * max(1, abs(va), abs(vb)):
            return False
        checked += 1
    return checked >= 2


def _proportional(a, b, *, positive: bool) -> bool:
    """Whether a = c * b for a constant c != 0 (c > 0 when `positive`)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    ratios = []
    for point in _points(symbols, f"{a}~{b}"):
        try:
            va, vb = _values(a, point), _values(b, point)
        except (TypeError, ValueError, ArithmeticError):
            continue
        if va is None or vb is None or vb == 0:
            continue
        ratios.append(va / vb)
    if len(ratios) < 2 or ratios[0] == 0:
        return False
    if positive and not (ratios[0].is_real and ratios[0] > 0):
        return False
    return all(abs(r - ratios[0]) <= sympy.Float("1e-20") * abs(ratios[0]) for r in ratios)


def _is_expr(x) -> bool:
    return isinstance(x, sympy.Expr) and not isinstance(x, sympy.MatrixBase)


class SympyComparator:
    """Leaves and relations with sympy; falls back to the fast comparator first so both paths agree on what it
    decides."""

    def __init__(self, policy: NumericPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy
        self.fast = FastComparator(policy)

    def leaf(self, gold: Leaf, pred: Leaf) -> bool | None:
        fast = self.fast.leaf(gold, pred)
        if fast is not None:
            return fast
        a, b = to_sympy(gold.text), to_sympy(pred.text)
        if a is None or b is None:
            return False
        if not (_is_expr(a) and _is_expr(b)):
            return bool(math_verify_verify(a, b, timeout_seconds=None))
        if a == b:
            return True
        if not a.free_symbols and not b.free_symbols:
            return _constants_equal(a, b, gold.num, pred.num, self.policy)
        return _functions_equal(a, b)  # different variables differ at random points (sin^2 x + cos^2 x = 1 holds)

    def relation(self, gold: Relation, pred: Relation) -> bool | None:
        fast = self.fast.relation(gold, pred)
        if fast is not None:
            return fast
        sides = [to_sympy(s) for s in (gold.lhs, gold.rhs, pred.lhs, pred.rhs)]
        if not all(_is_expr(s) for s in sides):
            return False
        gold_diff, pred_diff = sides[1] - sides[0], sides[3] - sides[2]
        if gold_diff.free_symbols != pred_diff.free_symbols:
            return False
        return _proportional(gold_diff, pred_diff, positive=gold.op in ("<", "\\le"))

    def sets(self, gold: str, pred: str) -> bool | None:
        a, b = to_sympy(gold), to_sympy(pred)
        if not (isinstance(a, sympy.Set) and isinstance(b, sympy.Set)):
            return False
        return bool(math_verify_verify(a, b, timeout_seconds=None))


@lru_cache(maxsize=64)
def _comparator(policy: NumericPolicy) -> SympyComparator:
    return SympyComparator(policy)


def compare_symbolic(gold_clean: str, pred_clean: str, policy: NumericPolicy = DEFAULT_POLICY) -> bool:
    """Full comparison of two cleaned answers (the worker's entry point)."""
    return bool(compare(parse_answer(gold_clean), parse_answer(pred_clean), _comparator(policy)))
