"""The (gold, completion, expected) table behind test_table.py, grouped by what it exercises.

`B(x)` wraps an answer in a typical boxed completion. Rows marked "trap" are false positives other checkers
accept (math-verify, Qwen's `math_equal`, verl) that must stay False.
"""

from __future__ import annotations


def B(answer: str) -> str:
    return f"Let me work through this carefully.\nSo the final result is $\\boxed{{{answer}}}$."


INTEGERS = [
    ("18", B("18"), True),
    ("18", B("018"), True),
    ("18", B("+18"), True),
    ("-7", B("-7"), True),
    ("-7", B("7"), False),
    ("7", B("-7"), False),
    ("0", B("0"), True),
    ("0", B("-0"), True),
    ("5", B("500"), False),  # trap
    ("500", B("5"), False),  # trap
    ("10000", B("10001"), False),  # trap
    ("10000", B("9999"), False),
    ("6290000", B("6287000"), False),  # trap: rounding of a large integer
    ("42", B("42.0"), True),
    ("42", B("42.00"), True),
    ("42", B("\\mathbf{42}"), True),
    ("42", B("\\textbf{42}"), True),
    ("42", B("{42}"), True),
    ("42", "$42$", True),
    ("3", B("three"), True),
    ("12", B("twelve"), True),
    ("12", B("13"), False),
    ("1", B("l"), False),
]

DECIMALS = [
    ("0.5", B("0.5"), True),
    ("0.5", B(".5"), True),
    ("0.5", B("0.50"), True),
    (".35625", B("0.35625"), True),
    ("0.0000672", B("6.72\\times10^{-5}"), True),
    ("2.5", B("2.54"), False),  # trap: both decimals, different digits
    ("3.14", B("3.1416"), True),  # the gold was rounded; the prediction rounds to it
    ("33.33", B("33.333"), True),
    ("0.25", B("0.2"), False),
    ("1.5", B("15"), False),  # trap
    ("0.1", B("0.01"), False),
    ("-0.75", B("-\\frac{3}{4}"), True),
    ("2.0", B("2"), True),
    # float noise printed by programs (12+ significant digits)
    ("5", B("5.000000000000002"), True),
    ("5.0", B("5.000000000000002"), True),
    ("0.3", B("0.30000000000000004"), True),
    ("1", B("1.00000001"), False),  # 9 digits is a written answer, not float noise
    ("10000", B("10001.0000000000"), False),
]

FRACTIONS = [
    ("\\frac{1}{2}", B("\\frac{1}{2}"), True),
    ("\\frac{1}{2}", B("\\dfrac{1}{2}"), True),
    ("\\frac{1}{2}", B("\\tfrac12"), True),
    ("\\frac{1}{2}", B("1/2"), True),
    ("\\frac{1}{2}", B("0.5"), True),
    ("\\frac{1}{2}", B("\\frac{2}{4}"), True),
    ("\\frac{1}{2}", B("\\frac{50}{100}"), True),
    ("\\frac{1}{2}", B("\\frac{1}{3}"), False),
    ("\\frac{3}{8}", B("\\frac{5}{16}"), False),
    ("-\\frac{3}{4}", B("\\frac{-3}{4}"), True),
    ("-\\frac{3}{4}", B("\\frac{3}{-4}"), True),
    ("-\\frac{3}{4}", B("\\frac{3}{4}"), False),
    ("\\frac{1}{3}", B("0.333"), False),  # default numeric policy: 1e-6 relative (LENIENT below accepts it)
    ("\\frac{1}{3}", B("0.3333333"), True),
    ("\\frac{1}{3}", B("0.33"), False),  # trap: too coarse to count
    ("\\frac{1}{3}", B("0.3"), False),  # trap
    ("\\frac{2}{3}", B("0.667"), False),
    ("\\frac{2}{3}", B("0.666"), False),
    ("\\frac{2}{3}", B("0.6666666"), True),  # truncated, 7 digits
    ("\\frac{2}{3}", B("0.668"), False),
    ("\\frac{1}{7}", B("0.142857"), True),
    ("\\frac{1}{7}", B("0.142858"), False),
    ("\\frac{14}{3}", B("14/3"), True),
    ("\\frac{14}{3}", B("4\\frac{2}{3}"), True),  # mixed number
    ("1\\frac{1}{10}", B("\\frac{11}{10}"), True),
    ("1\\frac{1}{10}", B("1.1"), True),
    ("1\\frac{1}{10}", B("1\\frac{1}{9}"), False),
    ("1\\frac{1}{10}", B("1\\frac{8}{91}"), False),
    ("2\\frac{1}{2}", B("2 1/2"), True),
    ("\\frac{1}{2^{99}}", B("\\frac{1}{2^{98}}"), False),  # trap: math-verify's chop
    ("\\frac{1}{2^{99}}", B("\\frac{1}{2^{99}}"), True),
    ("\\frac{1}{2^{99}}", B("2^{-99}"), True),
    ("\\frac{1}{2^{60}}", B("0"), False),  # trap
    ("10^{-9}", B("0"), False),  # trap
    ("\\frac{9}{4}", B("\\frac{9}{4}"), True),
    ("\\frac{9}{4}", B("2.25"), True),
    ("\\frac{9}{4}", B("\\frac{4}{9}"), False),
]

