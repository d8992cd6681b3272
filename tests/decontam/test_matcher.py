import json

import pytest

from deepmath.decontam.index import ContaminationIndex, MatchRule
from deepmath.decontam.matcher import ContaminationMatcher, Match, paragraph_bounds
from deepmath.decontam.normalize import tokenize

LONG = "A farmer has 17 sheep and buys 23 more at the county fair on Tuesday morning. How many sheep does he have now?"
SHORT = "Compute the flux of Zorblax."
CJK = "小明有五个苹果，吃了两个，还剩几个？"
PLAIN_SHORT = "1 2 3"
TINY = "Hi there"
NUMBERS = "$1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12$"
WORDY_PLAIN = "so if it is a and b then it is c or d and so it is e but not f nor g as it is h"  # 25 tokens
COMMON = "let a b and c be positive real numbers such that"  # shared by 6 items below


def _bench(tmp_path):
    rows = [
        {"id": "long", "question": LONG, "answer": "40"},
        {"id": "short", "question": SHORT},
        {"id": "cjk", "question": CJK, "answer": "3"},
        {"id": "plain", "question": PLAIN_SHORT},
        {"id": "tiny", "question": TINY},
        {"id": "numbers", "question": NUMBERS},
        {"id": "wordy", "question": WORDY_PLAIN},
    ]
    rows += [{"id": f"common{i}", "question": f"{COMMON} quux{i} frobnicate{i} wibble{i} zap{i}."} for i in range(6)]
    path = tmp_path / "toy" / "test.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def toy(tmp_path):
    return _bench(tmp_path)


@pytest.fixture
def matcher(toy, tmp_path):
    return ContaminationMatcher.from_benchmarks([str(toy)], ngram=10, cache_dir=tmp_path / "cache")


@pytest.fixture
def literal(toy, tmp_path):
    return ContaminationMatcher.from_benchmarks([str(toy)], rule=MatchRule(precise=False), cache_dir=tmp_path / "c2")


def _ids(matches):
    return sorted({m.item_id for m in matches})


def test_any_ten_gram_of_a_long_item(matcher):
    window = "buys 23 more at the COUNTY fair on\nTuesday morning"  # 10 tokens, case changed, re-wrapped
    assert _ids(matcher.matches(f"Intro text. {window} and more.")) == ["long"]
    assert matcher.matches("buys 23 more at the county fair on Tuesday") == []  # 9 tokens
    assert matcher.is_contaminated(LONG.upper().replace("?", "!"))


def test_match_fields_and_span(matcher):
    text = "Header line\n\n" + LONG.replace("'", "’") + "\n\nFooter"
    (match,) = matcher.matches(text)
    assert isinstance(match, Match)
    assert (match.benchmark, match.item_id, match.kind) == ("toy", "long", "ngram")
    assert match.span is not None and text[match.span[0] : match.span[1]] == match.matched_text
    assert match.matched_text.startswith("A farmer") and match.matched_text.endswith("now")
    assert match.tokens == len(tokenize(LONG))


def test_short_item_matched_whole_on_token_boundaries(matcher):
    (match,) = matcher.matches("We now COMPUTE the flux of zorblax, carefully.")
    assert (match.item_id, match.kind, match.tokens) == ("short", "whole", 5)
    assert matcher.matches("compute the flux of zorblaxes") == []
    assert matcher.matches("recompute the flux of zorblax") == []
    assert matcher.matches("the flux of zorblax") == []  # part of a short item is no match


def test_items_under_three_tokens_are_ignored(matcher, literal):
    assert matcher.matches("Hi there, friend") == []
    assert literal.matches("Hi there, friend") == []
    summary = matcher.index.benchmarks[0]
    assert summary["texts_ignored"] >= 2  # "Hi there" and the one-token answers


def test_chinese_characters_are_tokens(matcher):
    text = "今天的练习：\n小明有五个\n苹果, 吃了两个, 还剩几个?\n谢谢"
    (match,) = matcher.matches(text)
    assert match.item_id == "cjk"
    assert match.matched_text.startswith("小明") and match.matched_text.endswith("几个")
    assert matcher.matches("小明有五个梨，吃了两个，还剩几个？") == []  # one character differs in every 10-gram


