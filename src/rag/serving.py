"""What the web server takes on: a bounded queue, closed upload routes, uncollected results dropped.

Gradio keeps everything a caller has not collected: a `/gradio_api/call/ask` POST whose result is
never fetched leaves its answer (and a queue-position message for every event that started
while it waited) in `Queue.pending_messages_per_session` until 2,000 later callers push it
out, and a per-visitor `SessionState` besides (10,000 kept). A flood of such calls used to
queue without bound, make a real visitor wait a minute and grow the process by hundreds of
megabytes it never gave back. Here:

- `queue` / `launch_options`: Gradio's own limits from `ServerSettings` (queue `max_size`: the
  next caller gets HTTP 503 "Queue is full" at once; `state_session_capacity`;
  `max_file_size`), and no route around the queue but `POST /api/ask` (`web.api`), which
  has a bound of its own of the same size.
- `CallGuard`: calls to `/gradio_api/call/...` that Gradio would answer with a traceback in
  the server log (an unknown argument, an unknown event) get a 4xx and a one-line reason;
  too few values are padded with null (the defaults); bodies over `max_call_bytes` get 413.
- `ClosedUploads`: the page has no file input, so the upload routes answer 403 before reading
  a byte of the body. With uploads open (`--allow-upload`), `UploadLimit` refuses a request
  larger than `max_upload_files` files of `max_upload_bytes` each before reading it.
- `drop_uncollected` (run every few seconds by `lifespan`): a caller's messages that nobody
  has read for `result_ttl_seconds` are dropped, then freed memory is handed back to the OS.

Only `web.launch` uses this module. The queue's bookkeeping has no public API, so this module
reads and sets a few of its attributes; tests/test_serving.py pins them.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import time
from collections.abc import Callable

from .config import ServerSettings

#: Gradio's routes that take a file (all under its API prefix, /gradio_api).
UPLOAD_ROUTES = ("/gradio_api/upload", "/gradio_api/process_recording")
UPLOADS_CLOSED = "This app takes no files: uploads are closed."


def queue(demo, server: ServerSettings) -> None:
    """Turn on `demo`'s queue within `server`'s limits.

    `api_open=False`: Gradio's `/run/NAME` would otherwise answer outside the queue, past its
    bound. Gradio's monitoring keeps the last events (10,000 by default) and rebuilds a pandas
    summary over all of them after every event, ~10-25 ms of CPU per question once the server
    has been up a while; `server.analytics_events` bounds that.
    """
    demo.queue(default_concurrency_limit=server.concurrency_limit, max_size=server.max_queue, api_open=False)
    demo._queue.ANALYTICS_MAX_EVENTS = server.analytics_events


def launch_options(server: ServerSettings) -> dict:
    """Keyword arguments for `Blocks.launch`: its limits, the closed uploads and the sweeper."""
    return {
        "max_file_size": server.max_upload_bytes,
        "state_session_capacity": server.max_sessions,
        "app_kwargs": {
            "middleware": [_middleware(CallGuard, max_body=server.max_call_bytes),
                           _middleware(UploadLimit, max_body=upload_body_limit(server)) if server.max_upload_bytes
                           else _middleware(ClosedUploads)],
            "lifespan": lifespan(server.result_ttl_seconds),
        },
    }


def _middleware(cls, **options):
    from starlette.middleware import Middleware

    return Middleware(cls, **options)


class ClosedUploads:
    """ASGI middleware: requests to Gradio's upload routes get 403 and a one-line reason,
    before a byte of their body is read."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "").rstrip("/")
        if scope["type"] == "http" and path.endswith(UPLOAD_ROUTES):
            return await _reply(send, 403, UPLOADS_CLOSED)
        await self.app(scope, receive, send)


def upload_body_limit(server: ServerSettings) -> int:
    """The largest upload request taken: `max_upload_files` files of `max_upload_bytes`, plus
    room for each file's multipart headers."""
    return server.max_upload_files * (server.max_upload_bytes + 4096)


class UploadLimit:
    """ASGI middleware: an upload request must say how large it is (Content-Length), and be no
    larger than `max_body`; otherwise 411 or 413 before a byte is read. Gradio limits each file
    (`max_file_size`) but not how many come in one request: it would write them all to disk."""

    def __init__(self, app, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "").rstrip("/")
        if scope["type"] == "http" and path.endswith(UPLOAD_ROUTES):
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is None or not length.isdigit():
                return await _reply(send, 411, "An upload must state its Content-Length.")
            if int(length) > self.max_body:
                return await _reply(send, 413, f"Upload over {self.max_body} bytes: send fewer or smaller files.")
        await self.app(scope, receive, send)