THOUSANDS = [
    ("10000", B("10,000"), True),
    ("10{,}000", B("10000"), True),
    ("10{,}000", B("10,000"), True),
    ("900,000,000", B("900,\\!000,\\!000"), True),
    ("3,250", B("3250"), True),
    ("1234567", B("1,234,567"), True),
    ("1234567", B("1\\,234\\,567"), True),
    ("1,000", B("1000.00"), True),
    ("1,000", B("100"), False),
    ("50,625", B("759375"), False),
    ("1,234.5", B("1234.5"), True),
]

SCIENTIFIC = [
    ("1500", B("1.5\\times 10^{3}"), True),
    ("1500", B("1.5e3"), True),
    ("1500", B("1.5 \\cdot 10^3"), True),
    ("1500", B("15\\times10^{2}"), True),
    ("3\\times10^{8}", B("300000000"), True),
    ("3\\times10^{8}", B("3\\times10^{9}"), False),
    ("6.02\\times10^{23}", B("6.02e23"), True),
    ("6.02\\times10^{23}", B("6.03\\times10^{23}"), False),
    ("10^{100}", B("10^{100}"), True),
    ("10^{100}", B("10^{99}"), False),
    ("2^{10}", B("1024"), True),
    ("2^{2010}", B("2^{2010}"), True),
    ("2^{2010}", B("2^{2011}"), False),
]

PERCENTS = [
    ("25\\%", B("25\\%"), True),
    ("25\\%", B("25"), True),
    ("25\\%", B("0.25"), True),
    ("25", B("25\\%"), True),
    ("0.25", B("25\\%"), True),
    ("25", B("0.25"), False),  # trap: no percent sign anywhere, so 0.25 is not 25
    ("0.25", B("25"), False),  # trap
    ("25\\%", B("2.5"), False),
    ("12.5\\%", B("12.5"), True),
    ("12.5\\%", B("0.125"), True),
    ("198\\%", B("198"), True),
    ("50\\%", B("50 percent"), True),
    ("50\\%", B("5\\%"), False),
]

DEGREES = [
    ("48^\\circ", B("48"), True),
    ("48", B("48^\\circ"), True),
    ("48", B("48^{\\circ}"), True),
    ("48", B("48°"), True),
    ("48", B("48 degrees"), True),
    ("120^\\circ", B("120^\\circ"), True),
    ("120^\\circ", B("60^\\circ"), False),
    ("30^\\circ", B("\\text{30 degrees}"), True),
]

