"""Plain numbers without sympy: the fast path that grades most GSM8K and MATH answers in microseconds.

A `Num` is an exact `Fraction` plus what the writer committed to: a decimal like `0.333` is an *approximation*
whose last digit has place value `ulp` (0.001) and which shows `sig` significant digits (3). Integers, fractions
and mixed numbers are exact. Equality (`numbers_equal`) follows a `NumericPolicy` (`rewards.policy`; the default:
exact values compare exactly, a decimal matches an exact non-integer gold within 1e-6 relative, an integer gold
only by its value, a decimal gold accepts a prediction that rounds to it).

A decimal with 12+ significant digits is a printed machine float: it may differ from the other side by float noise
(relative 1e-9: `0.30000000000000004` is 0.3). So `500` is never `5`, `10001` never `10000` and `6287000` never
`6290000`. A percent sign on one side only allows `25% = 25 = 0.25`; with no percent sign anywhere `0.25` is not
`25`. Digits are joined across spaces only in groups of three (`1 000 000`), so `4 2` is not 42.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from rewards.policy import DEFAULT_POLICY, NumericPolicy

__all__ = ["MAX_DIGITS", "Num", "format_num", "numbers_equal", "parse_number"]

MAX_DIGITS = 1000  # longer digit strings are not answers (and int() of them is quadratic)
_FLOAT_DIGITS = 12  # a decimal this precise was printed by a program, not rounded by hand
_GOLD_ROUNDING_DIGITS = 3  # a gold decimal with fewer significant digits (0.5) is not a rounding instruction
_MAX_EXPONENT = 1000

_INT = r"(?:\d{1,3}(?:,\d{3})+|\d+)"
_DEC_RE = re.compile(r"^(" + _INT + r")?(?:\.(\d*))?$")
_SCI_RE = re.compile(r"^(.+?)(?:[eE]|\\times10\^|\\cdot10\^|\*10\^|x10\^)\{?([-+]?\d+)\}?$")
_POW10_RE = re.compile(r"^10\^\{?([-+]?\d+)\}?$")
_POW_RE = re.compile(r"^(\d+)\^\{?(\d+)\}?$")
_FRAC_RE = re.compile(
    r"^\\frac\{([^{}]+)\}\{([^{}]+)\}$|^\\frac(\d)(\d)$|^\\frac\{([^{}]+)\}(\d)$|^\\frac(\d)\{([^{}]+)\}$"
)
_SPACED_THOUSANDS_RE = re.compile(r"^\d{1,3}(?: \d{3})+(?:\.\d+)?$")
_DIGITS_AND_SPACES_RE = re.compile(r"^[\d .]+$")
_REPEATING_RE = re.compile(r"^(\d*)\.(\d*)\\overline\{?(\d+)\}?$")
_SLASH_RE = re.compile(r"^([^/]+)/([^/]+)$")
_MIXED_RE = re.compile(r"^(\d+)(?:\\frac\{(\d+)\}\{(\d+)\}|\s+(\d+)/(\d+))$")
_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen "
    "eighteen nineteen twenty"
)
_WORDS = {word: value for value, word in enumerate(_NUMBER_WORDS.split())}
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_BIG = {"万": 10**4, "亿": 10**8}


@dataclass(frozen=True, slots=True)
class Num:
    """A parsed number: exact value, and for decimal approximations the written precision."""

    value: Fraction
    ulp: Fraction | None = None  # None: exact
    sig: int = 0  # significant digits written (approximations only)
    percent: bool = False

    def scaled(self, factor: Fraction) -> Num:
        ulp = None if self.ulp is None else self.ulp * abs(factor)
        return Num(self.value * factor, ulp, self.sig, False)


def _decimal(s: str) -> Num | None:
    match = _DEC_RE.match(s)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    whole = (match.group(1) or "0").replace(",", "")
    frac = match.group(2) or ""
    if len(whole) + len(frac) > MAX_DIGITS:
        return None
    value = Fraction(int(whole + frac), 10 ** len(frac)) if frac else Fraction(int(whole))
    if not frac:
        return Num(value)
    sig = len((whole + frac).lstrip("0"))
    return Num(value, Fraction(1, 10 ** len(frac)), sig)


def _chinese(s: str) -> int | None:
    if not s or any(c not in _CN_DIGITS and c not in _CN_UNITS and c not in _CN_BIG for c in s):
        return None
    total, section, digit = 0, 0, None
    for c in s:
        if c in _CN_DIGITS:
            digit = _CN_DIGITS[c]
        elif c in _CN_UNITS:
            section += (1 if digit is None else digit) * _CN_UNITS[c]
            digit = None
        else:
            total += (section + (digit or 0)) * _CN_BIG[c]
            section, digit = 0, None
    return total + section + (digit or 0)


def _repeating(s: str) -> Num | None:
    """`0.\\overline{6}` = 2/3, `1.1\\overline{3}` = 17/15: an exact value written as a repeating decimal."""
    match = _REPEATING_RE.match(s)
    if match is None:
        return None
    whole, fixed, period = match.group(1) or "0", match.group(2), match.group(3)
    if len(whole) + len(fixed) + len(period) > 60:
        return None
    value = int(whole) + Fraction(int(fixed + period) - int(fixed or "0"), 10 ** len(fixed) * (10 ** len(period) - 1))
    return Num(value)


def _unsigned(s: str) -> Num | None:
    num = _decimal(s)
    if num is not None:
        return num
    if "overline" in s:
        return _repeating(s)
    match = _MIXED_RE.match(s)
    if match:
        whole = int(match.group(1))
        n, d = (match.group(2), match.group(3)) if match.group(2) else (match.group(4), match.group(5))
        n, d = int(n), int(d)
        if 0 < n < d:  # a proper fraction after an integer: a mixed number; otherwise leave it to sympy
            return Num(whole + Fraction(n, d))
        return None
    match = _FRAC_RE.match(s) or _SLASH_RE.match(s)
    if match:
        parts = [g for g in match.groups() if g is not None]
        top, bottom = parse_number(parts[0]), parse_number(parts[1])
        if top is None or bottom is None or bottom.value == 0 or top.percent or bottom.percent:
            return None
        if top.ulp is not None or bottom.ulp is not None:
            return None  # decimals inside a fraction: rare, left to sympy
        return Num(top.value / bottom.value)
    match = _POW10_RE.match(s)
    if match and abs(int(match.group(1))) <= _MAX_EXPONENT:
        return Num(Fraction(10) ** int(match.group(1)))
    match = _POW_RE.match(s)
    if match and len(match.group(2)) <= 4:
        base, exp = int(match.group(1)), int(match.group(2))
        if base <= 1 or exp * len(match.group(1)) <= MAX_DIGITS:
            return Num(Fraction(base**exp))
        return None
    match = _SCI_RE.match(s)
    if match:
        mantissa = _decimal(match.group(1))
        exp = int(match.group(2))
        if mantissa is None or abs(exp) > _MAX_EXPONENT:
            return None
        scale = Fraction(10) ** exp
        if mantissa.ulp is None:
            return Num(mantissa.value * scale)
        return Num(mantissa.value * scale, mantissa.ulp * scale, mantissa.sig)
    if s.lower() in _WORDS:
        return Num(Fraction(_WORDS[s.lower()]))
    value = _chinese(s)
    if value is not None:
        return Num(Fraction(value))
    return None


def parse_number(s: str) -> Num | None:
    """A plain number (integer, decimal, fraction, mixed number, scientific, percent), or None."""
    s = s.strip()
    if not s or len(s) > MAX_DIGITS + 50:
        return None
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    sign = 1
    while s[:1] in ("-", "+"):
        sign = -sign if s[0] == "-" else sign
        s = s[1:].lstrip()
    if s.startswith("{") and s.endswith("}") and s.count("{") == 1:
        s = s[1:-1]
    if " " in s and not _MIXED_RE.match(s):
        if _DIGITS_AND_SPACES_RE.match(s) and not _SPACED_THOUSANDS_RE.match(s):
            return None  # "4 2" is two numbers, not 42; "1 000" is a thousand
        s = s.replace(" ", "")
    if not s:
        return None
    num = _unsigned(s)
    if num is None:
        return None
    if sign < 0:
        num = Num(-num.value, num.ulp, num.sig)
    return Num(num.value, num.ulp, num.sig, percent) if percent else num


def _float_noise(gold: Num, pred: Num, policy: NumericPolicy) -> bool:
    """A printed machine float (12+ significant digits) that differs only in its last bits: 5.000000000000002."""
    if not any(n.ulp is not None and n.sig >= _FLOAT_DIGITS for n in (gold, pred)):
        return False
    scale = max(abs(gold.value), abs(pred.value))
    return abs(gold.value - pred.value) <= scale * policy.noise


def _rounded_or_truncated(gold: Num, pred: Num, digits: int) -> bool:
    """`pred` (a decimal with `digits`+ significant digits) is `gold` rounded (2/3 as 0.667) or truncated (0.666)."""
    if pred.sig < digits:
        return False
    diff = abs(gold.value - pred.value)
    if diff <= pred.ulp / 2:
        return True
    toward_zero = (gold.value - pred.value) * (1 if pred.value >= 0 else -1)
    return 0 <= toward_zero < pred.ulp


def _close(gold: Num, pred: Num, policy: NumericPolicy) -> bool:
    if gold.value == pred.value or _float_noise(gold, pred, policy):
        return True
    gold_ulp, pred_ulp = gold.ulp or 0, pred.ulp or 0
    if not gold_ulp and not pred_ulp:
        return False  # both exact
    diff = abs(gold.value - pred.value)
    if gold_ulp >= pred_ulp:  # the gold is the coarser side: it was rounded, the prediction must round to it
        return gold.sig >= _GOLD_ROUNDING_DIGITS and diff <= gold_ulp / 2
    if gold.ulp is None and gold.value.denominator == 1 and policy.exact_integers:
        return False  # an integer gold: only its value (42.0) counts
    if policy.rounded_digits is not None and _rounded_or_truncated(gold, pred, policy.rounded_digits):
        return True  # the lenient policy: enough significant digits, rounded or truncated
    return diff <= policy.relative * abs(gold.value) and _rounded_or_truncated(gold, pred, 1)


def numbers_equal(gold: Num, pred: Num, policy: NumericPolicy = DEFAULT_POLICY) -> bool:
    """Whether two numbers are the same answer (gold first: the coarser side decides the tolerance)."""
    if gold.percent == pred.percent:
        return _close(gold, pred, policy)
    hundredth = Fraction(1, 100)
    if gold.percent:  # 25% vs 25 or 0.25
        return _close(Num(gold.value, gold.ulp, gold.sig), pred, policy) or _close(
            gold.scaled(hundredth), pred, policy
        )
    return _close(gold, Num(pred.value, pred.ulp, pred.sig), policy) or _close(gold, pred.scaled(hundredth), policy)


def format_num(num: Num) -> str:
    """Canonical text of a number: `18`, `-1/2`, decimals as written without trailing zeros, `25%`."""
    value = num.value
    if num.ulp is None or (value.denominator == 1 and num.ulp >= 1):
        text = str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    else:
        places = len(str(num.ulp.denominator)) - 1
        sign = "-" if value < 0 else ""
        whole, frac = divmod(int(abs(value) * 10**places), 10**places)
        text = f"{sign}{whole}.{str(frac).zfill(places)}".rstrip("0").rstrip(".") if places else f"{sign}{whole}"
    return text + ("%" if num.percent else "")
