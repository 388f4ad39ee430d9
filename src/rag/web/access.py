"""Who may do what on the web server, and how much of it: accounts, tokens, fair limits.

`Access` holds the server's accounts (`rag.auth.Accounts`, from `--users`; None without), its
per-client limits and its failed-login throttle (`rag.limits`). `Guard` is the ASGI middleware
that applies them before any route runs:

- `/api/...` (the JSON API): with accounts, `Authorization: Bearer TOKEN` is required: 401 without
  a valid token (wrong tokens count as failed logins of the address, so guessing is throttled
  too); the caller's `Identity` is put in the request's scope for the route (`identity`). Without
  accounts every caller is "anonymous", an editor only with `--allow-upload`. Then the caller's
  limits: 429 with `Retry-After` when it has `in_flight` requests in progress or started
  `per_minute` in the last minute; the key is the token, else the address.
- Gradio's question routes (`/gradio_api/queue/join`, `/gradio_api/call/...`): the same
  per-minute limit, keyed by the login session (its cookie), else the address. (Without accounts
  the page's session id is chosen by the client, so it cannot key a limit.)
- `/login` (Gradio's login form): refused with 429 while the name or the address must wait after
  failed logins; the outcome of each attempt is counted.
- Gradio's upload routes, with accounts: editors only (403), before a byte is read.
- A login session whose account has since been removed from the users file is ended (401).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import parse_qs

import anyio

from ..auth import EDITOR, READER, Accounts, Identity
from ..config import Settings
from ..limits import ClientLimits, LoginThrottle, retry_after
from ..serving import UPLOAD_ROUTES
from .api import CLIENT_KEY

SCOPE_KEY = "rag.identity"
QUESTION_ROUTES = ("/gradio_api/queue/join",)
CALL_PREFIX = "/gradio_api/call/"
MAX_LOGIN_BYTES = 8192


@dataclass
class Access:
    """The server's accounts (None: none), limits and login throttle; `allow_changes`: whether an
    anonymous caller may add and remove documents (no accounts and `--allow-upload`)."""

    accounts: Accounts | None
    limits: ClientLimits
    throttle: LoginThrottle
    allow_changes: bool

    @classmethod
    def from_settings(cls, settings: Settings, log=print) -> Access:
        """Accounts from `settings.server.users_file` (which must exist), the limits of `settings.server.limits`."""
        server = settings.server
        accounts = Accounts(server.users_file, log=log) if server.users_file is not None else None
        return cls(accounts, ClientLimits(server.limits), LoginThrottle(server.limits),
                   server.allow_upload and accounts is None)

    def anonymous(self, address: str) -> Identity:
        """A caller on a server without accounts."""
        return Identity(f"anonymous@{address}", EDITOR if self.allow_changes else READER, "address")

    def page_identity(self, username: str | None, address: str) -> Identity | None:
        """The page's visitor: its account (None when the account is gone), or anonymous."""
        if self.accounts is None:
            return self.anonymous(address)
        role = self.accounts.role(username)
        return Identity(username, role, "login") if role else None

    def editors_can_change(self) -> bool:
        """Whether anyone may change the documents from the server (accounts, or open uploads)."""
        return self.accounts is not None or self.allow_changes


def identity(request) -> Identity | None:
    """The caller `Guard` let through (None when no `Guard` ran: such a caller may change nothing)."""
    return request.scope.get(SCOPE_KEY)