UNITS = [
    ("6", B("\\$6"), True),
    ("\\$6", B("6"), True),
    ("6", B("\\$6.00"), True),
    ("18", "She makes $18 every day.\n#### 18", True),
    ("18", B("18 \\text{ dollars}"), True),
    ("18", B("18\\text{ dollars}"), True),
    ("100", B("100\\text{ square units}"), True),
    ("100", B("100 \\text{ cm}^2"), True),
    ("5", B("5\\text{ cm}"), True),
    ("5", B("5 \\mbox{ meters}"), True),
    ("5", B("5 \\text{ hours}"), True),
    ("5", B("50\\text{ cm}"), False),
    ("12", B("12 \\text{ inches}"), True),
    ("\\frac{1}{2}", B("\\frac{1}{2}\\text{ inch}"), True),
    ("7", B("7 \\text{ apples}"), True),
    ("7", B("8 \\text{ apples}"), False),
    ("3", B("3 x"), False),  # a variable is not a unit
]

RADICALS = [
    ("\\sqrt{2}", B("\\sqrt{2}"), True),
    ("\\sqrt{2}", B("\\sqrt2"), True),
    ("\\sqrt{2}", B("2^{1/2}"), True),
    ("\\sqrt{2}", B("\\frac{2}{\\sqrt{2}}"), True),
    ("\\sqrt{8}", B("2\\sqrt{2}"), True),
    ("\\sqrt{8}", B("2\\sqrt{3}"), False),
    ("\\frac{\\sqrt{2}}{2}", B("\\frac{1}{\\sqrt{2}}"), True),
    ("\\frac{\\sqrt{3}}{2}", B("\\frac{1}{2}\\sqrt{3}"), True),
    ("\\frac{\\sqrt{3}}{2}", B("0.866"), False),
    ("\\frac{\\sqrt{3}}{2}", B("0.8660254"), True),
    ("\\frac{\\sqrt{3}}{2}", B("0.87"), False),
    ("\\sqrt{2}", B("1.414"), False),  # the reward must not teach rounding
    ("\\sqrt{2}", B("1.41"), False),
    ("\\sqrt{2}", B("1.42"), False),
    ("3+2\\sqrt{2}", B("(1+\\sqrt{2})^2"), True),
    ("3+2\\sqrt{2}", B("3-2\\sqrt{2}"), False),
    ("\\sqrt[3]{2}", B("2^{1/3}"), True),
    ("\\sqrt[3]{2}", B("\\sqrt{2}"), False),
    ("2\\sqrt{5}", B("\\sqrt{20}"), True),
    ("\\sqrt{34}+3\\sqrt{10}", B("28"), False),
    ("\\pi", B("\\pi"), True),
    ("2\\pi", B("\\pi \\cdot 2"), True),
    ("\\frac{\\pi}{4}", B("\\pi/4"), True),
    ("\\frac{\\pi}{4}", B("\\frac{\\pi}{3}"), False),
    ("\\pi", B("3.14"), False),
    ("\\pi", B("3.1416"), False),
    ("\\pi", B("3.1415927"), True),
    ("\\pi", B("3.15"), False),
    ("\\pi", B("3"), False),  # trap
    ("4\\pi", B("12.566"), False),
    ("e", B("e"), True),
    ("e^2", B("e^{2}"), True),
    ("e^2", B("\\exp(2)"), True),
    ("e^2", B("2e"), False),
    ("\\ln 2", B("\\ln(2)"), True),
    ("\\ln 2", B("\\ln 3"), False),
    ("\\log_2 8", B("3"), True),
    ("\\sin\\frac{\\pi}{6}", B("\\frac{1}{2}"), True),
    ("\\binom{5}{2}", B("10"), True),
    ("5!", B("120"), True),
]

COMPLEX = [
    ("2+3i", B("2+3i"), True),
    ("2+3i", B("3i+2"), True),
    ("2+3i", B("2-3i"), False),
    ("1-i", B("-i+1"), True),
    ("i", B("\\sqrt{-1}"), True),
    ("-1", B("i^2"), True),
    ("\\frac{1}{2}+\\frac{\\sqrt{3}}{2}i", B("\\frac{1+i\\sqrt{3}}{2}"), True),
    ("3i", B("3"), False),
]

