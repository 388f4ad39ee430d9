"""rag.auth and `rag user`: hashes, the users file, tokens; and `rag serve`'s refusal to take documents
from other machines without accounts."""
from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys

import pytest
from servers import env

from rag import auth, cli
from rag.auth import Accounts, UsersError, UsersFile


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    """A lighter scrypt for speed; one test below checks the real parameters."""
    real = auth.hash_secret
    monkeypatch.setattr(auth, "hash_secret", lambda secret, n=2**10: real(secret, n))


def test_a_secret_is_stored_only_as_a_salted_scrypt_hash():
    stored = auth.hash_secret("correct horse battery")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert auth.check_secret("correct horse battery", stored)
    assert not auth.check_secret("correct horse batterY", stored)
    assert auth.hash_secret("correct horse battery") != stored   # a new salt every time
    for broken in ("", "plain", "md5$1$2$3$4$5", "scrypt$x$8$1$AAAA$BBBB"):
        assert not auth.check_secret("anything", broken)


def test_the_default_cost_is_memory_hard(monkeypatch):
    monkeypatch.undo()   # the real parameters
    kind, n, r, p, salt, digest = auth.hash_secret("x").split("$")
    assert kind == "scrypt" and 128 * int(r) * int(n) >= 16 * 2**20   # scrypt's memory: 128 * r * N bytes
    assert len(auth._unb64(salt)) == 16 and len(auth._unb64(digest)) == 32


def test_the_file_is_written_atomically_with_mode_0600(tmp_path):
    path = tmp_path / "users.json"
    users = UsersFile.load(path)
    assert not path.exists()   # nothing is created until asked
    users.add("alice", "editor", "password one")
    users.save()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["users.json"]   # no temporary file left
    text = path.read_text(encoding="utf-8")
    assert "password one" not in text
    again = UsersFile.load(path)
    assert again.users["alice"].role == "editor" and again.users["alice"].password == users.users["alice"].password


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"format": "rag-users/1"}', b'{"format": "other", "users": []}',
                                     b'{"format": "rag-users/1", "users": [{"name": "a"}]}',
                                     b'{"format": "rag-users/1", "users": [{"name": "a b", "role": "reader", "password": "x"}]}',
                                     b'{"format": "rag-users/1", "users": [{"name": "a", "role": "admin", "password": "x"}]}',
                                     b"\xff\xfe"])
def test_a_malformed_file_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "users.json"
    path.write_bytes(content)
    with pytest.raises(UsersError) as caught:
        UsersFile.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: not a users file") and "\n" not in message


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "tab\there", "semi;colon", "new\nline"])
def test_bad_names_roles_and_passwords_are_refused(tmp_path, name):
    users = UsersFile.load(tmp_path / "u.json")
    with pytest.raises(UsersError):
        users.add(name, "reader", "long enough")
    with pytest.raises(UsersError, match="reader or editor"):
        users.add("bob", "admin", "long enough")
    with pytest.raises(UsersError, match="at least 8"):
        users.add("bob", "reader", "short")
    users.add("张三", "reader", "long enough")   # any script
    with pytest.raises(UsersError, match="already"):
        users.add("张三", "editor", "long enough")


def test_tokens_identify_their_account_until_revoked_and_the_server_sees_changes(tmp_path):
    path = tmp_path / "users.json"
    users = UsersFile.load(path)
    users.add("ed", "editor", "editor password")
    users.add("rd", "reader", "reader password")
    token = users.new_token("ed")
    users.save()
    assert token not in path.read_text()
    accounts = Accounts(path)
    assert accounts.by_token(token) == auth.Identity("ed", "editor", "token")
    assert accounts.by_token(token) == auth.Identity("ed", "editor", "token")   # from the cache
    assert accounts.by_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert accounts.by_token("rag_00000000_" + "A" * 43) is None and accounts.by_token("") is None
    assert accounts.login("rd", "reader password").role == "reader"
    assert accounts.login("rd", "editor password") is None and accounts.login("nobody", "reader password") is None

    users = UsersFile.load(path)
    assert users.revoke("ed") == 1
    users.remove("rd")
    users.save()
    os.utime(path, ns=(1, 1))   # a different stamp even within the file system's time resolution
    assert accounts.by_token(token) is None   # revoked: the cache is dropped with the old file
    assert accounts.login("rd", "reader password") is None and accounts.role("rd") is None


def test_a_file_that_turns_bad_keeps_the_accounts_loaded(tmp_path):
    path = tmp_path / "users.json"
    users = UsersFile.load(path)
    users.add("ed", "editor", "editor password")
    users.save()
    said = []
    accounts = Accounts(path, log=said.append)
    path.write_text("{broken")
    assert accounts.role("ed") == "editor" and accounts.role("ed") == "editor"
    assert len(said) == 1 and "not a users file" in said[0]


