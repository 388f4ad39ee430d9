"""The web chat under abuse: load, a flood of abandoned calls, and random bad input.

    python benchmarks/bench_abuse.py                  # about 6 minutes on 2 CPUs
    python benchmarks/bench_abuse.py --fuzz 10000 --http-fuzz 300 --settle 60

It starts `python app.py` on a free loopback port over the bundled corpus, with a fresh
temporary index, and measures (every loop bounded in count and time, loopback only):

- Load: 1, 8 and 32 concurrent `gradio_client` clients asking 20 questions each (the dev set's):
  errors, p50, p95 of the round trip.
- Flood: 20 threads POST 1,000 `/gradio_api/call/ask` requests and never read the results;
  then one normal question (gradio_client, retried while the server says it is busy): how long
  until it is answered; and the server's RSS before the flood, right after it, and `--settle`
  seconds later.
- Bad inputs: `--fuzz` random questions (random Unicode with lone surrogates, control
  characters, emoji, random lengths; wrong types) and random top_k/strictness through
  `Pipeline.ask` in-process, then `--http-fuzz` of them through `/ask` over HTTP. Counted:
  answered, refused with a message (by field), and tracebacks (in-process: any other
  exception; over HTTP: "Traceback" in the server's log, or an error without a message).

Prints markdown tables (docs/reliability.md holds a run's output).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from gradio_client import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bench_web import free_port, start_server, stop_server  # noqa: E402  (this script's folder: a sibling benchmark)

from rag.config import Settings  # noqa: E402  (the path above)
from rag.validation import QuestionError, SettingError  # noqa: E402

QUESTIONS_FILE = ROOT / "evals" / "suite" / "questions" / "fintech-ten-trends.jsonl"
FLOOD_QUESTION = "What does DRG stand for? {}"
NORMAL_QUESTION = "刷掌支付有什么优势？"
#: A normal question after the flood is retried while the server is busy, for at most this long.
BUSY_RETRY_S = 60
TARGET_AFTER_FLOOD_S = 2.0
TARGET_RSS_MB = 50


def rss_mb(pid: int) -> float:
    """Resident memory of process `pid` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def dev_questions() -> list[str]:
    return [json.loads(line)["question"] for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()
            if line.strip()]


# --- the server -------------------------------------------------------------------------------

# --- load ---------------------------------------------------------------------------------------

def load(url: str, clients: int, per_client: int, questions: list[str]) -> dict:
    """`clients` threads with a Client each ask `per_client` questions: errors and latencies."""
    own = [Client(url, verbose=False) for _ in range(clients)]   # connect outside the timing
    trips: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def user(i: int) -> None:
        start.wait(timeout=120)
        for j in range(per_client):
            question = questions[(i * per_client + j) % len(questions)]
            began = time.perf_counter()
            try:
                result = own[i].predict(question, api_name="/ask")
                if result["question"] != question.strip():
                    raise AssertionError(f"asked {question!r}, got {result['question']!r}")
            except Exception as exc:  # counted, shown below the table
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                continue
            with lock:
                trips.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait(timeout=120)
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - began
    return {"clients": clients, "asked": clients * per_client, "errors": errors, "trips": trips, "wall": wall}


# --- flood --------------------------------------------------------------------------------------