EXPRESSIONS = [
    ("x^2+2x+1", B("(x+1)^2"), True),
    ("x^2+2x+1", B("(x-1)^2"), False),
    ("x^2-1", B("(x-1)(x+1)"), True),
    ("2x+3", B("3+2x"), True),
    ("2x+3", B("2x+4"), False),
    ("\\frac{x}{2}", B("0.5x"), True),
    ("\\frac{x+1}{x}", B("1+\\frac{1}{x}"), True),
    ("a^2-b^2", B("(a-b)(a+b)"), True),
    ("a^2-b^2", B("(a-b)^2"), False),
    ("\\sin^2 x+\\cos^2 x", B("1"), True),
    ("2\\sin x\\cos x", B("\\sin 2x"), True),
    ("\\frac{1}{x^2+1}", B("(x^2+1)^{-1}"), True),
    ("x^3", B("x^2"), False),
    ("3x", B("3y"), False),  # different variable
    ("n(n+1)/2", B("\\frac{n^2+n}{2}"), True),
    ("n(n+1)/2", B("\\frac{n^2-n}{2}"), False),
    ("\\frac{\\sqrt{x}}{x}", B("\\frac{1}{\\sqrt{x}}"), True),
    ("6x^2+5x-6", B("(2x+3)(3x-2)"), True),
    ("6x^2+5x-6", B("(2x-3)(3x+2)"), False),
    # plain-text math from models that do not write LaTeX
    ("\\pi", B("pi"), True),
    ("-\\frac{\\pi}{6}", B("-pi/6"), True),
    ("288 \\pi", B("288pi"), True),
    ("x^2", B("x**2"), True),
    ("\\frac{3\\sqrt{3}}{4}", B("3*sqrt(3)/4"), True),
    ("\\frac{11+9a}{20}", B("11+9a/20"), False),  # precedence
    ("(2, \\infty)", B("(2, infinity)"), True),
]

EQUATIONS = [
    ("3", B("x = 3"), True),
    ("x = 3", B("3"), True),
    ("x=3", B("x = 3"), True),
    ("x = 3", B("y = 3"), False),  # a different unknown
    ("3", B("x = 4"), False),
    ("y=2x+3", B("y = 3 + 2x"), True),
    ("y=2x+3", B("2x+3"), True),
    ("y=2x+3", B("2x - y + 3 = 0"), True),
    ("y=2x+3", B("y = 2x - 3"), False),
    ("x^2+y^2=1", B("y^2+x^2=1"), True),
    ("x^2+y^2=1", B("2x^2+2y^2=2"), True),
    ("x^2+y^2=1", B("x^2+y^2=2"), False),
    ("k = 7", B("k=7"), True),
    ("f(x) = x^2", B("x^2"), True),
    ("7", B("3+4=7"), True),
    ("7", B("x = 3 + 4 = 7"), True),
    ("\\theta = \\frac{\\pi}{2}", B("\\frac{\\pi}{2}"), True),
    ("x=1, y=2", B("x = 1, y = 2"), True),
    ("x=1, y=2", B("y=2, x=1"), True),
    ("x=1, y=2", B("x=2, y=1"), False),  # trap: assignment order matters by variable
    ("(1, 2)", B("x=1, y=2"), True),
    ("x + y = 5", B("y + x = 5"), True),
    ("y = x + 1", B("x = y - 1"), True),
    ("y = x + 1", B("x = y + 1"), False),
    ("x+2y=4", B("y = 2 - x/2"), True),
]

TUPLES = [
    ("(1, 2)", B("(1,2)"), True),
    ("(1, 2)", B("(2,1)"), False),  # tuples are ordered
    ("(1, 2)", B("1, 2"), True),
    ("(1, 2, 3)", B("(1, 2, 3)"), True),
    ("(1, 2, 3)", B("(1, 3, 2)"), False),
    ("(1, 2, 3)", B("(1, 2)"), False),
    ("(3, \\frac{\\pi}{2})", B("\\left( 3, \\frac{\\pi}{2} \\right)"), True),
    ("(3, \\frac{\\pi}{2})", B("(3, 1.5708)"), False),  # default numeric policy
    ("(3, \\frac{\\pi}{2})", B("(3, \\pi)"), False),
    ("(-2, 5)", B("(-2,5)"), True),
    ("(0.5, 1)", B("(\\frac{1}{2}, 1)"), True),
    ("(2, -1, 3)", B("\\begin{pmatrix} 2 \\\\ -1 \\\\ 3 \\end{pmatrix}"), True),
    ("(a, b) = (1, 2)", B("(1, 2)"), True),
    ("(1, 2)", B("\\{1, 2\\}"), False),  # a point is not a set
]

