"""`extract_html`: every math markup kept once as LaTeX, boilerplate gone, reading order, bad input, real pages."""

import pytest

from deepmath.ingest.extract import Extracted, PageTooLarge, extract_html
from tests.conftest import require_shared


def page(body: str, head: str = "<title>T</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"


# --- math markups -----------------------------------------------------------------------------------------------

MATHJAX_DISPLAY = page(
    '<p>The geometric series sums to <script type="math/tex; mode=display">\\frac{a}{1-r}</script> when '
    '<script type="math/tex">|r|<1</script>.</p>'
)
KATEX = page(
    '<p>A quadratic <span class="katex"><span class="katex-mathml"><math xmlns="http://www.w3.org/1998/Math/MathML">'
    "<semantics><mrow><mi>a</mi><msup><mi>x</mi><mn>2</mn></msup><mo>+</mo><mi>b</mi><mi>x</mi><mo>+</mo><mi>c</mi>"
    '<mo>=</mo><mn>0</mn></mrow><annotation encoding="application/x-tex">ax^2+bx+c=0</annotation></semantics></math>'
    '</span><span class="katex-html" aria-hidden="true"><span class="base"><span class="mord mathnormal">a</span>'
    '<span class="mord"><span class="mord mathnormal">x</span><span class="msupsub"><span class="mord mtight">2'
    '</span></span></span><span class="mbin">+</span><span class="mord mathnormal">b</span>'
    '<span class="mord mathnormal">x</span><span class="mbin">+</span><span class="mord mathnormal">c</span>'
    '<span class="mrel">=</span><span class="mord">0</span></span></span></span> has two roots.</p>'
    '<p><span class="katex-display"><span class="katex"><span class="katex-mathml"><math><semantics><mi>x</mi>'
    '<annotation encoding="application/x-tex">x=\\frac{-b}{2a}</annotation></semantics></math></span>'
    '<span class="katex-html">x=−b2a</span></span></span></p>'
)
MATHML = page(
    '<p>The roots are</p><math display="block"><mi>x</mi><mo>=</mo><mfrac><mrow><mo>&#x2212;</mo><mi>b</mi>'
    "<mo>&#xB1;</mo><msqrt><msup><mi>b</mi><mn>2</mn></msup><mo>&#x2212;</mo><mn>4</mn><mi>a</mi><mi>c</mi>"
    "</msqrt></mrow><mrow><mn>2</mn><mi>a</mi></mrow></mfrac></math><p>for real <math><mi>a</mi><mo>&ne;</mo>"
    "<mn>0</mn></math>.</p>"
)
MATHJAX_V2_RENDERED = page(
    '<p>Let <span class="MathJax_Preview">x^2</span><span class="MathJax" id="MathJax-Element-1-Frame">'
    '<nobr><span class="math"><span class="mi">x</span><span class="mn">2</span></span></nobr>'
    '<span class="MJX_Assistive_MathML"><math><msup><mi>x</mi><mn>2</mn></msup></math></span></span>'
    '<script type="math/tex" id="MathJax-Element-1">x^2</script> be given.</p>'
    '<div class="MathJax_Display"><span class="MathJax"><span class="math">∑k</span></span></div>'
    '<script type="math/tex; mode=display">\\sum_k k</script>'
)
MATHJAX_V3_RENDERED = page(
    '<p>Then <mjx-container class="MathJax" jax="CHTML" display="true"><mjx-math class="MJX-TEX">'
    '<mjx-msqrt><mjx-c class="mjx-c221A"></mjx-c><mjx-mi>y</mjx-mi></mjx-msqrt></mjx-math>'
    '<mjx-assistive-mml display="block"><math display="block"><msqrt><mi>y</mi></msqrt></math></mjx-assistive-mml>'
    '</mjx-container> holds and <mjx-container class="MathJax" jax="SVG"><svg><g><text>garbage</text></g></svg>'
    "<mjx-assistive-mml><math><mi>z</mi></math></mjx-assistive-mml></mjx-container> too.</p>"
)
WIKIPEDIA = page(
    '<p>Euler: <span class="mwe-math-element"><span class="mwe-math-mathml-inline mwe-math-mathml-a11y" '
    'style="display: none;"><math alttext="{\\displaystyle e^{i\\pi }+1=0}"><semantics><mrow><msup><mi>e</mi>'
    "<mrow><mi>i</mi><mi>&#x03C0;</mi></mrow></msup><mo>+</mo><mn>1</mn><mo>=</mo><mn>0</mn></mrow>"
    '<annotation encoding="application/x-tex">{\\displaystyle e^{i\\pi }+1=0}</annotation></semantics></math>'
    '</span><img src="https://wikimedia.org/api/rest_v1/media/math/render/svg/abc" '
    'class="mwe-math-fallback-image-inline" alt="{\\displaystyle e^{i\\pi }+1=0}"></span> is famous.</p>'
)
CODECOGS = page(
    '<p>The discriminant <img src="https://latex.codecogs.com/gif.latex?b^2-4ac" alt="b^2-4ac"> decides, and '
    '<img src="https://latex.codecogs.com/svg.latex?\\dpi{120}&space;\\frac{1}{x}&plus;1" alt=""> is another.</p>'
)
WORDPRESS = page(
    '<p>Half: <img src="https://s0.wp.com/latex.php?latex=%5Cfrac%7B1%7D%7B2%7D+x&amp;bg=ffffff&amp;fg=000&amp;s=0" '
    'alt="" class="latex"> and alt: <img src="https://s0.wp.com/latex.php?latex=y&amp;bg=fff" alt="y^3" '
    'title="y^3" class="latex"> and a photo <img src="/img/cat.jpg" alt="a cat on a mat">.</p>'
)
DELIMITERS = page(
    "<p>Inline \\(a &lt; b\\) and display \\[\\int_0^1 x\\,dx\\] and $x_1 &lt; x_2$ and "
    "$$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$, though it costs $5 or $10.</p>"
)


def test_mathjax_display_script_becomes_display_latex():
    result = extract_html(MATHJAX_DISPLAY)
    assert "$$\\frac{a}{1-r}$$" in result.text
    assert "$|r|<1$" in result.text
    assert result.n_math == 2


def test_katex_keeps_tex_once_and_drops_renders():
    result = extract_html(KATEX)
    assert result.text.count("ax^2+bx+c=0") == 1
    assert "$ax^2+bx+c=0$ has two roots" in result.text
    assert "$$x=\\frac{-b}{2a}$$" in result.text
    assert "−b2a" not in result.text and "mathnormal" not in result.text
    assert result.n_math == 2


def test_mathml_quadratic_formula_converted():
    result = extract_html(MATHML)
    assert "$$x=\\frac{-b\\pm\\sqrt{b^2-4ac}}{2a}$$" in result.text
    assert "for real $a\\neq0$." in result.text
    assert result.n_math == 2


def test_mathjax_v2_render_next_to_script_is_not_duplicated():
    result = extract_html(MATHJAX_V2_RENDERED)
    assert result.text.count("x^2") == 1
    assert "Let $x^2$ be given." in result.text
    assert "$$\\sum_k k$$" in result.text and "∑k" not in result.text
    assert result.n_math == 2


def test_mathjax_v3_container_uses_assistive_mathml():
    result = extract_html(MATHJAX_V3_RENDERED)
    assert "$$\\sqrt{y}$$" in result.text
    assert "$z$ too." in result.text
    assert "garbage" not in result.text
    assert result.n_math == 2


def test_wikipedia_math_once_without_displaystyle_wrapper():
    result = extract_html(WIKIPEDIA)
    assert "Euler: $e^{i\\pi }+1=0$ is famous." in result.text
    assert result.n_math == 1


def test_codecogs_alt_and_url():
    result = extract_html(CODECOGS)
    assert "$b^2-4ac$ decides" in result.text
    assert "$\\frac{1}{x}+1$ is another" in result.text
    assert result.n_math == 2


def test_wordpress_latex_php():
    result = extract_html(WORDPRESS)
    assert "Half: $\\frac{1}{2} x$ and" in result.text
    assert "alt: $y^3$" in result.text
    assert "a cat" not in result.text  # ordinary images emit nothing
    assert result.n_math == 2


def test_tex_delimiters_in_text_kept_verbatim():
    result = extract_html(DELIMITERS)
    assert "\\(a < b\\)" in result.text
    assert "\\[\\int_0^1 x\\,dx\\]" in result.text
    assert "$x_1 < x_2$" in result.text
    assert "$$\\sum_{i=1}^n i = \\frac{n(n+1)}{2}$$" in result.text
    assert result.n_math == 4  # the prices are not formulas


def test_asciimath_and_mml_scripts():
    html = page(
        '<p>A <script type="math/asciimath">sum_(i=1)^n i</script> and <script type="math/mml"><math>'
        "<mfrac><mi>p</mi><mi>q</mi></mfrac></math></script> and <script>var x = 1;</script> end.</p>"
    )
    result = extract_html(html)
    assert result.text == "A `sum_(i=1)^n i` and $\\frac{p}{q}$ and end."
    assert result.n_math == 2


# --- boilerplate and layout -------------------------------------------------------------------------------------

BOILERPLATE = page(
    '<header><div class="logo">SiteLogo</div><nav><a href="/">Home</a> <a href="/about">About us</a></nav></header>'
    '<div class="breadcrumb">Home &gt; Algebra</div>'
    '<div id="cookie-banner">We use cookies to improve</div>'
    "<main><article><h1>Roots of unity</h1><p>First paragraph about roots.</p><p>Second paragraph, with more.</p>"
    '<div class="share-buttons">Share on Twitter</div></article>'
    '<div class="comments"><p>Nice proof!</p></div></main>'
    '<aside class="sidebar">Popular posts: Widget text</aside>'
    '<form class="comment-form"><label>Your comment</label><textarea>draft</textarea></form>'
    '<div class="advert">Buy now</div><footer>Copyright 2024 Footer text</footer>'
    "<style>.x{color:red}</style><script>trackVisitor()</script><noscript>Enable JS</noscript>"
)


def test_boilerplate_removed_and_content_kept():
    text = extract_html(BOILERPLATE).text
    for junk in ["SiteLogo", "About us", "Algebra", "cookies", "Twitter", "Widget", "Your comment", "draft"]:
        assert junk not in text, junk
    for junk in ["Buy now", "Footer text", "color:red", "trackVisitor", "Enable JS"]:
        assert junk not in text, junk
    assert text == "Roots of unity\n\nFirst paragraph about roots.\n\nSecond paragraph, with more.\n\nNice proof!"


def test_wrapper_that_looks_like_boilerplate_is_kept():
    # ASP.NET wraps the whole page in a form; themes put has-sidebar on the content wrapper
    aspnet = page(
        '<form id="form1"><div class="has-sidebar"><p>' + "Real content sentence. " * 20 + "</p></div></form>"
    )
    assert extract_html(aspnet).text.startswith("Real content sentence.")


def test_prefers_substantial_article_over_surroundings():
    html = page(
        "<div><p>Teaser line</p></div><article><p>" + "Long article text. " * 30 + "</p></article><div>After</div>"
    )
    text = extract_html(html).text
    assert text.startswith("Long article text.") and "Teaser" not in text and "After" not in text
    tiny = page("<article><p>Tag</p></article><div><p>" + "Body text outside the article. " * 30 + "</p></div>")
    assert "Body text outside" in extract_html(tiny).text


def test_reading_order_and_layout():
    html = page(
        "<h2>Title</h2><p>One <b>bold</b>\n   word,<br>next line.</p><div>Div text</div>"
        "<ul><li>apple</li><li></li><li>pear</li></ul><ol><li>first</li><li>second</li></ol>"
        "<table><tr><th>n</th><th>n^2</th></tr><tr><td>3</td><td>9</td></tr></table>"
        "<pre>def f(x):\n    return x  # kept</pre><p>Use <code>f(2)</code> now.</p>"
    )
    assert extract_html(html).text == (
        "Title\n\nOne bold word,\nnext line.\n\nDiv text\n\n- apple\n- pear\n\n1. first\n2. second\n\n"
        "n | n^2\n3 | 9\n\ndef f(x):\n    return x  # kept\n\nUse f(2) now."
    )


# --- titles -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        ("<title>  Geometric\n series </title>", "<p>x</p>", "Geometric series"),
        ('<meta property="og:title" content="OG title">', "<p>x</p>", "OG title"),
        ("", "<h1>Heading  one</h1><p>x</p>", "Heading one"),
        ("", "<p>x</p>", None),
    ],
)
def test_title(head, body, title):
    assert extract_html(page(body, head=head)).title == title


