"""Chinese segmentation for search (kefu.core.text.Lexicon): words, synonyms, bigrams, hostile text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core.text import BIGRAM_PREFIX, Lexicon, _base_tokenizer, search_normalize, term_of

B = BIGRAM_PREFIX


@pytest.fixture(scope="module")
def lex() -> Lexicon:
    return Lexicon(["OC-3A", "静音王"], [["制氧机", "氧气机"]])


@pytest.fixture(scope="module")
def plain() -> Lexicon:
    return Lexicon()


SENTENCES = [
    "制氧机噪音很大，晚上睡不着，怎么办？",
    "我在天猫旗舰店买的空气净化器，快递三天了还没发货，要求退款。",
    "客服态度很好，师傅上门安装很及时，点赞！",
    "中华人民共和国消费者权益保护法规定七天无理由退货",
    "2024年买的KJ200滤网多久换一次 3.5kg",
]


def test_words_are_the_ones_jieba_cuts_without_hmm(plain):
    # given jieba's own tokenizer with the same dictionary
    jieba = _base_tokenizer()
    for sentence in SENTENCES:
        # when the fast cutter and jieba cut the same text
        ours = plain.words(sentence)
        theirs = [w for w in jieba.cut(search_normalize(sentence), HMM=False) if term_of(w)]
        # then they give the same words
        assert ours == theirs


def test_two_character_words_are_whole_terms_and_queries_also_ask_for_bigrams(lex):
    # when a text with 退款, 发货, 客服 is cut
    terms = lex.terms("申请退款，催发货，找客服")
    # then each word is a term (its bigram would only repeat it)
    for word in ("退款", "发货", "客服"):
        assert word in terms
        assert B + word not in terms
    # and a query asks for the word and for the bigram (found across word boundaries)
    assert lex.terms("退款", query=True) == ["退款", B + "退款"]
    assert B + "款项" in lex.terms("退款项目")  # 退/款项/目 or similar: every bigram not a word


def test_bigrams_match_across_word_boundaries(lex):
    # a text where 发货 is not cut as one word still holds the bigram a query for 发货 asks for
    text_terms = set(lex.terms("我们今天出发货车就到"))
    assert B + "发货" in text_terms or "发货" in text_terms


def test_every_chinese_character_starts_some_term(lex):
    # when the index cuts a text
    terms = lex.terms("我要退")
    # then even the last character of a run starts a term (so a one-character query finds it)
    assert B + "要退" in terms
    assert B + "退" in terms


def test_a_single_character_query_is_a_prefix_term_only_when_alone(lex):
    # a lone character asks for every word and every bigram term starting with it
    assert lex.query_terms("退") == [("退", True), (B + "退", True)]
    # but not beside longer pieces (我要退 must not match everything that starts with 退)
    assert (B + "退", True) not in lex.query_terms("我要退，")


def test_synonyms_map_to_the_first_term_both_ways(lex):
    # given the group 制氧机 = 氧气机
    # then either word gives the main term
    assert "制氧机" in lex.terms("氧气机坏了")
    assert "制氧机" in lex.terms("制氧机坏了")
    assert "氧气机" not in lex.terms("氧气机坏了")


def test_user_words_stay_whole(lex, plain):
    # without the dictionary jieba cuts 静音王 apart; with it the word is one term
    assert "静音王" not in plain.terms("静音王系列")
    assert "静音王" in lex.terms("静音王系列")


def test_model_numbers_are_one_term_in_any_width(lex):
    # a catalogue model number with a hyphen is one term, also typed lower case or full-width
    assert lex.terms("OC-3A", query=True) == ["oc3a"]
    assert lex.terms("ｏｃ－３ａ", query=True) == ["oc3a"]
    # and the index also knows its parts, so "3A" alone still finds it
    assert {"oc3a", "oc", "3a"} <= set(lex.terms("我的OC-3A坏了"))


def test_stop_words_punctuation_and_emoji_are_not_terms(lex):
    assert lex.terms("的了吗？！ …… 😀 the", query=True) == []
    assert "的" not in lex.terms("我的制氧机")


def test_highlight_words_include_synonyms_and_pieces(lex):
    marks = lex.highlight_words("氧气机 噪音")
    assert {"氧气机", "制氧机", "噪音"} <= set(marks)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_only_plain_letter_and_digit_terms(text):
    # whatever the input (quotes, operators, emoji, control characters), every term is letters and
    # digits only, so no query syntax can ever come from user text
    lex = _module_lexicon()
    for query in (False, True):
        for term in lex.terms(text, query=query):
            assert term and term.isalnum() and len(term) <= 66


_cached: list[Lexicon] = []


def _module_lexicon() -> Lexicon:
    if not _cached:
        _cached.append(Lexicon(["OC-3A"], [["制氧机", "氧气机"]]))
    return _cached[0]