SETS = [
    ("\\{1, 2\\}", B("\\{2, 1\\}"), True),
    ("\\{1, 2\\}", B("\\{1, 2, 3\\}"), False),
    ("\\{1, 2\\}", B("2, 1"), True),
    ("1, 2", B("2, 1"), True),
    ("-2, 3", B("3, -2"), True),
    ("-2, 3", B("3 \\text{ or } -2"), True),
    ("-2, 3", B("x = 3 \\text{ or } x = -2"), True),
    ("-2, 3", B("x=-2, x=3"), True),
    ("-2, 3", B("3"), False),
    ("-2, 3", B("-2, 3, 4"), False),
    ("1, 1, 2", B("1, 2"), True),  # as sets
    ("\\{1, 2\\}", B("\\{1, 2, 2\\}"), True),
    ("\\pm 3", B("3, -3"), True),
    ("\\pm 3", B("-3, 3"), True),
    ("\\pm 3", B("3"), False),
    ("x = \\pm 3", B("\\pm 3"), True),
    ("3\\pm\\sqrt{2}", B("3-\\sqrt{2}, 3+\\sqrt{2}"), True),
    ("3\\pm\\sqrt{2}", B("3+\\sqrt{2}"), False),
    ("1\\pm\\sqrt{5}", B("1+\\sqrt{5}, 1-\\sqrt{5}"), True),
    ("\\frac{1\\pm\\sqrt{5}}{2}", B("\\frac{1+\\sqrt{5}}{2}, \\frac{1-\\sqrt{5}}{2}"), True),
    ("\\{\\frac{1}{2}, 3\\}", B("\\{3, 0.5\\}"), True),
    ("\\emptyset", B("\\varnothing"), True),
    ("-1, 2, 5", B("5, 2, -1"), True),
    ("-1, 2, 5", B("5, 2, 1"), False),
    ("2, 3", B("2 \\text{ and } 3"), True),
]

INTERVALS = [
    ("(1, 2]", B("(1,2]"), True),
    ("(1, 2]", B("(1, 2)"), False),  # trap: open/closed matters
    ("(1, 2]", B("[1, 2]"), False),
    ("[1, 2)", B("[1,2)"), True),
    ("[1, 2)", B("[1, 2]"), False),
    ("(1, 2)", B("[1, 2]"), False),  # trap
    ("[1, 2]", B("[1, 2]"), True),
    ("[-1, \\infty)", B("[-1,\\infty)"), True),
    ("[-1, \\infty)", B("(-1, \\infty)"), False),
    ("(-\\infty, 0)", B("(-\\infty, 0)"), True),
    ("(-\\infty, 0)", B("(-\\infty, 0]"), False),
    ("(-\\infty, 1) \\cup (2, 3]", B("(-\\infty,1)\\cup(2,3]"), True),
    ("(-\\infty, 1) \\cup (2, 3]", B("(2, 3] \\cup (-\\infty, 1)"), True),
    ("(-\\infty, 1) \\cup (2, 3]", B("(-\\infty, 1) \\cup (2, 3)"), False),
    ("(0,9) \\cup (9,36)", B("(0, 36) \\setminus \\{9\\}"), True),
    ("(0,9) \\cup (9,36)", B("(0, 36)"), False),
    ("[\\frac{1}{2}, 3)", B("[0.5, 3)"), True),
    ("(-\\sqrt{2}, \\sqrt{2})", B("(-\\sqrt{2}, \\sqrt{2})"), True),
    ("(-\\sqrt{2}, \\sqrt{2})", B("\\left(-\\sqrt2,\\sqrt2\\right)"), True),
    ("(-\\sqrt{2}, \\sqrt{2})", B("(-1.414, 1.414)"), False),  # default numeric policy
    ("(-\\infty, \\infty)", B("\\mathbb{R}"), True),
    ("x \\in [1, 2)", B("[1, 2)"), True),
]