# --- encodings and bad input ------------------------------------------------------------------------------------


def test_latin1_with_meta_charset():
    html = page("<p>Caf\xe9 cr\xe8me: \\(x^2 \\ge 0\\)</p>", head='<meta charset="iso-8859-1"><title>Caf\xe9</title>')
    result = extract_html(html.encode("latin-1"))
    assert result.text == "Café crème: \\(x^2 \\ge 0\\)"
    assert result.title == "Café"
    assert result.encoding == "cp1252"


def test_gbk_with_http_equiv_meta():
    head = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312"><title>数学</title>'
    result = extract_html(page("<p>设$x$为实数，则$x^2\\ge 0$。</p>", head=head).encode("gbk"))
    assert result.text == "设$x$为实数，则$x^2\\ge 0$。"
    assert result.title == "数学"
    assert result.n_math == 2


def test_http_charset_wins_over_missing_meta():
    body = page("<p>Привет, мир</p>").encode("cp1251")
    assert extract_html(body, charset="text/html; charset=windows-1251").text == "Привет, мир"
    assert extract_html(body, charset="cp1251").text == "Привет, мир"


def test_undecodable_bytes_become_replacement_chars():
    result = extract_html(b"<p>ok \xff\xfe\xc3 bytes</p>")
    assert result.text.startswith("ok ") and "\ufffd" in result.text and result.text.endswith("bytes")
    assert extract_html(b"<p>x</p>", charset="no-such-charset").text == "x"


