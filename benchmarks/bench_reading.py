"""Reading benchmark: the reader on public Chinese span-extraction data it was not trained on.

    python benchmarks/bench_reading.py --gold                 # gold paragraph given (reader alone)
    python benchmarks/bench_reading.py --open --limit 400     # all paragraphs in one index, via Pipeline

Sets: the held-out DRCD articles (`dev`, split by article with the training seed) and the CMRC 2018
trial set (`test`, never trained on). Figures: CMRC character F1 and EM of the shown span (max
over references), and, for abstention, the AUC of the answerability score between a question on
its own paragraph and the same question on a paragraph that does not answer it (another paragraph
of the same article where there is one, else of another article). Writes docs/reading.json and
prints a Markdown table.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

import data as reading  # noqa: E402

from rag.eval.metrics import char_f1, cmrc_normalize  # noqa: E402
from rag.reader import Reader  # noqa: E402


def auc(pos: list[float], neg: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    ranked = sorted([(v, 1) for v in pos] + [(v, 0) for v in neg])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2
        rank_sum += mean_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    return (rank_sum - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def em(pred: str, gold: str) -> float:
    return float(cmrc_normalize(pred) == cmrc_normalize(gold))


def gold_setting(reader: Reader, paragraphs, limit: int, seed: int) -> dict:
    rng = random.Random(seed)
    by_article: dict[str, list] = {}
    for p in paragraphs:
        by_article.setdefault(p.article, []).append(p)
    items = [(p, q) for p in paragraphs for q in p.questions]
    rng.shuffle(items)
    items = items[:limit] if limit else items
    f1s, ems, pos, neg = [], [], [], []
    for p, q in items:
        spans = reader.read(q.question, [("gold", 0, p.context)])
        best = spans[0] if spans else None
        text = best.text if best else ""
        f1s.append(max(char_f1(text, a) for _, a in q.answers))
        ems.append(max(em(text, a) for _, a in q.answers))
        pos.append(best.margin if best else -99.0)
        siblings = [o for o in by_article[p.article] if o is not p]
        other = rng.choice(siblings) if siblings else rng.choice(paragraphs)
        if any(a in other.context for _, a in q.answers):
            continue
        spans = reader.read(q.question, [("other", 0, other.context)])
        neg.append(spans[0].margin if spans else -99.0)
    return {"questions": len(items), "f1": round(100 * statistics.mean(f1s), 1), "em": round(100 * statistics.mean(ems), 1),
            "auc_margin": round(auc(pos, neg), 3), "answered_at_0": round(sum(m > 0 for m in pos) / len(pos), 3),
            "wrongly_answered_at_0": round(sum(m > 0 for m in neg) / max(1, len(neg)), 3)}


def open_setting(paragraphs, limit: int, seed: int, tmp: Path, settings_changes: dict,
                 details: Path | None = None, titles: str = "number") -> dict:
    """All paragraphs in one index (one document each, titled by its article's number, or with
    `titles` "article" by the article's title, as a user's files are named), every question
    asked through `Pipeline.ask` as a user would: span F1/EM, quote recall, answerable questions
    refused, answers citing another paragraph than the question's. `tmp` may hold an index built
    by an earlier run over the same paragraphs (it is reused); `details` gets one JSON line per
    question for error analysis."""
    from rag.config import Settings
    from rag.pipeline import Pipeline
    from rag.validation import QuestionError

    corpus = tmp / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    names = {}
    for i, p in enumerate(paragraphs):
        name = f"p{i:04d}.txt"
        names[id(p)] = name
        title = p.title if titles == "article" and p.title else p.article.split(":", 1)[-1]
        meta = json.dumps({"title": title}, ensure_ascii=False)
        if (corpus / name).exists() and (corpus / name).read_text(encoding="utf-8") == p.context \
                and (corpus / (name + ".meta.json")).read_text(encoding="utf-8") == meta:
            continue   # written by an earlier run: leave it so that its index stays current
        (corpus / name).write_text(p.context, encoding="utf-8")
        (corpus / (name + ".meta.json")).write_text(meta, encoding="utf-8")
    reused = (tmp / "index").exists()
    started = time.perf_counter()
    # Chinese questions only: the English helper model would only double the build.
    settings = dataclasses.replace(Settings(corpus_dir=corpus, index_dir=tmp / "index"), english_model=None)
    qa = Pipeline.open(settings.replace(**settings_changes), log=lambda m: None)
    build_s = time.perf_counter() - started
    items = [(p, q) for p in paragraphs for q in p.questions if q.question.strip()]
    random.Random(seed).shuffle(items)
    items = items[:limit] if limit else items
    f1s, ems, recalled, refused, wrong, ms = [], [], [], [], [], []
    skipped = 0
    log = details.open("w", encoding="utf-8") if details else None
    for p, q in items:
        try:
            answer = qa.ask(q.question)
        except QuestionError:   # a data row whose question is empty once cleaned
            skipped += 1
            continue
        ms.append(answer.timings_ms.get("total", 0.0))
        golds = [a for _, a in q.answers]
        refused.append(answer.abstained)
        if log:
            log.write(json.dumps({"question": q.question, "golds": golds, "doc": names[id(p)], "refused": answer.abstained,
                                  "relevance": answer.relevance, "span": answer.span.text if answer.span else None,
                                  "quotes": [[x.doc, x.text] for x in answer.quotes],
                                  "hits": [x.doc for x in answer.passages]}, ensure_ascii=False) + "\n")
        if answer.abstained:
            f1s.append(0.0)
            ems.append(0.0)
            recalled.append(False)
            continue
        shown = answer.span.text if answer.span else "".join(x.text for x in answer.quotes)
        f1s.append(max(char_f1(shown, g) for g in golds))
        ems.append(max(em(shown, g) for g in golds))
        recalled.append(any(g in x.text for g in golds for x in answer.quotes))
        wrong.append(any(x.doc != names[id(p)] for x in answer.quotes))
    if log:
        log.close()
    return {"paragraphs": len(paragraphs), "questions": len(items) - skipped,
            ("open_s" if reused else "build_s"): round(build_s, 1),
            "f1": round(100 * statistics.mean(f1s), 1), "em": round(100 * statistics.mean(ems), 1),
            "quote_recall": round(statistics.mean(recalled), 3), "answerable_refused": round(statistics.mean(refused), 3),
            "wrong_document": round(statistics.mean(wrong), 3) if wrong else None,
            "latency_p50_ms": round(statistics.median(ms), 1)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--gold", action="store_true", help="the reader alone on each question's own paragraph")
    ap.add_argument("--open", action="store_true", help="all paragraphs of a set in one index, through Pipeline.ask")
    ap.add_argument("--reader", choices=("on", "off"), default="on", help="with --open: the answer stage to use")
    ap.add_argument("--sets", default="drcd-heldout,cmrc2018-trial")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=13, help="the training seed (its DRCD article split)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "reading.json")
    ap.add_argument("--work", type=Path, default=None,
                    help="with --open: keep the corpus and index here and reuse them on the next run")
    ap.add_argument("--details", type=Path, default=None, help="with --open: one JSON line per question")
    ap.add_argument("--titles", choices=("number", "article"), default="number",
                    help="with --open: title each paragraph's document by its article's number (every figure "
                         "in docs/reader.md) or by the article's title, as a user's files are named")
    args = ap.parse_args(argv)
    reader = Reader(args.weights) if args.weights else Reader()
    _, dev, test = reading.splits(args.seed)
    results = {}
    sets = {"drcd-heldout": dev, "cmrc2018-trial": test}
    chosen = [(name, sets[name]) for name in args.sets.split(",")]
    if args.gold:
        for name, paragraphs in chosen:
            results[f"gold/{name}"] = gold_setting(reader, paragraphs, args.limit, args.seed)
            print("gold", name, results[f"gold/{name}"], flush=True)
    if args.open:
        changes = {"reader": args.reader == "on"}
        for name, paragraphs in chosen:
            key = f"open/{name}/reader-{args.reader}" + ("/titled" if args.titles == "article" else "")
            details = args.details.with_suffix(f".{name}.jsonl") if args.details else None
            if args.work:
                results[key] = open_setting(paragraphs, args.limit, args.seed, args.work / name, changes, details,
                                            args.titles)
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    results[key] = open_setting(paragraphs, args.limit, args.seed, Path(tmp), changes, details, args.titles)
            print(key, results[key], flush=True)
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    previous.update(results)
    with tempfile.NamedTemporaryFile("w", dir=args.out.parent, delete=False, suffix=".tmp") as f:
        json.dump(previous, f, indent=2, ensure_ascii=False)
    Path(f.name).replace(args.out)


if __name__ == "__main__":
    main()