INEQUALITIES = [
    ("(2, \\infty)", B("x > 2"), True),
    ("(2, \\infty)", B("x \\geq 2"), False),
    ("[2, \\infty)", B("x \\ge 2"), True),
    ("[2, \\infty)", B("x>=2"), True),
    ("(-\\infty, 5]", B("x \\le 5"), True),
    ("(-\\infty, 5]", B("x \\leq 5"), True),
    ("(-\\infty, 5]", B("x < 5"), False),
    ("(1, 2]", B("1 < x \\le 2"), True),
    ("(1, 2]", B("1 \\le x < 2"), False),
    ("(1, 2]", B("2 \\geq x > 1"), True),
    ("x > 2", B("(2, \\infty)"), True),
    ("x > 2", B("2 < x"), True),
    ("x > 2", B("x < 2"), False),
    ("-3 < x < 3", B("(-3, 3)"), True),
    ("(-\\infty, -2) \\cup (3, \\infty)", B("x < -2 \\text{ or } x > 3"), True),
    ("x \\le -1", B("x \\in (-\\infty, -1]"), True),
]

MATRICES = [
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", B("\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}"), True),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", B("\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"), True),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", B("\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"), False),
    ("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", B("\\begin{pmatrix}1&2&3&4\\end{pmatrix}"), False),
    (
        "\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}",
        B("\\begin{pmatrix} -\\frac13 \\\\ \\frac23 \\\\ \\frac53 \\end{pmatrix}"),
        True,
    ),
    (
        "\\begin{pmatrix} 16/49 \\\\ 48/49 \\end{pmatrix}",
        B("\\begin{pmatrix} \\frac{16}{49} \\\\ \\frac{48}{49} \\end{pmatrix}"),
        True,
    ),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", B("\\begin{pmatrix} 2 \\\\ 1 \\end{pmatrix}"), False),
    (
        "\\begin{pmatrix} \\sqrt{2} & 0 \\\\ 0 & 1 \\end{pmatrix}",
        B("\\begin{pmatrix} 2^{1/2} & 0 \\\\ 0 & 1 \\end{pmatrix}"),
        True,
    ),
    ("\\begin{pmatrix} 1 \\\\ 2 \\end{pmatrix}", B("(1, 2)"), True),
    (
        "\\begin{pmatrix} 0 & 1 \\\\ 1 & 0 \\end{pmatrix}",
        B("\\begin{pmatrix} 0 & 1 \\\\ 1 & 0.0 \\end{pmatrix}"),
        True,
    ),
]

CHOICES = [
    ("A", B("A"), True),
    ("A", B("(A)"), True),
    ("(A)", B("A"), True),
    ("\\text{(C)}", B("C"), True),
    ("C", B("\\textbf{(C)}"), True),
    ("C", B("\\text{(C) } 12"), True),
    ("C", B("D"), False),
    ("A", "The correct option is (B).\nThe answer is B", False),
    ("B", "Comparing the options, the answer is (B).", True),
    ("E", B("(E)"), True),
    ("D", B("(C)"), False),
]

TEXT = [
    ("\\text{Monday}", B("Monday"), True),
    ("Monday", B("\\text{monday}"), True),
    ("Monday", B("Tuesday"), False),
    ("\\text{even}", B("\\text{odd}"), False),
    ("\\text{even}", B("\\text{Even}"), True),
    ("\\text{4:30 p.m.}", B("4:30 \\text{ p.m.}"), True),
    ("\\text{4:30 p.m.}", B("4:30\\text{pm}"), True),
    ("\\text{4:30 p.m.}", B("5:30 \\text{ p.m.}"), False),
    ("\\text{yes}", B("Yes"), True),
    ("\\text{yes}", B("No"), False),
    ("\\text{no solution}", B("\\text{No solution}"), True),
    ("\\text{Devon}", B("\\text{Devon}"), True),
    ("\\text{Devon}", B("\\text{Evan}"), False),
    ("\\text{the circle}", B("circle"), True),
    ("\\text{(A), (C)}", B("\\text{(C), (A)}"), True),
]

