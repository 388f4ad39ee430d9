"""The documents API and `access.Guard` in Starlette's test client (no Gradio, no model): who may do
what, the same checks as `rag add`, the audit log; and `rag.changes` itself. The same routes on a
real server process: tests/test_access_server.py."""
from __future__ import annotations

import hashlib
import json

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.testclient import TestClient

from rag import auth, changes, cli
from rag.auth import UsersFile
from rag.config import CorpusSettings, LimitSettings, ServerSettings, Settings
from rag.web import api, documents_api
from rag.web.access import Access, Guard
from rag.web.live import Status

TEXT = "Quokka notes\n\nThe quokka is a small marsupial that lives on Rottnest Island.\n"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    real = auth.hash_secret
    monkeypatch.setattr(auth, "hash_secret", lambda secret, n=2**10: real(secret, n))


class FakeLive:
    """No index (questions get 503); counts the background updates asked for."""

    def __init__(self):
        self.current, self.updates = None, 0

    def status(self):
        return Status("ready", documents=1, passages=3)

    def update_in_background(self):
        self.updates += 1
        return True


@pytest.fixture
def site(tmp_path):
    """(client factory, settings, tokens, live) over an empty corpus with an editor and a reader."""
    (tmp_path / "corpus").mkdir()
    users = UsersFile.load(tmp_path / "users.json")
    users.add("ed", "editor", "editor password")
    users.add("rd", "reader", "reader password")
    tokens = {"ed": users.new_token("ed"), "rd": users.new_token("rd")}
    users.save()

    def make(users_file=tmp_path / "users.json", allow_upload=False, corpus=None, **limits):
        server = ServerSettings(users_file=users_file, allow_upload=allow_upload, limits=LimitSettings(**limits))
        settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index", server=server,
                            corpus=corpus or CorpusSettings())
        live = FakeLive()
        access = Access.from_settings(settings)
        app = Starlette(routes=api.routes(live, server) + documents_api.routes(live, settings, access),
                        middleware=[Middleware(Guard, access=access)])
        return TestClient(app), settings, live

    return make, tokens


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_every_api_route_needs_a_valid_token(site):
    make, tokens = site
    client, _, _ = make()
    for method, path in (("POST", "/api/ask"), ("GET", "/api/documents"), ("POST", "/api/documents"),
                         ("DELETE", "/api/documents/a.txt"), ("GET", "/api/status")):
        for headers in ({}, {"Authorization": "Basic abc"}, bearer("rag_00000000_" + "x" * 40), bearer("nonsense")):
            reply = client.request(method, path, headers=headers)
            assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer", (method, path, headers)
            assert "\n" not in reply.json()["error"]
    assert client.get("/api/status", headers=bearer(tokens["rd"])).status_code == 200
    assert client.post("/api/ask", json={"question": "q"}, headers=bearer(tokens["rd"])).status_code == 503   # no index


def test_readers_read_editors_change_and_both_changes_are_audited(site):
    make, tokens = site
    client, settings, live = make()
    upload = {"file": ("quokka.txt", TEXT.encode(), "text/plain")}
    refused = client.post("/api/documents", files=upload, headers=bearer(tokens["rd"]))
    assert refused.status_code == 403 and "reader" in refused.json()["error"]
    assert not (settings.corpus_dir / "quokka.txt").exists()
    added = client.post("/api/documents", files=upload, headers=bearer(tokens["ed"]))
    assert added.status_code == 202 and added.json()["added"] == "quokka.txt" and live.updates == 1
    listed = client.get("/api/documents", headers=bearer(tokens["rd"])).json()["documents"]
    assert [(d["name"], d["format"], d["size"], d["added_by"], d["indexed"]) for d in listed] == \
        [("quokka.txt", "txt", len(TEXT.encode()), "ed", False)]
    assert client.delete("/api/documents/quokka.txt", headers=bearer(tokens["rd"])).status_code == 403
    removed = client.delete("/api/documents/quokka.txt", headers=bearer(tokens["ed"]))
    assert removed.status_code == 200 and removed.json()["removed"] == "quokka.txt" and live.updates == 2
    gone = client.delete("/api/documents/quokka.txt", headers=bearer(tokens["ed"]))
    assert gone.status_code == 404 and str(settings.corpus_dir) not in gone.json()["error"]
    entries, bad = changes.read_audit(settings)
    digest = hashlib.sha256(TEXT.encode()).hexdigest()
    assert bad == 0 and [(e["user"], e["action"], e["document"], e["sha256"]) for e in entries] == \
        [("ed", "add", "quokka.txt", digest), ("ed", "remove", "quokka.txt", digest)]


