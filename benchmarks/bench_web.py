"""Round-trip latency of the web chat's `/ask` endpoint through `gradio_client`, and start-up time.

    python benchmarks/bench_web.py                    # 200 sequential + 200 over 8 clients
    python benchmarks/bench_web.py --questions 50 --clients 4

It starts `python app.py` twice on a free loopback port with a fresh temporary index folder:
  1. cold start: loads the model, serves at once and builds the index in the background; timed
     from process start to the first answer received (questions before it get "still being built");
  2. warm start: the index exists; same measurement; then
  3. N sequential questions from one client, and N questions spread over C concurrent clients
     (each its own `gradio_client.Client`), cycling through the questions of evals/suite/questions/fintech-ten-trends.jsonl;
  4. the same two runs with plain HTTP clients (`PlainClient`: httpx, no gradio_client), whose
     own CPU cost is far smaller: on a 2-core machine the clients share the cores with the server;
  5. the same two runs against the plain JSON route `POST /api/ask` (`RestClient`, httpx): one
     request, one JSON answer, outside Gradio's queue (docs/web.md, "API").
Every answer is checked to be for the question asked. Loopback only; every loop is bounded.
"""
from __future__ import annotations

import argparse
import json
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx
from gradio_client import Client
from gradio_client.exceptions import AppError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from rag.i18n import t  # noqa: E402  (needs the path above)

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS_FILE = ROOT / "evals" / "suite" / "questions" / "fintech-ten-trends.jsonl"
START_TIMEOUT_S = 300


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_questions(n: int) -> list[str]:
    """`n` questions, cycling through the dev set (answerable and not, Chinese and English)."""
    questions = [json.loads(line)["question"] for line in QUESTIONS_FILE.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    return [questions[i % len(questions)] for i in range(n)]


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


class PlainClient:
    """The `/ask` round trip with plain HTTP (httpx): POST the call, read its server-sent events.
    `gradio_client` spends tens of milliseconds of CPU per call in the same process as the
    other clients, on the same two cores; this measures more of the server and less of the client."""

    def __init__(self, url: str):
        self.base = f"{url.rstrip('/')}/gradio_api/call/ask"
        self.http = httpx.Client(timeout=120)

    def predict(self, question: str, api_name: str = "/ask") -> dict:
        event = self.http.post(self.base, json={"data": [question, None, None, None]}).json()["event_id"]
        with self.http.stream("GET", f"{self.base}/{event}") as stream:
            kind = ""
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    kind = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and kind in ("complete", "error"):
                    data = json.loads(line.split(":", 1)[1])
                    if kind == "error":
                        raise AssertionError(f"server error: {data}")
                    return data[0]
        raise AssertionError("the event stream ended without a result")


class RestClient:
    """`POST /api/ask` with httpx: the JSON API outside Gradio's queue."""

    def __init__(self, url: str):
        self.url = f"{url.rstrip('/')}/api/ask"
        self.http = httpx.Client(timeout=120)

    def predict(self, question: str, api_name: str = "/ask") -> dict:
        reply = self.http.post(self.url, json={"question": question})
        if reply.status_code != 200:
            raise AssertionError(f"server error {reply.status_code}: {reply.text}")
        return reply.json()


CLIENTS = {"gradio": lambda url: Client(url, verbose=False), "plain": PlainClient, "rest": RestClient}


def ask(client: Client, question: str) -> tuple[float, dict]:
    """One `/ask` round trip: (milliseconds, answer); fails if the answer is for another question."""
    started = time.perf_counter()
    result = client.predict(question, api_name="/ask")
    elapsed = (time.perf_counter() - started) * 1000
    if result["question"] != question.strip():
        raise AssertionError(f"asked {question!r}, got the answer to {result['question']!r}")
    return elapsed, result


def start_server(port: int, index_dir: Path, log_path: Path) -> tuple[subprocess.Popen, Client, float]:
    """Start `python app.py` and wait for its first answer: (process, client, seconds)."""
    started = time.perf_counter()
    log = open(log_path, "a")
    # --client-limits off: these benchmarks measure the server's own bound with many clients from one
    # address, which the per-client limits (docs/security.md, measured by bench_limits.py) would refuse.
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index_dir),
                               "--client-limits", "off"],
                              stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if server.poll() is not None:
            raise SystemExit(f"app.py exited with {server.returncode}; see {log_path}")
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            ask(client, "刷掌支付有什么优势？")
            return server, client, time.perf_counter() - started
        except (httpx.TransportError, AppError) as exc:   # nothing listens yet, or no index yet
            if isinstance(exc, AppError) and t("zh", "index_not_ready") not in str(exc):
                raise
            if time.monotonic() > deadline:
                server.terminate()
                raise SystemExit(f"app.py did not answer within {START_TIMEOUT_S} s; see {log_path}") from None
            time.sleep(0.1)


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=30)


