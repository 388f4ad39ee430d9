"""Grid over the quote-selection constants of `rag.answer`, on the dev set, abstention off.

    python benchmarks/tune_answer.py [evals/dev.jsonl]

Retrieval runs once per question; each setting then re-runs only the (cheap) answer stage and
reports answer_recall and char_f1 per language, with the metric functions of `rag eval`.
"""
from __future__ import annotations

import itertools
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import rag.answer as stage  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.evaluation import answer_recalled, char_f1, load_rows, prediction_text  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402

# chunking.SPAN_MIN_SENTENCE_CHARS (sentences quoted whole) is an index setting: to tune it, edit
# it and re-run (each run builds its own index). 50, 80 and 100 were compared this way.
GRID = {
    "SPAN_MIN_CHARS": [20, 30, 40],
    "SPAN_EXTEND": [0, 1, 2],
    "SPAN_MARGIN": [0.0, 0.01, 0.02],
}


def main(path: Path) -> None:
    rows = [r for r in load_rows(path)[0] if r.answerable]
    with tempfile.TemporaryDirectory() as tmp:
        qa = Pipeline.open(Settings(index_dir=Path(tmp) / "index"), log=lambda m: None)
        documents = {p: d.text for p, d in qa.index.documents.items()}
        retrievals = [(row, qa.retriever.search(row.question, qa.settings.top_k)) for row in rows]
        for values in itertools.product(*GRID.values()):
            for name, value in zip(GRID, values):
                setattr(stage, name, value)
            scores = {}
            for row, retrieval in retrievals:
                quotes = stage.answer(retrieval, qa.index.documents, qa.settings.max_quotes, 0.0).to_json()["quotes"]
                lang = row.fields.get("lang", "all")
                scores.setdefault(lang, []).append((answer_recalled(row.expected, quotes, documents),
                                                    char_f1(prediction_text(quotes), row.expected)))
            summary = "  ".join(f"{lang}: recall {sum(r for r, _ in s) / len(s):.3f} f1 {sum(f for _, f in s) / len(s):.3f}"
                                for lang, s in sorted(scores.items()))
            print(dict(zip(GRID, values)), summary)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "evals" / "dev.jsonl")