CHINESE = [
    ("12", "解：所以答案是 12。", True),
    ("12", "因此，最终答案为：12", True),
    ("12", "答案：13", False),
    ("35", B("三十五"), True),
    ("12000", B("一万两千"), True),
    ("是", B("是"), True),
    ("是", B("否"), False),
    ("甲", "故选甲。答案是 甲", True),
    ("18", B("１８"), True),  # full-width digits
    ("3.5", "答案是３．５。", True),
]

EXTRACTION = [
    ("7", "First guess \\boxed{5}. Wait, recheck: \\boxed{7}", True),  # the last box, not the first
    ("5", "First guess \\boxed{5}. Wait, recheck: \\boxed{7}", False),
    ("7", "\\fbox{7}", True),
    ("\\frac{1}{2}", "So \\boxed{\\frac{1}{2}}.", True),
    ("\\{1,2\\}", "\\boxed{\\{1, 2\\}}", True),
    ("x^{2}", "\\boxed{x^{2}}", True),
    ("5", "\\boxed 5", True),
    ("5", "<think>maybe 3</think><answer>5</answer>", True),
    ("3", "<think>maybe 3</think><answer>5</answer>", False),
    ("5", "<think>\\boxed{3}</think>\n<answer>The answer is \\boxed{5}</answer>", True),
    ("12", "<answer>\nWe compute 3*4.\nThe answer is 12.\n</answer>", True),
    ("18", "3 + 15 = 18. The answer is 18.", True),
    ("18", "So the answer is $18.", True),
    ("18", "So the final answer is 18 dollars. Next, ...", True),
    ("\\frac{1}{2}", "Therefore, the answer is $\\frac{1}{2}$.", True),
    ("18", "Janet sells 9 eggs.\n#### 18", True),
    ("18", "She makes 9 * 2 = $<<9*2=18>>18 every day.\n#### 18", True),
    ("-3", "Final Answer: The final answer is $-3$. I hope it is correct.", True),
    ("-3", "Final Answer: The final answer is $3$. I hope it is correct.", False),
    ("26", "She has 13 eggs and sells them for 2 each: 13 * 2 = <<13*2=26>>26\nA: 26", True),
    ("18", "She has 13 eggs and sells them for 2 each: 13 * 2 = <<13*2=26>>26\nA: 26", False),
    ("42", "**Answer:** 42", True),
    ("42", "Answer: 42", True),
    ("42", "I computed 40 and then added 2 to get 42", True),  # last-number fallback
    ("40", "I computed 40 and then added 2 to get 42", False),
    ("8", "After all that, the result is 1,000 - 992 = 8", True),
    ("1000", "The total is 1,000", True),
    ("5", "", False),
    ("5", "I don't know.", False),
    ("5", "\\boxed{}", False),
]

GOLD_FORMS = [
    ("Janet sells 16 - 3 - 4 = 9 eggs.\nShe makes 9 * 2 = $18.\n#### 18", B("18"), True),
    ("Janet sells 9 eggs.\nA: 18", B("18"), True),
    ("The sum is $1+1 = \\boxed{2}$.", B("2"), True),
    ("The sum is $1+1 = \\boxed{2}$.", B("3"), False),
    ("We get \\boxed{\\frac{\\sqrt{3}}{2}}.", B("\\frac{1}{2}\\sqrt{3}"), True),
    ("  18  ", B("18"), True),
    ("$18$", B("18"), True),
    ("\\boxed{18}", B("18"), True),
]

