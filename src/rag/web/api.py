"""The server's question API, in two forms that give the same JSON object as `rag ask --json`:

- Gradio's `/ask` endpoint (`page.build_app`; `gradio_client`, or `/gradio_api/call/ask` and its
  event stream), queued with the page's own events;
- `POST /api/ask` (`routes`): one JSON request, one JSON answer, answered outside Gradio's
  queue with its own bound (`Admission`). It is the cheap way in for scripts and other servers:
  no event stream, no per-call session state (docs/web.md, "API").

Both take the same fields (question, top_k, strictness, history), run the same checks
(`rag.validation`, through `Pipeline.ask`) and give the same one-line messages.
"""
from __future__ import annotations

from collections.abc import Callable

import anyio

from ..answer import Answer, QuestionError
from ..config import ServerSettings
from ..i18n import language_of, t
from ..limits import FairLimiter
from ..pipeline import Pipeline
from ..validation import JSONProblem, parse_json
from .live import LivePipeline, Status

#: Where `access.Guard` puts the caller's client key (its token, else its address) in the request's scope.
CLIENT_KEY = "rag.client"
#: The fields `/ask` takes, in the order of Gradio's endpoint.
FIELDS = ("question", "top_k", "strictness", "history")


def parse_history(history) -> list[str]:
    """The `/ask` API's optional history: a list of strings, or that list as a JSON string
    (parsed within the same limits as a body: a deeply nested string is refused, not a RecursionError)."""
    if history is None or (isinstance(history, (str, list)) and not history):
        return []
    if isinstance(history, str):
        try:
            history = parse_json(history, "history")
        except JSONProblem:
            raise ValueError(t("en", "bad_history")) from None
    if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
        raise ValueError(t("en", "bad_history"))
    return history


def ask_in_conversation(qa: Pipeline, question: str, top_k, strictness, history: list[str]) -> Answer:
    """The one place the chat's history reaches the pipeline: `history` is the previous
    questions as understood, oldest first (`Pipeline.ask` resolves a follow-up against it)."""
    return qa.ask(question, top_k=top_k, strictness=strictness, history=history)


def not_ready(status: Status, lang: str) -> str:
    """What a question asked before any index exists is told: still building, or why there is none."""
    return t(lang, "index_missing", error=status.error) if status.state == "failed" else t(lang, "index_not_ready")


def question_language(question) -> str:
    """The language to answer a refused call in: the question's, English when there is none."""
    return language_of(question) if isinstance(question, str) and question.strip() else "en"


class Busy(Exception):
    """More calls than `Admission` takes are running or waiting."""


class Admission:
    """At most `running` calls at once and `waiting` more in line; one more is refused at once
    (`Busy`), as Gradio's bounded queue refuses with "Queue is full". The line is served
    round-robin by client (`rag.limits.FairLimiter`; the key `access.Guard` gives each caller).
    Used from one event loop, so the count needs no lock."""

    def __init__(self, running: int, waiting: int):
        self.limiter = anyio.CapacityLimiter(running)
        self.fair = FairLimiter(running)
        self.capacity = running + waiting
        self.inside = 0

    async def run(self, work: Callable[[], object], client: str = ""):
        """`work()` in a worker thread once a place is free (in `client`'s turn); `Busy` when the line is full."""
        if self.inside >= self.capacity:
            raise Busy
        self.inside += 1
        try:
            async with self.fair.slot(client):
                return await anyio.to_thread.run_sync(work, limiter=self.limiter)
        finally:
            self.inside -= 1


