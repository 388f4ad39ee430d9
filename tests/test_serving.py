"""rag.serving: the bounded queue, closed uploads, the /call guard and uncollected results dropped.

The live tests run a tiny Gradio app whose handler waits until the test lets it go, so the
queue's state is known exactly; the chat itself is tested in test_web.py.
"""
from __future__ import annotations

import asyncio
import dataclasses
import socket
import threading
import time

import gradio as gr
import httpx
import pytest

from rag import serving
from rag.config import ServerSettings, Settings

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")


class FakeQueue:
    """The three attributes of Gradio's Queue that drop_uncollected reads."""

    def __init__(self):
        self.pending_messages_per_session: dict[str, asyncio.Queue] = {}
        self.pending_event_ids_session: dict[str, set[str]] = {}
        self.event_ids_to_events: dict[str, object] = {}

    def caller(self, session: str, *messages) -> asyncio.Queue:
        queue = asyncio.Queue()
        for message in messages:
            queue.put_nowait(message)
        self.pending_messages_per_session[session] = queue
        self.pending_event_ids_session[session] = {f"{session}-event"}
        return queue


def test_a_result_nobody_reads_is_dropped_after_the_ttl():
    queue, seen = FakeQueue(), {}
    queue.caller("gone", "result")
    assert serving.drop_uncollected(queue, seen, now=0, ttl=30) == 0
    assert serving.drop_uncollected(queue, seen, now=29, ttl=30) == 0
    assert serving.drop_uncollected(queue, seen, now=30, ttl=30) == 1
    assert "gone" not in queue.pending_messages_per_session and "gone" not in queue.pending_event_ids_session
    assert seen == {}


def test_a_reader_or_a_live_event_keeps_the_caller():
    queue, seen = FakeQueue(), {}
    reading = queue.caller("reading", "first")
    queue.caller("waiting", "queue position")
    queue.caller("idle")
    queue.event_ids_to_events["e1"] = type("Event", (), {"session_hash": "waiting"})()
    serving.drop_uncollected(queue, seen, now=0, ttl=30)
    reading.get_nowait()              # a reader took the first message; a new one came
    reading.put_nowait("second")
    assert serving.drop_uncollected(queue, seen, now=40, ttl=30) == 0
    assert serving.drop_uncollected(queue, seen, now=80, ttl=30) == 1    # "second" unread for 40 s
    assert set(queue.pending_messages_per_session) == {"waiting", "idle"}


def test_gradio_queue_still_has_what_serving_relies_on():
    def echo(question: str) -> str:
        return question

    with gr.Blocks() as demo:
        gr.api(echo, api_name="echo")
    serving.queue(demo, ServerSettings(max_queue=7, concurrency_limit=2, analytics_events=9))
    queue = demo._queue
    assert (queue.max_size, queue.default_concurrency_limit, queue.ANALYTICS_MAX_EVENTS) == (7, 2, 9)
    assert demo.api_open is False
    for name in ("pending_messages_per_session", "pending_event_ids_session", "event_ids_to_events"):
        assert isinstance(getattr(queue, name), dict), name


def test_launch_options_close_uploads_unless_a_size_is_set():
    closed = serving.launch_options(ServerSettings())
    assert closed["max_file_size"] == 0
    assert [m.cls for m in closed["app_kwargs"]["middleware"]] == [serving.CallGuard, serving.ClosedUploads]
    opened = serving.launch_options(ServerSettings(max_upload_bytes=1000))
    assert [m.cls for m in opened["app_kwargs"]["middleware"]] == [serving.CallGuard, serving.UploadLimit]
    assert opened["max_file_size"] == 1000
    assert opened["app_kwargs"]["middleware"][1].kwargs["max_body"] == serving.upload_body_limit(ServerSettings(
        max_upload_bytes=1000)) == ServerSettings().max_upload_files * (1000 + 4096)


def call_asgi(middleware, path: str, headers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """One HTTP request through `middleware` in front of an app that answers 200: (status, body)."""
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"passed"})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    asyncio.run(middleware(app, max_body=100)(scope, receive, send))
    return sent[0]["status"], sent[1]["body"]


