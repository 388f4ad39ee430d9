"""The evaluation suite's figures: every document alone, all together, and the 10-document check.

    python benchmarks/eval_suite.py [--out DIR]

Runs `rag eval` (the same command a user runs) on corpora assembled in a temporary folder from
`evals/suite/corpus/` (+ `evals/suite/distractors/` for the 10-document corpus):

1. each suite document alone in its corpus, with its own questions;
2. all suite documents in one corpus, with all questions (per-document columns: wrong-document
   citations show up here);
3. the fintech article with nine other documents (six suite documents and three distractors),
   with the fintech questions: does refusing still work when the corpus grows?

Held-out documents (evals/suite/suite.json) are marked: no fitting script ever read them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "evals" / "suite"
METRICS = ["answer_recall", "char_f1", "false_abstain_rate", "abstain_rate", "wrong_doc_rate", "markup_quotes"]


def rag_eval(questions: list[Path], corpus_files: list[Path], work: Path, name: str, by: str) -> dict:
    """Run `rag eval` over `questions` against a corpus made of `corpus_files`; its summary.json."""
    corpus, qdir = work / f"{name}-corpus", work / f"{name}-questions"
    corpus.mkdir()
    qdir.mkdir()
    for file in corpus_files:
        shutil.copy(file, corpus / file.name)
    for file in questions:
        shutil.copy(file, qdir / file.name)
    out = work / f"{name}-out"
    subprocess.run([sys.executable, "-m", "rag", "eval", str(qdir), "--corpus", str(corpus),
                    "--index", str(work / f"{name}-index"), "--by", by, "--out", str(out)],
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={"PYTHONPATH": str(ROOT / "src"), **__import__("os").environ})
    return json.loads((out / "summary.json").read_text("utf-8"))


def files_of(document: str, folder: Path) -> list[Path]:
    return sorted(folder.glob(document + "*"))


def row(label: str, part: dict) -> str:
    values = [part["metrics"].get(m) for m in METRICS]
    by_lang = part.get("lang", {})
    cells = [f"{v:.3f}" if isinstance(v, float) else ("–" if v is None else str(v)) for v in values]
    return f"| {label} | " + " | ".join([*by_lang.values(), *cells]) + " |"


def lang_recall(summary: dict) -> dict:
    groups = summary["groups"]
    return {lang: f"{groups[lang]['metrics']['answer_recall']:.3f}" if lang in groups else "–" for lang in ("zh", "en")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="keep the rag eval outputs here")
    args = parser.parse_args()
    held_out = set(json.loads((SUITE / "suite.json").read_text("utf-8"))["held_out"])
    questions = sorted((SUITE / "questions").glob("*.jsonl"))
    docs = {q.stem: json.loads(q.read_text("utf-8").splitlines()[0])["doc"] for q in questions}
    work = Path(tempfile.mkdtemp()) if args.out is None else args.out
    work.mkdir(parents=True, exist_ok=True)
    header = "| document | zh recall | en recall | " + " | ".join(METRICS) + " |"
    print("Each document alone:\n\n" + header + "\n|" + "---|" * (len(METRICS) + 3))
    for q in questions:
        summary = rag_eval([q], files_of(docs[q.stem], SUITE / "corpus"), work, q.stem, "lang")
        label = q.stem + (" (held out)" if q.stem in held_out else "")
        print(row(label, {"metrics": summary["metrics"], "lang": lang_recall(summary)}))
    summary = rag_eval(questions, [f for d in docs.values() for f in files_of(d, SUITE / "corpus")],
                       work, "together", "doc")
    print(f"\nAll {len(docs)} documents in one corpus ({summary['counts']['rows']} questions):\n\n"
          "| document | " + " | ".join(METRICS) + " |\n|" + "---|" * (len(METRICS) + 1))
    print("| all | " + " | ".join(f"{summary['metrics'][m]:.3f}" if isinstance(summary['metrics'][m], float)
                                   else str(summary['metrics'][m]) for m in METRICS) + " |")
    for name, group in summary["groups"].items():
        label = name + (" (held out)" if Path(name).stem in held_out else "")
        print(f"| {label} | " + " | ".join(f"{group['metrics'][m]:.3f}" if isinstance(group['metrics'][m], float)
                                            else str(group['metrics'][m]) for m in METRICS) + " |")
    ten = [f for d in docs.values() for f in files_of(d, SUITE / "corpus")] + sorted((SUITE / "distractors").glob("*.txt"))
    fintech = SUITE / "questions" / "fintech-ten-trends.jsonl"
    summary = rag_eval([fintech], ten, work, "ten", "kind")
    documents = len({f.name.split(".meta.json")[0] for f in ten})
    m = summary["metrics"]
    print(f"\nThe fintech questions in a {documents}-document corpus: abstain_rate {m['abstain_rate']:.3f} "
          f"(unanswerable refused), false_abstain_rate {m['false_abstain_rate']:.3f}, "
          f"answer_recall {m['answer_recall']:.3f}, char_f1 {m['char_f1']:.3f}")


if __name__ == "__main__":
    main()
