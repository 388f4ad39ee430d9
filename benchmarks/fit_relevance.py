"""Fit the relevance model (src/rag/data/relevance.json) by leave-one-document-out cross-validation.

    python benchmarks/fit_relevance.py [--write] [--out FILE]

The evaluation suite (`evals/suite/`: documents in corpus/, their questions in questions/) is
split in two by `evals/suite/suite.json`: documents to tune on, and held-out documents that no
fitting run ever reads. For every tuning question, the signals of `relevance.signals` are
computed twice: with its document alone in the corpus, and with all tuning documents together.

For each setting of the hyper-parameters (L2 strength, class balance), each tuning document in
turn is left out: the model is fitted on the others' questions and scored on its own, at the
decision boundary 0.5 (= the default strictness). The setting with the best mean balanced
accuracy over left-out documents wins; the final model is fitted on all tuning documents with
it. The printed table (and the model file's `lodo` section) are the left-out figures: the
honest estimate for a document nobody tuned on. `--write` saves the model.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suite import ROOT, held_out, make_corpus, questions_of, tuning_documents  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))

from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.relevance import BUNDLED_MODEL, RelevanceModel, question_language, signals  # noqa: E402

#: Signals per question language. English questions have the helper model's cosine; the bigram
#: and background-IDF signals are Chinese-only (an English question's words are not Chinese).
FEATURES = {
    "zh": ["best_cos", "spread", "coverage", "missing", "missing_max", "focus_missing", "unsupported", "constraint",
           "type_mismatch"],
    "en": ["best_cos", "spread", "coverage", "helper_best", "unsupported", "constraint", "type_mismatch"],
}
#: The direction each signal may push relevance (the fit is constrained to it, so no weight can
#: say "more of the question's words found makes an answer less likely" on some quirk of the
#: tuning documents): +1 raises relevance, -1 lowers it.
SIGNS = {"best_cos": 1, "spread": 1, "coverage": 1, "helper_best": 1, "missing": -1, "missing_max": -1,
         "focus_missing": -1, "unsupported": -1, "constraint": -1, "type_mismatch": -1}
GRID = [{"l2": l2, "balance": balance} for l2 in (0.003, 0.03, 0.3) for balance in (False, True)]


def signal_rows(documents: list[str], tmp: Path, log) -> list[dict]:
    """Signals of every question of `documents`, each alone and all together in one corpus."""
    out = []
    corpora = [[name] for name in documents] + [documents]
    for corpus in corpora:
        folder = make_corpus(corpus, tmp / ("corpus-" + "-".join(corpus) if len(corpus) == 1 else "corpus-all"))
        qa = Pipeline.open(Settings(corpus_dir=folder, index_dir=folder.with_suffix(".index")), log=lambda m: None)
        for name in corpus:
            for row in questions_of(name):
                retrieval = qa.retriever.search(row["question"], qa.settings.top_k)
                out.append({"doc": name, "question": row["question"], "setting": "alone" if len(corpus) == 1 else "together",
                            "lang": question_language(row["question"]), "kind": row["kind"],
                            "answerable": row["answer"] is not None, "signals": signals(retrieval)})
        log(f"signals: {', '.join(corpus)} ({sum(len(questions_of(n)) for n in corpus)} questions)")
    return out


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float, balance: bool, signs: np.ndarray,
                 steps: int = 4000, lr: float = 0.5):
    """Weights in raw units and bias of an L2-regularised logistic regression (standardised x),
    each weight kept to its sign in `signs` (projected gradient descent)."""
    mean, std = x.mean(0), x.std(0) + 1e-9
    z = np.c_[(x - mean) / std, np.ones(len(x))]
    sample = np.ones(len(y))
    if balance and 0 < y.sum() < len(y):
        sample = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    w = np.zeros(z.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= lr * (z.T @ ((p - y) * sample) / len(y) + l2 * np.r_[w[:-1], 0])
        w[:-1] = np.where(signs * w[:-1] < 0, 0.0, w[:-1])
    raw = w[:-1] / std
    return raw, float(w[-1] - (w[:-1] * mean / std).sum())


def fit(rows: list[dict], params: dict) -> RelevanceModel:
    """A model fitted on `rows` (both languages)."""
    weights, bias = {}, {}
    for lang, names in FEATURES.items():
        part = [r for r in rows if r["lang"] == lang]
        x = np.array([[r["signals"][n] for n in names] for r in part], dtype=float)
        y = np.array([r["answerable"] for r in part], dtype=float)
        w, b = fit_logistic(x, y, params["l2"], params["balance"], np.array([SIGNS[n] for n in names]))
        weights[lang], bias[lang] = dict(zip(names, map(float, w))), b
    return RelevanceModel(weights, bias, {})


def scores(model: RelevanceModel, rows: list[dict]) -> dict:
    """Refusal and false-abstention rates at strictness 0.5, by language and question kind."""
    out = {}
    for group, part in (("all", rows), ("zh", [r for r in rows if r["lang"] == "zh"]),
                        ("en", [r for r in rows if r["lang"] == "en"])):
        answered = [model.score(r["signals"], r["lang"]) >= 0.5 for r in part]
        answerable = [a for a, r in zip(answered, part) if r["answerable"]]
        near = [not a for a, r in zip(answered, part) if r["kind"] == "near"]
        off = [not a for a, r in zip(answered, part) if r["kind"] == "off"]
        out[group] = {
            "false_abstain": 1 - float(np.mean(answerable)) if answerable else None,
            "refused_near": float(np.mean(near)) if near else None,
            "refused_off": float(np.mean(off)) if off else None,
            "refused": float(np.mean(near + off)) if near + off else None,
        }
    return out


def balanced(score: dict) -> float:
    s = score["all"]
    return ((1 - s["false_abstain"]) + s["refused"]) / 2


def lodo(rows: list[dict], documents: list[str], params: dict) -> dict[str, dict]:
    """Leave-one-document-out scores: each document scored by a model fitted without it."""
    return {doc: scores(fit([r for r in rows if r["doc"] != doc], params), [r for r in rows if r["doc"] == doc])
            for doc in documents}


def _fmt(value) -> str:
    return "  –  " if value is None else f"{value:5.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="save the model")
    parser.add_argument("--out", type=Path, default=BUNDLED_MODEL, help="where --write saves it")
    parser.add_argument("--cache", type=Path, help="reuse (or save) the computed signals in this JSON file")
    args = parser.parse_args()
    tuning, held = tuning_documents(), held_out()
    print(f"tuning documents: {', '.join(tuning)}\nheld out (never read here): {', '.join(held)}")
    if args.cache and args.cache.is_file():
        rows = json.loads(args.cache.read_text("utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = signal_rows(tuning, Path(tmp), lambda m: print(m, file=sys.stderr))
        if args.cache:
            args.cache.write_text(json.dumps(rows), "utf-8")
    results = []
    for params in GRID:
        per_doc = lodo(rows, tuning, params)
        results.append((float(np.mean([balanced(s) for s in per_doc.values()])), params, per_doc))
        print(f"  {params}: mean left-out balanced accuracy {results[-1][0]:.3f}")
    best_score, best_params, per_doc = max(results, key=lambda r: r[0])
    print(f"\nchosen: {best_params}\n\nleft-out document (model fitted on the others), strictness 0.5:")
    print(f"{'document':28} {'lang':4} {'false_abstain':>13} {'refused_near':>12} {'refused_off':>11}")
    for doc, score in per_doc.items():
        for lang in ("all", "zh", "en"):
            s = score[lang]
            print(f"{doc:28} {lang:4} {_fmt(s['false_abstain']):>13} {_fmt(s['refused_near']):>12} {_fmt(s['refused_off']):>11}")
    model = fit(rows, best_params)
    model = RelevanceModel(model.weights, model.bias, {
        "written_by": "benchmarks/fit_relevance.py", "date": date.today().isoformat(),
        "fitted_on": tuning, "held_out": held, "params": best_params,
        "rows": len(rows), "lodo_balanced_accuracy": round(best_score, 4),
        "lodo": {doc: {lang: {k: (round(v, 4) if v is not None else None) for k, v in s.items()}
                       for lang, s in score.items()} for doc, score in per_doc.items()},
    })
    print("\nfinal model:", json.dumps({"bias": model.bias, "weights": model.weights}, indent=1))
    if args.write:
        model.save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