def test_generic_ngrams_are_no_evidence_alone(matcher, literal):
    common = f"In our notes: {COMMON} the sum is small."
    assert matcher.matches(common) == []
    assert _ids(literal.matches(common)) == [f"common{i}" for i in range(6)]
    numbers = "1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12"
    assert matcher.matches(numbers) == []
    assert _ids(literal.matches(numbers)) == ["numbers", "plain"]  # "1 2 3" is in there too
    assert matcher.matches("the list 1 2 3 here") == []  # a short item made of digits only
    assert _ids(literal.matches("the list 1 2 3 here")) == ["plain"]
    assert _ids(matcher.matches(f"{COMMON} quux3 frobnicate3 wibble3 zap3")) == ["common3"]


def test_long_exact_overlap_of_plain_ngrams_counts(matcher):
    (match,) = matcher.matches("He said: then it is c or d and so it is e but not f.")  # 14 tokens of the item
    assert (match.item_id, match.kind, match.tokens) == ("wordy", "run", 14)
    assert matcher.matches("so if it is a and b then it is c") == []  # one plain 10-gram


def test_literal_rule_flags_match_kinds(literal):
    (match,) = literal.matches("so if it is a and b then it is c")
    assert (match.item_id, match.kind) == ("wordy", "ngram")


def test_clean_removes_only_the_contaminated_paragraph(matcher):
    text = f"First paragraph stays.\n\nHere it is: {LONG}\nstill the same paragraph\n\nLast paragraph stays."
    result = matcher.clean(text)
    assert result.text == "First paragraph stays.\n\nLast paragraph stays."
    assert result.removed_paragraphs == 1 and _ids(result.matches) == ["long"]
    lines = f"line one\n{SHORT}\nline three"  # no blank line: lines are the paragraphs
    assert matcher.clean(lines).text == "line one\nline three"
    assert matcher.clean(LONG).text == ""
    clean = matcher.clean("nothing to see")
    assert clean.text == "nothing to see" and not clean.changed


def test_paragraph_bounds():
    assert paragraph_bounds("a\n\nb\n \nc") == [(0, 1), (3, 4), (7, 8)]
    assert paragraph_bounds("a\nb") == [(0, 1), (2, 3)]


def test_index_is_cached_and_keyed_by_content(toy, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = ContaminationMatcher.from_benchmarks([str(toy)], cache_dir=cache)
    assert first.index_path is not None and first.index_path.exists()

    def no_build(*args, **kwargs):
        raise AssertionError("the cached index should be reused")

    monkeypatch.setattr(ContaminationIndex, "build", no_build)
    second = ContaminationMatcher.from_benchmarks([str(toy)], cache_dir=cache)
    assert second.index_path == first.index_path
    assert second.is_contaminated(LONG)
    monkeypatch.undo()
    with open(toy, "a", encoding="utf-8") as handle:
        handle.write(
            json.dumps({"question": "A brand new question about quaternion zebras and their stripes."}) + "\n"
        )
    third = ContaminationMatcher.from_benchmarks([str(toy)], cache_dir=cache)
    assert third.index_path != first.index_path
    assert third.is_contaminated("a brand new question about quaternion zebras and their stripes")
    other_rule = ContaminationMatcher.from_benchmarks([str(toy)], ngram=8, cache_dir=cache)
    assert other_rule.index_path not in (first.index_path, third.index_path)


def test_default_cache_dir_follows_env(toy, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPMATH_CACHE_DIR", str(tmp_path / "env-cache"))
    matcher = ContaminationMatcher.from_benchmarks([str(toy)], ngram=10, cache_dir=None)
    assert matcher.index_path.parent == tmp_path / "env-cache" / "decontam"
    reloaded = ContaminationMatcher.load(matcher.index_path)
    assert reloaded.matches(LONG)[0].item_id == "long"


def test_unwritable_cache_still_matches(toy, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    matcher = ContaminationMatcher.from_benchmarks([str(toy)], cache_dir=blocker / "sub")
    assert matcher.index_path is None and matcher.is_contaminated(LONG)


def test_rule_validation():
    with pytest.raises(ValueError, match="min_tokens"):
        MatchRule(ngram=5, min_tokens=6)
    with pytest.raises(ValueError, match="ngram"):
        MatchRule(ngram=1)
