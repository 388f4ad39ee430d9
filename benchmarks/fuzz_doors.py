"""Every door under generated hostile input: the HTTP API, Gradio's API, the CLI, eval files and
corpus files (issue 20).

    python benchmarks/fuzz_doors.py                       # 10,500 inputs, about 15 minutes on 2 CPUs
    python benchmarks/fuzz_doors.py --http 400 --gradio 200 --cli 200 --eval 200 --corpus 200   # a quick look

Inputs are generated from a fixed seed: huge integers (up to 6,000 digits) and floats (1e999),
nesting up to 40,000 deep (the body, `history`, `history` as a JSON string), control characters
and whole escape sequences (`ESC [2J`, `ESC ]0;title BEL`, C1 controls, bidi overrides), lone
surrogates, random Unicode, wrong types, truncated and non-UTF-8 bytes, and ordinary questions
between them. Per door:

- **HTTP API**: `POST /api/ask` on a real server (`app.py` on a free loopback port, its log to a
  file). Counted: status codes; any 5xx other than 503 is a failure, so is a 400 without a
  one-line `error`.
- **Gradio API**: `POST /gradio_api/call/ask`, then its event stream. A failure: a 5xx, or an
  `error` event without a message (`{"error": null}`).
- **CLI**: `rag ask` / `rag ask --json` through `rag.cli.main` in this process (the pipeline
  opened once; `Pipeline.open` returns it), with hostile questions and `-k`/`--strictness`
  values. A failure: an exit code other than 0/1/2, an exception, or a control character in
  what it printed (stdout and stderr); a citation line that is not one line.
- **Eval files**: generated `.jsonl` / `.csv` files (bad rows, wrong encodings, duplicate ids,
  deep nesting, huge numbers) through `rag.eval.load_rows`. A failure: any exception other than
  `EvalUsageError`.
- **Corpus files**: generated files (hostile names and contents) through `rag.corpus.add_files`
  into a fresh corpus, then one index build of what was accepted and questions printed by the CLI.
  A failure: any exception other than `CorpusError`.

Every call has a time limit (`--timeout`, 30 s): a call over it is a hang. Tracebacks: "Traceback"
in the server's log, or an exception in this process. Prints a markdown table (docs/reliability.md).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import re
import string
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bench_web import free_port, start_server, stop_server  # noqa: E402  (a sibling benchmark)

from rag import cli  # noqa: E402  (the path above)
from rag.config import Settings  # noqa: E402

# What a terminal acts on (the CLI's output must hold none): C0 but line feed, DEL, C1, separators, bidi.
ACTIVE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
ORDINARY = ["刷掌支付用到了哪些生物特征？", "What does DRG stand for?", "隐私计算常见的流派有哪些？", "它有什么优势？",
            "明天北京天气怎么样？", "趋势五讲了什么？", "谢谢", "What are its advantages?"]
ESCAPES = ["\x1b[2J", "\x1b]0;PWNED\x07", "\x1b[31m", "\x9b1;1H", "\x1b]8;;http://x\x1b\\", "\x1bP+q\x1b\\", "\x1b(B",
           "\u202e", "\u2028", "\r", "\x00", "\x07", "\x08" * 5, "\x1b"]


# --- Generators ----------------------------------------------------------------------------------

def hostile_text(rng: random.Random) -> str:
    """A question: ordinary, or ordinary with escape sequences and control characters spliced in,
    random Unicode (lone surrogates included), or very long."""
    kind = rng.randrange(6)
    base = rng.choice(ORDINARY)
    if kind == 0:
        return base
    if kind in (1, 2):
        pieces = list(base)
        for _ in range(rng.randint(1, 4)):
            pieces.insert(rng.randrange(len(pieces) + 1), rng.choice(ESCAPES))
        return "".join(pieces)
    if kind == 3:
        return "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0x80, 0x2fff),
                                       rng.randrange(0x4e00, 0x9fff), rng.randrange(0xd800, 0xe000),
                                       rng.randrange(0x1f300, 0x1fa00), rng.randrange(0, 0x20)]))
                       for _ in range(rng.randint(0, 80)))
    if kind == 4:
        return base * rng.choice([30, 60, 200])
    return rng.choice(["", " ", "\n\t", "\x1b[0m", "?"])


def huge_number(rng: random.Random) -> str:
    digits = rng.choice([19, 310, 400, 4301, 5000, 6000])
    return rng.choice(["", "-"]) + "1" + "".join(rng.choice(string.digits) for _ in range(digits - 1))


def nested(rng: random.Random) -> str:
    depth = rng.choice([40, 1000, 30000, 40000])
    return rng.choice(["[", '{"a":']) * depth + "1" + "]" * depth if rng.random() < 0.5 \
        else "[" * depth + "]" * depth


def setting(rng: random.Random) -> str:
    """A JSON value for top_k or strictness."""
    return rng.choice([str(rng.randint(-5, 30)), f"{rng.uniform(-2, 3):.3f}", huge_number(rng), "1e999", "-1e999",
                       "NaN", "Infinity", '"5"', "true", "null", "[]", "{}", nested(rng), "0.5", "3"])


def history(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return json.dumps([rng.choice(ORDINARY) for _ in range(rng.randint(0, 5))], ensure_ascii=False)
    if kind == 1:
        return nested(rng)
    if kind == 2:
        return json.dumps(nested(rng))   # the list as a JSON string, deeply nested
    if kind == 3:
        return json.dumps(json.dumps([hostile_text(rng) for _ in range(3)]))
    if kind == 4:
        return rng.choice(['{"a": 1}', "5", '"not json"', "[1, 2]", '["\\ud800"]', "[" + huge_number(rng) + "]"])
    return "null"


def api_body(rng: random.Random) -> bytes:
    """A POST /api/ask body: mostly a JSON object with hostile fields, sometimes not one at all."""
    kind = rng.randrange(10)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 200)))
    if kind == 1:
        return nested(rng).encode()
    if kind == 2:
        whole = json.dumps({"question": hostile_text(rng)}, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return whole[:rng.randint(0, 60)]
    fields = [f'"question": {json.dumps(hostile_text(rng), ensure_ascii=rng.random() < 0.5)}']
    if rng.random() < 0.6:
        fields.append(f'"top_k": {setting(rng)}')
    if rng.random() < 0.6:
        fields.append(f'"strictness": {setting(rng)}')
    if rng.random() < 0.5:
        fields.append(f'"history": {history(rng)}')
    if rng.random() < 0.05:
        fields.append('"extra": 1')
    rng.shuffle(fields)
    return ("{" + ", ".join(fields) + "}").encode("utf-8", "surrogatepass")


def gradio_body(rng: random.Random) -> bytes:
    """A POST /gradio_api/call/ask body: {"data": [question, top_k, strictness, history]} with hostile values."""
    if rng.random() < 0.1:
        return nested(rng).encode()
    values = [json.dumps(hostile_text(rng), ensure_ascii=False), setting(rng) if rng.random() < 0.5 else "null",
              setting(rng) if rng.random() < 0.5 else "null", history(rng) if rng.random() < 0.5 else "null"]
    values = values[:rng.randint(1, 4)]
    return ('{"data": [' + ", ".join(values) + "]}").encode("utf-8", "surrogatepass")


def cli_args(rng: random.Random) -> list[str]:
    question = hostile_text(rng)
    # argv cannot hold NUL; a lone surrogate reaches argv as from undecodable bytes (surrogateescape)
    args = ["ask", question.replace("\x00", "")]
    if rng.random() < 0.3:
        args.append("--json")
    if rng.random() < 0.3:
        args += ["-k", rng.choice(["3", "0", "21", "-1", "99999999999999999999", "x", "1e3"])]
    if rng.random() < 0.3:
        args += ["--strictness", rng.choice(["0.5", "1e999", "nan", "-0", "2", "inf", "0x1p-2", "1" + "0" * 400])]
    return args


def eval_file(rng: random.Random) -> tuple[str, bytes]:
    """An evaluation file: (name, bytes)."""
    rows = []
    for i in range(rng.randint(0, 12)):
        row = {"id": rng.choice([f"r{i}", "dup", {"x": 1}, [1], i, None, huge_number(rng)[:50]]),
               "question": rng.choice([hostile_text(rng), 5, None, ["q"], {"q": 1}]),
               "answer": rng.choice([None, "掌纹", hostile_text(rng), 3.5, []])}
        if rng.random() < 0.2:
            row["follows"] = rng.choice(["dup", "r0", "missing", {"a": 1}])
        line = json.dumps(row, ensure_ascii=rng.random() < 0.5)
        line = rng.choice([line, line, line, nested(rng), line[:rng.randint(0, len(line))],
                           line.replace("1", huge_number(rng), 1), '{"question": "\\ud800", "answer": null}'])
        rows.append(line)
    text = "\n".join(rows)
    if rng.random() < 0.4:
        header = "id,question,answer\n"
        text = header + "\n".join(",".join(f'"{str(c)[:60]}"' for c in (i, hostile_text(rng), "掌纹"))
                                  for i in range(rng.randint(0, 8)))
        name = "fuzz.csv"
    else:
        name = "fuzz.jsonl"
    encoding = rng.choice(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-be", "utf-32", "gb18030"])
    data = text.encode(encoding, "surrogatepass" if encoding.startswith("utf-8") else "replace")
    if rng.random() < 0.1:
        data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    return name, data


def corpus_file(rng: random.Random, i: int) -> tuple[str, bytes]:
    """A document to add: hostile names and contents."""
    stem = rng.choice([f"doc{i}", f"d{i}\x1b[31mred", f"n{i}\nline", f"b{i}\u202etxt", f"../up{i}", f"x{i}/y",
                       f"s{i} <img src=x>", f"c{i}\x00", f".hidden{i}", f"{'长' * 300}{i}"])
    name = stem + rng.choice([".txt", ".md", ".md", ".exe", "", ".TXT"])
    kind = rng.randrange(6)
    if kind == 0:
        body = f"一、标题{i}\n" + "".join(rng.choice(ESCAPES) + rng.choice(ORDINARY) for _ in range(5)) + "\n"
    elif kind == 1:
        body = f"# 文档{i}\n\n" + "刷掌支付通过掌纹和掌静脉识别用户身份。" * rng.randint(1, 20) + "\n"
    elif kind == 2:
        return name, bytes(rng.randrange(256) for _ in range(rng.randint(0, 500)))
    elif kind == 3:
        body = "#" * rng.randint(1, 10) + " " + "[" * 5000 + "\n" + "> " * 3000 + "text\n"
    elif kind == 4:
        body = ""
    else:
        body = "| a | b |\n|---|---|\n" + "| \x1b[2J | \u202e |\n" * rng.randint(1, 50)
    return name, body.encode(rng.choice(["utf-8", "utf-8", "utf-16"]), "replace")


# --- Doors ---------------------------------------------------------------------------------------

def fuzz_http(url: str, rng: random.Random, count: int, timeout: float, out: Counter) -> None:
    with httpx.Client(timeout=timeout) as http:
        for _ in range(count):
            body = api_body(rng)
            try:
                reply = http.post(f"{url}/api/ask", content=body, headers={"content-type": "application/json"})
            except httpx.TimeoutException:
                out["hang"] += 1
                continue
            out[f"HTTP {reply.status_code}"] += 1
            if reply.status_code >= 500 and reply.status_code != 503:
                out["failure"] += 1
            elif reply.status_code >= 400:
                error = reply.json().get("error") if reply.headers.get("content-type", "").startswith("application/json") \
                    else reply.text
                if not error or "\n" in error:
                    out["failure"] += 1


def fuzz_gradio(url: str, rng: random.Random, count: int, timeout: float, out: Counter) -> None:
    with httpx.Client(timeout=timeout) as http:
        for _ in range(count):
            body = gradio_body(rng)
            try:
                reply = http.post(f"{url}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"})
                out[f"HTTP {reply.status_code}"] += 1
                if reply.status_code >= 500 and reply.status_code != 503:
                    out["failure"] += 1
                    continue
                if reply.status_code != 200:
                    if not reply.text.strip() or "\n" in reply.text.strip():
                        out["failure"] += 1
                    continue
                stream = http.get(f"{url}/gradio_api/call/ask/{reply.json()['event_id']}").text
            except httpx.TimeoutException:
                out["hang"] += 1
                continue
            if "event: complete" in stream:
                out["answered"] += 1
            elif "event: error" in stream:
                data = stream.split("event: error", 1)[1].split("data:", 1)[-1].strip()
                out["refused with a message" if data and data != "null" else "failure"] += 1
            else:
                out["failure"] += 1


def fuzz_cli(qa, rng: random.Random, count: int, timeout: float, out: Counter) -> None:
    from rag import pipeline

    opened = pipeline.Pipeline.open
    pipeline.Pipeline.open = classmethod(lambda cls, *a, **k: qa)
    folders = ["--corpus", str(qa.settings.corpus_dir), "--index", str(qa.settings.index_dir)]
    try:
        for _ in range(count):
            args = cli_args(rng)
            stdout, stderr = io.StringIO(), io.StringIO()
            started = time.monotonic()
            try:
                with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                    code = cli.main([*args, *folders])
            except SystemExit as exc:   # argparse refusing an option: exit 2 with usage
                code = exc.code
            except Exception:   # noqa: BLE001 - a traceback is what is counted
                out["failure"] += 1
                out["traceback"] += 1
                continue
            if time.monotonic() - started > timeout:
                out["hang"] += 1
            out[f"exit {code}"] += 1
            text = stdout.getvalue() + stderr.getvalue()
            if code not in (0, 1, 2) or ACTIVE.search(text) or "Traceback" in text:
                out["failure"] += 1
            if any(line.startswith("[") and not re.search(r"\[\d+:\d+\]$", line)
                   for line in stdout.getvalue().splitlines() if re.match(r"\[\d+\] ", line)):
                out["failure"] += 1
    finally:
        pipeline.Pipeline.open = opened


def fuzz_eval_files(rng: random.Random, count: int, out: Counter) -> None:
    from rag.eval import EvalUsageError, load_rows

    with tempfile.TemporaryDirectory() as folder:
        for i in range(count):
            name, data = eval_file(rng)
            path = Path(folder) / f"{i}-{name}"
            path.write_bytes(data)
            try:
                rows, bad = load_rows(path)
                out["read"] += 1
                out["rows"] += len(rows)
                out["bad rows (with reasons)"] += len(bad)
            except EvalUsageError:
                out["refused as a whole (one line)"] += 1
            except Exception:   # noqa: BLE001
                out["failure"] += 1
                out["traceback"] += 1
            path.unlink()


def fuzz_corpus_files(rng: random.Random, count: int, out: Counter) -> Path:
    from rag.config import CorpusSettings
    from rag.corpus import CorpusError, add_files

    corpus = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))
    (corpus / "base.txt").write_text("一、基础\n刷掌支付用到了掌纹和掌静脉两种生物特征。\n", encoding="utf-8")
    for i in range(count):
        try:
            added, problems = add_files([corpus_file(rng, i)], corpus, CorpusSettings())
            out["added"] += len(added)
            out["refused (with reasons)"] += len(problems)
        except CorpusError:
            out["refused as a whole (one line)"] += 1
        except Exception:   # noqa: BLE001
            out["failure"] += 1
            out["traceback"] += 1
    return corpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for door, default in (("http", 4000), ("gradio", 1500), ("cli", 2000), ("eval", 1500), ("corpus", 1500)):
        parser.add_argument(f"--{door}", type=int, default=default, help=f"inputs for that door (default {default})")
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a call counts as a hang")
    parser.add_argument("--index", default=str(Path(tempfile.gettempdir()) / "rag-fuzz-index"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    results: dict[str, Counter] = {}
    seconds: dict[str, float] = {}
    tracebacks_in_log = 0

    log_path = Path(tempfile.gettempdir()) / "rag-fuzz-server.log"
    log_path.write_text("")
    port = free_port()
    server, _, _ = start_server(port, Path(args.index), log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        for door, run in (("HTTP API (POST /api/ask)", lambda c: fuzz_http(url, rng, args.http, args.timeout, c)),
                          ("Gradio API (/gradio_api/call/ask)", lambda c: fuzz_gradio(url, rng, args.gradio, args.timeout, c))):
            started = time.perf_counter()
            results[door] = Counter()
            run(results[door])
            seconds[door] = time.perf_counter() - started
            print(f"{door}: {dict(results[door])}", file=sys.stderr)
        alive = httpx.post(f"{url}/api/ask", json={"question": "刷掌支付用到了哪些生物特征？"}, timeout=60).status_code
    finally:
        stop_server(server)
    tracebacks_in_log = log_path.read_text(errors="replace").count("Traceback")

    from rag.pipeline import Pipeline

    settings = Settings().replace(index_dir=Path(args.index))
    qa = Pipeline.open(settings, log=lambda message: None)
    for door, run in (("CLI (rag ask)", lambda c: fuzz_cli(qa, rng, args.cli, args.timeout, c)),
                      ("Eval files (.jsonl/.csv)", lambda c: fuzz_eval_files(rng, args.eval, c)),
                      ("Corpus files (rag add)", lambda c: fuzz_corpus_files(rng, args.corpus, c))):
        started = time.perf_counter()
        results[door] = Counter()
        corpus = run(results[door])
        seconds[door] = time.perf_counter() - started
        print(f"{door}: {dict(results[door])}", file=sys.stderr)
    # What the corpus door let in is indexed and printed by the CLI: nothing in it may reach the terminal raw.
    index = Path(tempfile.mkdtemp(prefix="fuzz-index-"))
    stdout, stderr = io.StringIO(), io.StringIO()
    build = results["Corpus files (rag add)"]
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        for question in ("刷掌支付用到了哪些生物特征？", "标题", "文档"):
            code = cli.main(["ask", "--strictness", "0", "--corpus", str(corpus), "--index", str(index),
                             "--english-model", "none", question])
            build[f"build+ask exit {code}"] += 1
    printed = stdout.getvalue() + stderr.getvalue().replace("\r", "")
    build["control characters printed"] += len(ACTIVE.findall(printed))

    total = sum(sum(v for k, v in c.items() if k.startswith(("HTTP ", "exit "))) for c in results.values()) \
        + args.eval + args.corpus
    print(f"\nSeed {args.seed}; {total:,} generated inputs; server still answering afterwards: HTTP {alive}; "
          f"'Traceback' in the server log: {tracebacks_in_log}.\n")
    print("| door | inputs | outcomes | failures | hangs | tracebacks | seconds |")
    print("|---|---|---|---|---|---|---|")
    for door, counts in results.items():
        inputs = sum(v for k, v in counts.items() if k.startswith(("HTTP ", "exit "))) or \
            (args.eval if door.startswith("Eval") else args.corpus)
        outcome = ", ".join(f"{k}: {v:,}" for k, v in sorted(counts.items())
                            if k not in ("failure", "hang", "traceback"))
        print(f"| {door} | {inputs:,} | {outcome} | {counts['failure']} | {counts['hang']} | {counts['traceback']} "
              f"| {seconds[door]:.0f} |")
    failed = sum(c["failure"] + c["hang"] + c["traceback"] for c in results.values()) + tracebacks_in_log \
        + build["control characters printed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
