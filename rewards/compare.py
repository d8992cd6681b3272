"""Compare two answer trees with three-valued logic: True, False, or None ("needs sympy").

The same walk runs twice: in the calling process with `FAST` (numbers, text, choices; no sympy, microseconds) and,
only when that returns None, in a watchdog worker with a sympy comparator for the undecided leaves. A structural
mismatch (a tuple against a set, `(1, 2)` against `[1, 2]`, three items against two) is decided without sympy.

`compare` is not symmetric in one place: a gold decimal sets the tolerance (see `rewards.numbers`).
"""

from __future__ import annotations

import re
from typing import Protocol

from rewards.normalize import text_key
from rewards.numbers import numbers_equal
from rewards.policy import DEFAULT_POLICY, NumericPolicy
from rewards.structure import (
    INFINITY,
    NEG_INFINITY,
    Assign,
    Choice,
    Interval,
    Leaf,
    Matrix,
    Node,
    Relation,
    Seq,
    System,
    Union,
    as_interval,
    canonical,
    parse_answer,
)

__all__ = ["FAST", "Comparator", "FastComparator", "compare"]

_INFINITY_KEYS = {INFINITY.key, NEG_INFINITY.key}
_SET_NOTATION_RE = re.compile(r"\\(?:setminus|cap|cup|mathbb|emptyset|varnothing)(?![a-zA-Z])")


def _set_notation(node: Node) -> bool:
    """A leaf our trees do not model (`(0, 36) \\setminus \\{9\\}`, `\\mathbb{R}`): sympy compares it as a set."""
    return isinstance(node, Leaf) and node.num is None and bool(_SET_NOTATION_RE.search(node.text))


class Comparator(Protocol):
    def leaf(self, gold: Leaf, pred: Leaf) -> bool | None: ...

    def relation(self, gold: Relation, pred: Relation) -> bool | None: ...

    def sets(self, gold: str, pred: str) -> bool | None: ...


class FastComparator:
    """Decides what needs no sympy; None for the rest."""

    def __init__(self, policy: NumericPolicy = DEFAULT_POLICY) -> None:
        self.policy = policy

    def leaf(self, gold: Leaf, pred: Leaf) -> bool | None:
        if gold.key == pred.key:
            return True
        if gold.key in _INFINITY_KEYS or pred.key in _INFINITY_KEYS:
            return False
        if gold.num is not None and pred.num is not None:
            return numbers_equal(gold.num, pred.num, self.policy)
        if gold.is_text or pred.is_text:
            key = text_key(gold.text)
            if key and key == text_key(pred.text):
                return True
            if (gold.is_text and pred.is_text) or gold.num is not None or pred.num is not None:
                return False
        return None

    def relation(self, gold: Relation, pred: Relation) -> bool | None:
        if gold.op != pred.op:
            return False
        if gold.lhs.replace(" ", "") == pred.lhs.replace(" ", "") and gold.rhs.replace(" ", "") == pred.rhs.replace(
            " ", ""
        ):
            return True
        return None

    def sets(self, gold: str, pred: str) -> bool | None:
        return None


FAST = FastComparator()


def _all(results) -> bool | None:
    """Three-valued AND that stops at the first False."""
    undecided = False
    for result in results:
        if result is False:
            return False
        if result is None:
            undecided = True
    return None if undecided else True


def _any(results) -> bool | None:
    """Three-valued OR."""
    undecided = False
    for result in results:
        if result is True:
            return True
        if result is None:
            undecided = True
    return None if undecided else False


def _same_elements(table: list[list[bool | None]]) -> bool | None:
    """Set equality from a gold x pred table: every gold item is some prediction and every prediction some gold
    item (so `\\{1, 2, 2\\}` is `\\{1, 2\\}`, as sets are)."""
    return _all([_any(row) for row in table] + [_any(column) for column in zip(*table)])


def _unordered(gold: tuple, pred: tuple, cmp: Comparator) -> bool | None:
    return _same_elements([[compare(g, p, cmp) for p in pred] for g in gold])


def _ordered(gold: tuple, pred: tuple, cmp: Comparator) -> bool | None:
    if len(gold) != len(pred):
        return False
    return _all(compare(g, p, cmp) for g, p in zip(gold, pred))


def _seq(gold: Seq, pred: Seq, cmp: Comparator) -> bool | None:
    kinds = {"list" if kind == "or" else kind for kind in (gold.kind, pred.kind)}
    if kinds == {"tuple"}:
        if len(gold.items) == 2 and {gold.brackets, pred.brackets} == {"()", "[]"}:
            return False  # (1, 2) and [1, 2] differ as intervals; as points nobody writes [1, 2]
        return _ordered(gold.items, pred.items, cmp)
    if "tuple" in kinds:
        braced_set = (gold.kind == "set" and gold.brackets) or (pred.kind == "set" and pred.brackets)
        if braced_set:
            return False  # {1, 2} is not the point (1, 2)
        return _ordered(gold.items, pred.items, cmp)  # (1, 2) written without brackets: keep the order
    return _unordered(gold.items, pred.items, cmp)


def _cells(node: Matrix | Seq) -> tuple:
    return tuple(cell for row in node.rows for cell in row) if isinstance(node, Matrix) else node.items


