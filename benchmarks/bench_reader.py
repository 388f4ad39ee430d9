"""What the reader costs: warm latency, cold `rag ask` and memory, reader on against off.

    python benchmarks/bench_reader.py [--runs 5] [--queries 200] [--out docs/reader-speed.json]

On the bundled article (index built once): warm per-question latency inside one process over
the article's suite questions (both languages, cycled), p50/p95, with the reader on and off;
cold `rag ask` wall time and peak RSS (a new process each run), on and off. Medians
throughout: these machines are shared. Writes the figures as JSON.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cli import ZH, median_run, percentiles  # noqa: E402

sys.path.insert(0, str(ROOT / "src"))
from rag.config import Settings  # noqa: E402
from rag.pipeline import Pipeline  # noqa: E402


def rss_mb() -> float:
    return int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmRSS:"))) / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "reader-speed.json")
    args = parser.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = ["--index", str(Path(tmp) / "index")]
        subprocess.run([sys.executable, "-m", "rag", "index", *index], check=True, capture_output=True)
        for mode in ("off", "on"):
            wall, peak = median_run(["rag", "ask", "--json", "--reader", mode, ZH, *index], args.runs)
            out[f"cold_ask_reader_{mode}_s"], out[f"cold_ask_reader_{mode}_peak_rss_mb"] = round(wall, 3), round(peak)
            print(f"cold rag ask, reader {mode}, median of {args.runs}: {wall:.2f} s (peak RSS {peak:.0f} MB)", flush=True)
        lines = (ROOT / "evals/suite/questions/fintech-ten-trends.jsonl").read_text("utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
        questions = [r["question"] for r in rows]
        settings = Settings(index_dir=Path(tmp) / "index")
        for mode in ("off", "on"):
            before = rss_mb()
            qa = Pipeline.open(settings.replace(reader=mode == "on"), log=lambda m: None)
            for q in questions[:3]:
                qa.ask(q)  # load what loads lazily
            after = rss_mb()
            latencies = []
            for i in range(args.queries):
                started = time.perf_counter()
                qa.ask(questions[i % len(questions)])
                latencies.append((time.perf_counter() - started) * 1000)
            p50, p95 = percentiles(latencies)
            out[f"warm_reader_{mode}_p50_ms"], out[f"warm_reader_{mode}_p95_ms"] = round(p50, 1), round(p95, 1)
            out[f"rss_growth_reader_{mode}_mb"] = round(after - before)
            print(f"warm, reader {mode}, {args.queries} asks ({len(questions)} questions cycled): p50 {p50:.1f} ms, "
                  f"p95 {p95:.1f} ms; process grew {after - before:.0f} MB opening and warming it", flush=True)
            del qa
    out["questions"] = args.queries
    args.out.write_text(json.dumps(out, indent=2) + "\n", "utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
