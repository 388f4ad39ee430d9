"""Fit when the reader answers (src/rag/data/reader_abstention.json), held out by document.

    python benchmarks/fit_reader.py [--write] [--cache FILE]

The same protocol as benchmarks/fit_relevance.py: only the suite's tuning documents are read
(evals/suite/suite.json holds two documents out entirely); every tuning question is retrieved
with its document alone and with all tuning documents together; each feature set below is
scored leave-one-document-out (fitted on the other documents, judged on the left-out one at the
default strictness 0.5), and the set with the best mean left-out balanced accuracy is fitted on
all tuning documents and written.

With `--public N`, rows from N articles of the reader's own DRCD *training* split join every fit
(never a left-out fold): one paragraph of each article is left out of their index, so its
questions are near-topic questions the index cannot answer; the questions of the indexed
paragraphs are answerable. They teach the model what an answerable question over encyclopaedic
text looks like, which the suite's five documents alone do not (the held-out DRCD articles, on
which `benchmarks/bench_reading.py` reports, are never read here).

Features: the reader's best span margin (span score minus its window's no-answer score) and its
passage's retrieval rank, with or without the relevance signals of `relevance.signals`. A lexical
signal stays only if the left-out figures show it earns its place.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fit_relevance import FEATURES as RELEVANCE_FEATURES  # noqa: E402
from fit_relevance import GRID, SIGNS, balanced, fit_logistic  # noqa: E402
from suite import ROOT, held_out, make_corpus, questions_of, tuning_documents  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))

from rag.answer import candidate_spans, prefer_asked_value  # noqa: E402
from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402
from rag.relevance import READER_ABSTENTION, RelevanceModel, question_language, signals  # noqa: E402

READER = ["reader_margin", "reader_rank"]
FEATURE_SETS = {
    "reader": {"zh": READER, "en": READER},
    "reader+relevance": {lang: READER + names for lang, names in RELEVANCE_FEATURES.items()},
    "relevance (no reader)": RELEVANCE_FEATURES,
}
SIGNS = SIGNS | {"reader_margin": 1, "reader_rank": -1}


def ablations() -> dict[str, dict[str, list[str]]]:
    """"reader+relevance" without one lexical signal at a time: whether each still earns its place."""
    full = FEATURE_SETS["reader+relevance"]
    signals_used = dict.fromkeys(n for names in full.values() for n in names if n not in READER)
    return {f"reader+relevance - {drop}": {lang: [n for n in names if n != drop] for lang, names in full.items()}
            for drop in signals_used}


def rows_of(documents: list[str], tmp: Path, log) -> list[dict]:
    """Per question and setting: the relevance signals and the reader's best span per passage rank."""
    out = []
    for corpus in [[name] for name in documents] + [documents]:
        folder = make_corpus(corpus, tmp / ("corpus-" + "-".join(corpus) if len(corpus) == 1 else "corpus-all"))
        qa = Pipeline.open(Settings(corpus_dir=folder, index_dir=folder.with_suffix(".index")), log=lambda m: None)
        for name in corpus:
            for row in questions_of(name):
                out.append(_row(qa, name, row["question"], row["kind"], row["answer"] is not None,
                                "alone" if len(corpus) == 1 else "together"))
        log(f"rows: {', '.join(corpus)}")
    return out


