from rag.lexical import build_lexicon, corpus_tokens, english_stems, has_cjk, translate

SENTENCES = ["刷掌支付融合了掌纹和掌静脉两种识别技术。", "Web3是新一代互联网。", "隐私计算保障数据安全。",
             "金融机构推进数字化转型。"]


def test_corpus_tokens_segment_chinese_into_words_and_drop_stop_words():
    tokens = corpus_tokens("隐私计算的核心是数据安全")
    assert "隐私" in tokens and "数据" in tokens and "的" not in tokens
    assert has_cjk("GaaS 模式") and not has_cjk("GaaS model")


def test_english_stems_drop_question_words_and_repeats():
    assert english_stems("What does palm-scan payment improve in payments?") == ["palm", "scan", "payment", "improv"]


def test_lexicon_maps_english_words_to_the_corpus_words_cedict_glosses_with_them():
    lexicon = build_lexicon(SENTENCES)
    assert "互联网" in lexicon["internet"]
    assert "隐私" in lexicon["privaci"]
    assert lexicon["web3"] == {"web3": lexicon["web3"]["web3"]}, "corpus English words map to themselves"
    # Only words that occur in the corpus: 比特币 (bitcoin) is in CC-CEDICT but not in these sentences.
    assert "bitcoin" not in lexicon
    assert all(weight > 0.5 for terms in lexicon.values() for weight in terms.values())


def test_translate_gives_one_group_per_known_word():
    lexicon = build_lexicon(SENTENCES)
    groups = translate("How does privacy computing keep data safe on the Internet?", lexicon)
    assert any("隐私" in g for g in groups) and any("互联网" in g for g in groups) and any("数据" in g for g in groups)
    assert translate("Who won the football match?", lexicon) == [{}, {}, {}], "words the corpus lacks stay, empty"


def test_substrings_finds_exactly_the_words_inside_a_text():
    import random

    from rag.lexical import Substrings

    rng = random.Random(3)
    alphabet = "数据安全隐私计算ab"
    words = {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 5))) for _ in range(300)}
    matcher = Substrings(words)
    for _ in range(200):
        text = "".join(rng.choice(alphabet + "\n") for _ in range(rng.randint(0, 40)))
        assert matcher.found(text) == {w for w in words if w in text}


def test_lexicon_idf_counts_sentences_holding_the_word():
    import math

    lexicon = build_lexicon(SENTENCES + ["互联网金融。", "其他内容。"])
    n = len(SENTENCES) + 2
    assert lexicon["internet"]["互联网"] == round(math.log((n + 1) / (2 + 0.5)), 4)
    assert lexicon["privaci"]["隐私"] == round(math.log((n + 1) / (1 + 0.5)), 4)


def test_a_place_named_in_pinyin_finds_its_chinese_name():
    """CC-CEDICT's glosses of places are explanations too long to be translations; the proper
    noun's pinyin stands in for one, so an English question's "Dunhuang" finds 敦煌."""
    lexicon = build_lexicon(["敦煌研究院于2016年上线数字敦煌资源库。", "宁夏中卫的智算中心部署了液冷机柜。"])
    groups = translate("When did the Dunhuang Academy launch it, and what is in Zhongwei, Ningxia?", lexicon)
    found = {word for group in groups for word in group}
    assert {"敦煌", "中卫", "宁夏"} <= found


def test_only_proper_nouns_of_two_or_more_syllables_get_a_pinyin_name():
    from rag.lexical import proper_noun_pinyin

    assert proper_noun_pinyin("Dun1 huang2") == "dunhuang"
    assert proper_noun_pinyin("Lu:3 liang2") == "luliang"
    assert proper_noun_pinyin("shu4 ju4") is None       # a common word (数据)
    assert proper_noun_pinyin("Long2") is None          # one syllable: also an English word
    assert proper_noun_pinyin("A1 la1 · Bo2") is None   # not a pinyin syllable


def test_gloss_stems_find_the_corpus_words_of_the_same_meaning(tmp_path):
    from rag.lexical import Glossary, GlossStems

    glossary = Glossary({"提升": ["to promote", "to raise"], "提高": ["to raise", "to increase"],
                         "价格": ["price"], "升": ["to raise"]})
    stems = GlossStems.from_glossary(glossary)
    assert "升" not in stems.table  # one character: too ambiguous to stand for a word
    lexicon = build_lexicon(["转化率提高了5个百分点。", "价格没有变。", "会员人数增加。"], glossary)
    assert stems.synonyms("提升", lexicon) == ("提高",)
    assert stems.synonyms("提高", lexicon) == ()  # the word itself is no synonym, 提升 is not in the corpus
    assert stems.synonyms("价钱", lexicon) == ()  # not in CC-CEDICT here
    stems.save(tmp_path / "stems.marshal")
    assert GlossStems.load(tmp_path / "stems.marshal").table == stems.table


def test_a_corpus_word_cut_across_a_function_character_is_no_word():
    """jieba's HMM may cut "花剌子模在" into 花剌子 + 模在: a corpus-vocabulary word that begins or
    ends with a function character (在, 的, 了) is not taken as a word of a question."""
    from rag.lexical import Background

    background = Background({"哪一年": (5.0, False, -9.0), "蒙军": (9.0, False, -14.0)})
    words = background.words("花剌子模在哪一年被蒙军灭国？", {"花剌子", "模在", "灭国"})
    assert "模在" not in words and "花剌子" in words and "灭国" in words
