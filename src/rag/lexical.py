"""Lexical side of retrieval: tokens for BM25 and the question's content words.

Chinese is segmented with jieba (bm25s' default tokenizer would take a run of Chinese characters
as one token); English words and numbers are lower-cased.

Speed: jieba's full dictionary takes ~0.7 s to load, too slow for a one-shot `rag ask`. Only
words that occur in the corpus can ever match in BM25, so the index stores the corpus vocabulary
as a small jieba dictionary, and questions are segmented with that (loads in ~0.05 s).
"""
from __future__ import annotations

import logging
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