def public_rows(articles: int, tmp: Path, seed: int, log) -> list[dict]:
    """Rows from DRCD training articles (see the module docstring): `articles` articles with at
    least three paragraphs, one paragraph of each left out of the index."""
    import random

    sys.path.insert(0, str(ROOT / "training"))
    import data as reading  # noqa: PLC0415  (training/, which needs opencc)

    train, _, _ = reading.splits(seed)
    by_article: dict[str, list] = {}
    for p in train:
        by_article.setdefault(p.article, []).append(p)
    rng = random.Random(seed)
    chosen = sorted(a for a, ps in by_article.items() if len(ps) >= 3)
    rng.shuffle(chosen)
    chosen = chosen[:articles]
    folder = tmp / "public"
    folder.mkdir(parents=True, exist_ok=True)
    indexed, left_out = [], []
    for a in chosen:
        paragraphs = by_article[a]
        out = rng.randrange(len(paragraphs))
        left_out.append(paragraphs[out])
        indexed += [p for i, p in enumerate(paragraphs) if i != out]
    for i, p in enumerate(indexed):
        (folder / f"p{i:04d}.txt").write_text(p.context, encoding="utf-8")
    qa = Pipeline.open(dataclasses.replace(Settings(corpus_dir=folder, index_dir=tmp / "public.index"), english_model=None),
                       log=lambda m: None)
    texts = [p.context for p in indexed]
    asked = [(q, True) for p in indexed for q in rng.sample(p.questions, min(2, len(p.questions)))]
    asked += [(q, False) for p in left_out for q in p.questions
              if not any(a in t for _, a in q.answers for t in texts)]   # answered elsewhere: not unanswerable
    out = []
    for q, answerable in asked:
        if not q.question.strip():
            continue
        out.append(_row(qa, "drcd-train", q.question, "answerable" if answerable else "near", answerable))
    log(f"rows: {len(chosen)} DRCD training articles, {len(indexed)} paragraphs indexed, "
        f"{sum(r['answerable'] for r in out)} answerable and {sum(not r['answerable'] for r in out)} near-topic questions")
    return out


def _row(qa: Pipeline, doc: str, question: str, kind: str, answerable: bool, setting: str = "together") -> dict:
    """One question's row: its relevance signals and the reader's best margin per passage rank,
    over the spans the answer stage chooses among (`answer.read_answer`). The checks that only
    drop spans of the wrong kind or refuse (`answer.of_asked_kind`, `asked.names_nothing`) stay
    outside the fit: they touch a handful of questions and are measured on their own."""
    retrieval = qa.retriever.search(question, qa.settings.top_k)
    spans, _ = candidate_spans(retrieval, qa.index.documents, qa.reader, qa.settings.reader.passages, qa.settings.answer,
                               qa.settings.reader.english_glosses)
    spans = prefer_asked_value(question, spans, qa.index.documents, [s.sentence for s in retrieval.sentences])
    best = {}
    for s in spans:  # sorted by margin: the first per rank is its best
        best.setdefault(s.rank, s.margin)
    return {"doc": doc, "question": question, "setting": setting, "lang": question_language(question), "kind": kind,
            "answerable": answerable, "signals": signals(retrieval), "margins": {str(k): v for k, v in best.items()}}


def with_reader(row: dict, w_margin: float, w_rank: float) -> dict:
    """The row's signals plus the reader features of the span the model would choose."""
    if not row["margins"]:
        return row["signals"] | {"reader_margin": -20.0, "reader_rank": 0.0}
    rank, margin = max(((int(k), v) for k, v in row["margins"].items()), key=lambda kv: w_margin * kv[1] + w_rank * (kv[0] - 1))
    return row["signals"] | {"reader_margin": margin, "reader_rank": float(rank - 1)}


def fit(rows: list[dict], features: dict, params: dict) -> RelevanceModel:
    weights, bias = {}, {}
    for lang, names in features.items():
        part = [r for r in rows if r["lang"] == lang]
        w_m, w_r = 1.0, -1.0  # choice of span for the first pass; refitted once with the learnt ratio
        for _ in range(2):
            x = np.array([[with_reader(r, w_m, w_r)[n] for n in names] for r in part], dtype=float)
            y = np.array([r["answerable"] for r in part], dtype=float)
            w, b = fit_logistic(x, y, params["l2"], params["balance"], np.array([SIGNS[n] for n in names]))
            fitted = dict(zip(names, map(float, w)))
            w_m, w_r = fitted.get("reader_margin", 1.0), fitted.get("reader_rank", -1.0)
        weights[lang], bias[lang] = fitted, b
    return RelevanceModel(weights, bias, {})


