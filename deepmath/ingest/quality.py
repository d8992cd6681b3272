"""Cheap per-document quality metadata: language guess, sizes, character-class fractions, formula count.

`text_stats(text)` returns a flat dict that goes into the document metadata. Its `language` and `language_score`
come from `deepmath.ingest.language.identify_language` (py3langid, a model shipped in its wheel); the rest is pure
Python + `re`. `guess_language` below is the older model-free heuristic, kept as the baseline of
bench/language_id.py (it is cheaper but knows 22 languages and confuses close ones):

- count letters per script (Han, kana, Hangul, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Thai, Latin) in the
  first 20k characters; a non-Latin majority script decides (`zh`, `ja` when kana are >=10% of Han+kana, `ko`,
  `ru` or `uk`, `el`, `ar` or `fa`, `he`, `hi`, `th`) with score = that script's share of letters;
- Latin text votes with ~25 stopwords for each of en/de/fr/es/it/pt/nl/pl/tr/vi/id/sv; score = Latin share x
  margin over the runner-up x stopword density (saturating at 10% of words). Formula-heavy English therefore gets a
  lower score than prose; below ~0.5 the guess is weak. `und` (undetermined) with score 0 when nothing votes.

`count_formulas` (`n_tex_formulas` in the stats) counts TeX formulas by their delimiters (`$$..$$`, `\\[..\\]`,
`\\(..\\)`, `$..$`), so it also works on text we did not extract (WET); `Extracted.n_math` is the extractor's own
count and is kept under its own key. A lone-`$` formula must not start or end with a space and must not touch an
ASCII letter or digit outside, so prices like "$5 and $10" are not formulas but "设$x$为" is.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = ["count_formulas", "guess_language", "text_stats"]

# one token scan instead of a regex with lazy spans, which goes quadratic on pages full of unclosed `\\[`
_TEX_TOKEN = re.compile(r"\\\\|\\\$|\$\$|\$|\\\[|\\\]|\\\(|\\\)")
_CLOSERS = {"$$": "$$", "\\[": "\\]", "\\(": "\\)", "$": "$"}
_MAX_SPAN = {"$$": 5000, "\\[": 5000, "\\(": 2000, "$": 400}
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_SCRIPTS = {
    "han": re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"),
    "kana": re.compile(r"[\u3040-\u30ff]"),
    "hangul": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "cyrillic": re.compile(r"[\u0400-\u04ff]"),
    "greek": re.compile(r"[\u0370-\u03ff]"),
    "arabic": re.compile(r"[\u0600-\u06ff]"),
    "hebrew": re.compile(r"[\u0590-\u05ff]"),
    "devanagari": re.compile(r"[\u0900-\u097f]"),
    "thai": re.compile(r"[\u0e00-\u0e7f]"),
    "latin": re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]"),
}
_SCRIPT_LANGUAGE = {"hangul": "ko", "greek": "el", "hebrew": "he", "devanagari": "hi", "thai": "th"}
_STOPWORDS = {
    "en": "the and of to is in that it for with as are this be on by we not or which from an can if then have",
    "de": "der die und das ist nicht ein eine ich zu mit den sich auf für von dem es auch wir wird dass sind oder",
    "fr": "le la les et des est une un que du pour dans pas sur qui au avec nous par ce sont il elle cette",
    "es": "el la los las y de que es un una por con para del se no como más al lo pero su este esta",
    "it": "il la che di e è non un una per del della sono con gli le si da come anche più questo",
    "pt": "o a os as e de que é não um uma para com do da em dos das se por mais ao como",
    "nl": "de het een en van is dat niet op te zijn voor met die ook er aan als bij om wordt naar",
    "pl": "i w z na się nie jest to że do o jak od po przez dla co jako oraz są",
    "tr": "ve bir bu da de için ile olarak çok daha gibi ne olan ama değil var kadar",
    "vi": "và của là có trong được cho không các một những với này người đã để khi từ",
    "id": "dan yang di ini itu dengan untuk tidak dari dalam akan pada ada juga kita saya adalah",
    "sv": "och att det som en är på för med har inte av till den om var jag ett",
}
_STOPWORD_SETS = {language: frozenset(words.split()) for language, words in _STOPWORDS.items()}
_LETTER_WORD = re.compile(r"[^\W\d_]+")
_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]|[^\W\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]+")
_NOT_ALPHA = re.compile(r"[\W\d_]+")
_BAD_CHAR = re.compile("[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")
_PERSIAN = re.compile("[پچژگیک]")
_ARABIC_ONLY = re.compile("[يكة]")
_SAMPLE = 20_000


def count_formulas(text: str) -> int:
    """Number of TeX formulas delimited by `$$`, `\\[ \\]`, `\\( \\)` or `$` in plain text (linear time)."""
    if "$" not in text and "\\" not in text:
        return 0
    count = 0
    opener, start = None, 0
    for match in _TEX_TOKEN.finditer(text):
        token = match.group()
        if token in {"\\\\", "\\$"}:  # an escaped backslash (`\\[2pt]` is a line break) or dollar
            continue
        if opener is not None and token == _CLOSERS[opener]:
            body = text[start : match.start()]
            if _closes(opener, body, text, match.end()):
                count += 1
                opener = None
                continue
            if opener != "$":
                opener = None
                continue
        if opener is None or opener == "$" or (opener == "$$" and token == "$"):
            # a `$` that does not close an inline formula may open the next one (as in "$5 and $x$")
            if token in _CLOSERS and (token != "$" or _opens_inline(text, match.start(), match.end())):
                opener, start = token, match.end()
            elif opener == "$$":
                opener = None
    return count


def _opens_inline(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return before not in _ALNUM and not after.isspace()


def _closes(opener: str, body: str, text: str, end: int) -> bool:
    if not body or len(body) > _MAX_SPAN[opener]:
        return False
    if opener == "$$":
        return "$" not in body
    if opener != "$":
        return True
    after = text[end] if end < len(text) else " "
    return "\n" not in body and not body[-1].isspace() and after not in _ALNUM


def guess_language(text: str) -> tuple[str, float]:
    """(language code, score in [0, 1]) from scripts and stopwords; ("und", 0.0) when undecidable."""
    sample = text[:_SAMPLE]
    counts = {script: len(pattern.findall(sample)) for script, pattern in _SCRIPTS.items()}
    letters = sum(counts.values())
    if letters == 0:
        return "und", 0.0
    if counts["kana"] and counts["kana"] >= 0.1 * (counts["han"] + counts["kana"]):
        return "ja", round((counts["han"] + counts["kana"]) / letters, 4)
    script = max(counts, key=counts.__getitem__)
    share = counts[script] / letters
    if script == "han":
        return "zh", round(share, 4)
    if script == "cyrillic":
        ukrainian = len(_UKRAINIAN.findall(sample)) >= 0.02 * counts["cyrillic"]
        return ("uk" if ukrainian else "ru"), round(share, 4)
    if script == "arabic":
        persian = len(_PERSIAN.findall(sample)) > len(_ARABIC_ONLY.findall(sample))
        return ("fa" if persian else "ar"), round(share, 4)
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script], round(share, 4)
    return _latin_language(sample, share)


def _latin_language(sample: str, latin_share: float) -> tuple[str, float]:
    words = _LETTER_WORD.findall(sample.lower())
    if not words:
        return "und", 0.0
    counter = Counter(words)
    hits = {language: sum(counter[word] for word in stopwords) for language, stopwords in _STOPWORD_SETS.items()}
    ranked = sorted(hits.items(), key=lambda item: item[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 2:
        return "und", 0.0
    margin = top / (top + second)
    density = min(1.0, top / len(words) / 0.1)
    return best, round(latin_share * margin * density, 4)


def text_stats(text: str) -> dict:
    """Language guess and size/character statistics of an extracted text, for document metadata."""
    from deepmath.ingest.language import identify_language

    n_chars = len(text)
    language, score = identify_language(text)
    alpha = len(_NOT_ALPHA.sub("", text))
    return {
        "language": language,
        "language_score": score,
        "n_chars": n_chars,
        "n_words": sum(1 for _ in _WORD.finditer(text)),
        "n_lines": sum(1 for line in text.splitlines() if line.strip()),
        "alpha_fraction": round(alpha / n_chars, 4) if n_chars else 0.0,
        "bad_char_fraction": round(len(_BAD_CHAR.findall(text)) / n_chars, 4) if n_chars else 0.0,
        "n_tex_formulas": count_formulas(text),
    }