def test_str_input_with_lone_surrogate_and_xml_declaration():
    assert extract_html('<?xml version="1.0" encoding="utf-8"?><html><body><p>a\ud800b</p></body></html>').text in {
        "a\ufffdb",
        "a\ufffd\ufffd\ufffdb",
    }


def test_giant_page_raises_page_too_large():
    big = page("<p>" + "x" * 2_000 + "</p>")
    with pytest.raises(PageTooLarge, match="max_bytes=1000") as info:
        extract_html(big.encode(), max_bytes=1000, url="https://big.example/")
    assert isinstance(info.value, ValueError) and info.value.size > 1000
    with pytest.raises(PageTooLarge):
        extract_html(big, max_bytes=1000)
    with pytest.raises(PageTooLarge):  # 600 characters but 1800 UTF-8 bytes
        extract_html("数" * 600, max_bytes=1000)


def test_ten_thousand_nested_divs_do_not_crash():
    nested = page("<p>before</p>" + "<div>" * 10_000 + "deep" + "</div>" * 10_000 + "<p>after</p>")
    result = extract_html(nested)
    assert result.text.startswith("before")  # libxml2 stops at its depth limit (256): the rest is not kept


def test_unclosed_tags_past_libxml2_depth_keep_their_text():
    html = page("<p>start</p>" + "<font>" * 600 + "<p>text after hundreds of unclosed font tags</p>")
    assert "text after hundreds" in extract_html(html).text


