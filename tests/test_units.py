"""Units stored column by column (rag.index.units): the same chunks, sentences and spans as built,
made on demand, and the same chunk/sentence/span layout as a pass over the corpus finds."""
from __future__ import annotations

import numpy as np
import pytest

from rag.config import Settings
from rag.corpus import load_corpus
from rag.index.units import Layout, Units, load_units, save_units

from conftest import SUITE


@pytest.fixture(scope="module")
def units(tmp_path_factory):
    """The suite corpus (7 documents) chunked, saved as columns and loaded again."""
    from rag.chunking import chunk_corpus

    documents, _ = load_corpus(SUITE / "corpus")
    chunks, sentences, spans = chunk_corpus(documents, Settings().chunking)
    folder = tmp_path_factory.mktemp("units")
    by_path = {d.path: d for d in documents}
    save_units(folder, chunks, sentences, spans, list(by_path))
    return (chunks, sentences, spans), load_units(folder, by_path), folder, by_path


def test_loaded_units_equal_the_built_ones(units):
    built, loaded, _, _ = units
    for made, kept in zip(built, loaded):
        assert isinstance(kept, Units) and len(kept) == len(made) > 0
        assert kept == made and kept[-1] == made[-1] and kept[3:6] == made[3:6]
    with pytest.raises(IndexError):
        loaded[0][len(built[0])]


def test_layout_finds_what_a_pass_over_the_corpus_finds(units):
    (chunks, sentences, spans), loaded, _, _ = units
    for layout in (Layout(chunks, sentences, spans), Layout(*loaded)):
        for chunk in chunks[::7]:
            inside = [s.id for s in sentences if s.doc == chunk.doc and chunk.start <= s.start and s.end <= chunk.end]
            assert layout.sentences_in(chunk.id) == inside
        for sentence in sentences[::11]:
            assert [spans[p] for p in layout.spans_of(sentence.id)] == [s for s in spans if s.sentence == sentence.id]
    assert any(Layout(chunks, sentences, spans).spans_of(s.id) for s in sentences)


def test_units_reaching_outside_their_documents_are_refused(units):
    _, _, folder, by_path = units
    with np.load(folder / "units.npz") as data:
        arrays = {name: data[name] for name in data.files}
    arrays["chunk_end"][0] = 10 ** 8
    with open(folder / "units.npz", "wb") as handle:
        np.savez(handle, **arrays)
    with pytest.raises(ValueError, match="outside"):
        load_units(folder, by_path)
