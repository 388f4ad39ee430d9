"""Grids over the chunking and quote-selection settings, on the suite's tuning documents.

    python benchmarks/tune_answer.py chunking     # chunk size: one index per setting
    python benchmarks/tune_answer.py quotes       # AnswerSettings: retrieval once, answers per setting

All tuning documents (never the held-out ones) are in one corpus; the relevance model is the
bundled one. Prints hit@5, answer recall, char F1, false abstention, refusal and wrong-document
rate per setting, with the metric functions of `rag eval`.
"""
from __future__ import annotations

import dataclasses
import itertools
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import ROOT, make_corpus, tuning_documents  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from rag.config import AnswerSettings, ChunkingSettings, Settings  # noqa: E402
from rag.eval import aggregate, evaluate, load_rows, score_row  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402

CHUNKING = [ChunkingSettings(chunk_size=size, chunk_overlap=overlap)
            for size, overlap in ((200, 40), (300, 50), (400, 60), (500, 80), (800, 100))]
QUOTES = {"span_min_chars": [20, 30], "span_extend": [0, 1], "span_margin": [0.0, 0.01],
          "lexical_weight": [0.05, 0.1, 0.2]}
METRICS = ("hit@5", "answer_recall", "char_f1", "false_abstain_rate", "abstain_rate", "wrong_doc_rate")


def _report(label, results) -> None:
    metrics = aggregate(results, 5)["metrics"]
    print(label, "  ".join(f"{m} {metrics[m]:.3f}" for m in METRICS), flush=True)


def main(what: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = make_corpus(tuning_documents(), Path(tmp) / "corpus")
        rows = [row for name in tuning_documents()
                for row in load_rows(ROOT / "evals" / "suite" / "questions" / f"{name}.jsonl")[0]]
        texts = {p.name: p.read_text("utf-8") for p in corpus.iterdir() if not p.name.endswith(".json")}
        if what == "chunking":
            for chunking in CHUNKING:
                settings = Settings(corpus_dir=corpus, index_dir=Path(tmp) / f"index-{chunking.chunk_size}",
                                    chunking=chunking)
                qa = Pipeline.open(settings, log=lambda m: None)
                _report(f"chunk_size {chunking.chunk_size} overlap {chunking.chunk_overlap}:",
                        evaluate(qa, rows, texts, 5, settings.strictness)[0])
            return
        qa = Pipeline.open(Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index"), log=lambda m: None)
        retrievals = [(row, qa.retriever.search(row.question, 5)) for row in rows]
        from rag.answer import answer

        for values in itertools.product(*QUOTES.values()):
            settings = dataclasses.replace(AnswerSettings(), **dict(zip(QUOTES, values)))
            results = [score_row(row, answer(r, qa.index.documents, settings, 0.5, qa.relevance_model).to_json(), texts)
                       for row, r in retrievals]
            _report(str(dict(zip(QUOTES, values))), results)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "quotes")
