"""Formulas as small expression trees, so one formula renders both as LaTeX and as presentation MathML.

The demo pages write the same formula in whichever markup a site uses (MathJax, KaTeX, MathML, image alt text);
building each formula once as a tree keeps the LaTeX and the MathML in agreement. Generators per topic draw random
coefficients and return true statements (a worked example's roots really are the roots).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from html import escape

__all__ = ["FORMULAS", "Expr", "formula"]

_GREEK = {"pi": "π", "theta": "θ", "alpha": "α", "beta": "β", "mu": "μ", "sigma": "σ", "lambda": "λ"}
_OPERATOR_NAMES = ("sin", "cos", "log", "ln", "exp", "gcd")
_OPS = {
    "+": "+",
    "-": "−",
    "=": "=",
    "\\cdot": "·",
    "\\le": "≤",
    "\\ge": "≥",
    "<": "&lt;",
    ">": "&gt;",
    "\\pm": "±",
    "\\cup": "∪",
    "\\cap": "∩",
    "\\equiv": "≡",
    "\\to": "→",
    "\\approx": "≈",
    ",": ",",
    "\\circ": "∘",
}


class Expr:
    def latex(self) -> str:
        raise NotImplementedError

    def mathml(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Num(Expr):
    value: int | float | str

    def latex(self) -> str:
        return str(self.value)

    def mathml(self) -> str:
        return f"<mn>{self.value}</mn>"


@dataclass(frozen=True)
class Sym(Expr):
    name: str

    def latex(self) -> str:
        return f"\\{self.name}" if self.name in _GREEK else self.name

    def mathml(self) -> str:
        return f"<mi>{_GREEK.get(self.name, escape(self.name))}</mi>"


@dataclass(frozen=True)
class Op(Expr):
    symbol: str

    def latex(self) -> str:
        return self.symbol

    def mathml(self) -> str:
        return f"<mo>{_OPS.get(self.symbol, escape(self.symbol))}</mo>"


@dataclass(frozen=True)
class Row(Expr):
    items: tuple

    def latex(self) -> str:
        out = ""
        for item in self.items:
            text = item.latex()
            if isinstance(item, Op):
                out += f"{text} " if text == "," else f" {text} "
            elif out[-1:].isalpha() and text[:1].isalpha():
                out += " " + text  # keeps `\pi r` from becoming the undefined macro `\pir`
            else:
                out += text
        return " ".join(out.split())

    def mathml(self) -> str:
        return "<mrow>" + "".join(item.mathml() for item in self.items) + "</mrow>"


@dataclass(frozen=True)
class Frac(Expr):
    num: Expr
    den: Expr

    def latex(self) -> str:
        return f"\\frac{{{self.num.latex()}}}{{{self.den.latex()}}}"

    def mathml(self) -> str:
        return f"<mfrac>{self.num.mathml()}{self.den.mathml()}</mfrac>"


@dataclass(frozen=True)
class Pow(Expr):
    base: Expr
    exp: Expr

    def latex(self) -> str:
        return f"{self.base.latex()}^{{{self.exp.latex()}}}"

    def mathml(self) -> str:
        return f"<msup>{self.base.mathml()}{self.exp.mathml()}</msup>"


@dataclass(frozen=True)
class Sub(Expr):
    base: Expr
    index: Expr

    def latex(self) -> str:
        return f"{self.base.latex()}_{{{self.index.latex()}}}"

    def mathml(self) -> str:
        return f"<msub>{self.base.mathml()}{self.index.mathml()}</msub>"


@dataclass(frozen=True)
class Sqrt(Expr):
    body: Expr

    def latex(self) -> str:
        return f"\\sqrt{{{self.body.latex()}}}"

    def mathml(self) -> str:
        return f"<msqrt>{self.body.mathml()}</msqrt>"


@dataclass(frozen=True)
class Paren(Expr):
    body: Expr
    left: str = "("
    right: str = ")"

    def latex(self) -> str:
        return f"{self.left}{self.body.latex()}{self.right}"

    def mathml(self) -> str:
        return f"<mrow><mo>{self.left}</mo>{self.body.mathml()}<mo>{self.right}</mo></mrow>"


@dataclass(frozen=True)
class Func(Expr):
    name: str  # a LaTeX operator name (sin, log, gcd) or a function letter such as f, g' or P
    arg: Expr

    def latex(self) -> str:
        if self.name in _OPERATOR_NAMES:
            return f"\\{self.name} {self.arg.latex()}"
        return f"{self.name}({self.arg.latex()})"

    def mathml(self) -> str:
        if self.name in _OPERATOR_NAMES:
            return f"<mrow><mi>{self.name}</mi><mo>&#x2061;</mo>{self.arg.mathml()}</mrow>"
        return f"<mrow><mi>{escape(self.name)}</mi><mo>(</mo>{self.arg.mathml()}<mo>)</mo></mrow>"


@dataclass(frozen=True)
class Mod(Expr):
    modulus: Expr

    def latex(self) -> str:
        return f"\\pmod{{{self.modulus.latex()}}}"

    def mathml(self) -> str:
        return f'<mrow><mo>(</mo><mi>mod</mi><mspace width="0.3em"/>{self.modulus.mathml()}<mo>)</mo></mrow>'


@dataclass(frozen=True)
class Binom(Expr):
    n: Expr
    k: Expr

    def latex(self) -> str:
        return f"\\binom{{{self.n.latex()}}}{{{self.k.latex()}}}"

    def mathml(self) -> str:
        return f'<mrow><mo>(</mo><mfrac linethickness="0">{self.n.mathml()}{self.k.mathml()}</mfrac><mo>)</mo></mrow>'


@dataclass(frozen=True)
class BigOp(Expr):
    """Sum, integral or limit with limits below/above and a body."""

    kind: str  # sum | int | lim | prod
    lower: Expr | None
    upper: Expr | None
    body: Expr

    _MATHML = {"sum": "∑", "int": "∫", "prod": "∏", "lim": "lim"}

    def latex(self) -> str:
        out = f"\\{self.kind}"
        if self.lower is not None:
            out += f"_{{{self.lower.latex()}}}"
        if self.upper is not None:
            out += f"^{{{self.upper.latex()}}}"
        return f"{out} {self.body.latex()}"

    def mathml(self) -> str:
        symbol = f"<mo>{self._MATHML[self.kind]}</mo>" if self.kind != "lim" else "<mi>lim</mi>"
        lower = self.lower.mathml() if self.lower is not None else "<mrow></mrow>"
        if self.upper is not None:
            tag = "msubsup" if self.kind == "int" else "munderover"
            head = f"<{tag}>{symbol}{lower}{self.upper.mathml()}</{tag}>"
        else:
            head = f"<munder>{symbol}{lower}</munder>"
        return f"<mrow>{head}{self.body.mathml()}</mrow>"


def formula(*items) -> Row:
    """A row from Exprs, numbers (-> Num), operator strings (-> Op) and other strings (-> Sym)."""
    out = []
    for item in items:
        if isinstance(item, Expr):
            out.append(item)
        elif isinstance(item, int | float):
            out.append(Num(item))
        elif item in _OPS:
            out.append(Op(item))
        else:
            out.append(Sym(item))
    return Row(tuple(out))


def _signed(row: list, coefficient: int, term: list) -> None:
    """Append `+ c term` / `- c term` to a polynomial row (skips zero, hides a coefficient of 1)."""
    if coefficient == 0:
        return
    if row:
        row.append(Op("+" if coefficient > 0 else "-"))
    elif coefficient < 0:
        row.append(Op("-"))
    magnitude = abs(coefficient)
    if magnitude != 1 or not term:
        row.append(Num(magnitude))
    row.extend(term)


# Each generator returns (Expr, sentence describing it) with random but correct numbers.


def _quadratic(rng: random.Random) -> tuple[Expr, str]:
    r1, r2 = rng.randint(-9, 9), rng.randint(-9, 9)
    b, c = -(r1 + r2), r1 * r2
    row: list = []
    _signed(row, 1, [Pow(Sym("x"), Num(2))])
    _signed(row, b, [Sym("x")])
    _signed(row, c, [])
    roots = sorted({r1, r2})
    words = " and ".join(f"x = {r}" for r in roots)
    factors = "".join(f"(x {'-' if r >= 0 else '+'} {abs(r)})" for r in (r1, r2))
    return Row((*row, Op("="), Num(0))), f"factors as {factors}, so the solutions are {words}"


def _quadratic_formula(rng: random.Random) -> tuple[Expr, str]:
    disc = Row((Pow(Sym("b"), Num(2)), Op("-"), Num(4), Sym("a"), Sym("c")))
    expr = formula("x", "=", Frac(Row((Op("-"), Sym("b"), Op("\\pm"), Sqrt(disc))), Row((Num(2), Sym("a")))))
    return expr, "is the quadratic formula, valid whenever the leading coefficient a is not zero"


def _linear(rng: random.Random) -> tuple[Expr, str]:
    a, x = rng.randint(2, 12), rng.randint(-15, 15)
    b = rng.randint(-30, 30)
    row: list = []
    _signed(row, a, [Sym("x")])
    _signed(row, b, [])
    return Row((*row, Op("="), Num(a * x + b))), (
        f"is solved by moving the constant to the right-hand side and dividing by {a}, giving x = {x}"
    )


def _power_rule(rng: random.Random) -> tuple[Expr, str]:
    n = rng.randint(2, 9)
    lhs = Row((Frac(Sym("d"), Row((Sym("d"), Sym("x")))), Pow(Sym("x"), Num(n))))
    return formula(lhs, "=", n, Pow(Sym("x"), Num(n - 1))), f"is the power rule applied with exponent {n}"


def _integral(rng: random.Random) -> tuple[Expr, str]:
    n, upper = rng.randint(1, 5), rng.randint(1, 4)
    value = Frac(Num(upper ** (n + 1)), Num(n + 1))
    body = Row((Pow(Sym("x"), Num(n)), Sym("dx")))
    expr = formula(BigOp("int", Num(0), Num(upper), body), "=", value)
    return expr, f"follows from the antiderivative x^{n + 1}/{n + 1} evaluated between 0 and {upper}"


def _limit(rng: random.Random) -> tuple[Expr, str]:
    k = rng.randint(2, 9)
    body = Frac(Func("sin", Row((Num(k), Sym("x")))), Sym("x"))
    expr = formula(BigOp("lim", formula("x", "\\to", 0), None, body), "=", k)
    return expr, f"uses the standard limit of sin(u)/u as u tends to zero with u = {k}x"


def _chain_rule(rng: random.Random) -> tuple[Expr, str]:
    inner = Func("g", Sym("x"))
    lhs = Row((Frac(Sym("d"), Row((Sym("d"), Sym("x")))), Func("f", inner)))
    expr = formula(lhs, "=", Func("f'", inner), "\\cdot", Func("g'", Sym("x")))
    return expr, "is the chain rule for a composition of two differentiable functions"


def _pythagoras(rng: random.Random) -> tuple[Expr, str]:
    m = rng.randint(2, 6)
    n = rng.randint(1, m - 1)
    a, b, c = m * m - n * n, 2 * m * n, m * m + n * n
    expr = formula(Pow(Num(a), Num(2)), "+", Pow(Num(b), Num(2)), "=", Pow(Num(c), Num(2)))
    return expr, f"shows that a right triangle with legs {a} and {b} has hypotenuse {c}"


def _circle_area(rng: random.Random) -> tuple[Expr, str]:
    r = rng.randint(2, 12)
    expr = formula("A", "=", "pi", Pow(Sym("r"), Num(2)), "=", r * r, "pi")
    return expr, f"gives the area of a circle of radius {r}, about {math.pi * r * r:.1f} square units"


def _triangle_area(rng: random.Random) -> tuple[Expr, str]:
    base, height = rng.randint(2, 20), rng.randint(2, 20)
    expr = formula("A", "=", Frac(Num(1), Num(2)), "b", "h", "=", Frac(Num(base * height), Num(2)))
    return expr, f"is the area of a triangle with base {base} and height {height}"


def _angle_sum(rng: random.Random) -> tuple[Expr, str]:
    n = rng.randint(3, 12)
    expr = formula(
        Paren(formula(n, "-", 2)), "\\cdot", Pow(Num(180), Op("\\circ")), "=", Pow(Num((n - 2) * 180), Op("\\circ"))
    )
    return expr, f"is the sum of the interior angles of a polygon with {n} sides"


def _union(rng: random.Random) -> tuple[Expr, str]:
    def p(*inner):
        return Func("P", formula(*inner))

    expr = formula(p("A", "\\cup", "B"), "=", p("A"), "+", p("B"), "-", p("A", "\\cap", "B"))
    return expr, "is the inclusion-exclusion rule for two events"


def _binomial(rng: random.Random) -> tuple[Expr, str]:
    n = rng.randint(3, 10)
    k = rng.randint(1, n - 1)
    choose = Binom(Num(n), Num(k))
    expr = formula(
        Func("P", formula("X", "=", k)),
        "=",
        choose,
        Pow(Sym("p"), Num(k)),
        Pow(Paren(formula(1, "-", "p")), Num(n - k)),
    )
    return expr, f"is the probability of exactly {k} successes in {n} independent trials"


def _expectation(rng: random.Random) -> tuple[Expr, str]:
    faces = rng.choice([4, 6, 8, 10, 12, 20])
    body = Frac(Sym("k"), Num(faces))
    expr = formula(
        "E",
        Paren(Sym("X"), "[", "]"),
        "=",
        BigOp("sum", formula("k", "=", 1), Num(faces), body),
        "=",
        Frac(Num(faces + 1), Num(2)),
    )
    return expr, f"is the expected value of a fair die with {faces} faces"


def _gauss_sum(rng: random.Random) -> tuple[Expr, str]:
    n = rng.randint(5, 100)
    expr = formula(
        BigOp("sum", formula("k", "=", 1), Sym("n"), Sym("k")),
        "=",
        Frac(Row((Sym("n"), Paren(formula("n", "+", 1)))), Num(2)),
    )
    return expr, f"gives {n * (n + 1) // 2} for n = {n}"


def _congruence(rng: random.Random) -> tuple[Expr, str]:
    m = rng.randint(3, 13)
    a = rng.randint(m + 1, 200)
    expr = formula(a, "\\equiv", a % m, Mod(Num(m)))
    return expr, f"holds because {a} leaves remainder {a % m} when divided by {m}"


def _gcd(rng: random.Random) -> tuple[Expr, str]:
    g = rng.randint(2, 15)
    a, b = g * rng.randint(2, 20), g * rng.randint(2, 20)
    expr = formula(Func("gcd", Paren(formula(a, ",", b))), "=", math.gcd(a, b))
    return expr, "comes out of the Euclidean algorithm in a few steps"


FORMULAS = {
    "algebra": [_quadratic, _quadratic_formula, _linear],
    "calculus": [_power_rule, _integral, _limit, _chain_rule],
    "geometry": [_pythagoras, _circle_area, _triangle_area, _angle_sum],
    "probability": [_union, _binomial, _expectation],
    "number theory": [_gauss_sum, _congruence, _gcd],
}