def test_deep_mathml_inside_a_page():
    math = "<math>" + "<mrow>" * 500 + "<mi>q</mi>" + "</mrow>" * 500 + "</math>"
    result = extract_html(page(f"<p>deep {math} math</p>"))
    assert result.text.startswith("deep") and result.text.endswith("math")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        b"",
        "   \n ",
        b"\x00\x00\x00",
        b"\xff\xfe\x00<\x00p",
        "<<<>>>",
        "</p></div></body>",
        "<html>",
        b"\x89PNG\r\n",
    ],
)
def test_empty_and_garbage_input(garbage):
    result = extract_html(garbage)
    assert isinstance(result, Extracted)
    assert isinstance(result.text, str) and result.n_math == 0


# --- real Common Crawl pages ------------------------------------------------------------------------------------


def test_real_common_crawl_pages_extract():
    from deepmath.ingest.warc import iter_warc_records

    folder = require_shared("commoncrawl")
    n_pages = n_text = 0
    for path in sorted(folder.rglob("*.warc.gz")):
        if path.name.endswith((".wat.gz", ".wet.gz")):
            continue
        for record in iter_warc_records(str(path), max_bytes=1 << 30):
            if record.kind != "html" or record.payload is None:
                continue
            result = extract_html(record.payload, url=record.url, charset=record.charset)
            n_pages += 1
            n_text += bool(result.text.strip())
    assert n_pages >= 10, f"expected the shared WARCs to hold HTML responses, found {n_pages}"
    assert n_text >= 0.8 * n_pages, f"only {n_text}/{n_pages} pages gave text"


def test_meta_charset_rescues_a_wrong_http_header():
    html = page("<p>数学很美</p>", head='<meta charset="gbk">').encode("gbk")
    result = extract_html(html, charset="text/html; charset=utf-8")
    assert result.text == "数学很美" and result.encoding == "gb18030"


@pytest.mark.parametrize(
    ("img", "expected"),
    [
        ('<img src="/images/tex/logo.png" alt="TeX users group logo">', "See ."),
        ('<img class="latex" src="//latex.artofproblemsolving.com/a/b.png" alt="$x^2$">', "See $x^2$."),
        (
            '<img class="latexcenter" src="//latex.artofproblemsolving.com/c.png" alt="\\[\\int f\\]">',
            "See\n$$\\int f$$\n.",
        ),
        ('<img src="https://chart.apis.google.com/chart?cht=tx&amp;chl=a%2Bb" alt="">', "See $a+b$."),
        ('<img class="latex" src="/x.png" alt="">', "See ."),  # nothing to recover: the image just vanishes
    ],
)
def test_latex_images(img, expected):
    assert extract_html(page(f"<p>See {img}.</p>")).text == expected
