"""rag.web.api: `POST /api/ask` (plain JSON, outside Gradio's queue) and what it shares with
Gradio's `/ask`: the same answers, the same checks and messages, its own bound on calls.

Most tests run the route alone in Starlette's test client; one runs it on the real server
beside Gradio's endpoint and compares the two."""
from __future__ import annotations

import json
import socket
import threading
from types import SimpleNamespace

import anyio
import httpx
import pytest
from gradio_client import Client
from starlette.applications import Starlette
from starlette.testclient import TestClient

from rag import web
from rag.config import ServerSettings
from rag.i18n import t
from rag.web import api

ASKED = "用手掌付款有什么优势？"

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword is deprecated)")


def route_client(live, server: ServerSettings | None = None) -> TestClient:
    """The JSON route alone, as a Starlette app."""
    return TestClient(Starlette(routes=api.routes(live, server or ServerSettings())))


@pytest.fixture(scope="module")
def rest(article_qa):
    with route_client(web.LivePipeline.ready(article_qa)) as client:
        yield client


def test_answers_with_the_same_json_as_the_pipeline(rest, article_qa):
    reply = rest.post("/api/ask", json={"question": ASKED})
    assert reply.status_code == 200
    got, expected = reply.json(), article_qa.ask(ASKED).to_json()
    assert set(got["timings_ms"]) == set(expected["timings_ms"])
    got.pop("timings_ms"), expected.pop("timings_ms")
    assert got == expected and got["quotes"]


def test_settings_and_history_are_passed_through(rest, article_qa):
    follow_up = "它用到了哪些生物特征？"
    reply = rest.post("/api/ask", json={"question": follow_up, "top_k": 2, "strictness": 0.99,
                                        "history": ["刷掌支付有什么优势？"]}).json()
    expected = article_qa.ask(follow_up, top_k=2, strictness=0.99, history=["刷掌支付有什么优势？"]).to_json()
    assert (reply["understood_as"], reply["abstained"], len(reply["passages"])) == \
        (expected["understood_as"], expected["abstained"], len(expected["passages"]))


@pytest.mark.parametrize("body,message", [
    ({"question": "   "}, "empty"),
    ({"question": 5}, "question must be text, not int"),
    ({"question": ASKED, "top_k": 10**6}, "top_k: must be a whole number from 1 to 20"),
    ({"question": ASKED, "strictness": "nan"}, "strictness: must be a number from 0 to 1"),
    ({"question": ASKED, "history": "not json"}, t("en", "bad_history")),
    ({"question": ASKED, "k": 3}, "Unknown field 'k'"),
    ({"top_k": 3}, "'question' is missing"),
    ([ASKED], "must be a JSON object, not list"),
])
def test_bad_calls_get_400_and_one_line(rest, body, message):
    reply = rest.post("/api/ask", json=body)
    assert reply.status_code == 400
    assert message in reply.json()["error"] and "\n" not in reply.json()["error"]


def test_a_body_that_is_not_json_or_too_large_is_refused(rest):
    assert rest.post("/api/ask", content=b"{question").status_code == 400
    big = json.dumps({"question": "问" * 100_000}).encode()
    reply = rest.post("/api/ask", content=big)
    assert reply.status_code == 413 and "bytes" in reply.json()["error"]
    assert rest.get("/api/ask").status_code == 405