def flood(port: int, calls: int, threads: int) -> dict:
    """POST `calls` /call/ask requests from `threads` threads without ever reading a result."""
    url = f"http://127.0.0.1:{port}/gradio_api/call/ask"
    codes: Counter = Counter()
    lock = threading.Lock()

    def sender(first: int) -> None:
        for n in range(first, calls, threads):
            body = json.dumps({"data": [FLOOD_QUESTION.format(n), None, None]}).encode()
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                    code = response.status
            except urllib.error.HTTPError as exc:
                exc.read()
                code = exc.code
            except OSError as exc:
                code = type(exc).__name__
            with lock:
                codes[code] += 1

    began = time.perf_counter()
    workers = [threading.Thread(target=sender, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    return {"codes": codes, "seconds": time.perf_counter() - began}


def ask_through_busy(url: str) -> tuple[float, int]:
    """Ask one normal question, retrying while the server says it is busy: (seconds, busy replies)."""
    client = Client(url, verbose=False)
    began, busy = time.perf_counter(), 0
    while True:
        try:
            client.predict(NORMAL_QUESTION, api_name="/ask")
            return time.perf_counter() - began, busy
        except Exception as exc:   # gradio_client's QueueError: "Queue is full! Please try again."
            if "full" not in str(exc).lower() or time.perf_counter() - began > BUSY_RETRY_S:
                raise
            busy += 1
            time.sleep(0.1)


# --- fuzz ---------------------------------------------------------------------------------------

_RANGES = [  # (low, high, weight): what random questions are made of
    (0x20, 0x7E, 30), (0x4E00, 0x9FFF, 30), (0x00, 0x1F, 5), (0x7F, 0x9F, 3), (0xD800, 0xDFFF, 4),
    (0x1F300, 0x1FAFF, 4), (0x0300, 0x036F, 3), (0x0590, 0x06FF, 3), (0x200B, 0x200F, 2),
    (0xE000, 0xF8FF, 2), (0xFFF0, 0xFFFF, 2), (0x3000, 0x303F, 5), (0xFF00, 0xFFEF, 5),
]
_WEIGHTS = [w for *_, w in _RANGES]


def random_text(rng: random.Random) -> str:
    # Mostly question-sized; some long, some far over the limit.
    length = rng.choices([rng.randint(0, 2), rng.randint(3, 40), rng.randint(41, 500), rng.randint(501, 20000)],
                         [10, 65, 10, 15])[0]
    out = []
    for _ in range(length):
        low, high, _ = rng.choices(_RANGES, _WEIGHTS)[0]
        out.append(chr(rng.randint(low, high)))
    return "".join(out)


def random_question(rng: random.Random, real: list[str]):
    kind = rng.random()
    if kind < 0.55:
        return random_text(rng)
    if kind < 0.75:   # a real question with damage: control characters, a surrogate, padding
        question = list(rng.choice(real))
        for _ in range(rng.randint(1, 4)):
            question.insert(rng.randint(0, len(question)), chr(rng.choice([0, 7, 27, 0x85, 0xD800, 0xDCFF, 0x200B])))
        return "".join(question)
    return rng.choice([None, 0, 1, -1, 3.5, math.nan, True, False, [], ["问题"], {"q": 1}, b"\xff\xfe",
                       "问题".encode(), "", " ", "\x00", "\ud800"])


def random_setting(rng: random.Random, valid: tuple):
    kind = rng.random()
    if kind < 0.6:
        return None
    if kind < 0.8:
        return rng.uniform(*valid) if isinstance(valid[0], float) else rng.randint(*valid)
    return rng.choice([0, -1, 21, 10**6, -5.0, 2.0, math.nan, math.inf, -math.inf, "3", "abc", True, [], 3.5])


def fuzz_cases(n: int, seed: int) -> list[tuple]:
    rng, real = random.Random(seed), dev_questions()
    return [(random_question(rng, real), random_setting(rng, (1, 20)), random_setting(rng, (0.0, 1.0)))
            for _ in range(n)]


def fuzz_in_process(cases: list[tuple], index_dir: Path) -> dict:
    """Every case through Pipeline.ask (which validates): answered / refused by field / tracebacks."""
    from rag.pipeline import Pipeline

    qa = Pipeline.open(Settings(index_dir=index_dir), log=lambda message: None)
    outcome: Counter = Counter()
    crashes: list[str] = []
    began = time.perf_counter()
    for question, top_k, strictness in cases:
        try:
            qa.ask(question, top_k=top_k, strictness=strictness)
            outcome["answered or abstained"] += 1
        except QuestionError as exc:
            outcome[f"refused: question ({exc.reason})"] += 1
        except SettingError as exc:
            outcome[f"refused: {exc.field}"] += 1
        except Exception as exc:  # the thing counted: anything else is a traceback
            outcome["traceback"] += 1
            crashes.append(f"{type(exc).__name__}: {exc} for {question!r:.80}")
    return {"outcome": outcome, "crashes": crashes, "seconds": time.perf_counter() - began}


def jsonable(value):
    """A case's value as JSON can carry it (bytes become text, NaN/inf stay: Python's json writes them)."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value


def fuzz_http(port: int, cases: list[tuple], log_path: Path) -> dict:
    """Cases through POST /gradio_api/call/ask + GET of its result."""
    url = f"http://127.0.0.1:{port}/gradio_api/call/ask"
    outcome: Counter = Counter()
    silent: list[str] = []
    tracebacks_before = log_path.read_text(errors="replace").count("Traceback")
    for question, top_k, strictness in cases:
        body = json.dumps({"data": [jsonable(question), top_k, strictness]}).encode()
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                event = json.loads(response.read())["event_id"]
            with urllib.request.urlopen(f"{url}/{event}", timeout=60) as response:
                stream = response.read().decode()
        except urllib.error.HTTPError as exc:
            outcome[f"HTTP {exc.code}"] += 1
            continue
        if "event: complete" in stream:
            outcome["answered or abstained"] += 1
            continue
        data = stream.split("data:", 1)[-1].strip()
        try:
            message = json.loads(data).get("error") if data.startswith("{") else None
        except ValueError:
            message = None
        if message:
            outcome["error with a message"] += 1
        else:
            outcome["error without a message"] += 1
            silent.append(f"{question!r:.60} {top_k!r} {strictness!r}: {stream[:120]!r}")
    tracebacks = log_path.read_text(errors="replace").count("Traceback") - tracebacks_before
    return {"outcome": outcome, "tracebacks": tracebacks, "silent": silent}


# --- report -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flood", type=int, default=1000, help="abandoned /call/ask POSTs (default 1000)")
    parser.add_argument("--threads", type=int, default=20, help="threads sending them (default 20)")
    parser.add_argument("--settle", type=float, default=60, help="seconds after the flood to measure RSS again")
    parser.add_argument("--per-client", type=int, default=20, help="questions per load client (default 20)")
    parser.add_argument("--fuzz", type=int, default=10000, help="random inputs through Pipeline.ask (default 10000)")
    parser.add_argument("--http-fuzz", type=int, default=300, help="of those, how many also through /ask over HTTP")
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args(argv)
    server_settings = Settings().server

    print(f"bench_abuse {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · Python {platform.python_version()} · "
          f"{platform.machine()} · {os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}) · "
          f"queue {server_settings.max_queue}, "
          f"concurrency {server_settings.concurrency_limit}, results kept {server_settings.result_ttl_seconds:g} s\n")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-abuse-") as tmp:
        index_dir, log_path = Path(tmp) / "index", Path(tmp) / "server.log"
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server, _, _ = start_server(port, index_dir, log_path)   # bench_web's: up once it answers
        try:
            questions = dev_questions()
            print("## Load\n\n| clients | questions | errors | p50 | p95 | questions/s |\n|---|---|---|---|---|---|")
            runs = [load(url, clients, args.per_client, questions) for clients in (1, 8, 32)]
            for run in runs:
                trips = run["trips"] or [math.nan]
                print(f"| {run['clients']} | {run['asked']} | {len(run['errors'])} | {statistics.median(trips):.0f} ms "
                      f"| {percentile(trips, 95):.0f} ms | {len(run['trips']) / run['wall']:.1f} |")
            for run in runs:
                for error in run["errors"][:3]:
                    print(f"  {run['clients']} clients: {error}")
            ok &= not runs[-1]["errors"]

            baseline = rss_mb(server.pid)
            sent = flood(port, args.flood, args.threads)
            after_flood_s, busy = ask_through_busy(url)
            right_after = rss_mb(server.pid)
            time.sleep(args.settle)
            settled = rss_mb(server.pid)
            accepted = sent["codes"].get(200, 0)
            refused = sent["codes"].get(503, 0)
            other = {k: v for k, v in sent["codes"].items() if k not in (200, 503)}
            print(f"\n## Flood\n\n{args.flood} `/gradio_api/call/ask` POSTs from {args.threads} threads, results never "
                  f"read, sent in {sent['seconds']:.1f} s: {accepted} queued, {refused} refused at once as busy "
                  f"(HTTP 503){f', other: {other}' if other else ''}.\n")
            print("| measure | value | target |\n|---|---|---|")
            print(f"| a normal question right after the flood: answered in | {after_flood_s:.2f} s "
                  f"({busy} busy replies first) | < {TARGET_AFTER_FLOOD_S:g} s |")
            print(f"| server RSS before the flood | {baseline:.0f} MB | |")
            print(f"| server RSS right after | {right_after:.0f} MB | |")
            print(f"| server RSS {args.settle:g} s later | {settled:.0f} MB ({settled - baseline:+.0f} MB) "
                  f"| within {TARGET_RSS_MB} MB of before |")
            ok &= after_flood_s < TARGET_AFTER_FLOOD_S and settled - baseline < TARGET_RSS_MB

            cases = fuzz_cases(args.fuzz, args.seed)
            local = fuzz_in_process(cases, index_dir)
            remote = fuzz_http(port, cases[:args.http_fuzz], log_path)
            print(f"\n## Bad inputs\n\n{args.fuzz} random inputs (seed {args.seed}) through `Pipeline.ask` in-process "
                  f"({local['seconds']:.0f} s), the first {args.http_fuzz} also through `/ask` over HTTP.\n")
            print("| outcome | in-process | over HTTP |\n|---|---|---|")
            keys = sorted(set(local["outcome"]) | set(remote["outcome"]))
            for key in keys:
                print(f"| {key} | {local['outcome'].get(key, '')} | {remote['outcome'].get(key, '')} |")
            print(f"| **tracebacks** | **{local['outcome'].get('traceback', 0)}** | **{remote['tracebacks']}** "
                  f"(in the server log) |")
            for line in (local["crashes"][:5] + remote["silent"][:5]):
                print(f"  {line}")
            ok &= not local["outcome"].get("traceback") and not remote["tracebacks"]
            ok &= not remote["outcome"].get("error without a message")
        finally:
            stop_server(server)
    print(f"\nTargets {'met' if ok else 'NOT met'}. Load average at the end: {os.getloadavg()[0]:.1f}.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
