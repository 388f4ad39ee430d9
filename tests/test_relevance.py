import json

import pytest

from rag.relevance import (
    BUNDLED_MODEL,
    SIGNALS,
    ModelError,
    RelevanceModel,
    answer_type_mismatch,
    constraint_names,
    content_bigrams,
    focus_words,
    load_model,
    matches,
    term_coverage,
)


def test_bundled_model_file_round_trip(tmp_path):
    model = RelevanceModel.load()
    data = json.loads(BUNDLED_MODEL.read_text("utf-8"))
    assert data["written_by"] == "benchmarks/fit_relevance.py"
    assert set(data["held_out"]).isdisjoint(data["fitted_on"]), "held-out documents are never fitted on"
    assert set(model.weights["zh"]) <= set(SIGNALS) and set(model.weights["en"]) <= set(SIGNALS)
    path = tmp_path / "model.json"
    model.save(path)
    again = RelevanceModel.load(path)
    assert again.bias == pytest.approx(model.bias, abs=1e-4)
    for lang in ("zh", "en"):
        assert again.weights[lang] == pytest.approx(model.weights[lang], abs=1e-4)
    assert again.meta["fitted_on"] == data["fitted_on"]
    signals = dict.fromkeys(SIGNALS, 0.5)
    assert again.score(signals, "zh") == pytest.approx(model.score(signals, "zh"), abs=1e-3)


@pytest.mark.parametrize("content", ["", "{oops", '{"models": {"zh": {}}}', '[1, 2]',
                                     '{"models": {"zh": {"bias": 0, "weights": {"nonsense": 1}}, '
                                     '"en": {"bias": 0, "weights": {}}}}'])
def test_unusable_model_files_are_a_clear_error(tmp_path, content):
    path = tmp_path / "model.json"
    path.write_text(content, "utf-8")
    with pytest.raises(ModelError, match="relevance model"):
        RelevanceModel.load(path)
    with pytest.raises(ModelError):
        RelevanceModel.load(tmp_path / "missing.json")


def test_score_is_a_probability_higher_with_better_signals():
    model = load_model()
    weak = dict.fromkeys(SIGNALS, 0.0) | {"best_cos": 0.80, "type_mismatch": 1.0, "unsupported": 1.0}
    strong = dict.fromkeys(SIGNALS, 0.0) | {"best_cos": 0.95, "spread": 0.1, "coverage": 1.0, "helper_best": 0.6}
    for lang in ("zh", "en"):
        assert 0.0 <= model.score(weak, lang) < model.score(strong, lang) <= 1.0


def test_term_coverage_weighs_groups_by_their_best_alternative():
    terms = [{"互联网": 2.0, "网络": 3.0}, {"web3": 1.0}]
    assert term_coverage(terms, "Web3是新一代互联网") == (2.0 + 1.0) / 4.0
    assert term_coverage(terms, "网络安全与web3") == 1.0
    assert term_coverage([], "anything") == 0.0


def test_answer_types():
    # A number is not a price, a head count is not a date, 座 needs 座.
    assert answer_type_mismatch("一台卖多少钱？", "市场规模达到120亿元，增长了30万台。") is False
    assert answer_type_mismatch("一台卖多少钱？", "市场规模达到120亿，增长了30万台。")
    assert answer_type_mismatch("哪一年开通的？", "每天运送120万人次。")
    assert answer_type_mismatch("全国一共建成了多少座加氢站？", "加氢站的建设成本约为1500万元。")
    assert not answer_type_mismatch("全国一共建成了多少座加氢站？", "全国已建成约400座加氢站。")
    assert not answer_type_mismatch("它是什么？", "没有数字。")
    # In a table row the column header is the measure: a bare number cell answers 多少家.
    assert not answer_type_mismatch("东城区有多少家食堂？", "东城区 | 42 | 3100 | 12元")
    assert answer_type_mismatch("东城区有多少家食堂？", "东城区的食堂多在老旧小区附近。")
    assert answer_type_mismatch("东城区有多少家食堂？", "东城区 | 四十余 | 较多")
    # The generic measure 个 also stands for the noun it counts: 几个小时 is answered by "4小时".
    assert not answer_type_mismatch("志愿者每周至少服务几个小时？", "志愿者每周服务时间不少于4小时。")
    assert not answer_type_mismatch("海外建了多少个仓？", "海外仓已超过2,500个。")
    assert answer_type_mismatch("志愿者每周至少服务几个小时？", "志愿者须参加为期两天的岗前培训。")
    assert answer_type_mismatch("东城区有多少家食堂？", "东城区\n42")   # a number alone on a line is no cell
    # Other measure words count the same things: 多少名 -> "38人", 多少条 -> "26项", not "3座".
    assert not answer_type_mismatch("每公里配备多少名运营人员？", "每公里配置的运营人员约为38人。")
    assert not answer_type_mismatch("文件提出了多少条举措？", "提出了4个方面26项举措。")
    assert answer_type_mismatch("文件提出了多少条举措？", "新建了3座车站。")
    assert answer_type_mismatch("What is the price of Ethereum?", "Web3是指新一代互联网")