#: Bodies that once answered HTTP 500 (issue 20): numbers too large for a float or for Python's
#: parser, nesting tens of thousands deep in the body, in `history`, or in `history` as a string.
HOSTILE_BODIES = {
    "top_k 400 digits": b'{"question": "q", "top_k": 1' + b"0" * 400 + b"}",
    "strictness 400 digits": b'{"question": "q", "strictness": 1' + b"0" * 400 + b"}",
    "negative top_k 400 digits": b'{"question": "q", "top_k": -1' + b"0" * 400 + b"}",
    "integer 5000 digits": b'{"question": "q", "top_k": ' + b"9" * 5000 + b"}",
    "float 1e999": b'{"question": "q", "strictness": 1e999}',
    "body nested 30000": b"[" * 30000 + b"]" * 30000,
    "object nested 10000": b'{"a":' * 10000 + b"1" + b"}" * 10000,
    "history nested 30000": b'{"question": "q", "history": ' + b"[" * 30000 + b"]" * 30000 + b"}",
    "history string nested 30000": b'{"question": "q", "history": "' + b"[" * 30000 + b"]" * 30000 + b'"}',
    "history string 5000 digits": b'{"question": "q", "history": "[' + b"9" * 5000 + b']"}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
def test_hostile_bodies_get_400_and_one_line_not_500(rest, name):
    reply = rest.post("/api/ask", content=HOSTILE_BODIES[name], headers={"content-type": "application/json"})
    assert reply.status_code == 400, reply.text[:200]
    error = reply.json()["error"]
    assert error and "\n" not in error and len(error) < 300


def test_a_huge_setting_that_reaches_the_checks_is_out_of_range(article_qa):
    # Gradio parses its own bodies: a 400-digit int can reach the checks as a Python int
    live = web.LivePipeline.ready(article_qa)
    for field in ("top_k", "strictness"):
        with pytest.raises(api.CallProblem) as caught:
            api.answer_call(live, {"question": ASKED, field: 10**400})
        assert caught.value.status == 400 and str(caught.value).startswith(f"{field}: must be")


def test_before_the_first_index_it_says_so_in_the_questions_language():
    live = SimpleNamespace(current=None, status=lambda: SimpleNamespace(state="building", error=""))
    with route_client(live) as client:
        for question, lang in ((ASKED, "zh"), ("What is it?", "en")):
            reply = client.post("/api/ask", json={"question": question})
            assert reply.status_code == 503 and reply.json()["error"] == t(lang, "index_not_ready")


class HeldPipeline:
    """A pipeline whose answers wait for `gate`, counting the questions that reached it."""

    def __init__(self):
        self.gate, self.arrived = threading.Event(), threading.Semaphore(0)

    def ask(self, question, top_k=None, strictness=None, history=None):
        self.arrived.release()
        assert self.gate.wait(timeout=60)
        return SimpleNamespace(to_json=lambda: {"question": question})


def test_a_call_beyond_the_bound_is_refused_at_once_with_retry_after():
    held = HeldPipeline()
    live = SimpleNamespace(current=held, status=lambda: None)
    with route_client(live, ServerSettings(concurrency_limit=1, max_queue=0)) as client:
        replies = {}
        first = threading.Thread(target=lambda: replies.setdefault(1, client.post("/api/ask", json={"question": "问题1"})))
        first.start()
        assert held.arrived.acquire(timeout=30)          # the one place is taken
        refused = client.post("/api/ask", json={"question": "问题2"})
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["error"] == t("zh", "server_busy")
        held.gate.set()
        first.join(timeout=30)
        assert replies[1].json() == {"question": "问题1"}


def test_admission_lets_calls_wait_in_line_up_to_its_bound():
    gate = threading.Event()

    async def main():
        admission = api.Admission(running=1, waiting=1)
        results = []
        async with anyio.create_task_group() as group:
            for n in (1, 2):   # one runs, one waits
                group.start_soon(lambda n=n: _collect(admission, results, lambda: gate.wait(timeout=30) and n))
            await anyio.sleep(0.05)
            assert admission.inside == 2
            with pytest.raises(api.Busy):
                await admission.run(lambda: 3)
            gate.set()
        return sorted(results), admission.inside

    assert anyio.run(main) == ([1, 2], 0)


async def _collect(admission, results, work):
    results.append(await admission.run(work))


def test_admission_runs_at_most_running_at_once():
    running, peak = [0], [0]

    def work():
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        threading.Event().wait(0.02)
        running[0] -= 1
        return True

    async def main():
        admission = api.Admission(running=2, waiting=10)
        async with anyio.create_task_group() as group:
            for _ in range(8):
                group.start_soon(admission.run, work)
        return admission.inside

    assert anyio.run(main) == 0 and peak[0] <= 2


@pytest.mark.slow
def test_the_server_answers_both_apis_alike(article_qa, article_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = article_settings.replace(port=port)
    demo = web.build_app(web.LivePipeline.ready(article_qa), settings)
    _, url, _ = web.launch(demo, settings, prevent_thread_lock=True)
    try:
        through_gradio = Client(url, verbose=False).predict(ASKED, api_name="/ask")
        plain = httpx.post(f"{url.rstrip('/')}/api/ask", json={"question": ASKED}, timeout=60)
        assert plain.status_code == 200
        through_rest = plain.json()
        through_gradio.pop("timings_ms"), through_rest.pop("timings_ms")
        assert through_rest == through_gradio
        # The route sits beside the page, not in place of it.
        assert httpx.get(url, timeout=60).status_code == 200
    finally:
        demo.close()


#: The same hostile values as Gradio call bodies ({"data": [question, top_k, strictness, history]}).
HOSTILE_GRADIO_BODIES = {
    "top_k 400 digits": b'{"data": ["q", 1' + b"0" * 400 + b", null, null]}",
    "strictness 400 digits": b'{"data": ["q", null, 1' + b"0" * 400 + b", null]}",
    "integer 5000 digits": b'{"data": ["q", ' + b"9" * 5000 + b", null, null]}",
    "body nested 30000": b'{"data": ' + b"[" * 30000 + b"]" * 30000 + b"}",
    "history nested 30000": b'{"data": ["q", null, null, ' + b"[" * 30000 + b"]" * 30000 + b"]}",
    "history string nested 30000": b'{"data": ["q", null, null, "' + b"[" * 30000 + b"]" * 30000 + b'"]}',
    "history object": b'{"data": ["q", null, null, {"a": 1}]}',
}


@pytest.mark.slow
def test_hostile_bodies_get_a_one_line_reason_on_both_routes(article_qa, article_settings, capfd):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = article_settings.replace(port=port)
    demo = web.build_app(web.LivePipeline.ready(article_qa), settings)
    _, url, _ = web.launch(demo, settings, prevent_thread_lock=True)
    url = url.rstrip("/")
    headers = {"content-type": "application/json"}
    try:
        for name, body in HOSTILE_BODIES.items():
            reply = httpx.post(f"{url}/api/ask", content=body, headers=headers, timeout=60)
            assert reply.status_code == 400 and "\n" not in reply.json()["error"], name
        for name, body in HOSTILE_GRADIO_BODIES.items():
            reply = httpx.post(f"{url}/gradio_api/call/ask", content=body, headers=headers, timeout=60)
            assert reply.status_code < 500, name
            if reply.status_code == 200:   # taken by the queue: the reason comes in the event stream
                stream = httpx.get(f"{url}/gradio_api/call/ask/{reply.json()['event_id']}", timeout=60).text
                assert "event: error" in stream and "null" not in stream.split("event: error", 1)[1], (name, stream)
            else:
                assert reply.status_code == 400 and reply.text and "\n" not in reply.text, name
        # and the server still answers
        assert httpx.post(f"{url}/api/ask", json={"question": ASKED}, timeout=60).status_code == 200
    finally:
        demo.close()
    log = capfd.readouterr()
    assert "Traceback" not in log.out + log.err