def score(model: RelevanceModel, rows: list[dict]) -> dict:
    out = {}
    for group, part in (("all", rows), ("zh", [r for r in rows if r["lang"] == "zh"]),
                        ("en", [r for r in rows if r["lang"] == "en"])):
        answered = []
        for r in part:
            w = model.weights[r["lang"]]
            answered.append(model.score(with_reader(r, w.get("reader_margin", 1.0), w.get("reader_rank", -1.0)),
                                        r["lang"]) >= 0.5)
        answerable = [a for a, r in zip(answered, part) if r["answerable"]]
        near = [not a for a, r in zip(answered, part) if r["kind"] == "near"]
        off = [not a for a, r in zip(answered, part) if r["kind"] == "off"]
        out[group] = {"false_abstain": 1 - float(np.mean(answerable)) if answerable else None,
                      "refused_near": float(np.mean(near)) if near else None,
                      "refused_off": float(np.mean(off)) if off else None,
                      "refused": float(np.mean(near + off)) if near + off else None}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--out", type=Path, default=READER_ABSTENTION)
    parser.add_argument("--cache", type=Path)
    parser.add_argument("--public", type=int, default=0, metavar="N",
                        help="add rows from N DRCD training articles to every fit (default: none)")
    parser.add_argument("--public-cache", type=Path)
    parser.add_argument("--seed", type=int, default=13, help="the reader's training seed (its DRCD split)")
    parser.add_argument("--ablate", action="store_true", help="also score the feature set without each lexical signal")
    args = parser.parse_args()
    feature_sets = FEATURE_SETS | (ablations() if args.ablate else {})
    tuning, held = tuning_documents(), held_out()
    if args.cache and args.cache.is_file():
        rows = json.loads(args.cache.read_text("utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            rows = rows_of(tuning, Path(tmp), lambda m: print(m, file=sys.stderr))
        if args.cache:
            args.cache.write_text(json.dumps(rows), "utf-8")
    public = []
    if args.public:
        if args.public_cache and args.public_cache.is_file():
            public = json.loads(args.public_cache.read_text("utf-8"))
        else:
            with tempfile.TemporaryDirectory() as tmp:
                public = public_rows(args.public, Path(tmp), args.seed, lambda m: print(m, file=sys.stderr))
            if args.public_cache:
                args.public_cache.write_text(json.dumps(public), "utf-8")
    best = None
    for name, features in feature_sets.items():
        for params in GRID:
            per_doc = {d: score(fit([r for r in rows + public if r["doc"] != d], features, params),
                                [r for r in rows if r["doc"] == d]) for d in tuning}
            mean = float(np.mean([balanced(s) for s in per_doc.values()]))
            fa = float(np.mean([s["all"]["false_abstain"] for s in per_doc.values()]))
            rf = float(np.mean([s["all"]["refused"] for s in per_doc.values()]))
            print(f"{name:24} {params}: left-out balanced accuracy {mean:.3f} (false abstain {fa:.3f}, refused {rf:.3f})")
            if name != "relevance (no reader)" and (best is None or mean > best[0]):
                best = (mean, name, params, per_doc)
    mean, name, params, per_doc = best
    print(f"\nchosen: {name} {params}")
    for doc, s in per_doc.items():
        for lang in ("all", "zh", "en"):
            print(f"  {doc:26} {lang:3} " + " ".join(f"{k}={v:.3f}" if v is not None else f"{k}=–" for k, v in s[lang].items()))
    model = fit(rows + public, feature_sets[name], params)
    model = RelevanceModel(model.weights, model.bias, {
        "written_by": "benchmarks/fit_reader.py", "date": date.today().isoformat(), "features": name,
        "fitted_on": tuning + ([f"DRCD training split (seed {args.seed}), {args.public} articles"] if public else []),
        "held_out": held, "params": params, "rows": len(rows) + len(public),
        "lodo_balanced_accuracy": round(mean, 4),
        "lodo": {d: {lang: {k: (round(v, 4) if v is not None else None) for k, v in s.items()} for lang, s in sc.items()}
                 for d, sc in per_doc.items()}})
    print("final:", json.dumps({"bias": model.bias, "weights": model.weights}, indent=1))
    if args.write:
        model.save(args.out)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
