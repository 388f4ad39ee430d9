"""Accounts: who may ask (readers) and who may also change the documents (editors).

    rag user add alice --role editor --users users.json     # password from a prompt or --password-stdin
    rag user token alice --users users.json                 # a new API token, printed once
    rag serve --users users.json                            # login for the page, Bearer tokens for /api/*

One JSON file holds every account (`UsersFile`): a name, a role, a password hash and the hashes
of its API tokens. Nothing secret is stored: passwords and tokens go through scrypt (stdlib
`hashlib.scrypt`, memory-hard: 16 MiB and ~50 ms per hash with the parameters below, so a
stolen file is slow to attack on a GPU) with a salt of their own, and are compared with
`hmac.compare_digest` (constant time). The file is written atomically (a temporary file renamed
into place) with mode 0600; a file that is not a users file is refused with one line naming it.

A token is `rag_<id>_<secret>`: the id (public, 8 hex digits) says which stored hash to check,
so a request costs one scrypt, not one per token; a token verified once is remembered in memory
(by its SHA-256) until the file changes, so a script's later calls cost microseconds.
The server re-reads the file when it changes: `rag user remove` or `rag user token --revoke`
takes effect on the next request, without a restart.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings

READER, EDITOR = "reader", "editor"
ROLES = (READER, EDITOR)
#: scrypt's cost: N=2^14, r=8 (16 MiB of memory per hash), p=1; the salt is 16 random bytes.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_BYTES = 2**14, 8, 1, 32
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024
#: A name: letters (any script), digits, and . _ @ - ; no spaces or control characters.
NAME_PATTERN = re.compile(r"^[\w.@-]{1,64}$")
TOKEN_PATTERN = re.compile(r"^rag_([0-9a-f]{8})_([A-Za-z0-9_-]{20,100})$")
FORMAT = "rag-users/1"


def loopback(host: str) -> bool:
    """Whether `host` listens on this machine only."""
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def startup_problem(settings: Settings) -> str | None:
    """Why this server must not start, in one line saying what to pass (None when it may): it would
    take documents from other machines (a non-loopback `--host`, or `--share`) with no accounts."""
    server = settings.server
    if server.users_file is not None and server.no_auth:
        return "--users and --no-auth contradict each other: pass one of them."
    if not server.allow_upload or server.users_file is not None or server.no_auth:
        return None
    if settings.share or not loopback(settings.host):
        where = "a public share link" if settings.share else f"--host {settings.host}"
        return (f"refusing to start: --allow-upload with {where} lets anyone on the network change the documents; "
                "pass --users FILE (accounts: rag user add), or --no-auth if a proxy in front checks who may.")
    return None


class UsersError(Exception):
    """A users file that cannot be used, or a change that cannot be made: one line for a person."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str, n: int = SCRYPT_N) -> str:
    """`secret` (a password or token) as `scrypt$N$r$p$salt$hash`; a new salt every time."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P,
                            dklen=SCRYPT_BYTES, maxmem=256 * 1024 * 1024)
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


#: scrypt checks running at once in this process: each takes 16 MiB and a core for ~50 ms, so a
#: burst of logins or new tokens waits its turn instead of taking a gigabyte.
_KDF_SLOTS = threading.BoundedSemaphore(2)


def check_secret(secret: str, stored: str) -> bool:
    """Whether `secret` hashes to `stored` (compared in constant time); False for any stored
    value that is not a hash this module wrote."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt" or int(n) > 2**20:
            return False
        expected = _unb64(digest)
        with _KDF_SLOTS:
                got = hashlib.scrypt(secret.encode("utf-8", "surrogatepass"), salt=_unb64(salt), n=int(n), r=int(r),
                                 p=int(p), dklen=len(expected), maxmem=256 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


#: Checked against when a name is unknown, so a wrong name takes as long as a wrong password.
_DUMMY = hash_secret("not a password")


@dataclass(frozen=True)
class Token:
    """One API token as stored: its public id, the hash of the whole token, when it was made."""

    id: str
    hash: str
    created: str


@dataclass(frozen=True)
class User:
    """One account. `password` and every token's `hash` are scrypt hashes, never the secrets."""

    name: str
    role: str
    password: str
    created: str
    tokens: tuple[Token, ...] = ()


@dataclass(frozen=True)
class Identity:
    """Who is calling: an account (`via` "token" or "login"), or nobody in particular
    ("anonymous", on a server without accounts). `role` decides what they may do."""

    name: str
    role: str
    via: str = "token"

    @property
    def editor(self) -> bool:
        """Whether this caller may add and remove documents."""
        return self.role == EDITOR


def now_iso() -> str:
    """The current UTC time, to the second, as ISO 8601 with a Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def check_name(name: str) -> str:
    """`name` if it can be an account's name, else `UsersError`."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise UsersError(f"{str(name)[:70]!r}: a name is 1 to 64 letters, digits, '.', '_', '@' or '-'")
    return name


def check_password(password: str) -> str:
    """`password` if it is long enough (and not absurdly long), else `UsersError`."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise UsersError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise UsersError(f"a password of more than {MAX_PASSWORD_CHARS} characters is refused")
    return password


@dataclass
class UsersFile:
    """The accounts in one file. `load` reads it (an absent file is empty: nothing is created
    until `save`); `save` writes it atomically with mode 0600."""

    path: Path
    users: dict[str, User] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str, must_exist: bool = False) -> UsersFile:
        """The accounts in `path`; `UsersError` naming the file when it is not a users file."""
        path = Path(path)
        if not path.exists():
            if must_exist:
                raise UsersError(f"{path}: no such users file (create it with `rag user add NAME --users {path}`)")
            return cls(path)
        try:
            raw = path.read_bytes()
            if len(raw) > 50_000_000:
                raise ValueError("larger than 50 MB")
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("users"), list):
                raise ValueError(f'expected a JSON object with "format": "{FORMAT}" and a "users" list')
            users = {}
            for entry in data["users"]:
                user = User(name=check_name(entry["name"]), role=str(entry["role"]), password=str(entry["password"]),
                            created=str(entry.get("created", "")),
                            tokens=tuple(Token(str(t["id"]), str(t["hash"]), str(t.get("created", "")))
                                         for t in entry.get("tokens", [])))
                if user.role not in ROLES:
                    raise ValueError(f"{user.name}: role {user.role[:20]!r} is not reader or editor")
                if user.name in users:
                    raise ValueError(f"{user.name}: listed twice")
                users[user.name] = user
        except OSError as exc:
            raise UsersError(f"{path}: cannot be read ({exc.strerror or exc})") from None
        except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError, UsersError) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc).splitlines()[0][:160]
            raise UsersError(f"{path}: not a users file: {detail}") from None
        return cls(path, users)

    def save(self) -> None:
        """Write the file atomically (temporary file in the same folder, then rename), mode 0600."""
        data = {"format": FORMAT, "users": [
            {"name": u.name, "role": u.role, "password": u.password, "created": u.created,
             "tokens": [{"id": t.id, "hash": t.hash, "created": t.created} for t in u.tokens]}
            for u in sorted(self.users.values(), key=lambda u: u.name)]}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.{secrets.token_hex(3)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(data, out, ensure_ascii=False, indent=1)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o600)   # whatever the umask
            os.replace(tmp, self.path)
        finally:
            tmp.unlink(missing_ok=True)

    def add(self, name: str, role: str, password: str) -> User:
        """A new account (not saved yet); `UsersError` for a taken name, a bad role or password."""
        check_name(name)
        if role not in ROLES:
            raise UsersError(f"role {role!r}: choose reader or editor")
        if name in self.users:
            raise UsersError(f"{name}: already in {self.path} (remove it first to start over)")
        user = User(name, role, hash_secret(check_password(password)), now_iso())
        self.users[name] = user
        return user

    def get(self, name: str) -> User:
        """The account `name`, or `UsersError` saying it is not in the file."""
        if name not in self.users:
            raise UsersError(f"{str(name)[:70]}: no such user in {self.path}")
        return self.users[name]

    def remove(self, name: str) -> None:
        """Take the account `name` out (not saved yet)."""
        self.get(name)
        del self.users[name]

    def new_token(self, name: str) -> str:
        """A new API token for `name` (its hash is kept; the token itself is returned once)."""
        user = self.get(name)
        taken = {t.id for u in self.users.values() for t in u.tokens}
        token_id = secrets.token_hex(4)
        while token_id in taken:
            token_id = secrets.token_hex(4)
        token = f"rag_{token_id}_{secrets.token_urlsafe(32)}"
        self.users[name] = replace(user, tokens=(*user.tokens, Token(token_id, hash_secret(token), now_iso())))
        return token

    def revoke(self, name: str) -> int:
        """End every token of `name`; returns how many there were."""
        user = self.get(name)
        self.users[name] = replace(user, tokens=())
        return len(user.tokens)


class Accounts:
    """The server's view of a users file: checks logins and tokens, re-reading the file when it
    changes (a file that turns unreadable keeps the last good accounts, said once in the log).
    Thread-safe."""

    def __init__(self, path: Path | str, log=print):
        self.path = Path(path)
        self._log = log
        self._lock = threading.Lock()
        self._file = UsersFile.load(self.path, must_exist=True)
        self._stamp = self._stat()
        self._verified: dict[bytes, tuple[str, str]] = {}   # sha256(token) -> (name, token id)
        self._pending: dict[bytes, threading.Lock] = {}     # sha256(token) -> held while it is checked
        self._complained = False

    def _stat(self):
        try:
            st = os.stat(self.path)
            return st.st_mtime_ns, st.st_size, st.st_ino
        except OSError:
            return None

    def users(self) -> dict[str, User]:
        """The accounts now (re-read when the file changed since the last look)."""
        stamp = self._stat()
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._file = UsersFile.load(self.path, must_exist=True)
                    self._verified.clear()
                    self._complained = False
                except UsersError as exc:
                    if not self._complained:
                        self._log(f"Users file not re-read, keeping the accounts loaded before: {exc}")
                        self._complained = True
                self._stamp = stamp
            return self._file.users

    def role(self, name: str | None) -> str | None:
        """The role of account `name` now, None when there is no such account (any more)."""
        user = self.users().get(name) if name else None
        return user.role if user else None

    def login(self, name: str, password: str) -> Identity | None:
        """The account `name` when `password` is its password, else None (as slow either way)."""
        user = self.users().get(name) if isinstance(name, str) else None
        ok = check_secret(password if isinstance(password, str) else "", user.password if user else _DUMMY)
        return Identity(user.name, user.role, "login") if ok and user else None

    def by_token(self, token: str, cached_only: bool = False) -> Identity | None:
        """The account a bearer token belongs to, or None (unknown, revoked or malformed; with
        `cached_only`, also when it has not been verified since the file was last read)."""
        match = TOKEN_PATTERN.match(token or "")
        if not match:
            return None
        users = self.users()
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            known = self._verified.get(key)
        if known:
            user = users.get(known[0])
            if user and any(t.id == known[1] for t in user.tokens):
                return Identity(user.name, user.role, "token")
        if cached_only:
            return None
        owner = next(((u, t) for u in users.values() for t in u.tokens if t.id == match.group(1)), None)
        if owner is None:
            return None
        # One check per token at a time: the first requests of a script that starts dozens at once
        # wait for one scrypt, then find the token verified.
        with self._lock:
            pending = self._pending.setdefault(key, threading.Lock())
        try:
            with pending:
                with self._lock:
                    known = self._verified.get(key)
                if known != (owner[0].name, owner[1].id):
                    if not check_secret(token, owner[1].hash):
                        return None
                    with self._lock:
                        if len(self._verified) > 10_000:
                            self._verified.clear()
                        self._verified[key] = (owner[0].name, owner[1].id)
        finally:
            with self._lock:
                self._pending.pop(key, None)
        return Identity(owner[0].name, owner[0].role, "token")
