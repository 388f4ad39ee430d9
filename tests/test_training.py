"""The reader's training data helpers that need no torch (training/english.py)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "training"))

from english import english_question, gloss  # noqa: E402

DEFINITIONS = {
    "台湾": ["variant of 臺灣|台湾[Tai2 wan1]", "Taiwan"],
    "举行": ["to hold (a meeting, ceremony etc)"],
    "总统": ["president (of a country)", "CL:個|个[ge4]"],
    "选举": ["to elect", "election"],
    "学术": ["learning", "science"],
    "研究": ["research", "a study"],
    "年": ["surname Nian", "year"],
}


def cut(text: str) -> list[str]:
    """A stand-in for jieba on the test's words."""
    words, i = [], 0
    vocabulary = sorted([*DEFINITIONS, "学术研究", "哪一年", "雷顿", "什么"], key=len, reverse=True)
    while i < len(text):
        word = next((w for w in vocabulary if text.startswith(w, i)), text[i])
        words.append(word)
        i += len(word)
    return words


def test_a_gloss_is_a_translation_not_a_note():
    assert gloss("台湾", DEFINITIONS) == "Taiwan"        # not "variant of …"
    assert gloss("举行", DEFINITIONS) == "hold"          # "to" and the parenthesis dropped
    assert gloss("年", DEFINITIONS) == "year"            # not "surname Nian"
    assert gloss("没有", DEFINITIONS) is None


def test_a_chinese_question_is_rendered_word_by_word_in_english():
    question = english_question("台湾哪一年举行总统选举？", DEFINITIONS, cut)
    assert question == "Taiwan which year hold president elect?"
    # A compound the dictionary lacks is read as its listed parts; a name without a gloss stays.
    assert english_question("雷顿的学术研究是什么？", DEFINITIONS, cut) == "雷顿 learning research is what?"
