"""Training and held-out data for the reader: public Chinese span-extraction sets, split by article.

- DRCD dev + test (Traditional Chinese, CC BY-SA 3.0) converted to Simplified with OpenCC; each
  answer is found again in the converted paragraph (the occurrence nearest its old offset).
- CMRC 2018 trial (Simplified, CC BY-SA 4.0) is never trained on: it is the held-out public set.
- DRCD articles are split by a seeded hash of the article id: `dev_share` of them are held out
  for choosing the abstention threshold and reporting gold-window figures.

Questions have no unanswerable twins in these sets; negatives are windows that do not hold the
answer: the other windows of a long paragraph, and windows of other paragraphs of the same
article (near-topic text that does not answer, the hard case for abstention).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "reading"


@dataclass
class Question:
    qid: str
    question: str
    answers: list[tuple[int, str]]   # (start, text) in the paragraph's context


@dataclass
class Paragraph:
    article: str
    context: str
    questions: list[Question]
    title: str = ""   # the article's title (its subject: "安图县"), as a user's file would be named


def _refind(context: str, text: str, near: int) -> int | None:
    hits, i = [], context.find(text)
    while i >= 0:
        hits.append(i)
        i = context.find(text, i + 1)
    return min(hits, key=lambda h: abs(h - near)) if hits else None


def load(path: Path, source: str, to_simplified: bool) -> list[Paragraph]:
    convert = lambda s: s  # noqa: E731
    if to_simplified:
        import opencc
        cc = opencc.OpenCC("t2s")
        convert = cc.convert
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for article in raw["data"]:
        aid = f"{source}:{article.get('id') or article.get('title')}"
        for p in article["paragraphs"]:
            context = convert(p["context"])
            questions = []
            for qa in p["qas"]:
                answers = []
                for a in qa.get("answers", []):
                    text = convert(a["text"]).strip()
                    if not text:
                        continue
                    start = _refind(context, text, a["answer_start"])
                    if start is not None:
                        answers.append((start, text))
                if answers:
                    questions.append(Question(f"{source}:{qa['id']}", convert(qa["question"]), answers))
            out.append(Paragraph(aid, context, questions, convert(article.get("title") or "")))
    return out


def held_out(article: str, share: float, seed: int) -> bool:
    h = int(hashlib.sha256(f"{seed}:{article}".encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < share


def splits(seed: int, dev_share: float = 0.12, data: Path = DATA):
    """(train, dev, test) paragraphs: DRCD split by article; CMRC 2018 trial is the test set."""
    drcd = load(data / "drcd_dev.json", "drcd-dev", True) + load(data / "drcd_test.json", "drcd-test", True)
    train = [p for p in drcd if not held_out(p.article, dev_share, seed)]
    dev = [p for p in drcd if held_out(p.article, dev_share, seed)]
    test = load(data / "cmrc2018_trial.json", "cmrc-trial", False)
    return train, dev, test
