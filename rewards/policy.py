"""The numeric policy: when a written decimal counts as the exact answer. A frozen config, like math-verify's.

Why a policy at all: as an RL reward, accepting `1.414` for `\\sqrt{2}` or `6.28` for `2\\pi` teaches a model to
round exact answers. So by default:

- integers and exact values (fractions, radicals, pi) on both sides compare exactly (500 is not 5);
- a decimal prediction matches an exact non-integer gold (a fraction, a radical, pi) only within a tight relative
  tolerance, `relative_tolerance` = 1e-6 (`1.41421356` is `\\sqrt{2}`; `1.414` is not, `0.333` is not 1/3), and only
  when its digits are the gold's, rounded or truncated at its last digit (`1.4142137` is not `\\sqrt{2}` though it
  is within 1e-6: its last digit is wrong);
- an integer gold is matched only by the same value (`42.0` is 42, `41.9999` is not) unless `exact_integers` is off;
- a decimal gold (the problem asked to round) accepts a prediction that rounds to it (`3.1416` for gold `3.14`),
  when the gold shows at least 3 significant digits;
- a printed machine float (12+ significant digits, `0.30000000000000004`) may differ by `float_noise`, relative.

`rounded_digits=3` restores the lenient grading of earlier versions (and of many eval harnesses): a decimal with at
least that many significant digits also counts when it is the gold rounded or truncated to its last digit
(`0.333` for 1/3, `0.667` or `0.666` for 2/3, `1.414` for `\\sqrt{2}`).

Pass a policy as `rewards.verify(gold, completion, policy)`, `rewards.grade(..., config=policy)` or
`rewards.get("math_accuracy", config=policy)` (the TRL reward factory).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import cached_property

__all__ = ["DEFAULT_POLICY", "NumericPolicy"]


@dataclass(frozen=True)
class NumericPolicy:
    """How close a written decimal must be to an exact value (see the module docstring)."""

    relative_tolerance: float = 1e-6
    exact_integers: bool = True
    rounded_digits: int | None = None
    float_noise: float = 1e-9

    def __post_init__(self) -> None:
        for name in ("relative_tolerance", "float_noise"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"NumericPolicy.{name} must be a number in [0, 1), got {value!r}")
        if self.rounded_digits is not None and (not isinstance(self.rounded_digits, int) or self.rounded_digits < 1):
            raise ValueError(
                f"NumericPolicy.rounded_digits must be a positive integer or None, got {self.rounded_digits!r}"
            )
        if not isinstance(self.exact_integers, bool):
            raise ValueError(f"NumericPolicy.exact_integers must be a bool, got {self.exact_integers!r}")

    @cached_property
    def relative(self) -> Fraction:
        return Fraction(str(self.relative_tolerance))  # decimal semantics: 1e-6 is exactly one millionth

    @cached_property
    def noise(self) -> Fraction:
        return Fraction(str(self.float_noise))

    def to_dict(self) -> dict:
        """Plain values (sent to the worker processes with each request)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict | None) -> NumericPolicy:
        return DEFAULT_POLICY if not values else cls(**values)


DEFAULT_POLICY = NumericPolicy()
