"""`ContaminationMatcher`: is this text contaminated by a benchmark, where, and by which item?

    from deepmath.decontam.matcher import ContaminationMatcher
    m = ContaminationMatcher.from_benchmarks(["gsm8k", "math", "/data/eval.jsonl:question+answer"], ngram=10)
    m.is_contaminated(text)      # bool
    m.matches(text)              # [Match(benchmark, item_id, matched_text, span, kind, tokens)]
    m.clean(text)                # segment mode: drop the paragraphs that hold a match, keep the rest

The rule (DeepSeekMath 2.1): a text is contaminated when it contains any 10-gram of a benchmark text, or a whole
benchmark text of 3..9 tokens as a contiguous token sequence; benchmark texts under 3 tokens are ignored. Tokens
come from `normalize.py` (NFKC, case folding, punctuation and line breaks collapsed, CJK characters one token each).

Where we depart from the paper (`MatchRule(precise=True)`, the default; `precise=False` is the literal rule): once
punctuation is stripped, ordinary math pages share generic 10-grams with benchmarks (`1 2 3 4 5 6 7 8 9 10`, matrix
entries, `let a b and c be real numbers such that`); the literal rule removes 5.7% of the clean pages in
`shared/data/webtext`. Under the precise rule a hit is evidence when:
- `ngram`: the 10-gram is in at most `common_items` distinct benchmark items (not COMMON) and has a token that is
  not generic (not PLAIN: generic = numbers, 1-2 character tokens, LaTeX names, stopwords; see `normalize.py`), or
  is PLAIN but holds two different numbers of 2+ digits next to something that is not a number;
- `whole`: a benchmark text of 3..`whole_max` (20) tokens occurs whole, is not COMMON (its tokens occur inside at
  most `common_items` items) and has a word in it, i.e. is not only numbers, variables and LaTeX (`1 2 3`). The
  paper matches texts of 3..9 tokens whole; we also match 10..20 (MATH's short problems are LaTeX-heavy, so their
  10-grams are often PLAIN);
- `run`: `min_run` distinct PLAIN 10-grams of one item at consecutive positions (an exact overlap of 12+ tokens)
  with a word among them; for pure formula they must also carry specific constants (see `_specific_formula`).
- `corpus` (the decontam stage, `mark_common` after `survey`): an n-gram that alone flags `common_docs` (5) documents
  of the corpus being cleaned, or whose shape (numbers masked) occurs in that many, is a phrase of that corpus (a
  template, a textbook sentence: the demo's "the sum of the interior angles of a polygon with"), not a copy: it counts
  only inside a run, and a run of number-carrying template n-grams needs specific constants like a formula.
bench/decontam.py measures both sides (planted recall, clean pages removed); bench/README.md has the numbers.

Scanning is vectorised: tokens and n-gram hashes in numpy, one `searchsorted` against the sorted index for all
lengths; Python only runs for confirmed hits (to recover item ids, spans and matched text). A hash match is not
re-checked against the item text: with 64-bit hashes a false collision is about one per 10^12 n-grams scanned.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from deepmath.decontam.index import (
    COMMON,
    CORPUS,
    FORMULA,
    NUMBERS,
    PLAIN,
    TEMPLATE,
    WHOLE,
    ContaminationIndex,
    MatchRule,
    default_cache_dir,
    index_key,
    number_shapes,
)
from deepmath.decontam.normalize import TokenizedText, ngram_hashes_flat, number_tokens, original_offsets, tokenize

__all__ = ["CleanResult", "ContaminationMatcher", "Match", "MatchRule"]

logger = logging.getLogger(__name__)

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LINE_BREAK = re.compile(r"\n")


@dataclass(frozen=True)
class Match:
    """One contiguous overlap between a text and one benchmark item."""

    benchmark: str
    item_id: str
    matched_text: str
    span: tuple[int, int] | None  # character offsets in the original text
    kind: str = "ngram"  # "ngram" (a specific n-gram), "whole" (a short item matched whole), "run" (long overlap)
    tokens: int = 0  # length of the overlap in tokens


@dataclass
class CleanResult:
    """What `ContaminationMatcher.clean` did to one text."""

    text: str  # the text without the contaminated paragraphs ("" when nothing is left)
    matches: list[Match]  # every match found (over all passes)
    removed_paragraphs: int

    @property
    def changed(self) -> bool:
        return bool(self.matches)


class ContaminationMatcher:
    """Matches texts against a benchmark index; build with `from_benchmarks` or `load`."""

    def __init__(self, index: ContaminationIndex, index_path: Path | None = None):
        self.index = index
        self.index_path = index_path  # the .npz this index was loaded from or saved to (None: only in memory)
        self.rule = index.rule
        self.benchmark_names = [b["name"] for b in index.benchmarks]
        self._whole = index.whole_lengths
        self._min_length = min([self.rule.ngram, *self._whole])
        self._bits, self._bitmap = _bitmap(index.keys)
        self._shapes = None  # (sorted distinct shapes, shape index of each key), built on first use

    # construction ---------------------------------------------------------------------------------------------

    @classmethod
    def from_benchmarks(
        cls,
        benchmarks: list[str] | str,
        ngram: int = 10,
        cache_dir: str | Path | None = None,
        *,
        rule: MatchRule | None = None,
        source: str | None = None,
    ) -> ContaminationMatcher:
        """Load benchmarks (names, groups or files; see `benchmarks.py`) and build or reuse their cached index.

        `cache_dir=None` uses `default_cache_dir()`; an unwritable cache only costs a rebuild next time.
        `rule` overrides `ngram` and the precision settings; `source` is "auto", "hf" or "local".
        """
        from deepmath.decontam.benchmarks import load_benchmarks

        rule = rule or MatchRule(ngram=ngram)
        loaded = load_benchmarks(benchmarks, source)
        key = index_key(loaded, rule)
        folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        path = folder / f"decontam-{key}.npz"
        if path.exists():
            try:
                index = ContaminationIndex.load(path)
                if index.key == key:
                    logger.debug("decontam index: reusing %s", path)
                    return cls(index, path)
            except (OSError, ValueError, KeyError) as err:
                logger.warning("decontam index: ignoring unreadable cache %s (%s)", path, err)
        index = ContaminationIndex.build(loaded, rule)
        index.key = key
        try:
            index.save(path)
            logger.debug("decontam index: saved %s", path)
        except OSError as err:
            logger.warning("decontam index: could not cache %s (%s)", path, err)
            return cls(index)
        return cls(index, path)

    @classmethod
    def load(cls, path: str | Path) -> ContaminationMatcher:
        """A matcher from an index file written by `ContaminationIndex.save` (what scanning workers do)."""
        return cls(ContaminationIndex.load(path), Path(path))

    # matching -------------------------------------------------------------------------------------------------

    def survey_text(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(index keys that alone are evidence in `text`, ids of index shapes that occur in it), sorted, unique:
        what `survey` counts per document. A shape is an n-gram with its numbers masked (`shape_values`)."""
        tokens = tokenize(text)
        _, keys, _ = self._lookup(tokens)
        if len(keys):
            keys = np.unique(keys[self._strong(self.index.flags[keys])])
        values = self.shape_values
        if len(values) == 0 or len(tokens) < self.rule.ngram:
            return keys, np.zeros(0, dtype=np.int64)
        grams = ngram_hashes_flat(number_shapes(tokens), [self.rule.ngram])[0]
        bits, bitmap = self._shape_bitmap
        slot = grams >> np.uint64(64 - bits)
        grams = grams[(bitmap[slot >> np.uint64(3)] >> (slot & np.uint64(7)).astype(np.uint8)) & 1 > 0]
        where = np.searchsorted(values, grams)
        where[where == len(values)] = 0
        return keys, np.unique(where[values[where] == grams])

    @property
    def shape_values(self) -> np.ndarray:
        """Sorted distinct shapes of the index's n-grams (empty for an index built without shapes)."""
        if self._shapes is None:
            shapes = self.index.shapes if self.index.shapes is not None else np.zeros(0, np.uint64)
            self._shapes = np.unique(shapes, return_inverse=True)
            self._shape_bitmap = _bitmap(self._shapes[0])
        return self._shapes[0]

    def survey(self, texts) -> tuple[np.ndarray, np.ndarray]:
        """(per key: documents where it alone is evidence, per shape: documents where it occurs): a corpus pass."""
        docs = np.zeros(len(self.index.keys), dtype=np.int64)
        shapes = np.zeros(len(self.shape_values), dtype=np.int64)
        for text in texts:
            keys, shape_ids = self.survey_text(text)
            docs[keys] += 1
            shapes[shape_ids] += 1
        return docs, shapes

    def mark_common(self, doc_counts: np.ndarray, shape_counts: np.ndarray | None, min_docs: int) -> int:
        """Mark what this corpus says everywhere, so it is no evidence alone (returns how many keys are CORPUS).

        CORPUS: a key that alone flags `min_docs` documents, or whose shape (numbers masked) occurs in `min_docs`
        documents: a phrase of the corpus (a template, a textbook sentence: "the sum of the interior angles of a
        polygon with"), not a copy. It still counts inside a longer overlap with one item (a `run`), so a problem
        copied onto many pages is still caught. TEMPLATE: a CORPUS key with numbers in it whose shape is common
        (`factors as (x + 7)(x - 5), so the solutions are ...` with other numbers on other pages): in a run it
        counts like a formula, i.e. only with specific constants.
        """
        flags = self.index.flags & ~np.uint8(CORPUS | TEMPLATE)
        if min_docs < 1 or not self.rule.precise or len(doc_counts) != len(self.index.keys):
            self.index.flags = flags
            return 0
        common = np.asarray(doc_counts) >= min_docs
        template = np.zeros(len(flags), dtype=bool)
        if shape_counts is not None and self.index.shapes is not None and len(shape_counts) == len(self.shape_values):
            per_key = np.asarray(shape_counts)[self._shapes[1]] >= min_docs
            template = per_key & (self.index.shapes != self.index.keys) & ((flags & WHOLE) == 0)
            common |= per_key & ((flags & WHOLE) == 0)
        flags = np.where(common, flags | CORPUS, flags)
        self.index.flags = np.where(template, flags | TEMPLATE, flags).astype(np.uint8)
        return int(np.count_nonzero(common))

    def is_contaminated(self, text: str) -> bool:
        return bool(self._evidence(tokenize(text))[0])

    def matches(self, text: str) -> list[Match]:
        """Every overlap that makes `text` contaminated under the rule (empty when it is clean)."""
        tokens = tokenize(text)
        evidence, hits = self._evidence(tokens)
        if not evidence:
            return []
        return self._build_matches(text, tokens, evidence, hits)

    def clean(self, text: str, max_passes: int = 3) -> CleanResult:
        """Remove each paragraph (block between blank lines; lines when there is no blank line) holding a match.

        Removing paragraphs can join text around them, so the result is scanned again, up to `max_passes` times.
        """
        found: list[Match] = []
        removed = 0
        for _ in range(max_passes):
            matches = self.matches(text)
            if not matches:
                break
            found.extend(matches)
            text, n = _drop_paragraphs(text, [m.span for m in matches if m.span is not None])
            removed += n
            if not text.strip():
                return CleanResult("", found, removed)
        return CleanResult(text, found, removed)

    # internals ------------------------------------------------------------------------------------------------

    def _lookup(self, tokens: TokenizedText) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(token start position, key index, length) of every n-gram and whole-text hit."""
        keys = self.index.keys
        m = len(tokens)
        if len(keys) == 0 or m < self._min_length:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        values, blocks = ngram_hashes_flat(tokens.hashes, [self.rule.ngram], self._whole)
        # a bitmap of the keys' top bits rejects almost every n-gram with one memory access; only the few that pass
        # (hits and ~1% false positives) are looked up in the sorted keys
        slot = values >> np.uint64(64 - self._bits)
        maybe = np.flatnonzero((self._bitmap[slot >> np.uint64(3)] >> (slot & np.uint64(7)).astype(np.uint8)) & 1)
        if len(maybe) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        where = np.searchsorted(keys, values[maybe])
        where[where == len(keys)] = 0
        hit = keys[where] == values[maybe]
        found, where = maybe[hit], where[hit]
        if len(found) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        starts = np.asarray([start for _, start, _ in blocks], dtype=np.int64)
        block = np.searchsorted(starts, found, side="right") - 1
        positions = found - starts[block]
        lengths = np.asarray([L for (L, _), _, _ in blocks], dtype=np.int64)[block]
        return positions, where, lengths

    def _evidence(self, tokens: TokenizedText):
        """({item: kind} of the items that contaminate the text, hits) where hits = (positions, keys, lengths)."""
        positions, keys, _ = hits = self._lookup(tokens)
        if len(keys) == 0:
            return {}, hits
        flags = self.index.flags[keys]
        evidence: dict[int, str] = {}
        strong = self._strong(flags)
        for k, flag in zip(keys[strong].tolist(), flags[strong].tolist()):
            kind = "whole" if flag & WHOLE else "ngram"
            for item in self.index.items_of(k).tolist():
                if evidence.get(item) != "ngram":
                    evidence[item] = kind
        if self.rule.precise:
            self._run_evidence(tokens, positions, keys, flags, evidence)
        return evidence, hits

    def _strong(self, flags: np.ndarray) -> np.ndarray:
        """Which hits are evidence alone: all under the literal rule; specific, not generic ones under the precise."""
        if not self.rule.precise:
            return np.ones(len(flags), dtype=bool)
        core = flags & (COMMON | PLAIN)
        return ((core == 0) | ((core == PLAIN) & (flags & NUMBERS > 0))) & (flags & CORPUS == 0)

    def _run_evidence(self, tokens: TokenizedText, positions, keys, flags, evidence: dict[int, str]) -> None:
        """PLAIN n-grams count when one item owns `min_run` distinct ones at consecutive positions and the overlap has
        a word in it or, for pure formula, two different numbers of two or more digits (`17`, `398`) and something that
        is not a number: identities and matrices (`begin pmatrix cos theta sin theta ...`, `1 0 0 1`) use small
        constants, and bare lists of numbers are tables or counts."""
        run_min = self.rule.min_run
        mask = ((flags & (COMMON | WHOLE)) == 0) & ((flags & (PLAIN | CORPUS)) > 0)
        if np.count_nonzero(mask) < run_min:
            return
        pos, ks = positions[mask], keys[mask]
        order = np.argsort(pos, kind="stable")
        pos, ks = pos[order], ks[order]
        breaks = np.flatnonzero(np.diff(pos) != 1) + 1
        numbers = None
        for run_pos, run_keys in zip(np.split(pos, breaks), np.split(ks, breaks)):
            if len(np.unique(run_keys)) < run_min:
                continue  # `1 & 1 & 1 & ...` repeats one n-gram: no longer an overlap of distinct text
            stretches: dict[int, list] = {}  # item -> [distinct keys, has words, first position]
            for p, k in zip(run_pos.tolist(), run_keys.tolist()):
                words = not self.index.flags[k] & (FORMULA | TEMPLATE)
                stretches = {
                    item: [stretches[item][0] | {k}, stretches[item][1] or words, stretches[item][2]]
                    if item in stretches
                    else [{k}, words, p]
                    for item in self.index.items_of(k).tolist()
                }
                for item, (stretch, has_words, first) in stretches.items():
                    if len(stretch) < run_min or item in evidence:
                        continue
                    if not has_words:
                        if numbers is None:
                            numbers = (number_tokens(tokens), number_tokens(tokens, min_digits=1))
                        span = slice(first, p + self.rule.ngram)
                        if not _specific_formula(
                            tokens.hashes[span], numbers[0][span], numbers[1][span], len(stretch) > run_min
                        ):
                            continue
                    evidence[item] = "run"

    def _build_matches(self, text: str, tokens: TokenizedText, evidence: dict[int, str], hits) -> list[Match]:
        positions, keys, lengths = hits
        flags = self.index.flags[keys]
        usable = (flags & COMMON) == 0 if self.rule.precise else np.ones(len(keys), dtype=bool)
        ranges: dict[int, list[tuple[int, int]]] = {item: [] for item in evidence}
        for p, k, length in zip(positions[usable].tolist(), keys[usable].tolist(), lengths[usable].tolist()):
            for item in self.index.items_of(k).tolist():
                if item in ranges:
                    ranges[item].append((p, p + length))
        offsets = original_offsets(text, tokens.norm)
        matches = []
        for item, spans in ranges.items():
            if not spans:
                continue
            for first, last in _merge(spans):
                start = int(offsets[tokens.starts[first]])
                end = int(offsets[tokens.ends[last - 1]])
                matches.append(
                    Match(
                        benchmark=self.benchmark_names[int(self.index.item_bench[item])],
                        item_id=self.index.item_ids[item],
                        matched_text=text[start:end],
                        span=(start, end),
                        kind=evidence[item],
                        tokens=last - first,
                    )
                )
        matches.sort(key=lambda m: (m.span or (0, 0), m.benchmark, m.item_id))
        return matches


def _specific_formula(hashes: np.ndarray, long_numbers: np.ndarray, numbers: np.ndarray, longer: bool) -> bool:
    """Does an overlap made only of numbers, variables and LaTeX carry specific constants? Two different numbers
    with one of two or more digits (`\\frac{4\\pi}{15} ... \\frac{8\\pi}{15}`), or, in an overlap one n-gram
    longer than `min_run` asks, three different numbers. Never a bare list of numbers (`4 5 6 ... 16`: a table or a
    count); `\\cos\\theta ... \\sin\\theta`, `1 0 0 1` and `x_1, x_2, x_3` have too few."""
    if numbers.all():
        return False
    distinct = len(np.unique(hashes[numbers]))
    return (distinct >= 2 and bool(long_numbers.any())) or (longer and distinct >= 3)


def _bitmap(keys: np.ndarray) -> tuple[int, np.ndarray]:
    """(bits, bitmap): bit (key >> (64 - bits)) is set for every key; about 64 bits per key, 2^12..2^30 bits."""
    bits = int(min(30, max(12, np.ceil(np.log2(max(1, len(keys)) * 64)))))
    bitmap = np.zeros(1 << (bits - 3), dtype=np.uint8)
    slot = keys >> np.uint64(64 - bits)
    np.bitwise_or.at(bitmap, slot >> np.uint64(3), (np.uint8(1) << (slot & np.uint64(7)).astype(np.uint8)))
    return bits, bitmap


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching token ranges merged."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def paragraph_bounds(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: blocks between blank lines, or lines when the text has no blank line."""
    pattern = _PARAGRAPH_BREAK if _PARAGRAPH_BREAK.search(text) else _LINE_BREAK
    bounds, start = [], 0
    for sep in pattern.finditer(text):
        bounds.append((start, sep.start()))
        start = sep.end()
    bounds.append((start, len(text)))
    return bounds


def _drop_paragraphs(text: str, spans: list[tuple[int, int]]) -> tuple[str, int]:
    bounds = paragraph_bounds(text)
    keep, removed = [], 0
    for start, end in bounds:
        if any(s < end and e > start for s, e in spans) or (start == end and any(s == start for s, _ in spans)):
            removed += 1
        else:
            keep.append(text[start:end])
    separator = "\n\n" if _PARAGRAPH_BREAK.search(text) else "\n"
    return separator.join(p for p in keep if p.strip()), removed