def sequential(client: Client, questions: list[str]) -> tuple[list[float], list[float], float]:
    """Ask one after another: (round-trip ms, server pipeline ms, wall seconds)."""
    started = time.perf_counter()
    trips, inside = [], []
    for question in questions:
        ms, result = ask(client, question)
        trips.append(ms)
        inside.append(result["timings_ms"]["total"])
    return trips, inside, time.perf_counter() - started


def concurrent(url: str, questions: list[str], clients: int, kind: str = "gradio") -> tuple[list[float], float]:
    """Spread `questions` over `clients` threads, each with its own client of `kind` (`CLIENTS`:
    `gradio_client`, `PlainClient` or `RestClient`): (ms, wall seconds)."""
    shares = [questions[i::clients] for i in range(clients)]
    # connect outside the timing
    own_clients = [CLIENTS[kind](url) for _ in range(clients)]
    trips: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def user(client: Client, share: list[str]) -> None:
        start.wait(timeout=60)
        try:
            for question in share:
                ms, _ = ask(client, question)
                with lock:
                    trips.append(ms)
        except BaseException as exc:  # reported after the run
            errors.append(exc)

    threads = [threading.Thread(target=user, args=(c, s)) for c, s in zip(own_clients, shares)]
    for thread in threads:
        thread.start()
    start.wait(timeout=60)
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    if errors or len(trips) != len(questions):
        raise SystemExit(f"concurrent run failed: {errors[:3]} ({len(trips)}/{len(questions)} answered)")
    return trips, wall


def summary(name: str, trips: list[float], wall: float) -> str:
    return (f"{name:<28} n={len(trips):<4} p50 {statistics.median(trips):7.1f} ms   "
            f"p95 {percentile(trips, 95):7.1f} ms   max {max(trips):7.1f} ms   "
            f"{len(trips) / wall:6.1f} questions/s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200, help="questions per run (default 200)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions)

    print(f"bench_web {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · Python {platform.python_version()} · "
          f"{platform.machine()} · {__import__('os').cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        index_dir, log_path = Path(tmp) / "index", Path(tmp) / "server.log"
        server, _, cold = start_server(free_port(), index_dir, log_path)
        stop_server(server)
        port = free_port()
        server, client, warm = start_server(port, index_dir, log_path)
        try:
            print(f"start-up to first answer: cold (builds the index) {cold:.1f} s, warm (index on disk) {warm:.1f} s")
            trips, inside, wall = sequential(client, questions)
            print(summary("sequential, 1 client", trips, wall))
            print(f"{'':<28} server pipeline alone: p50 {statistics.median(inside):.1f} ms, "
                  f"p95 {percentile(inside, 95):.1f} ms")
            trips, wall = concurrent(f"http://127.0.0.1:{port}/", questions, args.clients)
            print(summary(f"concurrent, {args.clients} clients", trips, wall))
            trips, _, wall = sequential(PlainClient(f"http://127.0.0.1:{port}/"), questions)
            print(summary("plain HTTP, 1 client", trips, wall))
            trips, wall = concurrent(f"http://127.0.0.1:{port}/", questions, args.clients, kind="plain")
            print(summary(f"plain HTTP, {args.clients} clients", trips, wall))
            trips, _, wall = sequential(RestClient(f"http://127.0.0.1:{port}/"), questions)
            print(summary("POST /api/ask, 1 client", trips, wall))
            trips, wall = concurrent(f"http://127.0.0.1:{port}/", questions, args.clients, kind="rest")
            print(summary(f"POST /api/ask, {args.clients} clients", trips, wall))
        finally:
            stop_server(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
