"""A real server process for the HTTP tests: `rag.web.serve` in a child Python, on a free loopback
port, over a private copy of a corpus and its index, with accounts made by the `rag user` CLI."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from rag.config import PROJECT_ROOT

SRC = PROJECT_ROOT / "src"
START_TIMEOUT_S = 120

# The child: settings from a JSON argument (limits included, which have no command-line flag), then serve.
# The reader is off: these tests are about who may do what and how fairly the server shares its
# workers; the answer stage has tests of its own, and its cost (~0.2 s a question) would turn the
# flood test's "answered within seconds" into a measure of the reader instead of the limits.
LAUNCHER = """
import json, sys
from pathlib import Path
from rag.config import LimitSettings, ReaderSettings, ServerSettings, Settings
from rag.web import serve
spec = json.loads(sys.argv[1])
server = ServerSettings(users_file=Path(spec["users"]) if spec.get("users") else None,
                        allow_upload=spec.get("allow_upload", False), limits=LimitSettings(**spec.get("limits", {})))
serve(Settings(corpus_dir=Path(spec["corpus"]), index_dir=Path(spec["index"]), port=spec["port"], server=server,
               reader=ReaderSettings(enabled=spec.get("reader", False))))
"""


def free_port() -> int:
    """A TCP port that is free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def env() -> dict:
    """The child's environment: this checkout's source first, no network for models."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
            "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}


def rag(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the `rag` command line in a child process."""
    return subprocess.run([sys.executable, "-m", "rag", *args], input=stdin, capture_output=True, text=True,
                          env=env(), timeout=120)


def add_user(users: Path, name: str, role: str, password: str) -> str:
    """An account made with `rag user add`, and a token from `rag user token` (its last line)."""
    made = rag("user", "add", name, "--role", role, "--users", str(users), "--password-stdin", stdin=password + "\n")
    assert made.returncode == 0, made.stderr
    token = rag("user", "token", name, "--users", str(users))
    assert token.returncode == 0, token.stderr
    return token.stdout.strip().splitlines()[-1]


@dataclass
class Server:
    """A running server: its URL, process and log file."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def copy_index(settings, folder: Path) -> tuple[Path, Path]:
    """A private copy of `settings`' corpus and built index under `folder`: (corpus, index)."""
    corpus, index = folder / "corpus", folder / "index"
    shutil.copytree(settings.corpus_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    return corpus, index


def start(corpus: Path, index: Path, folder: Path, users: Path | None = None, token: str | None = None,
          **spec) -> Server:
    """Serve `corpus`/`index` in a child process; returns once `/api/status` says ready
    (asked with `token` when there are accounts)."""
    port = free_port()
    log = folder / f"server-{port}.log"
    payload = {"corpus": str(corpus), "index": str(index), "port": port, "users": str(users) if users else None, **spec}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-c", LAUNCHER, json.dumps(payload)], stdout=out,
                                   stderr=subprocess.STDOUT, env=env(), cwd=folder)
    server = Server(f"http://127.0.0.1:{port}", process, log)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {server.log_text()[-2000:]}")
        try:
            reply = httpx.get(f"{server.url}/api/status", headers=headers, timeout=10)
            if reply.status_code == 200 and reply.json()["state"] == "ready":
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.stop()
    raise AssertionError(f"the server was not ready within {START_TIMEOUT_S} s: {server.log_text()[-2000:]}")
