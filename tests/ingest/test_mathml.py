"""MathML -> LaTeX: one row per construct, grown from what real pages and renderers emit."""

import lxml.etree
import lxml.html
import pytest

from deepmath.ingest.mathml import MAX_DEPTH, mathml_to_latex, tex_annotation

QUADRATIC = (
    '<math display="block"><mi>x</mi><mo>=</mo><mfrac><mrow><mo>&#x2212;</mo><mi>b</mi><mo>&#xB1;</mo>'
    "<msqrt><msup><mi>b</mi><mn>2</mn></msup><mo>&#x2212;</mo><mn>4</mn><mi>a</mi><mi>c</mi></msqrt></mrow>"
    "<mrow><mn>2</mn><mi>a</mi></mrow></mfrac></math>"
)


def convert(markup: str) -> str:
    return mathml_to_latex(lxml.html.fragment_fromstring(markup))


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        (QUADRATIC, r"x=\frac{-b\pm\sqrt{b^2-4ac}}{2a}"),
        ("<math><mroot><mi>x</mi><mn>3</mn></mroot></math>", r"\sqrt[3]{x}"),
        ("<math><msub><mi>x</mi><mrow><mi>i</mi><mo>,</mo><mi>j</mi></mrow></msub></math>", "x_{i,j}"),
        ("<math><msubsup><mi>x</mi><mi>n</mi><mn>2</mn></msubsup></math>", "x_n^2"),
        (
            "<math><munderover><mo>&sum;</mo><mrow><mi>n</mi><mo>=</mo><mn>1</mn></mrow><mi>&infin;</mi>"
            "</munderover><mfrac><mn>1</mn><msup><mi>n</mi><mn>2</mn></msup></mfrac></math>",
            r"\sum_{n=1}^{\infty}\frac{1}{n^2}",
        ),
        (
            "<math><msubsup><mo>&int;</mo><mn>0</mn><mn>1</mn></msubsup><mi>f</mi><mo>&ApplyFunction;</mo>"
            '<mo>(</mo><mi>x</mi><mo>)</mo><mspace width="0.2em"/><mi mathvariant="normal">d</mi><mi>x</mi></math>',
            r"\int_0^1f(x)\, \mathrm{d}x",
        ),
        (
            "<math><munder><mi>lim</mi><mrow><mi>n</mi><mo>&rarr;</mo><mi>&infin;</mi></mrow></munder>"
            "<msub><mi>a</mi><mi>n</mi></msub></math>",
            r"\lim_{n\to\infty}a_n",
        ),
        ("<math><mi>a</mi><mo>&InvisibleTimes;</mo><mi>b</mi><mo>&le;</mo><mi>c</mi></math>", r"ab\le c"),
        ("<math><mi>&alpha;</mi><mi>x</mi><mo>+</mo><mi>&Omega;</mi></math>", r"\alpha x+\Omega"),
        ("<math><mi>sin</mi><mi>&theta;</mi></math>", r"\sin\theta"),
        (
            '<math><mi mathvariant="double-struck">R</mi><mo>&isin;</mo><mi>&#x2115;</mi></math>',
            r"\mathbb{R}\in\mathbb{N}",
        ),
        (
            "<math><mover><mi>x</mi><mo>^</mo></mover><mover><mi>v</mi><mo>&rarr;</mo></mover></math>",
            r"\hat{x}\vec{v}",
        ),
        ("<math><mover><mi>x</mi><mo>&#xAF;</mo></mover></math>", r"\bar{x}"),
        ("<math><mfenced><mi>a</mi><mi>b</mi></mfenced></math>", "(a,b)"),
        ('<math><mfenced open="[" close="]"><mi>a</mi></mfenced></math>', "[a]"),
        (
            "<math><mrow><mo>(</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mn>0</mn></mtd></mtr>"
            "<mtr><mtd><mn>0</mn></mtd><mtd><mn>1</mn></mtd></mtr></mtable><mo>)</mo></mrow></math>",
            r"\begin{pmatrix}1 & 0 \\ 0 & 1\end{pmatrix}",
        ),
        (
            "<math><mtable><mtr><mtd><mi>a</mi></mtd><mtd><mi>b</mi></mtd></mtr></mtable></math>",
            r"\begin{matrix}a & b\end{matrix}",
        ),
        (
            "<math><mo>{</mo><mtable><mtr><mtd><mn>1</mn></mtd><mtd><mtext>if </mtext><mi>x</mi></mtd></mtr>"
            "</mtable></math>",
            r"\begin{cases}1 & \text{if }x\end{cases}",
        ),
        # words of a \text{} kept apart from the symbols beside them (TeX renders both alike; a reader and a
        # tokenizer do not: "allx"); a space the page put inside the text is not doubled
        ("<math><mtext>for all</mtext><mi>x</mi></math>", r"\text{for all} x"),
        ("<math><mi>x</mi><mtext>is real</mtext></math>", r"x \text{is real}"),
        ("<math><mtext>for all</mtext><mo>&forall;</mo></math>", r"\text{for all} \forall"),
        ("<math><mtext>if</mtext><mo>(</mo><mi>x</mi><mo>)</mo></math>", r"\text{if}(x)"),
        ("<math><mtext>for all </mtext><mi>x</mi></math>", r"\text{for all }x"),
        ('<math><mfrac linethickness="0"><mi>n</mi><mi>k</mi></mfrac></math>', r"\genfrac{}{}{0pt}{}{n}{k}"),
        ("<math><msup><mi>f</mi><mo>&prime;</mo></msup></math>", "f'"),
        ("<math><mi>&#x1D465;</mi><mo>=</mo><mn>2</mn></math>", "x=2"),
        ('<math><menclose notation="box"><mi>x</mi></menclose></math>', r"\boxed{x}"),
        ("<math><mo>{</mo><mi>x</mi><mo>}</mo><mo>%</mo></math>", r"\{x\}\%"),
        (
            "<math><mmultiscripts><mi>C</mi><mi>k</mi><none/><mprescripts/><mi>n</mi><none/></mmultiscripts></math>",
            "{}_nC_k",
        ),
        (
            '<math><semantics><mrow><mi>a</mi></mrow><annotation encoding="application/x-tex">a^{2}</annotation>'
            "</semantics></math>",
            "a^{2}",
        ),
        ('<math alttext="E=mc^2"></math>', "E=mc^2"),
        ("<math></math>", ""),
    ],
)
def test_mathml_to_latex(markup, expected):
    assert convert(markup) == expected


def test_namespaced_xml_mathml():
    xml = (
        '<m:math xmlns:m="http://www.w3.org/1998/Math/MathML"><m:mfrac><m:mi>a</m:mi><m:mi>b</m:mi></m:mfrac></m:math>'
    )
    assert mathml_to_latex(lxml.etree.fromstring(xml)) == r"\frac{a}{b}"


def test_tex_annotation_prefers_tex_encodings():
    math = lxml.html.fragment_fromstring(
        '<math><semantics><mi>x</mi><annotation encoding="text/plain">x</annotation>'
        '<annotation encoding="TeX">x_0</annotation></semantics></math>'
    )
    assert tex_annotation(math) == "x_0"


def test_hostile_depth_falls_back_to_text():
    depth = MAX_DEPTH + 50
    markup = "<math>" + "<mrow>" * depth + "<mi>x</mi><mo>+</mo><mn>1</mn>" + "</mrow>" * depth + "</math>"
    assert convert(markup) == "x+1"