class CallProblem(Exception):
    """A call that cannot be answered: its HTTP status and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def read_call(body: bytes) -> dict:
    """The fields of a `POST /api/ask` body, or `CallProblem(400)` naming what is wrong."""
    try:
        data = parse_json(body)
    except JSONProblem as exc:
        raise CallProblem(400, f"The body must be a JSON object. {exc}") from None
    if not isinstance(data, dict):
        raise CallProblem(400, f"The body must be a JSON object, not {type(data).__name__}.")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise CallProblem(400, f"Unknown field {', '.join(map(repr, unknown))}: /api/ask takes {', '.join(FIELDS)}.")
    if "question" not in data:
        raise CallProblem(400, "The field 'question' is missing.")
    return data


def answer_call(live: LivePipeline, data: dict) -> dict:
    """The answer to one call's fields, as `Answer.to_json()`; `CallProblem` for a question or
    setting that cannot be asked (400) and before the first index exists (503)."""
    qa = live.current   # taken once: a question in flight finishes on the pipeline it began with
    if qa is None:
        raise CallProblem(503, not_ready(live.status(), question_language(data.get("question"))))
    try:
        history = parse_history(data.get("history"))
        return ask_in_conversation(qa, data["question"], data.get("top_k"), data.get("strictness"),
                                   history).to_json()
    except (QuestionError, ValueError) as exc:   # SettingError is a ValueError naming its field
        raise CallProblem(400, str(exc)) from None


def routes(live: LivePipeline, server: ServerSettings) -> list:
    """The plain JSON API: `POST /api/ask` with {"question": …, "top_k"?, "strictness"?,
    "history"?} answers 200 and `Answer.to_json()`, or an error status and {"error": message}:
    400 (a bad body or question), 413 (a body over `max_call_bytes`), 503 (busy: retry after a
    second; or no index yet). `GET /api/file/DOC` gives the original file of a document of the
    index (a citation's "open the original file", at `#page=N` for a PDF), 404 for anything else."""
    from starlette.responses import FileResponse, JSONResponse
    from starlette.routing import Route

    admission = Admission(server.concurrency_limit, server.max_queue)

    def refuse(status: int, message: str) -> JSONResponse:
        headers = {"Retry-After": "1"} if status == 503 else None
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    too_large = f"A call over {server.max_call_bytes} bytes is refused."

    async def ask(request):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > server.max_call_bytes):
            return refuse(413, too_large)
        body = b""
        async for piece in request.stream():   # a missing or false Content-Length: count as it comes
            body += piece
            if len(body) > server.max_call_bytes:
                return refuse(413, too_large)
        try:
            data = read_call(body)
            client = request.scope.get(CLIENT_KEY, "")
            return JSONResponse(await admission.run(lambda: answer_call(live, data), client))
        except CallProblem as exc:
            return refuse(exc.status, str(exc))
        except Busy:
            return refuse(503, t(question_language(data.get("question")), "server_busy"))

    async def original(request):
        found = original_file(live, request.path_params["doc"])
        if found is None:
            return refuse(404, "No such document in the index.")
        path, media_type, headers = found
        return FileResponse(path, media_type=media_type, headers=headers)

    return [Route("/api/ask", ask, methods=["POST"]), Route("/api/file/{doc:path}", original, methods=["GET", "HEAD"])]


#: How the original files are served: a PDF for the browser's own viewer (which opens it at
#: `#page=N`); a web page or text file as a sandboxed document, so a page added to the corpus
#: cannot run its scripts in the chat's origin; a Word file as a download.
_MEDIA = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html", ".txt": "text/plain",
          ".md": "text/plain", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def original_file(live: LivePipeline, doc: str):
    """(path, media type, headers) of the corpus file behind document `doc` of the index served,
    or None: only a document of that index, inside the corpus folder, is ever served."""
    from pathlib import Path

    qa = live.current
    if qa is None or doc not in qa.index.documents:
        return None
    root = Path(qa.settings.corpus_dir).resolve()
    try:
        path = (root / doc).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not path.is_relative_to(root) or not path.is_file():
        return None
    suffix = path.suffix.lower()
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if suffix != ".pdf":
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    if suffix == ".docx":
        headers["Content-Disposition"] = "attachment"
    encoding = qa.index.documents[doc].encoding
    media = _MEDIA.get(suffix, "application/octet-stream")
    if media.startswith("text/") and encoding:
        media += f"; charset={encoding}"
    return path, media, headers