class CallGuard:
    """ASGI middleware for Gradio's HTTP API (`/gradio_api/call/NAME[/EVENT]`): calls Gradio
    would answer with a traceback in the server log get a 4xx and a one-line reason instead.

    - POST `/call/NAME` with fewer `data` values than NAME takes (Gradio: ValueError): the
      missing trailing values are sent as null, so NAME's defaults apply and a call written
      before NAME gained an optional parameter keeps working,
    - POST `/call/v2/NAME` with a key NAME does not take (Gradio: TypeError, HTTP 500),
    - GET `/call/NAME/EVENT` for an event the queue does not know: never existed, or its
      result was dropped as uncollected (Gradio: HTTPException inside its event stream).
    Bodies over `max_body` bytes get 413 before being parsed.
    """

    PREFIX = "/gradio_api/call/"

    def __init__(self, app, max_body: int = 65536):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] != "http" or self.PREFIX not in path:
            return await self.app(scope, receive, send)
        parts = path.split(self.PREFIX, 1)[1].strip("/").split("/")
        v2 = parts[0] == "v2"
        parts = parts[1:] if v2 else parts
        blocks = scope["app"].get_blocks()
        if scope["method"] == "GET" and len(parts) == 2:
            if not _known_event(blocks, parts[1]):
                return await _reply(send, 404, f"No call {parts[1][:40]} is waiting: results are kept "
                                               "until read, or dropped when nobody reads them.")
            return await self.app(scope, receive, send)
        if scope["method"] != "POST" or len(parts) != 1:
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                return await _reply(send, 413, f"Request body over {self.max_body} bytes.")
        problem, body = _checked_call(blocks, parts[0], body, v2)
        if problem:
            return await _reply(send, 400, problem)

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _known_event(blocks, event_id: str) -> bool:
    queue = blocks._queue
    return event_id in queue.event_ids_to_events or any(
        event_id in ids for ids in list(queue.pending_event_ids_session.values()))


def _checked_call(blocks, name: str, body: bytes, v2: bool) -> tuple[str | None, bytes]:
    """What is wrong with a call's body for endpoint `name` (None when nothing is, also when it
    is not ours: Gradio answers those cleanly itself, with a 404 or 422), and the body to pass
    on: a short `data` list padded with nulls. A body Gradio's parser would answer with HTTP 500
    (nested thousands deep: RecursionError; a 5,000-digit number: ValueError) or that is not
    JSON at all is refused here in one line (`validation.parse_json`)."""
    import json

    from .validation import JSONProblem, parse_json

    fn = next((f for f in blocks.fns.values() if f.api_name == name), None)
    try:
        payload = parse_json(body)
    except JSONProblem as exc:
        return str(exc), body
    if fn is None or not isinstance(payload, dict):
        return None, body
    names = list(fn.input_parameter_names or [])
    if v2:
        unknown = [key for key in payload if key not in names and key != "oauth_token"]
        if unknown:
            return f"/{name} takes {', '.join(names)}; not {', '.join(map(str, unknown))[:80]}.", body
        return None, body
    data = payload.get("data")
    if isinstance(data, list) and len(data) < len(fn.inputs):
        payload["data"] = data + [None] * (len(fn.inputs) - len(data))
        return None, json.dumps(payload).encode()
    return None, body


async def _reply(send, status: int, text: str) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def drop_uncollected(queue, seen: dict, now: float, ttl: float) -> int:
    """Drop what `queue` holds for callers who stopped reading; returns how many were dropped.

    A caller (session) is dropped when none of its events is waiting or running and the
    oldest message it has not read is the same one as `ttl` seconds ago: a reader takes its
    messages within milliseconds, so that message has no reader. `seen` carries
    session -> (oldest unread message, since when) from one call to the next.
    """
    live = {event.session_hash for event in list(queue.event_ids_to_events.values())}
    dropped = 0
    for session, messages in list(queue.pending_messages_per_session.items()):
        pending = getattr(messages, "_queue", None)   # asyncio.Queue's deque: a peek without taking
        head = pending[0] if pending else None
        if head is None or session in live:
            seen.pop(session, None)
            continue
        first = seen.get(session)
        if first is None or first[0] is not head:
            seen[session] = (head, now)
        elif now - first[1] >= ttl:
            del queue.pending_messages_per_session[session]
            queue.pending_event_ids_session.pop(session, None)
            seen.pop(session)
            dropped += 1
    for session in [s for s in seen if s not in queue.pending_messages_per_session]:
        seen.pop(session)
    return dropped


def _malloc_trim() -> Callable[[], None]:
    """glibc's malloc_trim(0) (give freed heap pages back to the OS), or a no-op elsewhere.
    Without it, memory freed after a flood stays with the process."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None
    return lambda: trim(0) and None


def lifespan(ttl: float):
    """A FastAPI lifespan that runs `drop_uncollected` every `ttl / 3` seconds while serving."""
    trim = _malloc_trim()

    async def sweep(app) -> None:
        seen: dict = {}
        while True:
            await asyncio.sleep(ttl / 3)
            blocks = app.get_blocks()
            queue = getattr(blocks, "_queue", None)
            if queue is not None and drop_uncollected(queue, seen, time.monotonic(), ttl):
                trim()

    @contextlib.asynccontextmanager
    async def run(app):
        task = asyncio.create_task(sweep(app))
        try:
            yield
        finally:
            task.cancel()

    return run
