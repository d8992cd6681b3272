"""(gold, prediction, expected) tables, one per cause of a wrong verdict that graders show on plain pairs.

Written from the categories (bare answers, several boxes, labels, "Final Answer:" sentences, number formats,
relations, the last-number fallback, late explicit answers, tolerance); not copied from any public suite. Every
table has rows that must stay False next to the ones that must become True.
"""

from __future__ import annotations

# 1. No answer marker: the prediction is a bare answer, or prose whose answer is its last math span.
BARE = [
    ("\\frac{10}{9}", "\\frac{10}{9}", True),
    ("\\frac{10}{9}", "\\frac{9}{10}", False),
    ("[0,1)", "$[0,1)$", True),
    ("[0,1)", "$[0,1]$", False),
    ("\\text{E}", "$\\text{E}$", True),
    ("\\text{(D)}", "D", True),
    ("\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", True),
    ("\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "$\\begin{pmatrix} -2 \\\\ 1 \\end{pmatrix}$", False),
    ("y = 2x + 3", "y=3+2x", True),
    ("y = 2x + 3", "y = 3x + 2", False),
    ("[5, \\infty)", "Therefore $x \\geq 5$ is the solution.", True),
    ("5", "Therefore $x \\geq 5$ is the solution.", False),  # the last number of the prose was a false 5
    ("\\frac{1+\\sqrt{5}}{2}", "\\dfrac{1 + \\sqrt 5}{2}", True),
    ("2", "\\frac{1+\\sqrt{5}}{2}", False),  # the last number is not the answer
    ("-\\frac{7}{3}", "So we get $a = -\\frac{7}{3}$.", True),
    ("\\sqrt{13}", "The distance is \\(\\sqrt{13}\\).", True),
    ("\\sqrt{13}", "The distance is $\\sqrt{12}$, not 13.", False),
    ("x^2 - 4", "$$x^2-4$$", True),
    ("12", "12 apples", True),
    ("\\text{Tuesday}", "tuesday", True),
    ("\\$32,\\!348", "$\\$32,348$", True),  # an escaped dollar inside math is a dollar sign, not a delimiter
    ("864 \\mbox{ inches}^2", "864\\mboxinches^2", True),  # an extraction that lost its braces
    ("9", "We have $a=3$, so $a^2 = 9$.", True),  # an equation ending in a number answers that number
    ("3", "We have $a=3$, so $a^2 = 9$.", False),
    ("\\frac{3}{2}", "It is $\\frac{3}{2}$ or $1.5$.", True),  # one answer restated
    ("\\frac{3}{2}", "It is $\\frac{3}{2}$ or $2.5$.", False),  # a hedge
]

# 2. Several boxes that together are the answer (one per root, per coordinate, per part).
BOXES = [
    ("-2, 1", "The roots are $\\boxed{-2}$ and $\\boxed{1}$.", True),
    ("\\{1, -2\\}", "So $x = \\boxed{-2}$ or $x = \\boxed{1}$.", True),
    ("-2, 1", "The roots are $\\boxed{-2}$ and $\\boxed{3}$.", False),
    ("(3, 4)", "$x = \\boxed{3}$, $y = \\boxed{4}$", True),
    ("(3, 4)", "$x = \\boxed{4}$, $y = \\boxed{3}$", False),  # a tuple keeps its order
    ("5, 7", "(a) \\boxed{5}\n(b) \\boxed{7}", True),
    ("5, 7", "(a) \\boxed{5}\n(b) \\boxed{8}", False),
    ("1, 2, 3", "\\boxed{1}, \\boxed{2}, \\boxed{3}", True),
    ("1, 2, 3", "\\boxed{1}, \\boxed{2}", False),
    ("7", "First \\boxed{3}.\n\nThen we redo it and find the answer \\boxed{7}.", True),
    ("7", "\\boxed{3} and \\boxed{7}", True),  # a single gold grades the last box, as before
    ("3", "\\boxed{3} and \\boxed{7}", False),
    ("(1, 2), (3, 4)", "The points are $\\boxed{(1,2)}$ and $\\boxed{(3,4)}$.", True),
]

# 3. Labels and names on either side: strip `name =`, `AB =`, `V_1:V_2 =`; "or" between alternatives.
LABELS = [
    ("AB=4, CD=5", "4, 5", True),
    ("AB=4, CD=5", "\\boxed{4, 6}", False),
    ("4, 5", "\\boxed{AB = 4, CD = 5}", True),
    ("(p,q)=(3,2)", "(3,2)", True),
    ("(p,q)=(3,2)", "(2,3)", False),
    ("(3,2)", "\\boxed{(p, q) = (3, 2)}", True),
    ("V_1:V_2=11:21", "11:21", True),
    ("V_1:V_2=11:21", "\\boxed{11:20}", False),
    ("11:21", "\\boxed{V_1 : V_2 = 11 : 21}", True),
    ("(11,7) \\text{ or } (7,11)", "\\boxed{(11,7)}", True),
    ("(11,7) \\text{ or } (7,11)", "\\boxed{(7,11)}", True),
    ("(11,7) \\text{ or } (7,11)", "\\boxed{(7,7)}", False),
    ("f(2) = 9", "\\boxed{9}", True),
    ("BC = 2\\sqrt{3}", "\\boxed{\\sqrt{12}}", True),
    ("BC = 2\\sqrt{3}", "\\boxed{2\\sqrt{2}}", False),
]

# 4. A sentence after "Final Answer:" (or another marker): the answer is its math, not the sentence.
SENTENCES = [
    ("5", "Final Answer: The largest possible value is $5$.", True),
    ("5", "Final Answer: The largest possible value is $6$.", False),
    ("\\frac{3}{4}", "Final Answer: The probability is \\frac{3}{4}.", True),
    ("\\frac{3}{4}", "Final Answer: The probability is 3/5.", False),
    ("x = 2", "Final Answer: The solution is $x = 2$.", True),
    ("(2, -1)", "Final Answer: The point of intersection is $(2,-1)$.", True),
    ("(2, -1)", "Final Answer: The point of intersection is $(-1,2)$.", False),
    ("18", "Final Answer: The final answer is 18. I hope it is correct.", True),
    ("18", "Answer: Janet has $18$ apples left.", True),
    ("18", "Answer: Janet has $17$ apples left.", False),
]

# 5. Number formatting: thousands separators, decimal comma, ordinal and word suffixes.
NUMBER_FORMATS = [
    ("32349", "\\boxed{32,\\!349}", True),
    ("32349", "\\boxed{32\\,349}", True),
    ("1000", "\\boxed{1 000}", True),
    ("1000", "\\boxed{1~000}", True),
    ("1000", "\\boxed{100 0}", False),
    ("3.5", "\\boxed{3,5}", True),
    ("3.5", "\\boxed{3,6}", False),
    ("3.5", "\\boxed{3,500}", False),  # three digits after the comma: a thousands separator
    ("12", "\\boxed{12^{th}}", True),
    ("12", "The answer is the $12^{\\text{th}}$ grade.", True),
    ("12", "\\boxed{13^{th}}", False),
    ("21", "\\boxed{21st}", True),
    ("42", "\\boxed{4\x002}", False),  # a NUL byte does not join digits
]

# 6. Relations: inequality chains vs intervals, \pm vs two-element sets, {1,3} grouping vs sets.
RELATIONS = [
    ("[-2, 7]", "\\boxed{-2 \\le x \\le 7}", True),
    ("-2 \\le x \\le 7", "\\boxed{[-2, 7]}", True),
    ("[-2, 7]", "\\boxed{-2 < x \\le 7}", False),
    ("(0, 1)", "\\boxed{0 < f(x) < 1}", True),
    ("(0, 1)", "\\boxed{0 \\le f(x) < 1}", False),
    ("3 \\pm \\sqrt{2}", "\\boxed{\\{3-\\sqrt{2}, 3+\\sqrt{2}\\}}", True),
    ("\\{3-\\sqrt{2}, 3+\\sqrt{2}\\}", "\\boxed{3 \\pm \\sqrt{2}}", True),
    ("3 \\pm \\sqrt{2}", "\\boxed{3 + \\sqrt{2}}", False),
    ("\\{1, 3\\}", "\\boxed{{1,3}}", True),
    ("1, 3", "\\boxed{{1, 3}}", True),
    ("\\{1, 3\\}", "\\boxed{{1,4}}", False),
    ("(-\\infty, 2) \\cup (3, \\infty)", "\\boxed{x < 2 \\text{ or } x > 3}", True),
]

# 7. The last-number fallback: a guess that produced false positives and a reward hack.
FALLBACK = [
    ("2", "\\boxed{\\frac{1+\\sqrt{5}}{2}", False),  # unclosed box: no answer, not its last 2
    ("1", "\\boxed{" + "1+" * 110_000 + "1}", False),  # the box opens 220 KB before the end
    ("1", "\\boxed{" + "1+" * 110_000 + "1", False),
    ("5", "\\boxed{}\nso 5", False),
    ("2", "we know that x^{2}", False),
    ("9", "the ratio is \\frac{10}{9}", False),
    ("18", "After the sale she has 18 left", True),  # prose without math: the last number is still read
    ("-7", "the values are -3 and -7", True),
]

# 8. An intermediate box followed by a later, explicit "final answer".
LATE_ANSWER = [
    ("6", "We get $\\boxed{5}$ for the first part. Adding one, the final answer is $6$.", True),
    ("5", "We get $\\boxed{5}$ for the first part. Adding one, the final answer is $6$.", False),
    ("x+1", "So $f = \\boxed{x}$ before the shift.\nThe final answer is $x+1$.", True),
    ("\\frac{1}{2}", "Step: $\\boxed{\\frac{1}{3}}$.\nFinal answer: \\frac{1}{2}", True),
    ("\\frac{1}{3}", "Step: $\\boxed{\\frac{1}{3}}$.\nFinal answer: \\frac{1}{2}", False),
    ("4", "The answer is $\\boxed{4}$.", True),  # the phrase before the box: the box
    ("4", "The final answer is $\\boxed{4}$. Double-checking, it holds.", True),
    ("12", "Thus \\boxed{10}. Hmm, I made an error; the answer is 12.", True),
    ("10", "Thus \\boxed{10}. Hmm, I made an error; the answer is 12.", False),
    ("10", "Thus \\boxed{10}. Checking: the answer is consistent with both equations.", True),
    ("B", "So \\boxed{A} at first; rereading the options, the final answer is (B).", True),
]

# 9. Tolerance: a rounded decimal is not the exact answer (default policy); integers match exactly.
TOLERANCE = [
    ("\\sqrt{2}", "\\boxed{1.414}", False),
    ("\\sqrt{2}", "\\boxed{1.41421356}", True),
    ("2\\pi", "\\boxed{6.28}", False),
    ("2\\pi", "\\boxed{6.2831853}", True),
    ("\\frac{1}{3}", "\\boxed{0.33}", False),
    ("\\frac{1}{3}", "\\boxed{0.333333333}", True),
    ("\\frac{22}{7}", "\\boxed{3.14}", False),
    ("100", "\\boxed{99.9999}", False),
    ("100", "\\boxed{100.0}", True),
    ("0.25", "\\boxed{\\frac{1}{4}}", True),
    ("3.14", "\\boxed{3.1416}", True),  # the gold is itself rounded: the prediction rounds to it
]

CATEGORIES = {
    "bare": BARE,
    "boxes": BOXES,
    "labels": LABELS,
    "sentences": SENTENCES,
    "number_formats": NUMBER_FORMATS,
    "relations": RELATIONS,
    "fallback": FALLBACK,
    "late_answer": LATE_ANSWER,
    "tolerance": TOLERANCE,
}