def test_the_kind_of_answer_asked_for_is_no_constraint():
    """A place the question names constrains the answer; the noun after its question word (哪一个
    城市, jieba tags it a place) is the kind of answer, which the answer need not repeat."""
    from types import SimpleNamespace

    def names(question, named):
        return constraint_names(SimpleNamespace(question=question, named=named))

    assert names("亚洲第一个出口加工区位于台湾的哪一个城市?", ("台湾", "城市")) == ["台湾"]
    assert names("阿穆尔河指的是中国的哪一条河川?", ("中国", "河川")) == ["中国"]
    assert names("什么东西的出现导致了私有制?", ("东西",)) == []
    assert names("城市轨道交通在哪一年开通？", ("城市",)) == ["城市"]


def test_focus_and_near_matches():
    assert focus_words("湖北省博物馆宋画展的门票多少钱？", ["湖北省博物馆", "画展", "门票"]) == ["门票"]
    assert focus_words("这幅长卷是哪位画家的作品？", ["长卷", "画家", "作品"]) == ["长卷"]
    assert focus_words("隐私计算是什么？", ["隐私", "计算"]) == ["计算"]
    # An adverb of time or a numeral is never the focus: the content word before it is.
    assert focus_words("印第安纳溜马至今赢过多少次ABA总冠军?", ["印第安纳", "溜马", "至今", "总冠军"]) == ["溜马"]
    assert focus_words("新北市每人可以拿到零点零零多少的病床？", ["新北市", "每人", "零零", "病床"]) == ["每人"]
    assert matches("监测仪", "连续血糖监测仪是") and not matches("数字人民币", "数字货币与人民币")
    # A Chinese abbreviation matches the name it shortens, not characters far apart.
    assert matches("国办", "中共中央办公厅、国务院办公厅印发") and matches("长护险", "长期护理保险")
    assert not matches("国办", "国家统计局发布的报告中，办公") and not matches("收取", "收入")
    # A Chinese text's 我国 is the question's 中国.
    assert matches("中国", "截至2024年底，我国企业建设的海外仓") and not matches("中国", "德国企业建设的海外仓")
    assert content_bigrams("刷掌支付是什么？") == {"刷掌", "掌支", "支付"}


def test_a_focus_word_found_as_a_synonym_supports_the_value():
    """Asked 提升了多少, a sentence saying 提高了5个百分点 answers it; a sentence with the value but
    neither the word nor a synonym of it is about something else."""
    from rag.chunking import Sentence
    from rag.relevance import unsupported
    from rag.retrieval import Retrieval, ScoredSentence

    question = "跨境电商人民币结算占比提升了多少？"
    text = "与2020年相比，跨境电商人民币结算占比提高了5个百分点。"
    ranked = [ScoredSentence(Sentence(doc="d", start=0, end=len(text), id=0, section="s", text=text), 0.9)]
    words = {"跨境": 9.0, "电商": 9.0, "人民币": 7.0, "结算": 8.0, "占比": 8.0, "提升": 6.0}
    focus = focus_words(question, list(words))
    assert focus == ["提升"]
    plain = Retrieval(question, [], ranked, [], True, word_weights=words)
    assert unsupported(plain, ranked, focus)
    with_synonyms = Retrieval(question, [], ranked, [], True, word_weights=words, synonyms={"提升": ("提高",)})
    assert not unsupported(with_synonyms, ranked, focus)
    unrelated = Retrieval(question, [], ranked, [], True, word_weights=words, synonyms={"提升": ("上调",)})
    assert unsupported(unrelated, ranked, focus)


def test_a_name_said_earlier_in_the_paragraph_supports_the_value():
    """Asked when 敦煌市 was listed, "1986年被国务院列为…" answers it when its paragraph named
    敦煌市 before (the sentence leaves its subject out); not when the name is in another paragraph
    or only after the sentence."""
    from rag.chunking import Chunk, Sentence
    from rag.relevance import unsupported
    from rag.retrieval import Hit, Retrieval, ScoredSentence

    question = "在哪一年敦煌市被国务院列为国家历史文化名城？"
    words = {"敦煌市": 10.0, "国务院": 8.0, "历史文化名城": 11.0}

    def asked_over(text: str, sentence: str) -> bool:
        at = text.index(sentence)
        scored = ScoredSentence(Sentence(doc="d", start=at, end=at + len(sentence), id=1, section="s", text=sentence), 0.9)
        hit = Hit(Chunk(doc="d", start=0, end=len(text), id=0, title="t", section="s", text=text), 1, 1.0, 0.9, 1.0)
        retrieval = Retrieval(question, [hit], [scored], [], True, word_weights=words, named=("敦煌市", "国务院"))
        return unsupported(retrieval, [scored], focus_words(question, list(words)))

    listed = "1986年被国务院列为国家历史文化名城。"
    assert not asked_over(f"敦煌市位于甘肃省西北部。{listed}", listed)
    assert asked_over(f"敦煌市位于甘肃省西北部。\n{listed}", listed)     # another paragraph
    assert asked_over(f"{listed}敦煌市位于甘肃省西北部。", listed)        # only after it
