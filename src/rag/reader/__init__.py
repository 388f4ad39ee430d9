"""The extractive reader: which words of the retrieved passages answer the question, if any.

    reader = Reader()                                # nothing loaded yet
    reader.read("…？", [("a.txt", 120, "passage text")])  # -> [ReadSpan, …], best first

Tokenizer (`tokenizer`), base and trained weights (`e5file`, `model`), the numpy forward
(`encoder`), windows over long passages (`windows`) and span decoding (`spans`). Nothing here
imports torch; training lives in `training/`.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .model import DEFAULT_WEIGHTS, ReaderModel, ReaderWeightsError, verify_weights
from .spans import decode
from .tables import own_part
from .windows import windows

__all__ = ["ReadingText", "Reader", "ReadSpan", "ReaderWeightsError", "DEFAULT_WEIGHTS"]



@dataclass(frozen=True)
class ReadSpan:
    """An answer span in a passage: `[start, end)` are offsets into the passage's document."""

    doc: str
    start: int
    end: int
    text: str
    margin: float   # span score minus the window's no-answer score
    rank: int       # the passage's retrieval rank (1 = best)


@dataclass(frozen=True)
class ReadingText:
    """A text the reader reads: `text` sits at `offset` in document `doc`, unless `origin` gives
    each character's document offset (-1: inserted for the reader, `tables.table_readings`).
    `rank`: its retrieval rank (0: its place in the list read)."""

    doc: str
    offset: int
    text: str
    origin: tuple[int, ...] | None = None
    rank: int = 0


class Reader:
    """Loads its weights on first use (thread-safe), then reads passages."""

    def __init__(self, weights: Path | str | None = DEFAULT_WEIGHTS, max_tokens: int = 256, max_question_tokens: int = 48,
                 overlap: int = 64, max_answer_tokens: int = 30):
        self.weights = Path(weights or DEFAULT_WEIGHTS)
        self.max_tokens, self.max_question_tokens = max_tokens, max_question_tokens
        self.overlap, self.max_answer_tokens = overlap, max_answer_tokens
        self._model: ReaderModel | None = None
        self._lock = threading.Lock()
        # One forward at a time: each already uses every core through BLAS, and several at once
        # (the web server answers 4 questions at a time) oversubscribe its threads, which then spin
        # (measured: half the CPU time in the kernel, several times slower per question).
        self._forward = threading.Lock()
        # The same passages (a corpus's chunks) are read again and again: their tokens are kept
        # (a few ms a question in the pure-Python tokenizer). Thread-safe; Tokens are not mutated.
        self._passage_tokens = lru_cache(maxsize=4096)(lambda text: self.model.tokenizer.encode(text))

    def check(self) -> dict:
        """Fail now, with a one-line `ReaderWeightsError`, if the weights are missing or damaged
        (their card, when they are fine). Cheap: a checksum, no model is built."""
        return verify_weights(self.weights)

    @property
    def model(self) -> ReaderModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = ReaderModel(self.weights)
        return self._model

    def read(self, question: str, passages: list[ReadingText | tuple[str, int, str]], per_passage: int = 3,
             lists: bool = False) -> list[ReadSpan]:
        """Spans answering `question` in `passages` (`ReadingText`s, or (doc, offset of the text in
        it, text), in retrieval order), best margin first; each passage's best `per_passage`
        spans. `lists`: the question asks for several things, so a span on one item of a list
        covers the whole list (`spans.decode`)."""
        model = self.model
        q = model.tokenizer.encode(question).ids
        passages = [p if isinstance(p, ReadingText) else ReadingText(*p) for p in passages]
        batch, owners = [], []
        for i, passage in enumerate(passages):
            for w in windows(q, self._passage_tokens(passage.text), model.vocab.bos, model.vocab.eos, self.max_tokens,
                             self.max_question_tokens, self.overlap):
                batch.append(w)
                owners.append(i)
        found: dict[tuple, ReadSpan] = {}
        with self._forward:
            all_logits = model.logits(batch)
        for w, logits, i in zip(batch, all_logits, owners):
            p = passages[i]
            for c in decode(w, logits, p.text, self.max_answer_tokens, per_passage, lists):
                a, b = c.start, c.end
                start, end = p.offset + a, p.offset + b
                if p.origin is not None:
                    own = own_part(a, b, p.origin)
                    if own is None:
                        continue
                    (a, b), start, end = own, p.origin[own[0]], p.origin[own[1] - 1] + 1
                key = (p.doc, start, end)
                if key not in found or found[key].margin < c.margin:
                    found[key] = ReadSpan(p.doc, start, end, p.text[a:b], c.margin, p.rank or i + 1)
        return sorted(found.values(), key=lambda s: (-s.margin, s.rank, s.start))
