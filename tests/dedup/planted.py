"""Planted corpora for the dedup tests: `deepmath.dedup.planted` (the bench's generator) over real pages in
../shared/data/webtext (StackMathQA question+answer pairs unless told), at test size, built once per session."""

from __future__ import annotations

from functools import lru_cache

from deepmath.dedup.planted import PlantedCorpus, build_corpus, read_texts
from tests.conftest import require_shared


def planted(max_bases: int, pages: int = 1, seed: int = 0, source: str = "stackmathqa100k") -> PlantedCorpus:
    """The first `max_bases` distinct pages of webtext/`source` with their families (shared: do not mutate)."""
    return _build(str(require_shared("webtext", source)), max_bases, pages, seed)


@lru_cache(maxsize=4)
def _build(folder: str, max_bases: int, pages: int, seed: int) -> PlantedCorpus:
    return build_corpus(read_texts(folder), pages, seed, max_bases=max_bases)
