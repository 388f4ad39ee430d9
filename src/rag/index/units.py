"""Chunks, sentences and spans stored column by column: opening an index reads a few integer
arrays instead of parsing and building every object, and a question builds only the objects it
touches.

Every unit's text is a slice of its document (`text == document.text[start:end]`), so it is not
stored: a unit is its document, offsets and a few labels (section, context, title), the labels
kept once each in a string table. At 1,000 documents this takes opening from ~1.2 s and
~250 MB of objects to a few milliseconds (docs/scale.md).
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from ..chunking import Chunk, Sentence, Span
from ..corpus import Document

#: The columns of each kind besides doc/start/end (string columns index the string table).
_LABELS = {Chunk: ("title", "section", "context"), Sentence: ("section", "context", "header"), Span: ()}
_PREFIX = {Chunk: "chunk", Sentence: "sentence", Span: "span"}
UNITS_FILE, STRINGS_FILE = "units.npz", "strings.json"


class Units(Sequence):
    """A read-only sequence of `Chunk`, `Sentence` or `Span` over columns; an item is made when
    it is asked for. Compares equal to a list of the same units."""

    def __init__(self, kind: type, columns: dict[str, np.ndarray], strings: list[str],
                 paths: list[str], documents: dict[str, Document]):
        self.kind, self.columns, self.strings, self.paths = kind, columns, strings, paths
        self._texts = [documents[path].text for path in paths]

    def __len__(self) -> int:
        return len(self.columns["start"])

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = int(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        c = self.columns
        doc, start, end = int(c["doc"][i]), int(c["start"][i]), int(c["end"][i])
        fields = {"doc": self.paths[doc], "start": start, "end": end, "text": self._texts[doc][start:end]}
        fields |= {label: self.strings[int(c[label][i])] for label in _LABELS[self.kind]}
        fields |= {"sentence": int(c["sentence"][i])} if self.kind is Span else {"id": i}
        return self.kind(**fields)

    def __iter__(self) -> Iterator:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None


def save_units(folder: Path, chunks: Sequence[Chunk], sentences: Sequence[Sentence], spans: Sequence[Span],
               paths: list[str]) -> None:
    """Write the three kinds as `units.npz` (int32 columns) and `strings.json` (paths and labels)."""
    doc_of = {path: i for i, path in enumerate(paths)}
    table: dict[str, int] = {}
    arrays = {}
    for kind, items in ((Chunk, chunks), (Sentence, sentences), (Span, spans)):
        prefix = _PREFIX[kind]
        arrays[f"{prefix}_doc"] = np.array([doc_of[u.doc] for u in items], np.int32)
        arrays[f"{prefix}_start"] = np.array([u.start for u in items], np.int32)
        arrays[f"{prefix}_end"] = np.array([u.end for u in items], np.int32)
        for label in _LABELS[kind]:
            arrays[f"{prefix}_{label}"] = np.array([table.setdefault(getattr(u, label), len(table)) for u in items],
                                                   np.int32)
        if kind is Span:
            arrays["span_sentence"] = np.array([u.sentence for u in items], np.int32)
    with open(folder / UNITS_FILE, "wb") as handle:
        np.savez(handle, **arrays)
    (folder / STRINGS_FILE).write_text(json.dumps({"paths": paths, "strings": list(table)}, ensure_ascii=False),
                                       "utf-8")


def load_units(folder: Path, documents: dict[str, Document]) -> tuple[Units, Units, Units]:
    """The chunks, sentences and spans saved by `save_units`. Raises ValueError when the columns
    do not fit together or reach outside their documents."""
    table = json.loads((folder / STRINGS_FILE).read_text("utf-8"))
    paths, strings = table["paths"], table["strings"]
    if not isinstance(paths, list) or not isinstance(strings, list) or any(p not in documents for p in paths):
        raise ValueError("units name documents the index does not hold")
    with np.load(folder / UNITS_FILE, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    lengths = np.array([len(documents[p].text) for p in paths], np.int64)
    out = []
    for kind in (Chunk, Sentence, Span):
        prefix = _PREFIX[kind]
        names = ("doc", "start", "end", *_LABELS[kind], *(("sentence",) if kind is Span else ()))
        columns = {name: arrays[f"{prefix}_{name}"] for name in names}
        n = len(columns["start"])
        if any(len(col) != n or col.dtype != np.int32 for col in columns.values()):
            raise ValueError(f"{prefix} columns differ in length or type")
        doc = columns["doc"]
        if n and (doc.min() < 0 or doc.max() >= len(paths) or (columns["start"] < 0).any()
                  or (columns["end"] < columns["start"]).any() or (columns["end"] > lengths[doc]).any()):
            raise ValueError(f"{prefix} offsets lie outside their documents")
        for label in _LABELS[kind]:
            if n and (columns[label].min() < 0 or columns[label].max() >= len(strings)):
                raise ValueError(f"{prefix} {label} outside the string table")
        out.append(Units(kind, columns, strings, paths, documents))
    chunks, sentences, spans = out
    span_sentence = spans.columns["sentence"]
    if len(spans) and (span_sentence.min() < 0 or span_sentence.max() >= len(sentences)
                       or (np.diff(span_sentence) < 0).any()):
        raise ValueError("spans do not follow their sentences")
    return chunks, sentences, spans


class Layout:
    """Which sentences lie inside a chunk and which spans belong to a sentence, by binary search
    over the units' positions (they come in document order), not by a pass over the corpus."""

    def __init__(self, chunks: Sequence[Chunk], sentences: Sequence[Sentence], spans: Sequence[Span]):
        self._chunks = chunks
        docs, self._doc_numbers = _doc_numbers(sentences)
        # (document number << 32) + start: increasing, as sentences come in document order.
        self._sentence_key = (docs.astype(np.int64) << 32) + _column(sentences, "start").astype(np.int64)
        self._sentence_end = _column(sentences, "end")
        self._span_sentence = _column(spans, "sentence")

    def sentences_in(self, chunk_id: int) -> list[int]:
        """Ids of the sentences lying wholly inside chunk `chunk_id`, in order."""
        chunk = self._chunks[chunk_id]
        doc = self._doc_numbers.get(chunk.doc)
        if doc is None:
            return []
        first = int(np.searchsorted(self._sentence_key, (doc << 32) + chunk.start))
        last = int(np.searchsorted(self._sentence_key, (doc << 32) + chunk.end))
        return [i for i in range(first, last) if self._sentence_end[i] <= chunk.end]

    def spans_of(self, sentence_id: int) -> range:
        """Positions (in `spans`) of the clause spans of sentence `sentence_id`."""
        return range(int(np.searchsorted(self._span_sentence, sentence_id, "left")),
                     int(np.searchsorted(self._span_sentence, sentence_id, "right")))


def _column(items: Sequence, name: str) -> np.ndarray:
    if isinstance(items, Units):
        return items.columns[name]
    return np.array([getattr(u, name) for u in items], np.int64)


def _doc_numbers(items: Sequence) -> tuple[np.ndarray, dict[str, int]]:
    if isinstance(items, Units):
        return items.columns["doc"], {path: i for i, path in enumerate(items.paths)}
    numbers: dict[str, int] = {}
    return np.array([numbers.setdefault(u.doc, len(numbers)) for u in items], np.int64), numbers
