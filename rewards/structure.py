"""Answers as small trees, decided from the cleaned string alone (no sympy).

The tree says what kind of object an answer is, which decides how two answers are compared: a tuple `(1, 2)` is
ordered, a set `\\{1, 2\\}` or a list `1, 2` is not, `(1, 2]` is an interval (so is `1 < x \\le 2`), `x = 3` is the
assignment of 3, `3 \\pm \\sqrt{2}` is a two-element set, `(C)` is a multiple-choice letter and `Monday` is a text
answer. Labels are assignments (`AB = 4`, `V_1:V_2 = 11:21`, `(p, q) = (3, 2)`): a labelled answer equals its
value, and `AB = 4, CD = 5` equals the list `4, 5` in written order. Tuples joined by "or" are alternatives
(`(11, 7) or (7, 11)`), and `{1, 3}` (LaTeX grouping, which prints as 1, 3) is the list `1, 3`. Leaves keep their
LaTeX and, when they are plain numbers, a parsed `Num`; everything else is for sympy.

Trap: `(1, 2)` is both a point and an open interval; it stays a tuple and `compare` lets it equal either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rewards.normalize import strip_units
from rewards.numbers import Num, format_num, parse_number

__all__ = [
    "Assign",
    "Choice",
    "Interval",
    "Leaf",
    "Matrix",
    "Node",
    "Relation",
    "Seq",
    "System",
    "Union",
    "as_interval",
    "canonical",
    "parse_answer",
]

MAX_ITEMS = 100
_MAX_DEPTH = 8


_KEY_SPACE_RE = re.compile(r"(?<!\d) +| +(?!\d)")


def space_key(text: str) -> str:
    """`text` without spaces, except between two digits (`4 2` is not 42; `1 000` is parsed as a number)."""
    return _KEY_SPACE_RE.sub("", text) if " " in text else text


@dataclass(frozen=True, slots=True)
class Leaf:
    text: str
    num: Num | None = None
    is_text: bool = False

    @property
    def key(self) -> str:
        return space_key(self.text)


@dataclass(frozen=True, slots=True)
class Choice:
    letter: str


@dataclass(frozen=True, slots=True)
class Seq:
    # "tuple" (ordered), "set" (\{...\} or \pm), "list" (bare commas, "or", "and": unordered), "or" (tuples
    # joined by "or": alternatives, `(11, 7) or (7, 11)`; a list otherwise)
    kind: str
    items: tuple
    brackets: str = ""


@dataclass(frozen=True, slots=True)
class Interval:
    lo: Leaf
    hi: Leaf
    lo_open: bool
    hi_open: bool


@dataclass(frozen=True, slots=True)
class Union:
    parts: tuple


@dataclass(frozen=True, slots=True)
class Matrix:
    rows: tuple


@dataclass(frozen=True, slots=True)
class Relation:
    op: str  # "=", "<", "\\le", "\\neq"; ">" and "\\ge" are flipped to these
    lhs: str
    rhs: str


@dataclass(frozen=True, slots=True)
class Assign:
    var: str
    value: object


@dataclass(frozen=True, slots=True)
class System:
    assigns: tuple  # Assign nodes in written order (`AB = 4, CD = 5` is also the tuple 4, 5)


Node = Leaf | Choice | Seq | Interval | Union | Matrix | Relation | Assign | System

INFINITY = Leaf("\\infty")
NEG_INFINITY = Leaf("-\\infty")
_INFINITIES = {"\\infty": INFINITY, "+\\infty": INFINITY, "infty": INFINITY, "oo": INFINITY, "-\\infty": NEG_INFINITY}
_OPEN, _CLOSE = "([{", ")]}"
_CHOICE_RE = re.compile(r"^\(([A-E])\)(?:\s.*)?$|^([A-E])(?:[.):]\s*.*)?$|^(?i:option|choice)\s*\(?([A-E])\)?$")
_MATRIX_RE = re.compile(r"^\\begin\{([pbvBV]?matrix|array)\}(?:\{[^{}]*\})?(.*)\\end\{\1\}$", re.S)
_LIST_SEP_RE = re.compile(r",|;|\s+(?:or|and)\s+|\\quad|\\text\{\s*(?:or|and)\s*\}")
_RELATION_RE = re.compile(r"\\le(?![a-zA-Z])|\\ge(?![a-zA-Z])|\\neq(?![a-zA-Z])|\\in(?![a-zA-Z])|<|>|=")
_UNION_RE = re.compile(r"\\cup(?![a-zA-Z])|\s+U\s+")
_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?%?$")
_NAME = r"(?:[a-zA-Z]{1,12}|\\[a-zA-Z]+)(?:_\{?\w+\}?)?(?:'|\^\{?\\prime\}?)?"
# a label: `x`, `AB`, `f(2)`, `x_1'`, `(p, q)`, a ratio of names `V_1:V_2`, an angle `m\angle B`
_VAR_RE = re.compile(
    rf"^{_NAME}(?:\([a-zA-Z0-9, ]*\))?$|^\(\s*[a-zA-Z](?:\s*,\s*[a-zA-Z])+\s*\)$|^{_NAME}(?:\s*:\s*{_NAME})+$"
    r"|^(?:m\s*)?\\angle\s*[A-Z]{1,3}$"
)
_OR_RE = re.compile(r"^\s*(?:or|\\text\{\s*or\s*\})\s*$")
_TIME_RE = re.compile(r"^\d{1,2}:\d{2}\s*(?:[ap]\.?\s*m\.?)?$", re.I)
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[A-Za-z]{3,}")
_MATH_CHARS = set("+*/^=_{}<>\\|")
_MATH_WORD_LIST = (
    "sin cos tan cot sec csc log ln exp sqrt frac pi lim max min gcd lcm mod det arcsin arccos arctan sinh cosh tanh "
    "infty cdot times binom deg"
)
_MATH_WORDS = frozenset(_MATH_WORD_LIST.split())
_FLIP = {">": "<", "\\ge": "\\le"}


def _closing(s: str, i: int) -> int:
    """Index of the bracket closing the one at `i` (any bracket type closes any: intervals mix them)."""
    depth = 0
    for j in range(i, len(s)):
        if s[j] in _OPEN:
            depth += 1
        elif s[j] in _CLOSE:
            depth -= 1
            if depth == 0:
                return j
    return -1


def _split_top(s: str, pattern: re.Pattern, seps: list[str] | None = None) -> list[str]:
    """Split at matches of `pattern` that are outside every bracket (the separators go to `seps`)."""
    depth_at = []
    depth = 0
    for c in s:
        if c in _CLOSE:
            depth -= 1
        depth_at.append(depth)
        if c in _OPEN:
            depth += 1
    parts, start = [], 0
    for match in pattern.finditer(s):
        if depth_at[match.start()] == 0 and match.start() >= start:
            parts.append(s[start : match.start()])
            start = match.end()
            if seps is not None:
                seps.append(match.group())
    parts.append(s[start:])
    return [p.strip() for p in parts]


def _is_text(s: str) -> bool:
    if _TIME_RE.match(s):
        return True
    if _CJK_RE.search(s):
        return True
    if any(c in _MATH_CHARS for c in s):
        return False
    return any(w.lower() not in _MATH_WORDS for w in _WORD_RE.findall(s))


def _leaf(s: str, depth: int) -> Node:
    s = s.strip()
    while s.startswith("{") and s.endswith("}") and _closing(s, 0) == len(s) - 1:
        s = s[1:-1].strip()
    if s in _INFINITIES:
        return _INFINITIES[s]
    pm = s.count("\\pm") + s.count("\\mp")
    if 0 < pm <= 2 and depth < _MAX_DEPTH:
        at = min(i for i in (s.find("\\pm"), s.find("\\mp")) if i >= 0)
        signs = ("+", "-") if s.startswith("\\pm", at) else ("-", "+")
        head, tail = s[:at].rstrip(), s[at + 3 :]
        variants = [parse_answer(f"{head}{sign}{tail}" if head else f"{sign}{tail}", depth + 1) for sign in signs]
        items = []
        for variant in variants:
            items.extend(variant.items if isinstance(variant, Seq) and variant.kind == "set" else [variant])
        return Seq("set", tuple(items))
    if _TIME_RE.match(s):
        return Leaf(s, None, True)  # 4:30 pm: "pm" is not a unit to strip
    s = strip_units(s)
    num = parse_number(s)
    if num is not None:
        return Leaf(s, num)
    return Leaf(s, None, _is_text(s))


def _bound(s: str, depth: int) -> Leaf:
    node = _leaf(s, depth)
    return node if isinstance(node, Leaf) else Leaf(s)


def _interval_from_relation(parts: list[str], ops: list[str], depth: int) -> Node | None:
    if len(parts) == 2:
        (left, right), op = parts, ops[0]
        if _VAR_RE.match(left):
            var, bound, upper = left, right, op in ("<", "\\le")
        elif _VAR_RE.match(right):
            var, bound, upper = right, left, op in (">", "\\ge")
        else:
            return None
        strict = op in ("<", ">")
        b = _bound(bound, depth)
        return Assign(var, Interval(NEG_INFINITY, b, True, strict) if upper else Interval(b, INFINITY, strict, True))
    if len(parts) == 3 and _VAR_RE.match(parts[1]):
        ascending = all(op in ("<", "\\le") for op in ops)
        descending = all(op in (">", "\\ge") for op in ops)
        if not (ascending or descending):
            return None
        lo, hi = (parts[0], parts[2]) if ascending else (parts[2], parts[0])
        lo_op, hi_op = (ops[0], ops[1]) if ascending else (ops[1], ops[0])
        return Assign(
            parts[1], Interval(_bound(lo, depth), _bound(hi, depth), lo_op in ("<", ">"), hi_op in ("<", ">"))
        )
    return None


def _relation(s: str, depth: int) -> Node | None:
    ops: list[str] = []
    parts = _split_top(s, _RELATION_RE, ops)
    if len(parts) < 2 or not all(parts):
        return None
    if all(op == "=" for op in ops):
        if _VAR_RE.match(parts[0]):
            return Assign(parts[0], parse_answer(parts[-1], depth + 1))
        if not re.search(r"[a-zA-Z]", parts[0]) or len(parts) > 2:  # "3 + 4 = 7": the value is the last part
            return parse_answer(parts[-1], depth + 1)
        return Relation("=", parts[0], parts[1])
    if ops == ["\\in"] and _VAR_RE.match(parts[0]):
        return Assign(parts[0], parse_answer(parts[1], depth + 1))
    if all(op in ("<", ">", "\\le", "\\ge") for op in ops):
        interval = _interval_from_relation(parts, ops, depth)
        if interval is not None:
            return interval
        if len(parts) == 2:
            op = ops[0]
            lhs, rhs = (parts[1], parts[0]) if op in _FLIP else (parts[0], parts[1])
            return Relation(_FLIP.get(op, op), lhs, rhs)
    if ops == ["\\neq"]:
        return Relation("\\neq", parts[0], parts[1])
    return None


def _matrix(body: str, depth: int) -> Matrix:
    rows = [r for r in (row.strip() for row in re.split(r"\\\\", body)) if r and r != "\\hline"]
    return Matrix(tuple(tuple(parse_answer(cell, depth + 1) for cell in row.split("&")) for row in rows))


def _items(body: str, depth: int) -> tuple:
    return tuple(parse_answer(part, depth + 1) for part in _split_top(body, re.compile(",")) if part)


def _is_tuple(node: Node) -> bool:
    return isinstance(node, Seq) and node.kind == "tuple" and len(node.items) > 1


def parse_answer(s: str, depth: int = 0) -> Node:
    """The tree of a cleaned answer string (see the module docstring)."""
    s = s.strip()
    while s.startswith("{") and s.endswith("}") and _closing(s, 0) == len(s) - 1:
        s = s[1:-1].strip()  # {1, 3}: LaTeX grouping (it prints 1, 3), not a set
    if depth >= _MAX_DEPTH or not s:
        return Leaf(s)
    if depth == 0:
        match = _CHOICE_RE.match(s)
        if match:
            return Choice(next(g for g in match.groups() if g).upper())
    match = _MATRIX_RE.match(s)
    if match:
        return _matrix(match.group(2), depth)
    if s.startswith("\\{") and s.endswith("\\}") and _closing(s, 1) == len(s) - 1:
        return Seq("set", _items(s[2:-2], depth), "{}")
    if s[0] in "([" and s[-1] in ")]" and _closing(s, 0) == len(s) - 1:
        inner = s[1:-1].strip()
        items = _items(inner, depth)
        if len(items) == 1 and "," not in inner:
            return parse_answer(inner, depth + 1)
        if len(items) == 2 and all(isinstance(i, Leaf) for i in items):
            lo, hi = items
            if s[0] + s[-1] in ("(]", "[)") or lo is NEG_INFINITY or hi is INFINITY:
                return Interval(lo, hi, s[0] == "(", s[-1] == ")")
        if len(items) > MAX_ITEMS:
            return Leaf(s)
        return Seq("tuple", items, s[0] + s[-1])
    if not _THOUSANDS_RE.match(s):
        seps: list[str] = []
        parts = [p for p in _split_top(s, _LIST_SEP_RE, seps) if p]
        if len(parts) > 1:
            if len(parts) > MAX_ITEMS:
                return Leaf(s)
            items = tuple(parse_answer(p, depth + 1) for p in parts)
            names = [i.var.lower() for i in items if isinstance(i, Assign)]
            if len(names) == len(items) and len(set(names)) == len(names):
                return System(items)
            if all(_OR_RE.match(sep) for sep in seps) and all(_is_tuple(i) for i in items):
                return Seq("or", items)
            if len(names) == len(items) and len(set(names)) == 1 and all(isinstance(i.value, Interval) for i in items):
                return Assign(items[0].var, Union(tuple(i.value for i in items)))  # x < -2 or x > 3
            return Seq("list", items)
    relation = _relation(s, depth)
    if relation is not None:
        return relation
    parts = _split_top(s, _UNION_RE)
    if len(parts) > 1:
        nodes = [parse_answer(p, depth + 1) for p in parts]
        intervals = [as_interval(n) for n in nodes]
        if all(i is not None for i in intervals):
            return Union(tuple(intervals))
    return _leaf(s, depth)


def as_interval(node: Node) -> Interval | None:
    """`node` as an interval: itself, or a 2-tuple `(a, b)` / `[a, b]` read as open / closed; else None."""
    if isinstance(node, Interval):
        return node
    if isinstance(node, Seq) and node.kind == "tuple" and len(node.items) == 2 and node.brackets in ("()", "[]"):
        lo, hi = node.items
        if isinstance(lo, Leaf) and isinstance(hi, Leaf):
            return Interval(lo, hi, node.brackets == "()", node.brackets == "()")
    return None


_SPACE_RE = re.compile(r"(?<![a-zA-Z])\s+|\s+(?![a-zA-Z])")


def canonical(node: Node) -> str:
    """A string for `node` that parses back to an equal tree (used to store and group answers)."""
    if isinstance(node, Leaf):
        if node.num is not None:
            return format_num(node.num)
        if node.is_text:
            return " ".join(node.text.casefold().split())
        return _SPACE_RE.sub("", node.text)
    if isinstance(node, Choice):
        return node.letter
    if isinstance(node, Seq):
        items = [canonical(i) for i in node.items]
        if node.kind == "tuple":
            return f"{node.brackets[:1]}{','.join(items)}{node.brackets[1:]}"
        body = ",".join(sorted(items))
        return f"\\{{{body}\\}}" if node.kind == "set" and node.brackets else body
    if isinstance(node, Interval):
        lo, hi = canonical(node.lo), canonical(node.hi)
        return f"{'(' if node.lo_open else '['}{lo},{hi}{')' if node.hi_open else ']'}"
    if isinstance(node, Union):
        return "\\cup".join(canonical(p) for p in node.parts)
    if isinstance(node, Matrix):
        rows = "\\\\".join("&".join(canonical(c) for c in row) for row in node.rows)
        return f"\\begin{{pmatrix}}{rows}\\end{{pmatrix}}"
    if isinstance(node, Relation):
        return f"{_SPACE_RE.sub('', node.lhs)}{node.op}{_SPACE_RE.sub('', node.rhs)}"
    if isinstance(node, Assign):
        return canonical(node.value)
    if isinstance(node, System):
        return ",".join(f"{a.var}={canonical(a.value)}" for a in sorted(node.assigns, key=lambda a: a.var.lower()))
    raise TypeError(f"not an answer node: {node!r}")
