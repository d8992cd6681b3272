"""Language identification of a page: py3langid (langid.py's 97-language naive Bayes model, shipped in the wheel).

    identify_language("设函数 f(x)=x^2，求 f(3)。")  ->  ("zh", 0.99)

Why this library: its model is inside the pip package (no download at run time, unlike fastText's lid.176 or
fasttext-langdetect), it is pure Python + NumPy (no build step, unlike gcld3), ~1 ms per page on the first
`SAMPLE_CHARS` characters, and accurate on short texts; lingua is more accurate on very short strings but its wheel
is ~100 MB. The score is langid's normalised probability of the winning language. Text with no letters at all
(numbers, markup) is `und` with score 0, and so is empty text (and langid's `zxx`, "no linguistic content").
Its Wu Chinese class (`wuu`) fires on short standard written Chinese (5% of CMATH problems), and written Wu is
rare on the web, so `wuu` is reported as `zh`. The model loads once per process (~2 s).
`deepmath.ingest.quality.guess_language`, the older script-and-stopword heuristic, is kept for comparison
(bench/language_id.py).
"""

from __future__ import annotations

import threading

__all__ = ["SAMPLE_CHARS", "UNDETERMINED", "identify_language"]

SAMPLE_CHARS = 3000
UNDETERMINED = "und"
_ALIASES = {"wuu": "zh", "zxx": UNDETERMINED}
_identifier = None
_lock = threading.Lock()


def _model():
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def identify_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, probability) of the text's first SAMPLE_CHARS characters; ("und", 0.0) without letters."""
    sample = text[:SAMPLE_CHARS]
    if not any(ch.isalpha() for ch in sample):
        return UNDETERMINED, 0.0
    language, probability = _model().classify(sample)
    language = _ALIASES.get(str(language), str(language))
    return language, round(float(probability), 4) if language != UNDETERMINED else 0.0