@pytest.mark.parametrize("name,data,status,message", [
    ("notes.exe", b"MZ\x90\x00", 400, "not a document file name"),
    ("binary.txt", bytes(range(256)) * 4, 400, "refused"),
    ("big.txt", b"a" * 3_000, 413, "over the limit of 2,000"),
])
def test_a_bad_file_gets_4xx_with_the_same_reason_as_rag_add(site, tmp_path, capsys, name, data, status, message):
    make, tokens = site
    client, settings, live = make(corpus=CorpusSettings(max_document_bytes=2_000))
    reply = client.post("/api/documents", files={"file": (name, data)}, headers=bearer(tokens["ed"]))
    assert reply.status_code == status and message in reply.json()["error"]
    assert live.updates == 0 and list(settings.corpus_dir.iterdir()) == []
    if len(data) > 2_000:
        return   # `rag add` has no flag for this limit; its wording is pinned in test_corpus
    path = tmp_path / name   # the same file through `rag add`: the same words
    path.write_bytes(data)
    assert cli.main(["add", str(path), "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]) == 1
    assert reply.json()["error"] in capsys.readouterr().err


def test_a_conflicting_name_is_409_unless_replaced_and_malformed_bodies_400(site):
    make, tokens = site
    client, settings, live = make()
    (settings.corpus_dir / "quokka.txt").write_text("Another text about something else entirely.\n")
    first = client.post("/api/documents", files={"file": ("quokka.txt", TEXT.encode())}, headers=bearer(tokens["ed"]))
    assert first.status_code == 409 and "replace it explicitly" in first.json()["error"]
    replaced = client.post("/api/documents", files={"file": ("quokka.txt", TEXT.encode())}, data={"replace": "true"},
                           headers=bearer(tokens["ed"]))
    assert replaced.status_code == 202
    for kwargs in ({"json": {"file": "x"}}, {"data": {"other": "x"}, "files": {"f": ("a.txt", b"x")}},
                   {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}}):
        headers = {**kwargs.pop("headers", {}), **bearer(tokens["ed"])}
        reply = client.post("/api/documents", headers=headers, **kwargs)
        assert reply.status_code in (400, 411) and "\n" not in reply.json()["error"], reply.text
    huge = client.post("/api/documents", headers={**bearer(tokens["ed"]), "content-length": str(10**9)}, content=b"")
    assert huge.status_code == 413


def test_without_accounts_anyone_may_read_and_only_allow_upload_opens_changes(site):
    make, _ = site
    closed, settings, _ = make(users_file=None)
    assert closed.get("/api/documents").status_code == 200
    reply = closed.post("/api/documents", files={"file": ("quokka.txt", TEXT.encode())})
    assert reply.status_code == 403 and "--users FILE" in reply.json()["error"]
    open_, settings, live = make(users_file=None, allow_upload=True)
    assert open_.post("/api/documents", files={"file": ("quokka.txt", TEXT.encode())}).status_code == 202
    assert changes.read_audit(settings)[0][-1]["user"] == "anonymous@testclient"


def test_a_flooding_token_gets_429_with_retry_after_while_another_is_served(site):
    make, tokens = site
    client, _, _ = make(per_minute=5)
    codes = [client.get("/api/status", headers=bearer(tokens["ed"])).status_code for _ in range(8)]
    assert codes == [200] * 5 + [429] * 3
    refused = client.get("/api/status", headers=bearer(tokens["ed"]))
    assert 1 <= int(refused.headers["retry-after"]) <= 60 and "retry after" in refused.json()["error"]
    assert client.get("/api/status", headers=bearer(tokens["rd"])).status_code == 200


def test_wrong_tokens_are_throttled_per_address(site):
    make, tokens = site
    client, _, _ = make(login_free_per_address=3, login_backoff_seconds=30)
    wrong = tokens["rd"][:-2] + "zz"
    codes = [client.get("/api/status", headers=bearer(wrong)).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    assert client.get("/api/status", headers=bearer(tokens["rd"])).status_code == 429   # the address waits...
    fresh, _, _ = make(login_free_per_address=3, login_backoff_seconds=30)
    assert fresh.get("/api/status", headers=bearer(tokens["ed"])).status_code == 200
    codes = [fresh.get("/api/status", headers=bearer(wrong)).status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]
    # ...but a token verified before still gets in: guessing from its network does not lock its owner out.
    assert fresh.get("/api/status", headers=bearer(tokens["ed"])).status_code == 200


def test_changes_record_who_and_the_cli_uses_the_same_path(tmp_path, capsys):
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    settings.corpus_dir.mkdir()
    change = changes.add(settings, [("../a.md", b"# A\n\nSome text here.\n"), ("b.pdfx", b"x")], "ann")
    assert change.done == ["a.md"] and len(change.problems) == 1
    assert changes.problem_status(change.problems[0]) == 400
    (settings.index_dir / changes.AUDIT_FILE).open("a").write("not json\n")
    entries, bad = changes.read_audit(settings)
    assert [e["user"] for e in entries] == ["ann"] and bad == 1
    assert changes.listing(settings, None)[0].added_by == "ann"
    assert cli.main(["audit", "--index", str(settings.index_dir)]) == 0
    out, err = capsys.readouterr()
    assert "ann  add     a.md" in out and "1 line" in err
    assert cli.main(["audit", "--index", str(settings.index_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["document"] == "a.md"
    assert changes.cli_user().startswith("cli:")


def gradio_like(access, tokens: dict | None = None):
    """A stand-in for Gradio's routes behind the guard: its login sessions are `app.tokens`."""
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def ok(request):
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route(path, ok, methods=["POST"]) for path in
                            ("/gradio_api/queue/join", "/gradio_api/upload", "/gradio_api/call/ask")],
                    middleware=[Middleware(Guard, access=access)])
    app.tokens, app.cookie_id = dict(tokens or {}), "abc"
    return app


def test_the_pages_questions_are_limited_per_session_else_per_address(site):
    make, _ = site
    _, settings, _ = make(users_file=None, per_minute=3)
    client = TestClient(gradio_like(Access.from_settings(settings)))
    codes = [client.post("/gradio_api/queue/join").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    _, settings, _ = make(per_minute=3)
    client = TestClient(gradio_like(Access.from_settings(settings), {"s1": "rd", "s2": "ed"}))
    one, two = {"cookie": "access-token-abc=s1"}, {"cookie": "access-token-abc=s2"}
    assert [client.post("/gradio_api/call/ask", headers=one).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.post("/gradio_api/queue/join", headers=two).status_code == 200   # another session


def test_gradios_upload_route_is_for_editors_and_a_removed_accounts_session_ends(site, tmp_path):
    make, _ = site
    _, settings, _ = make()
    app = gradio_like(Access.from_settings(settings), {"s1": "rd", "s2": "ed", "s3": "ghost"})
    client = TestClient(app)
    assert client.post("/gradio_api/upload", headers={"cookie": "access-token-abc=s1"}).status_code == 403
    assert client.post("/gradio_api/upload").status_code == 403
    assert client.post("/gradio_api/upload", headers={"cookie": "access-token-abc=s2"}).status_code == 200
    assert client.post("/gradio_api/queue/join", headers={"cookie": "access-token-abc=s3"}).status_code == 401
    assert "s3" not in app.tokens and "s1" in app.tokens
