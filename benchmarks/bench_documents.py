"""Extraction of PDF, Word and web pages: speed beside embedding, and what is left of the mess.

    python benchmarks/bench_documents.py [--pages 200] [--no-build] [FILE_OR_FOLDER ...]

1. A 200-page Chinese PDF is written with fpdf2 (Debian's fonts-wqy-zenhei), its sentences drawn
   with a fixed seed from the evaluation suite's documents, with a running header, a page-number
   footer and a heading every few pages. It is extracted, then indexed as `rag index` would
   (bundled e5 and the English helper): extraction seconds beside the whole build's.
2. Every file given (e.g. the Debian packages' PDFs and HTML manuals, docs/documents.md) is
   extracted and its text checked for what cleaning should have removed: Kangxi radicals and
   compatibility ideographs, PDF control marks, bare page-number lines, short lines repeated 3+
   times (running headers left), a paragraph of 20+ characters followed by another with a Chinese
   character on each side (a sentence or word cut at a line or page end; also a caption or a
   table read as paragraphs) and paragraphs that end without sentence
   punctuation (a sentence cut at a page end, or a caption, code line or table cell read as a
   paragraph).

Times are CPU seconds of this process (`time.process_time`, all threads), so a busy machine
does not inflate them; wall seconds are printed beside. Prints Markdown tables (docs/documents.md).
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from rag.config import CorpusSettings, Settings
from rag.corpus import load_corpus
from rag.extract import FORMATS, ExtractError, extract, format_of
from rag.extract.clean import is_page_number

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "evals" / "suite" / "corpus"
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
_COMPAT = re.compile("[\u2e80-\u2eff\u2f00-\u2fdf\uf900-\ufaff]")
_MARKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\u00ad\ufffe\uffff]")
_HAN = "\u4e00-\u9fff"
_ENDS = tuple("。！？；.!?;:：”」』）)") + ("…",)


def synthetic_pdf(pages: int, seed: int = 7) -> bytes:
    """A Chinese report of `pages` A5 pages with a running header and page numbers."""
    from fpdf import FPDF

    documents, _ = load_corpus(SUITE)
    pool = [s.strip() for d in documents for s in re.findall(r"[^。！？\n]+[。！？]", d.text) if len(s.strip()) > 15]
    rng = random.Random(seed)

    class Report(FPDF):
        def header(self):
            self.set_font("zh", size=9)
            self.cell(0, 8, "行业研究报告 · 2024年12月", align="C")
            self.ln(12)

        def footer(self):
            self.set_y(-15)
            self.set_font("zh", size=9)
            self.cell(0, 8, f"- {self.page_no()} -", align="C")

    pdf = Report(format=(148, 210))
    pdf.add_font("zh", fname=FONT)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    chapter = 0
    while pdf.page_no() < pages:
        chapter += 1
        pdf.set_font("zh", size=15)
        pdf.start_section(f"第{chapter}章 研究发现（{chapter}）", level=0)
        pdf.multi_cell(0, 9, f"第{chapter}章 研究发现（{chapter}）", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("zh", size=10.5)
        for _ in range(12):
            pdf.multi_cell(0, 6, "".join(rng.sample(pool, 4)), new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
            if pdf.page_no() >= pages:
                break
    return bytes(pdf.output())


def quality(text: str, blocks) -> dict:
    """What cleaning should have left none of (see the module docstring)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    short = Counter(line for line in lines if len(line) <= 40)
    paragraphs = [text[s:e] for kind, s, e, _ in blocks if kind == "paragraph"]
    return {
        "chars": len(text),
        "kangxi": len(_COMPAT.findall(text)),
        "marks": len(_MARKS.findall(text)),
        "page-no lines": sum(1 for line in lines if is_page_number(line)),
        "repeated lines": sum(1 for line, n in short.items() if n >= 3),
        "split sentences": sum(1 for a, b in zip(blocks, blocks[1:]) if a[0] == b[0] == "paragraph" and a[2] - a[1] >= 20
                               and re.match(f"[{_HAN}]", text[a[2] - 1]) and re.match(f"[{_HAN}]", text[b[1]])),
        "unended paragraphs": f"{sum(1 for p in paragraphs if not p.rstrip().endswith(_ENDS)) / max(1, len(paragraphs)):.0%}",
        "headings": sum(1 for kind, *_ in blocks if kind == "heading"),
    }


def files_of(paths: list[str]) -> list[Path]:
    out = []
    for name in paths:
        path = Path(name)
        out += sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and format_of(p.name) in
                      ("pdf", "docx", "html")) if path.is_dir() else [path]
    return out


def table(rows: list[dict]) -> str:
    keys = list(rows[0])
    out = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        out.append("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in row.values()) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="PDF, Word or HTML files, or folders of them")
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--no-build", action="store_true", help="do not index the synthetic PDF")
    args = parser.parse_args()
    limits = CorpusSettings()

    if args.pages:
        data = synthetic_pdf(args.pages)
        started, wall = time.process_time(), time.perf_counter()
        extracted = extract("pdf", data, limits)
        seconds = time.process_time() - started
        row = {"file": f"synthetic {args.pages}-page PDF", "MB": len(data) / 1e6, "pages": len(extracted.pages),
               "extract s": seconds, "wall s": time.perf_counter() - wall}
        if not args.no_build:
            from rag.embedding import load_embedder
            from rag.index import rebuild_index

            with tempfile.TemporaryDirectory() as tmp:
                corpus = Path(tmp) / "corpus"
                corpus.mkdir()
                (corpus / "report.pdf").write_bytes(data)
                settings = Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index")
                embedder, helper = load_embedder(settings.model), load_embedder(settings.english_model)
                started, wall = time.process_time(), time.perf_counter()
                rebuild_index(settings, embedder, log=lambda m: print(m, file=sys.stderr), english_embedder=helper)
                build = time.process_time() - started
            row |= {"build s (all, CPU)": build, "build wall s": time.perf_counter() - wall,
                    "extraction share": f"{seconds / build:.1%}"}
        print(table([row | quality(extracted.text, extracted.blocks)]))
        print()

    rows = []
    for path in files_of(args.files):
        data = path.read_bytes()
        started = time.process_time()
        try:
            extracted = extract(format_of(path.name), data, limits)
        except ExtractError as exc:
            rows.append({"file": path.name, "MB": len(data) / 1e6, "pages": "", "extract s": time.process_time() - started,
                         "chars": f"refused: {exc}"})
            continue
        seconds = time.process_time() - started
        rows.append({"file": path.name, "MB": len(data) / 1e6, "pages": len(extracted.pages) or "",
                     "extract s": seconds} | quality(extracted.text, extracted.blocks))
        print(f"{path.name}: {seconds:.2f} s", file=sys.stderr, flush=True)
    if rows:
        keys = max(rows, key=len).keys()
        print(table([{k: row.get(k, "") for k in keys} for row in rows]))


if __name__ == "__main__":
    main()
