"""The whole question-answering pipeline behind one object, shared by the CLI, web chat and eval.

    qa = Pipeline.open(Settings())          # loads the model once, opens or builds the index
    qa.ask("刷掌支付用到了哪些生物特征？")     # -> Answer
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

from .answer import Answer, answer, reader_answer, refuse_unresolved
from .config import Settings
from .conversation import Segmenter, about_document, names_no_document, resolve
from .embedding import Embedder, LazyEmbedder, load_embedder
from .index import Index, open_index
from .reader import Reader
from .relevance import READER_ABSTENTION, load_model
from .retrieval import Retriever
from .stores import check_store, open_store
from .validation import QuestionError, check_question, check_strictness, check_top_k


class Pipeline:
    """A loaded model and index, answering questions. Safe to share between threads."""

    def __init__(self, settings: Settings, index: Index, embedder: Embedder,
                 english_embedder: Embedder | None = None):
        self.settings = settings
        self.index = index
        self.embedder = embedder
        store = open_store(settings.stores, index)
        self.retriever = Retriever(index, embedder, settings.retrieval.rrf_k, english_embedder, store,
                                   settings.retrieval.candidate_factor, settings.retrieval.english_lexical_glosses)
        self.relevance_model = load_model(str(settings.relevance_model) if settings.relevance_model else None)
        r = settings.reader
        #: The extractive reader (loaded on its first question), or None: the sentence-choosing stage.
        self.reader = Reader(r.weights, r.max_tokens, r.max_question_tokens, r.overlap, r.max_answer_tokens) \
            if r.enabled else None
        #: Whether to show the reader's answer (benchmarks/fit_reader.py); None before it is fitted.
        self.abstention_model = load_model(str(READER_ABSTENTION)) if r.enabled and READER_ABSTENTION.is_file() else None
        self.segmenter = Segmenter(index.background, getattr(index.tokenizer, "vocabulary", ()))
        # No lock here: retrieval encodes one question at a time (its embedders are not documented
        # as thread-safe) and runs the rest (jieba, FAISS, BM25, answer) in parallel; measured
        # safe from threads in benchmarks/bench_concurrency.py (docs/scale.md).

    @classmethod
    def open(cls, settings: Settings, log: Callable[[str], None] = print,
             progress: Callable | None = None) -> Pipeline:
        """Load the embedder and open the index, building or refreshing it if needed.

        The English helper model is loaded only when it is needed (a build, or a question
        without Chinese characters), so a one-shot Chinese question does not pay for it.
        """
        load_model(str(settings.relevance_model) if settings.relevance_model else None)  # fail before the build
        if settings.reader.enabled:
            Reader(settings.reader.weights).check()
        check_store(settings.stores.store)
        embedder = load_embedder(settings.model)
        english = LazyEmbedder(settings.english_model) if settings.english_model else None
        return cls(settings, open_index(settings, embedder, log, progress, english), embedder, english)

    def ask(self, question: str, top_k: int | None = None, strictness: float | None = None,
            history: Sequence[str] = ()) -> Answer:
        """Answer one question; `None` settings take the pipeline's own.

        Raises `QuestionError` for a question that is not text, empty or too long, and
        `SettingError` for a top_k or strictness out of range (rag.validation).

        `history` is this conversation's previous questions as they were understood (each
        answer's `understood_as or question`), oldest first: a follow-up ("它有什么优势？") is
        resolved against it before retrieval (`conversation.resolve`) and the answer's
        `understood_as` says how.
        """
        started = time.perf_counter()
        question = check_question(question, self.settings.max_question_chars)
        top_k = check_top_k(self.settings.top_k if top_k is None else top_k)
        strictness = check_strictness(self.settings.strictness if strictness is None else strictness)
        resolution = resolve(question, self._earlier(history), self.segmenter)
        if resolution.unresolved:
            result = refuse_unresolved(question, resolution.unresolved)
        else:
            retrieval = self.retriever.search(resolution.question, top_k)
            docs = self._conversation_docs(resolution.question, history, top_k)
            # "文章第二部分讲的是什么？" with nothing saying which article: each document's.
            every = not docs and self._names_no_document(resolution.question)
            if self.reader is not None:
                result = reader_answer(retrieval, self.index.documents, self.reader, self.settings.reader.passages,
                                       strictness, self.abstention_model, self.settings.answer, docs,
                                       self.settings.reader.english_glosses, every)
            else:
                result = answer(retrieval, self.index.documents, self.settings.answer, strictness, self.relevance_model,
                                docs, every)
        if resolution.understood_as:
            result = replace(result, question=question, understood_as=resolution.understood_as)
        result.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return result

    def _conversation_docs(self, question: str, history: Sequence[str], top_k: int) -> list[str]:
        """For a question about "the article" ("文章第二部分讲的是什么？"), the document the
        conversation is about: the one the previous question's best passage comes from. A
        question that names no document means the one being discussed, not whichever document
        retrieval happens to rank first. Empty for other questions (a question that names its
        document, "氢能报告第二部分…", is left to retrieval) or without a previous turn."""
        earlier = self._earlier(history)
        if not earlier or not self._names_no_document(question):
            return []
        hits = self.retriever.search(earlier[-1], top_k).hits
        return [hits[0].chunk.doc] if hits else []

    def _names_no_document(self, question: str) -> bool:
        """Whether `question` is about "the article" while the corpus holds several documents
        and its words do not say which (`conversation.names_no_document`)."""
        return len(self.index.documents) >= 2 and about_document(question) \
            and names_no_document(question, self.segmenter)

    def _earlier(self, history: Sequence[str] | str | None) -> list[str]:
        """The usable part of a history: its newest `max_history_turns` entries that would pass as
        questions themselves (cleaned the same way); anything else in it is ignored, not an error."""
        if isinstance(history, str):  # one previous question passed bare
            history = [history]
        if not isinstance(history, (list, tuple)):
            return []
        earlier = []
        for turn in history[-self.settings.max_history_turns:]:
            try:
                earlier.append(check_question(turn, self.settings.max_question_chars))
            except QuestionError:
                continue
        return earlier
