"""The answer stage against the top-chunk baseline, with the metric functions of `rag eval`.

    python benchmarks/top_chunk_baseline.py [evals/suite/questions/fintech-ten-trends.jsonl]

Baseline: quote the whole top-ranked passage and never abstain. Product: `qa.ask` as shipped.
Same retrieval, same metrics (answer_recall, char_f1 on answerable rows; abstain_rate on the rest).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from rag.config import Settings  # noqa: E402
from rag.eval import answer_recalled, char_f1, load_rows, prediction_text  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402


def main(path: Path) -> None:
    rows, _ = load_rows(path)
    with tempfile.TemporaryDirectory() as tmp:
        qa = Pipeline.open(Settings(index_dir=Path(tmp) / "index"), log=lambda m: None)
        documents = {p: d.text for p, d in qa.index.documents.items()}
        table = {}
        for row in rows:
            answer = qa.ask(row.question).to_json()
            top = answer["passages"][0]
            baseline = [dict(top, n=1)]
            lang = row.fields.get("lang", "all")
            for name, quotes, abstained in (("top-chunk baseline", baseline, False),
                                            ("product", answer["quotes"], answer["abstained"])):
                for group in ("all", lang):
                    stats = table.setdefault((name, group), {"recall": [], "f1": [], "abstain": []})
                    if row.answerable:
                        stats["recall"].append(answer_recalled(row.expected, quotes, documents))
                        stats["f1"].append(0.0 if abstained else char_f1(prediction_text(quotes), row.expected))
                    else:
                        stats["abstain"].append(abstained)
    mean = lambda xs: f"{sum(xs) / len(xs):.3f}" if xs else "-"  # noqa: E731
    print(f"{'answerer':20} {'group':5} {'answer_recall':>13} {'char_f1':>8} {'abstain_rate':>12}")
    for (name, group), s in sorted(table.items(), key=lambda kv: (kv[0][0] != "top-chunk baseline", kv[0][1])):
        print(f"{name:20} {group:5} {mean(s['recall']):>13} {mean(s['f1']):>8} {mean(s['abstain']):>12}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "evals" / "suite" / "questions" / "fintech-ten-trends.jsonl")