def test_an_upload_must_state_its_size_and_keep_within_the_limit():
    limit = serving.UploadLimit
    assert call_asgi(limit, "/gradio_api/upload", [(b"content-length", b"100")]) == (200, b"passed")
    status, body = call_asgi(limit, "/gradio_api/upload", [(b"content-length", b"101")])
    assert status == 413 and b"over 100 bytes" in body
    assert call_asgi(limit, "/gradio_api/upload", [(b"transfer-encoding", b"chunked")])[0] == 411
    assert call_asgi(limit, "/gradio_api/upload/", [(b"content-length", b"x")])[0] == 411
    assert call_asgi(limit, "/gradio_api/queue/join", [])[0] == 200     # anything else passes untouched


def test_settings_have_a_server_section():
    settings = Settings()
    assert settings.concurrency_limit == settings.server.concurrency_limit
    assert settings.server.max_queue > 32     # the load benchmark's 32 clients fit


# --- live ---------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gated_app():
    """A launched app whose `/hold` waits for `gate`, with a queue of 2 and one worker."""
    gate = threading.Event()

    def hold(question: str) -> str:
        gate.wait(timeout=60)
        return question

    with gr.Blocks() as demo:
        gr.api(hold, api_name="hold")
    server = ServerSettings(concurrency_limit=1, max_queue=2, result_ttl_seconds=0.6)
    settings = dataclasses.replace(Settings(), port=free_port(), server=server)
    serving.queue(demo, server)
    _, url, _ = demo.launch(server_name=settings.host, server_port=settings.port, prevent_thread_lock=True,
                            ssr_mode=False, **serving.launch_options(server))
    yield demo, url.rstrip("/"), gate
    gate.set()
    demo.close()


def wait_for(condition, seconds: float = 30) -> None:
    """Poll `condition` (state inside the server; no event to wait on) until true or fail."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_full_queue_says_busy_at_once_and_uncollected_results_go(gated_app, capfd):
    demo, url, gate = gated_app
    call = f"{url}/gradio_api/call/hold"
    with httpx.Client(timeout=30) as http:
        first = http.post(call, json={"data": ["running"]})
        assert first.status_code == 200
        wait_for(lambda: any(demo._queue.active_jobs))        # the worker holds it
        queued = [http.post(call, json={"data": [f"q{i}"]}) for i in range(2)]
        assert [r.status_code for r in queued] == [200, 200]
        started = time.monotonic()
        busy = http.post(call, json={"data": ["one too many"]})
        assert busy.status_code == 503 and "Queue is full" in busy.json()["detail"]
        assert time.monotonic() - started < 10                  # answered, not queued behind the gate
        gate.set()
        # Nobody reads the three results: they are dropped, and a late reader is told so.
        wait_for(lambda: not demo._queue.pending_messages_per_session)
        late = http.get(f"{call}/{first.json()['event_id']}")
        assert late.status_code == 404 and "No call" in late.text
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.slow
def test_uploads_are_closed_and_bad_calls_get_a_reason(gated_app, capfd):
    demo, url, gate = gated_app
    gate.set()
    with httpx.Client(timeout=30) as http:
        upload = http.post(f"{url}/gradio_api/upload", files={"files": ("big.bin", b"\0" * 20_000_000)})
        assert upload.status_code == 403 and "uploads are closed" in upload.text
        # Too few values: the missing ones go in as null (the defaults), so older calls keep working.
        few = http.post(f"{url}/gradio_api/call/hold", json={"data": []})
        assert few.status_code == 200
        assert "event: complete" in http.get(f"{url}/gradio_api/call/hold/{few.json()['event_id']}").text
        unknown = http.post(f"{url}/gradio_api/call/v2/hold", json={"data": ["x"]})
        assert unknown.status_code == 400 and "not data" in unknown.text
        huge = http.post(f"{url}/gradio_api/call/hold", json={"data": ["问" * 100_000]})
        assert huge.status_code == 413
        around = http.post(f"{url}/gradio_api/run/hold", json={"data": ["x"]})
        assert around.status_code == 404                       # no route around the queue
        ok = http.post(f"{url}/gradio_api/call/hold", json={"data": ["fine"]})
        result = http.get(f"{url}/gradio_api/call/hold/{ok.json()['event_id']}")
        assert "event: complete" in result.text and '"fine"' in result.text
    assert "Traceback" not in capfd.readouterr().err
