"""Accounts, the documents API, fair limits and login throttling on a real server process
(`rag.web.serve` in a child Python over a copy of the article's index; tests/servers.py).
The same rules in-process, without a model: tests/test_documents_api.py."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from servers import add_user, copy_index, rag, start

pytestmark = pytest.mark.slow

ASKED = "用手掌付款有什么优势？"
NEW_DOCUMENT = ("Quokka field notes\n\nThe quokka is a small marsupial that lives on Rottnest Island, off the coast "
                "of Western Australia. Quokkas eat grasses and leaves and can go without water for weeks.\n")
NEW_QUESTION = "Where does the quokka live?"


@pytest.fixture(scope="module")
def site(article_qa, article_settings, tmp_path_factory):
    """A server with accounts: an editor and two readers, each with a token."""
    folder = tmp_path_factory.mktemp("access-server")
    corpus, index = copy_index(article_settings, folder)
    users = folder / "users.json"
    tokens = {name: add_user(users, name, role, f"{name} password")
              for name, role in (("ed", "editor"), ("rd", "reader"), ("rd2", "reader"))}
    # Small enough that the flood test reaches them, large enough for the other tests.
    limits = {"in_flight": 4, "per_minute": 200, "login_free_per_name": 5, "login_backoff_seconds": 2}
    server = start(corpus, index, folder, users, tokens["rd"], limits=limits)
    yield server, tokens, index
    server.stop()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def ask(server, token, question=ASKED, **kwargs) -> httpx.Response:
    return httpx.post(f"{server.url}/api/ask", json={"question": question}, headers=bearer(token) if token else {},
                      timeout=60, **kwargs)


def wait_until_ready(server, token, generation: int) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/api/status", headers=bearer(token), timeout=10).json()
        if status["state"] == "ready" and status["generation"] > generation:
            return status
        time.sleep(0.2)
    raise AssertionError(f"the index did not update: {status}")


def test_questions_need_a_valid_token(site):
    server, tokens, _ = site
    assert ask(server, None).status_code == 401
    assert ask(server, tokens["rd"][:-3] + "abc").status_code == 401
    answered = ask(server, tokens["rd"])
    assert answered.status_code == 200 and answered.json()["quotes"]
    # The page and Gradio's own API need a login; the page without one is the login form only.
    assert httpx.get(f"{server.url}/config", timeout=10).status_code == 401
    assert '"auth_required":true' in httpx.get(server.url, timeout=10).text.replace(" ", "")


def test_an_editor_adds_and_removes_a_document_and_the_audit_log_says_so(site):
    server, tokens, index = site
    upload = {"file": ("quokka.txt", NEW_DOCUMENT.encode(), "text/plain")}
    refused = httpx.post(f"{server.url}/api/documents", files=upload, headers=bearer(tokens["rd"]), timeout=30)
    assert refused.status_code == 403
    before = httpx.get(f"{server.url}/api/status", headers=bearer(tokens["rd"]), timeout=10).json()["generation"]
    added = httpx.post(f"{server.url}/api/documents", files=upload, headers=bearer(tokens["ed"]), timeout=30)
    assert added.status_code == 202 and added.json()["added"] == "quokka.txt"
    status = wait_until_ready(server, tokens["rd"], before)
    listed = httpx.get(f"{server.url}/api/documents", headers=bearer(tokens["rd"]), timeout=10).json()["documents"]
    quokka = next(d for d in listed if d["name"] == "quokka.txt")
    assert (quokka["title"], quokka["format"], quokka["added_by"], quokka["indexed"]) == \
        ("Quokka field notes", "txt", "ed", True)
    answer = ask(server, tokens["rd"], NEW_QUESTION).json()
    assert not answer["abstained"] and answer["quotes"][0]["doc"] == "quokka.txt" and "Rottnest" in answer["answer"]

    removed = httpx.delete(f"{server.url}/api/documents/quokka.txt", headers=bearer(tokens["ed"]), timeout=30)
    assert removed.status_code == 200
    wait_until_ready(server, tokens["rd"], status["generation"])
    answer = ask(server, tokens["rd"], NEW_QUESTION).json()
    assert answer["abstained"] and all(q["doc"] != "quokka.txt" for q in answer["quotes"])

    audit = rag("audit", "--index", str(index))
    lines = [line for line in audit.stdout.splitlines() if "quokka.txt" in line]
    assert audit.returncode == 0 and len(lines) == 2
    assert lines[0].split()[1:3] == ["ed", "add"] and lines[1].split()[1:3] == ["ed", "remove"]


def test_one_tokens_flood_gets_429_while_another_token_is_answered(site):
    server, tokens, _ = site
    stop = threading.Event()
    flood_codes: list[int] = []

    def flood():
        with httpx.Client(timeout=60) as client:
            while not stop.is_set():
                reply = client.post(f"{server.url}/api/ask", json={"question": ASKED}, headers=bearer(tokens["rd2"]))
                flood_codes.append(reply.status_code)
                if reply.status_code == 429:
                    assert int(reply.headers["retry-after"]) >= 1
                    time.sleep(0.05)   # a rude client, but not a busy loop on two cores

    with ThreadPoolExecutor(32) as pool:
        for _ in range(32):
            pool.submit(flood)
        time.sleep(2)
        other = []
        for _ in range(5):
            started = time.perf_counter()
            reply = ask(server, tokens["rd"])
            other.append((reply.status_code, time.perf_counter() - started))
        stop.set()
    assert flood_codes.count(429) > 10 and 200 in flood_codes
    assert [code for code, _ in other] == [200] * 5
    assert max(seconds for _, seconds in other) < 5, other


def test_guessed_passwords_are_throttled_and_the_right_one_gets_in_after_the_back_off(site):
    server, _, _ = site
    codes, retry = [], None
    with httpx.Client(timeout=30) as client:
        for n in range(20):
            reply = client.post(f"{server.url}/login", data={"username": "ed", "password": f"guess {n}"})
            codes.append(reply.status_code)
            retry = reply.headers.get("retry-after", retry)
        assert codes[:5] == [400] * 5 and codes.count(429) >= 14
        too_soon = client.post(f"{server.url}/login", data={"username": "ed", "password": "ed password"})
        assert too_soon.status_code == 429   # the right password too, while the name waits
        time.sleep(int(retry) + 0.2)
        logged_in = client.post(f"{server.url}/login", data={"username": "ed", "password": "ed password"})
        assert logged_in.status_code == 200 and logged_in.json() == {"success": True}
        assert client.get(f"{server.url}/config").status_code == 200   # the session cookie works
