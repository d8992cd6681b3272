"""Small notation rules: ways of writing the same answer that the cleanup and the trees need told apart.

Each rule is one function with its own table of cases in `tests/rewards/test_notations.py`:

- `ordinal_suffix` (string, in `clean`): `12^{th}`, `12^{\\text{th}}`, `21st`, `3rd` are 12, 21, 3; the word after
  (`12^{th} grade`) is then a unit that `strip_units` removes.
- `decimal_comma` (pair): `3,5` is 3.5 when the other side is the decimal 3.5 and the comma is not followed by
  exactly three digits (`1,000` stays a thousand; `3, 5` with a space stays a list). `3{,}5` is the same.
- `named_set` (string, in `clean`): "all real numbers", `\\mathbb{R}` and `(-\\infty, \\infty)` are one interval;
  "no solution", "no real solutions" and `\\{\\}` are `\\emptyset`.
- repeating decimals (`0.\\overline{6}` = 2/3) are exact numbers (`rewards.numbers`).
- thousands separators are handled where numbers are parsed: `32,\\!349`, `32\\,349`, `1~000`, `1\\ 000` and
  `1 000` are 32349 and 1000 (`rewards.numbers`: spaces join digits only in groups of three).
- inequality chains vs intervals, `\\pm` vs two-element sets, labels (`AB = 4`, `V_1:V_2 = 11:21`,
  `(p, q) = (3, 2)`), alternatives (`(11, 7) or (7, 11)`) and `{1, 3}` as LaTeX grouping live in
  `rewards.structure` / `rewards.compare`; their tables are in the same test module.
"""

from __future__ import annotations

import re

__all__ = ["decimal_comma", "named_set", "ordinal_suffix", "rewrite_pair"]

_ORDINAL_RE = re.compile(r"(\d)\s*(?:\^\s*\{\s*(?:st|nd|rd|th)\s*\}|\^\s*(?:st|nd|rd|th)|(?:st|nd|rd|th))(?![A-Za-z])")
_REALS_RE = re.compile(
    r"^(?:all\s+real\s+numbers|all\s+reals|the\s+real\s+numbers|\\mathbb\s*\{?R\}?|\\R|"
    r"\(\s*-\s*\\infty\s*,\s*\+?\s*\\infty\s*\)|x\s*\\in\s*\\mathbb\s*\{?R\}?)$",
    re.I,
)
_EMPTY_RE = re.compile(r"^(?:no\s+(?:real\s+)?solutions?|there\s+(?:is|are)\s+no\s+solutions?|\\emptyset)$", re.I)
_DECIMAL_RE = re.compile(r"^[-+]?\d+\.\d+$")
_COMMA_DECIMAL_RE = re.compile(r"^([-+]?\d+),(\d+)$")


def ordinal_suffix(s: str) -> str:
    """`12^{th}` -> `12`, `21st` -> `21` (run after `\\text{}` is unwrapped)."""
    if "st" not in s and "nd" not in s and "rd" not in s and "th" not in s:
        return s
    return _ORDINAL_RE.sub(r"\1", s)


def named_set(s: str) -> str:
    """The real line and the empty set, however they are named: `(-\\infty,\\infty)` and `\\emptyset`."""
    if _REALS_RE.match(s):
        return "(-\\infty,\\infty)"
    if _EMPTY_RE.match(s):
        return "\\emptyset"
    return s


def decimal_comma(decimal: str, other: str) -> str:
    """`other` with its decimal comma as a point when `decimal` is a decimal number and `other` reads as one."""
    if not _DECIMAL_RE.match(decimal):
        return other
    match = _COMMA_DECIMAL_RE.match(other)
    if match is None or len(match.group(2)) == 3:  # 1,000 is a thousand in the notation we grade
        return other
    return f"{match.group(1)}.{match.group(2)}"


def rewrite_pair(gold: str, pred: str) -> tuple[str, str]:
    """Pair rules on two cleaned answers: the rewritten pair (the same strings when no rule applies)."""
    return decimal_comma(pred, gold), decimal_comma(gold, pred)