TRAPS = [
    # others' false positives that must stay False
    ("5", "\\boxed{5000}", False),
    ("5", "\\boxed{0.5}", False),
    ("5", "\\boxed{50\\%}", False),
    ("1", "\\boxed{100\\%}", True),  # 100% of a whole is 1: unambiguous with a percent sign
    ("10000", "\\boxed{10001}", False),
    ("100", "\\boxed{99.9}", False),
    ("100", "\\boxed{99.99}", False),
    ("1", "\\boxed{1.001}", False),
    ("1", "\\boxed{0.9999}", False),
    ("(1,2)", "\\boxed{(1,2]}", False),
    ("[1,2]", "\\boxed{(1,2)}", False),
    ("\\frac{1}{2^{99}}", "\\boxed{\\frac{1}{2^{100}}}", False),
    ("2^{100}", "\\boxed{2^{100}+1}", False),
    ("10^{20}", "\\boxed{10^{20}+1}", False),
    ("123456789012345678901234567890", "\\boxed{123456789012345678901234567891}", False),
    ("\\sqrt{2}", "\\boxed{1.4142135}", True),
    ("\\sqrt{2}", "\\boxed{1.4142136}", True),
    ("\\sqrt{2}", "\\boxed{1.4142137}", False),
    ("x+1", "\\boxed{x+1.0001}", False),
    ("2", "\\boxed{x=2, y=3}", False),
    ("\\{1,2\\}", "\\boxed{\\{1,2,3\\}}", False),
    ("\\{1,2,3\\}", "\\boxed{\\{1,2\\}}", False),
    ("-1", "\\boxed{1}", False),
    ("\\frac{1}{3}", "\\boxed{\\frac{1}{3} + 10^{-12}}", False),
    ("3", "\\boxed{3x}", False),
    ("A", "\\boxed{a+b}", False),
    ("12", "\\boxed{1.2}", False),
    ("\\frac{3}{4}", "\\boxed{34}", False),
    ("0", "\\boxed{\\emptyset}", False),
    ("\\infty", "\\boxed{-\\infty}", False),
    ("\\infty", "\\boxed{\\infty}", True),
    # hedging is not rewarded
    ("3", "\\boxed{3, 4}", False),
    ("3", "\\boxed{3 \\text{ or } 4}", False),
    ("3", "\\boxed{\\pm 3}", False),
    ("3", "It is \\boxed{4}, or maybe 3", False),
    ("(1, 2)", "\\boxed{(1, 2), (2, 1)}", False),
    ("5", "Answer: The answer is 5.", True),
    ("5", "The answer is 5 because 2 + 3 = 5.", True),
]

# Rows graded with `NumericPolicy(rounded_digits=3)`: the lenient policy of earlier versions (and of many eval
# harnesses) accepts a decimal with 3+ significant digits that is the exact value rounded or truncated.
LENIENT = [
    ("\\frac{1}{3}", B("0.333"), True),
    ("\\frac{2}{3}", B("0.667"), True),
    ("\\frac{2}{3}", B("0.666"), True),
    ("\\frac{2}{3}", B("0.668"), False),
    ("\\frac{1}{3}", B("0.33"), False),
    ("\\frac{\\sqrt{3}}{2}", B("0.866"), True),
    ("\\sqrt{2}", B("1.414"), True),
    ("\\sqrt{2}", B("1.42"), False),
    ("\\pi", B("3.14"), True),
    ("\\pi", B("3.15"), False),
    ("4\\pi", B("12.566"), True),
    ("(3, \\frac{\\pi}{2})", B("(3, 1.5708)"), True),
    ("(-\\sqrt{2}, \\sqrt{2})", B("(-1.414, 1.414)"), True),
    ("42", B("41.99"), False),  # integers stay exact
]

ALL = {
    "integers": INTEGERS,
    "decimals": DECIMALS,
    "fractions": FRACTIONS,
    "thousands": THOUSANDS,
    "scientific": SCIENTIFIC,
    "percents": PERCENTS,
    "degrees": DEGREES,
    "units": UNITS,
    "radicals": RADICALS,
    "complex": COMPLEX,
    "expressions": EXPRESSIONS,
    "equations": EQUATIONS,
    "tuples": TUPLES,
    "sets": SETS,
    "intervals": INTERVALS,
    "inequalities": INEQUALITIES,
    "matrices": MATRICES,
    "choices": CHOICES,
    "text": TEXT,
    "chinese": CHINESE,
    "extraction": EXTRACTION,
    "gold_forms": GOLD_FORMS,
    "traps": TRAPS,
}

ROWS = [
    (category, gold, completion, expected) for category, rows in ALL.items() for gold, completion, expected in rows
]