def run_cli(monkeypatch, capsys, *args, stdin: str = ""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_user_commands(tmp_path, monkeypatch, capsys):
    users = str(tmp_path / "users.json")
    assert run_cli(monkeypatch, capsys, "user", "add", "ed", "--role", "editor", "--users", users, "--password-stdin",
                   stdin="editor password\n")[0] == 0
    assert run_cli(monkeypatch, capsys, "user", "add", "rd", "--role", "reader", "--users", users, "--password-stdin",
                   stdin="reader password\n")[0] == 0
    code, out, err = run_cli(monkeypatch, capsys, "user", "token", "ed", "--users", users)
    token = out.strip().splitlines()[-1]
    assert code == 0 and auth.TOKEN_PATTERN.match(token) and token not in err
    code, out, _ = run_cli(monkeypatch, capsys, "user", "list", "--users", users)
    assert code == 0 and out.splitlines()[0].startswith("ed\teditor\t1 token") and out.splitlines()[1].startswith("rd\treader")
    assert "scrypt" not in out and token not in out
    assert Accounts(users).by_token(token).name == "ed"
    code, _, err = run_cli(monkeypatch, capsys, "user", "token", "ed", "--users", users, "--revoke")
    assert code == 0 and "Revoked 1 token" in err and Accounts(users).by_token(token) is None
    assert run_cli(monkeypatch, capsys, "user", "remove", "rd", "--users", users)[0] == 0
    assert [u["name"] for u in json.loads(open(users).read())["users"]] == ["ed"]
    # Refusals: one line each, nothing changed.
    before = open(users).read()
    for args, stdin, message in [(("user", "add", "ed", "--role", "reader"), "x" * 10 + "\n", "already in"),
                                 (("user", "add", "new", "--role", "reader"), "", "no terminal"),
                                 (("user", "add", "new", "--role", "reader", "--password-stdin"), "short\n", "at least 8"),
                                 (("user", "remove", "ghost"), "", "no such user"),
                                 (("user", "token", "ghost"), "", "no such user")]:
        code, out, err = run_cli(monkeypatch, capsys, *args, "--users", users, stdin=stdin)
        assert code == 1 and message in err and err.count("\n") == 1, (args, err)
    assert open(users).read() == before
    code, _, err = run_cli(monkeypatch, capsys, "user", "list", "--users", str(tmp_path / "missing.json"))
    assert code == 1 and "no such users file" in err


def serve_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rag", "serve", *args], capture_output=True, text=True, env=env(),
                          timeout=120)


def test_serve_refuses_uploads_from_other_machines_without_accounts(tmp_path):
    refused = serve_cli("--host", "0.0.0.0", "--allow-upload", "--corpus", str(tmp_path), "--index", str(tmp_path))
    assert refused.returncode == 2 and refused.stdout == ""
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "--users FILE" in lines[0] and "--no-auth" in lines[0], refused.stderr
    both = serve_cli("--users", str(tmp_path / "u.json"), "--no-auth")
    assert both.returncode == 2 and "contradict" in both.stderr
    missing = serve_cli("--users", str(tmp_path / "u.json"))
    assert missing.returncode == 1 and "no such users file" in missing.stderr and missing.stderr.count("\n") == 1


@pytest.mark.parametrize("host,share,upload,users,no_auth,refused", [
    ("0.0.0.0", False, True, None, False, True),
    ("192.168.1.5", False, True, None, False, True),
    ("127.0.0.1", True, True, None, False, True),          # a share link reaches everyone
    ("0.0.0.0", False, True, "u.json", False, False),
    ("0.0.0.0", False, True, None, True, False),           # explicitly: a proxy in front checks
    ("0.0.0.0", False, False, None, False, False),         # asking only, as before
    ("127.0.0.1", False, True, None, False, False),
    ("::1", False, True, None, False, False),
])
def test_the_startup_rule(host, share, upload, users, no_auth, refused):
    from rag.auth import startup_problem
    from rag.config import Settings

    settings = Settings(host=host, share=share).replace(allow_upload=upload, users_file=users, no_auth=no_auth)
    assert (startup_problem(settings) is not None) == refused


def test_a_token_used_by_many_requests_at_once_is_checked_once(tmp_path, monkeypatch):
    import threading

    users = UsersFile.load(tmp_path / "users.json")
    users.add("ed", "editor", "editor password")
    token = users.new_token("ed")
    users.save()
    accounts = Accounts(tmp_path / "users.json")
    checks, real = [], auth.check_secret
    monkeypatch.setattr(auth, "check_secret", lambda *args: checks.append(1) or real(*args))
    results = []
    threads = [threading.Thread(target=lambda: results.append(accounts.by_token(token))) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(checks) == 1 and all(r and r.name == "ed" for r in results) and len(results) == 12
    assert accounts._pending == {}
    assert accounts.by_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None and accounts._pending == {}


def test_client_limits_from_the_command_line(tmp_path, monkeypatch, capsys):
    parser = cli.build_parser()
    limits = cli.settings_from(parser.parse_args(["serve", "--client-limits", "2/30"])).server.limits
    assert (limits.in_flight, limits.per_minute) == (2, 30)
    off = cli.settings_from(parser.parse_args(["serve", "--client-limits", "off"])).server.limits
    assert off.in_flight >= 10**9 and off.per_minute >= 10**9
    default = cli.settings_from(parser.parse_args(["serve"])).server.limits
    assert (default.in_flight, default.per_minute) == (4, 240)
    for bad in ("0/5", "3", "a/b", "-1/5"):
        assert cli.main(["serve", f"--client-limits={bad}", "--index", str(tmp_path)]) == 2
        assert "--client-limits" in capsys.readouterr().err
