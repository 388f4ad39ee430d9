"""rag.limits: requests per client (in flight, per minute) and the failed-login back-off, on a test clock."""
from __future__ import annotations

import threading

from rag.config import LimitSettings
from rag.limits import ClientLimits, LoginThrottle, retry_after


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_in_flight_is_per_client_and_frees_when_a_request_ends():
    limits = ClientLimits(LimitSettings(in_flight=2, per_minute=100), Clock())
    assert limits.enter("a") is None and limits.enter("a") is None
    assert limits.enter("a") == 1.0            # a third at once: refused
    assert limits.enter("b") is None           # another client is not affected
    limits.leave("a")
    assert limits.in_flight("a") == 1 and limits.enter("a") is None


def test_per_minute_counts_starts_in_a_sliding_minute():
    clock = Clock()
    limits = ClientLimits(LimitSettings(in_flight=100, per_minute=3), clock)
    for _ in range(3):
        assert limits.enter("a") is None
        limits.leave("a")
        clock.now += 10
    wait = limits.enter("a")
    assert wait == 30.0                        # the first start leaves the window at 60 s
    assert limits.enter("b") is None
    clock.now += 30
    assert limits.enter("a") is None
    assert retry_after(0.2) == "1" and retry_after(29.1) == "30"


def test_refused_requests_do_not_count_and_the_key_table_is_bounded():
    limits = ClientLimits(LimitSettings(in_flight=1, per_minute=2, max_keys=3), Clock())
    assert limits.enter("a") is None
    for _ in range(50):
        assert limits.enter("a") is not None    # refused while in flight: not a start
    limits.leave("a")
    assert limits.enter("a") is None
    for key in "bcdefg":
        limits.enter(key)
    assert len(limits._starts) == 3


def test_in_flight_holds_under_threads():
    limits = ClientLimits(LimitSettings(in_flight=5, per_minute=10**6))
    inside, peak, lock = [0], [0], threading.Lock()

    def worker():
        for _ in range(200):
            if limits.enter("k") is None:
                with lock:
                    inside[0] += 1
                    peak[0] = max(peak[0], inside[0])
                with lock:
                    inside[0] -= 1
                limits.leave("k")

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] <= 5 and limits.in_flight("k") == 0


def test_failed_logins_back_off_doubling_and_the_right_password_gets_in_after():
    clock = Clock()
    throttle = LoginThrottle(LimitSettings(login_free_per_name=3, login_free_per_address=100, login_backoff_seconds=2,
                                           login_max_backoff_seconds=10), clock)
    for _ in range(3):
        assert throttle.check("ann", "1.2.3.4") == 0
        throttle.failed("ann", "1.2.3.4")
    assert throttle.check("ann", "1.2.3.4") == 2      # the fourth attempt waits 2 s
    assert throttle.check("ann", "5.6.7.8") == 2      # from anywhere: it is the name's count
    assert throttle.check("bob", "1.2.3.4") == 0      # another name is not affected
    clock.now += 2
    assert throttle.check("ann", "1.2.3.4") == 0
    throttle.failed("ann", "1.2.3.4")
    assert throttle.check("ann", "1.2.3.4") == 4      # doubled
    for _ in range(5):
        clock.now += 100
        throttle.failed("ann", "1.2.3.4")
    assert throttle.check("ann", "1.2.3.4") == 10     # capped
    clock.now += 10
    assert throttle.check("ann", "1.2.3.4") == 0
    throttle.succeeded("ann")
    assert throttle.check("ann", "1.2.3.4") == 0
    throttle.failed("ann", "1.2.3.4")
    assert throttle.check("ann", "1.2.3.4") == 0      # counting from zero again


def test_an_address_guessing_many_names_is_throttled_and_counts_are_forgotten():
    clock = Clock()
    throttle = LoginThrottle(LimitSettings(login_free_per_name=5, login_free_per_address=4, login_backoff_seconds=1,
                                           login_forget_seconds=3600), clock)
    for n in range(4):
        throttle.failed(f"user{n}", "9.9.9.9")
    assert throttle.check("someone-else", "9.9.9.9") == 1
    assert throttle.check("someone-else", "8.8.8.8") == 0
    throttle.succeeded("user0")                       # one's own account does not clear the address
    assert throttle.check("user0", "9.9.9.9") == 1
    clock.now += 3600
    assert throttle.check("user0", "9.9.9.9") == 0
    throttle.failed(None, "7.7.7.7")                  # a wrong token counts for the address only
    assert throttle._names == {} or None not in throttle._names


def test_the_fair_limiter_serves_waiting_clients_in_turn():
    """One client queues six requests, then another queues one: the other's goes second, not seventh."""
    import anyio

    from rag.limits import FairLimiter

    order = []

    async def main():
        limiter = FairLimiter(1)
        gate = anyio.Event()

        async def request(key, n):
            async with limiter.slot(key):
                order.append((key, n))
                await gate.wait()

        async with anyio.create_task_group() as group:
            for n in range(6):
                group.start_soon(request, "flood", n)
                await anyio.sleep(0)
            group.start_soon(request, "other", 0)
            await anyio.sleep(0.01)
            assert limiter.waiting() == 6 and limiter.free == 0
            gate.set()
        assert limiter.free == 1 and limiter.waiting() == 0

    anyio.run(main)
    assert order[:3] == [("flood", 0), ("flood", 1), ("other", 0)]
    assert len(order) == 7


def test_a_cancelled_waiter_gives_its_place_back():
    import anyio

    from rag.limits import FairLimiter

    async def main():
        limiter = FairLimiter(1)
        async with limiter.slot("a"):
            with anyio.move_on_after(0.01):
                async with limiter.slot("b"):
                    raise AssertionError("no slot was free")
            assert limiter.waiting() == 0
        assert limiter.free == 1

    anyio.run(main)
