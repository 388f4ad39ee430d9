"""Fit the relevance model (answer.RELEVANCE_MODEL) on the dev set and show the trade-off.

    python benchmarks/fit_abstention.py [evals/dev.jsonl]

For each question language, a logistic regression (plain gradient descent, L2-regularised,
standardised inputs) over the signals of `answer.relevance_signals` predicts "the article
answers this". The printed weights are in raw (unstandardised) units, ready to paste into
`RELEVANCE_MODEL`. Then it prints, for several strictness values, how many answerable
questions would be wrongly refused and how many unanswerable ones correctly refused.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rag.answer import question_language, relevance_signals  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402

SIGNALS = {"zh": ["standout", "gap", "coverage"], "en": ["standout", "gap", "helper_best", "matched_terms", "coverage"]}
#: Not fitted (too few examples to fit a rare binary signal): a fixed, decisive penalty.
TYPE_MISMATCH_WEIGHT = -6.0


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.05, steps: int = 20000, lr: float = 0.2):
    """Weights (with bias last) of an L2-regularised logistic regression on standardised x."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = np.c_[(x - mean) / std, np.ones(len(x))]
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= lr * (z.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0])
    raw = w[:-1] / std
    return raw, w[-1] - float((w[:-1] * mean / std).sum())


def main(path: str) -> None:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        qa = Pipeline.open(Settings(index_dir=Path(tmp) / "index"), log=lambda m: None)
        feats = {"zh": [], "en": []}
        for row in rows:
            retrieval = qa.retriever.search(row["question"], qa.settings.top_k)
            lang = question_language(row["question"])
            signals = relevance_signals(retrieval)
            feats[lang].append(([signals[s] for s in SIGNALS[lang]], signals["type_mismatch"], row["answer"] is not None))
    model = {}
    for lang, data in feats.items():
        x = np.array([f for f, _, _ in data], dtype=float)
        mismatch = np.array([m for _, m, _ in data], dtype=float)
        y = np.array([a for _, _, a in data], dtype=float)
        fit = mismatch == 0  # mismatched questions are decided by the fixed penalty
        weights, bias = fit_logistic(x[fit], y[fit])
        model[lang] = {"bias": round(float(bias), 3)} | {s: round(float(w), 3) for s, w in zip(SIGNALS[lang], weights)}
        model[lang]["type_mismatch"] = TYPE_MISMATCH_WEIGHT
        p = 1 / (1 + np.exp(-(x @ weights + bias + TYPE_MISMATCH_WEIGHT * mismatch)))
        print(f"\n{lang}: {int(y.sum())} answerable, {int((1 - y).sum())} unanswerable")
        print("  strictness  wrongly_refused  correctly_refused")
        for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
            print(f"  {t:10.1f}  {int(((p < t) & (y == 1)).sum()):>8}/{int(y.sum())}"
                  f"  {int(((p < t) & (y == 0)).sum()):>12}/{int((1 - y).sum())}")
    print("\nRELEVANCE_MODEL =", json.dumps(model, indent=1))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / "evals" / "dev.jsonl"))
