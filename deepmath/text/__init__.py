"""The one text kernel: what a word is and how a span of text is hashed, shared by dedup and decontamination.

    from deepmath.text import normalize_words, tokenize
    normalize_words("Janet’s ducks")        # ['janet', 's', 'ducks']  (the reference, pure Python)
    tokenize("Janet’s ducks").words()       # the same words, vectorised, with offsets and 64-bit hashes

- `chars`: the per-character fold (NFKC, then case folding) and classes (word characters: letters, digits and
  combining marks; CJK ideographs and kana are one word each), as lookup tables that vectorise over a whole batch.
- `tokens`: `tokenize` (decontamination's tokens, with their offsets in the normalised text) and
  `poly_span_hashes` (the polynomial hash of any span from one prefix sum, used by dedup's shingles and
  decontamination's tokens with their own bases and finishers: explicit options, one implementation).

So "the same text" means the same thing in both stages: dedup's shingles are runs of `normalize_words` words, and
`tokenize(text).words() == normalize_words(text)` for every text (tested on real multilingual pages).
"""

from deepmath.text.chars import CJK_RANGES, char_class, fold, fold_table, normalize_words
from deepmath.text.tokens import TokenizedText, normalize_text, poly_span_hashes, tokenize

__all__ = [
    "CJK_RANGES",
    "TokenizedText",
    "char_class",
    "fold",
    "fold_table",
    "normalize_text",
    "normalize_words",
    "poly_span_hashes",
    "tokenize",
]
