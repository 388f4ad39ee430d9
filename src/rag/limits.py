"""Fair limits: one client's flood is refused (HTTP 429, `Retry-After`) while the others are served,
and guessing passwords is slowed down (docs/security.md).

- `ClientLimits`: per client (a token, else a login session, else an address) at most
  `in_flight` requests at once and `per_minute` in any 60 seconds. The server's own bound
  (`web.api.Admission`, Gradio's queue) protects the server; this protects the other visitors:
  a client at its limit is refused at once, before it takes a place in the shared line.
- `FairLimiter`: the server's workers are handed out round-robin by client, so one client's
  queue of requests does not stand in front of everyone else's.
- `LoginThrottle`: failed logins counted per name and per address. After `free` failures the
  next attempt must wait `base * 2^(failures - free)` seconds (at most `max_backoff`); earlier
  attempts are refused (429) without the password being checked, so they cost nothing and do not
  lengthen the wait. A success clears the name's count; counts are forgotten after `forget_after`.

Both take a clock (tests pass their own) and a lock: the server calls them from its event
loop and from worker threads. Both keep at most `max_keys` clients (the oldest go first),
so a flood of made-up names or addresses cannot grow them without bound.
"""
from __future__ import annotations

import contextlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from .config import LimitSettings


def retry_after(seconds: float) -> str:
    """A `Retry-After` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class ClientLimits:
    """Requests in flight and per minute, per client key."""

    def __init__(self, settings: LimitSettings, clock: Callable[[], float] = time.monotonic):
        self.settings, self._clock = settings, clock
        self._lock = threading.Lock()
        self._starts: OrderedDict[str, deque] = OrderedDict()
        self._inside: dict[str, int] = {}

    def enter(self, key: str) -> float | None:
        """Count a request of `key` as started and in flight: None when it may go on (call
        `leave(key)` when it ends), else the seconds it should wait before trying again."""
        limits, now = self.settings, self._clock()
        with self._lock:
            starts = self._starts.get(key)
            if starts is None:
                starts = self._starts[key] = deque()
                while len(self._starts) > limits.max_keys:
                    oldest, _ = self._starts.popitem(last=False)
                    self._inside.pop(oldest, None)
            self._starts.move_to_end(key)
            while starts and now - starts[0] >= 60.0:
                starts.popleft()
            if self._inside.get(key, 0) >= limits.in_flight:
                return 1.0   # a place frees when one of its requests ends: try again soon
            if len(starts) >= limits.per_minute:
                return 60.0 - (now - starts[0])
            starts.append(now)
            self._inside[key] = self._inside.get(key, 0) + 1
            return None

    def leave(self, key: str) -> None:
        """A request of `key` that `enter` let in has ended."""
        with self._lock:
            count = self._inside.get(key, 0) - 1
            if count > 0:
                self._inside[key] = count
            else:
                self._inside.pop(key, None)

    def in_flight(self, key: str) -> int:
        """How many requests of `key` are in progress."""
        with self._lock:
            return self._inside.get(key, 0)


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0


class LoginThrottle:
    """Failed logins per name and per address, and the wait they impose."""

    def __init__(self, settings: LimitSettings, clock: Callable[[], float] = time.monotonic):
        self.settings, self._clock = settings, clock
        self._lock = threading.Lock()
        self._names: OrderedDict[str, _Failures] = OrderedDict()
        self._addresses: OrderedDict[str, _Failures] = OrderedDict()

    def _wait(self, record: _Failures | None, free: int, now: float) -> float:
        s = self.settings
        if record is None or record.count < free:
            return 0.0
        backoff = min(s.login_max_backoff_seconds, s.login_backoff_seconds * 2 ** (record.count - free))
        return max(0.0, record.last + backoff - now)

    def _get(self, table: OrderedDict, key: str, now: float) -> _Failures | None:
        record = table.get(key)
        if record is not None and now - record.last >= self.settings.login_forget_seconds:
            del table[key]
            return None
        return record

    def check(self, name: str | None, address: str) -> float:
        """Seconds before `name` may try again from `address` (0: it may try now)."""
        s, now = self.settings, self._clock()
        with self._lock:
            waits = [self._wait(self._get(self._addresses, address, now), s.login_free_per_address, now)]
            if name is not None:
                waits.append(self._wait(self._get(self._names, name, now), s.login_free_per_name, now))
            return max(waits)

    def failed(self, name: str | None, address: str) -> None:
        """Count a failed login of `name` (None: a wrong token) from `address`."""
        now = self._clock()
        with self._lock:
            for table, key in ((self._addresses, address), (self._names, name)):
                if key is None:
                    continue
                record = self._get(table, key, now) or _Failures()
                record.count += 1
                record.last = now
                table[key] = record
                table.move_to_end(key)
                while len(table) > self.settings.max_keys:
                    table.popitem(last=False)

    def succeeded(self, name: str) -> None:
        """A right password for `name`: its count starts again (its address's does not: one
        account of one's own must not unlock guessing at the others')."""
        with self._lock:
            self._names.pop(name, None)


class FairLimiter:
    """At most `slots` holders at once; those waiting are let in round-robin by client key, so a
    client with dozens of requests waiting delays another client's request by one turn, not by
    all of its own (`web.api.Admission`). For one event loop (no lock needed)."""

    def __init__(self, slots: int):
        self.free = slots
        self._waiting: OrderedDict[str, deque] = OrderedDict()

    def waiting(self) -> int:
        """How many are waiting for a slot."""
        return sum(len(queue) for queue in self._waiting.values())

    @contextlib.asynccontextmanager
    async def slot(self, key: str = ""):
        """Hold one slot for the body of an `async with`; waits its client's turn when none is free."""
        if self.free > 0 and not self._waiting:
            self.free -= 1
        else:
            event = anyio.Event()
            self._waiting.setdefault(key, deque()).append(event)
            try:
                await event.wait()
            except BaseException:
                if event.is_set():           # the slot was handed over as the wait was cancelled
                    self._release()
                else:
                    queue = self._waiting.get(key)
                    if queue is not None and event in queue:
                        queue.remove(event)
                        if not queue:
                            del self._waiting[key]
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        """Hand the slot to the first waiter of the client whose turn it is, or free it."""
        if not self._waiting:
            self.free += 1
            return
        key, queue = next(iter(self._waiting.items()))
        event = queue.popleft()
        if queue:
            self._waiting.move_to_end(key)   # its next request waits for the others' turns
        else:
            del self._waiting[key]
        event.set()