def _matrices(gold: Node, pred: Node, cmp: Comparator) -> bool | None:
    """Same shape and equal cells; a row or column vector also equals a tuple of its cells."""
    if isinstance(gold, Matrix) and isinstance(pred, Matrix):
        if [len(row) for row in gold.rows] != [len(row) for row in pred.rows]:
            return False
        return _ordered(_cells(gold), _cells(pred), cmp)
    matrix, other = (gold, pred) if isinstance(gold, Matrix) else (pred, gold)
    vector = len(matrix.rows) == 1 or all(len(row) == 1 for row in matrix.rows)
    if not (vector and isinstance(other, Seq) and other.kind == "tuple"):
        return False
    return _ordered(_cells(gold), _cells(pred), cmp)


def _as_relation(node: Assign) -> Relation | None:
    if isinstance(node.value, Leaf):
        return Relation("=", node.var, node.value.text)
    return None


def compare(gold: Node, pred: Node, cmp: Comparator) -> bool | None:
    """Whether `pred` is the same answer as `gold`: True, False, or None when `cmp` cannot decide."""
    if isinstance(gold, Assign) and isinstance(pred, Assign):
        if gold.var.replace(" ", "").lower() == pred.var.replace(" ", "").lower():
            return compare(gold.value, pred.value, cmp)
        gold_relation, pred_relation = _as_relation(gold), _as_relation(pred)
        if gold_relation and pred_relation and (gold.value.num is None or pred.value.num is None):
            return cmp.relation(gold_relation, pred_relation)  # y = x + 1 is x = y - 1
        return False  # x = 1 is not y = 1
    if isinstance(gold, Relation) and isinstance(pred, Assign) and _as_relation(pred):
        return cmp.relation(gold, _as_relation(pred))
    if isinstance(pred, Relation) and isinstance(gold, Assign) and _as_relation(gold):
        return cmp.relation(_as_relation(gold), pred)
    if isinstance(pred, Assign):
        return compare(gold, pred.value, cmp)
    if isinstance(gold, Assign):
        return compare(gold.value, pred, cmp)
    if isinstance(gold, Leaf) and isinstance(pred, Leaf):
        return cmp.leaf(gold, pred)
    if _set_notation(gold) or _set_notation(pred):
        return cmp.sets(canonical(gold), canonical(pred))
    if isinstance(gold, Choice) or isinstance(pred, Choice):
        letters = [n.letter if isinstance(n, Choice) else n.text.strip("() ").upper() for n in (gold, pred)]
        other = pred if isinstance(gold, Choice) else gold
        if isinstance(other, (Choice, Leaf)):
            return letters[0] == letters[1]
        return False
    if isinstance(gold, Seq) and gold.kind == "or" and not (isinstance(pred, Seq) and pred.kind in ("list", "or")):
        return _any(compare(item, pred, cmp) for item in gold.items)  # (11, 7) or (7, 11): either one
    if isinstance(gold, Seq) and isinstance(pred, Seq):
        return _seq(gold, pred, cmp)
    if isinstance(gold, Seq) and len(gold.items) == 1:
        return compare(gold.items[0], pred, cmp)
    if isinstance(pred, Seq) and len(pred.items) == 1:
        return compare(gold, pred.items[0], cmp)
    if isinstance(gold, Leaf) and isinstance(pred, Seq) and pred.kind in ("list", "or"):
        # `3/2 or 1.5`: one answer restated, right when every item is; a hedge (`3 or 4`) is wrong
        return _all(compare(gold, item, cmp) for item in pred.items)
    if isinstance(gold, (Interval, Union)) or isinstance(pred, (Interval, Union)):
        return _intervals(gold, pred, cmp)
    if isinstance(gold, Matrix) or isinstance(pred, Matrix):
        return _matrices(gold, pred, cmp)
    if isinstance(gold, System) and isinstance(pred, System):
        gold_assigns, pred_assigns = _by_name(gold), _by_name(pred)
        if [_name(a) for a in gold_assigns] != [_name(a) for a in pred_assigns]:
            return False
        return _ordered(tuple(a.value for a in gold_assigns), tuple(a.value for a in pred_assigns), cmp)
    # labels on one side only (`AB = 4, CD = 5` vs `4, 5`): the values in written order
    if isinstance(gold, System) and isinstance(pred, Seq) and pred.kind in ("tuple", "list"):
        return _ordered(tuple(a.value for a in gold.assigns), pred.items, cmp)
    if isinstance(pred, System) and isinstance(gold, Seq) and gold.kind in ("tuple", "list"):
        return _ordered(gold.items, tuple(a.value for a in pred.assigns), cmp)
    if isinstance(gold, Relation) and isinstance(pred, Relation):
        return cmp.relation(gold, pred)
    if isinstance(pred, Relation) and pred.op == "=" and isinstance(gold, Leaf) and gold.num is not None:
        value = parse_answer(pred.rhs)  # `a^2 = 9` for the number 9: the expression asked for, and its value
        return compare(gold, value, cmp) if isinstance(value, Leaf) and value.num is not None else False
    return False


def _name(assign: Assign) -> str:
    return assign.var.replace(" ", "").lower()


def _by_name(system: System) -> tuple:
    return tuple(sorted(system.assigns, key=_name))


def _intervals(gold: Node, pred: Node, cmp: Comparator) -> bool | None:
    gold_parts = gold.parts if isinstance(gold, Union) else (as_interval(gold),)
    pred_parts = pred.parts if isinstance(pred, Union) else (as_interval(pred),)
    if None in gold_parts or None in pred_parts:
        return False

    def one(g: Interval, p: Interval) -> bool | None:
        if g.lo_open != p.lo_open or g.hi_open != p.hi_open:
            return False
        return _all((cmp.leaf(g.lo, p.lo), cmp.leaf(g.hi, p.hi)))

    return _same_elements([[one(g, p) for p in pred_parts] for g in gold_parts])