def address_of(scope) -> str:
    """The client's address (behind a proxy: as uvicorn's trusted X-Forwarded-For says)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


async def _json_reply(send, status: int, body: dict, headers: dict | None = None) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": data})


class Guard:
    """ASGI middleware: accounts, limits and login throttling for every route (module docstring)."""

    def __init__(self, app, access: Access):
        self.app, self.access = app, access

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, method = scope.get("path", ""), scope.get("method", "")
        if path.startswith("/api/"):
            return await self._api(scope, receive, send)
        if path.rstrip("/") == "/login" and method == "POST" and self.access.accounts is not None:
            return await self._login(scope, receive, send)
        session = self._session(scope)
        if session is False:
            return await _json_reply(send, 401, {"detail": "This account no longer exists: log in again."})
        if self.access.accounts is not None and path.rstrip("/").endswith(UPLOAD_ROUTES):
            user = self._cookie_user(scope)
            if self.access.accounts.role(user) != EDITOR:
                return await _json_reply(send, 403, {"detail": "Only editors add documents."})
        if method == "POST" and (path.rstrip("/") in QUESTION_ROUTES or path.startswith(CALL_PREFIX)):
            key = f"session:{session}" if session else f"addr:{address_of(scope)}"
            wait = self.access.limits.enter(key)
            if wait is not None:
                return await self._too_many(send, wait)
            self.access.limits.leave(key)   # queued by Gradio: only its start is counted here
        await self.app(scope, receive, send)

    def _cookie_user(self, scope) -> str | None:
        app = scope.get("app")
        tokens, cookie_id = getattr(app, "tokens", None), getattr(app, "cookie_id", None)
        if not tokens or cookie_id is None:
            return None
        cookies = _cookies(scope)
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        return tokens.get(token) if token else None

    def _session(self, scope):
        """The login session's key (a hash of its cookie), None without one, False when the account is gone."""
        if self.access.accounts is None:
            return None
        user = self._cookie_user(scope)
        if user is None:
            return None
        if self.access.accounts.role(user) is None:
            app = scope["app"]
            for token in [t for t, name in list(app.tokens.items()) if name == user]:
                app.tokens.pop(token, None)
            return False
        cookies = _cookies(scope)
        token = next((v for k, v in cookies.items() if k.startswith("access-token")), "")
        return hashlib.sha256(token.encode()).hexdigest()[:16]

    async def _too_many(self, send, wait: float) -> None:
        limits = self.access.limits.settings
        await _json_reply(send, 429, {"error": f"Too many requests from this client (at most {limits.in_flight} at once "
                                               f"and {limits.per_minute} a minute): retry after {retry_after(wait)} s."},
                          {"Retry-After": retry_after(wait)})

    async def _api(self, scope, receive, send):
        access, address = self.access, address_of(scope)
        if access.accounts is None:
            caller, key = access.anonymous(address), f"addr:{address}"
        else:
            header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return await _json_reply(send, 401, {"error": "This server needs an API token: send the header "
                                                              "'Authorization: Bearer TOKEN' (rag user token NAME)."},
                                         {"WWW-Authenticate": "Bearer"})
            # A token verified before gets in at once, also from an address that must wait after
            # failures (its owner is not locked out by someone guessing from the same network).
            caller = access.accounts.by_token(token.strip(), cached_only=True)
            wait = 0 if caller else access.throttle.check(None, address)
            if wait > 0:
                return await _json_reply(send, 429, {"error": f"Too many failed logins from this address: retry after "
                                                              f"{retry_after(wait)} s."}, {"Retry-After": retry_after(wait)})
            if caller is None:   # one scrypt (~50 ms): in a worker thread, not on the event loop
                caller = await anyio.to_thread.run_sync(access.accounts.by_token, token.strip())
            if caller is None:
                access.throttle.failed(None, address)
                return await _json_reply(send, 401, {"error": "The API token is not valid (mistyped, revoked, or its "
                                                              "account removed)."}, {"WWW-Authenticate": "Bearer"})
            key = f"token:{token.strip()[4:12]}"
        wait = access.limits.enter(key)
        if wait is not None:
            return await self._too_many(send, wait)
        scope[SCOPE_KEY], scope[CLIENT_KEY] = caller, key
        try:
            await self.app(scope, receive, send)
        finally:
            access.limits.leave(key)

    async def _login(self, scope, receive, send):
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_LOGIN_BYTES:
                return await _json_reply(send, 413, {"detail": "A login form over 8 KB is refused."})
        try:
            form = parse_qs(body.decode("utf-8"), max_num_fields=10)
        except (UnicodeDecodeError, ValueError):
            form = {}
        name = (form.get("username") or [""])[0].strip()
        address = address_of(scope)
        wait = self.access.throttle.check(name, address)
        if wait > 0:
            return await _json_reply(send, 429, {"detail": f"Too many failed logins: try again in {retry_after(wait)} s."},
                                     {"Retry-After": retry_after(wait)})
        outcome = {}

        async def replay():
            return {"type": "http.request", "body": body, "more_body": False}

        async def watch(message):
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
            await send(message)

        await self.app(scope, replay, watch)
        if outcome.get("status") == 200:
            self.access.throttle.succeeded(name)
        elif outcome.get("status") in (400, 401, 422):
            self.access.throttle.failed(name, address)


def _cookies(scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    header = dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1")
    jar = SimpleCookie()
    try:
        jar.load(header)
    except Exception:   # a malformed Cookie header: as if none were sent
        return {}
    return {key: morsel.value for key, morsel in jar.items()}
