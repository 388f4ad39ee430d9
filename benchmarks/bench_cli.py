"""Speed of the command line and of the pipeline, on the bundled article.

    python benchmarks/bench_cli.py [--runs 5] [--queries 200]

Prints: index build time (with both models), cold `rag ask` wall time (a new process each run, index already
built) for a Chinese and an English question, the same for a bare
`import sentence_transformers, faiss` as a reference, peak memory of those processes, and warm
per-question latency inside one process (p50/p95). Medians throughout: these machines are shared.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZH, EN = "刷掌支付用到了哪些生物特征？", "What are the common schools of privacy computing?"


# Runs a Python command line and reports its own peak RSS (kB) on stderr's last line when it exits.
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent across fork and
# exec, so a child of a large benchmark process would report the parent's size.
_PEAK = ("import runpy, sys\n"
         "sys.argv = sys.argv[1:]\n"
         "try:\n"
         "    runpy.run_module(sys.argv[0], run_name='__main__') if sys.argv[0] != '-c' else exec(sys.argv[1])\n"
         "finally:\n"
         "    hwm = [line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')]\n"
         "    print('PEAK', hwm[0], file=sys.stderr)\n")


def timed_run(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of `python -m ARGS...` (or `python -c CODE`) in a new process."""
    before = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True)
    wall = time.perf_counter() - before
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed: {proc.stderr[-500:]}")
    peak_kb = int(proc.stderr.strip().splitlines()[-1].split()[1])
    return wall, peak_kb / 1024


def median_run(cmd: list[str], runs: int) -> tuple[float, float]:
    results = [timed_run(cmd) for _ in range(runs)]
    return statistics.median(w for w, _ in results), max(m for _, m in results)


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rag = ["rag"]
    with tempfile.TemporaryDirectory() as tmp:
        folders = ["--index", str(Path(tmp) / "index")]
        builds = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "rag", "index", "--force", *folders], check=True, capture_output=True)
            builds.append(time.perf_counter() - started)
        print(f"index build (rag index --force, whole process), median of 3: {statistics.median(builds):.2f} s")

        zh_wall, zh_mem = median_run(rag + ["ask", "--json", ZH, *folders], args.runs)
        print(f"cold rag ask, Chinese question, median of {args.runs}: {zh_wall:.2f} s (peak RSS {zh_mem:.0f} MB)")
        en_wall, en_mem = median_run(rag + ["ask", "--json", EN, *folders], args.runs)
        print(f"cold rag ask, English question (+ English helper model), median of {args.runs}: "
              f"{en_wall:.2f} s (peak RSS {en_mem:.0f} MB)")
        ref_wall, ref_mem = median_run(["-c", "import sentence_transformers, faiss"], args.runs)
        print(f"reference: python -c 'import sentence_transformers, faiss', median of {args.runs}: "
              f"{ref_wall:.2f} s (peak RSS {ref_mem:.0f} MB); cold Chinese rag ask is {ref_wall / zh_wall:.1f}x faster")

        sys.path.insert(0, str(ROOT / "src"))
        from rag.config import Settings
        from rag.pipeline import Pipeline

        qa = Pipeline.open(Settings(index_dir=Path(tmp) / "index"), log=lambda m: None)
        questions_file = ROOT / "evals" / "suite" / "questions" / "fintech-ten-trends.jsonl"
        rows = [json.loads(line) for line in questions_file.read_text("utf-8").splitlines() if line]
        for lang in ("zh", "en"):
            questions = [r["question"] for r in rows if r["lang"] == lang]
            qa.ask(questions[0])  # load what loads lazily
            latencies = []
            for i in range(args.queries):
                started = time.perf_counter()
                qa.ask(questions[i % len(questions)])
                latencies.append((time.perf_counter() - started) * 1000)
            p50, p95 = percentiles(latencies)
            print(f"warm latency, {lang} questions, {args.queries} asks in one process: p50 {p50:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
