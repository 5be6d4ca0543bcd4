import multiprocessing
import os
import threading
import time
import uuid

import fakeredis
import pytest

from shipping.core.ratelimit import LocalRateLimiter, RedisRateLimiter, get_rate_limiter

REDIS_URL = os.environ.get("REDIS_URL", "")


def _local():
    return LocalRateLimiter()


def _fake():
    return RedisRateLimiter(client=fakeredis.FakeRedis())


def _real():
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    return RedisRateLimiter(REDIS_URL, key_prefix=f"test-ratelimit-{uuid.uuid4().hex}:")


@pytest.fixture(params=[_local, _fake, _real], ids=["local", "fakeredis", "redis"])
def limiter(request):
    return request.param()


def test_capacity_is_granted_at_once_then_a_wait_is_returned(limiter):
    assert [limiter.acquire("k", rate=2, capacity=5) for _ in range(5)] == [0.0] * 5
    wait = limiter.acquire("k", rate=2, capacity=5)
    assert 0.3 < wait <= 0.5
    # A refusal consumes nothing: asking again says about the same.
    assert 0.25 < limiter.acquire("k", rate=2, capacity=5) <= 0.5


def test_tokens_refill_over_time(limiter):
    for _ in range(2):
        assert limiter.acquire("refill", rate=20, capacity=2) == 0.0
    assert limiter.acquire("refill", rate=20, capacity=2) > 0
    time.sleep(0.12)  # 2.4 tokens' worth, capped at capacity 2
    assert limiter.acquire("refill", rate=20, capacity=2) == 0.0
    assert limiter.acquire("refill", rate=20, capacity=2) == 0.0
    assert limiter.acquire("refill", rate=20, capacity=2) > 0


def test_cost_above_one(limiter):
    assert limiter.acquire("cost", rate=1, capacity=4, cost=3) == 0.0
    assert limiter.acquire("cost", rate=1, capacity=4, cost=3) == pytest.approx(2.0, abs=0.1)
    assert limiter.acquire("cost", rate=1, capacity=4, cost=1) == 0.0


def test_separate_keys_are_independent(limiter):
    assert limiter.acquire("a", rate=1, capacity=1) == 0.0
    assert limiter.acquire("a", rate=1, capacity=1) > 0
    assert limiter.acquire("b", rate=1, capacity=1) == 0.0


@pytest.mark.parametrize(
    "kwargs", [{"rate": 0, "capacity": 1}, {"rate": 1, "capacity": 0}, {"rate": 1, "capacity": 2, "cost": 3}]
)
def test_impossible_requests_are_refused(limiter, kwargs):
    with pytest.raises(ValueError):
        limiter.acquire("bad", **kwargs)


def _hammer(limiter, key, seconds, grants):
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline:
        if limiter.acquire(key, rate=10, capacity=5) == 0.0:
            count += 1
        else:
            time.sleep(0.005)
    grants.append(count)


def test_threads_share_one_bucket(limiter):
    grants: list[int] = []
    threads = [threading.Thread(target=_hammer, args=(limiter, "shared", 1.0, grants)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 12 <= sum(grants) <= 18  # 5 at once + 10/s for ~1 s


def _hammer_in_process(url, prefix, queue):
    grants: list[int] = []
    _hammer(RedisRateLimiter(url, key_prefix=prefix), "shared", 1.0, grants)
    queue.put(grants[0])


def test_processes_share_one_bucket_in_redis():
    if not REDIS_URL:
        pytest.skip("REDIS_URL not set")
    prefix = f"test-ratelimit-{uuid.uuid4().hex}:"
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=_hammer_in_process, args=(REDIS_URL, prefix, queue)) for _ in range(3)]
    for process in processes:
        process.start()
    total = sum(queue.get(timeout=30) for _ in processes)
    for process in processes:
        process.join(timeout=10)
    # Spawned processes start at different times; the bucket spans ~1 s plus that spread.
    assert 12 <= total <= 22


def test_redis_keys_expire_once_the_bucket_would_be_full():
    client = fakeredis.FakeRedis()
    RedisRateLimiter(client=client, key_prefix="p:").acquire("k", rate=2, capacity=5)
    ttl_ms = client.pttl("p:k")
    assert 0 < ttl_ms <= 500 + 1000 + 10


def test_get_rate_limiter_follows_the_setting(settings):
    settings.RATE_LIMITER_URL = ""
    local = get_rate_limiter()
    assert isinstance(local, LocalRateLimiter)
    assert get_rate_limiter() is local
    settings.RATE_LIMITER_URL = "redis://127.0.0.1:6379/15"
    remote = get_rate_limiter()
    assert isinstance(remote, RedisRateLimiter)  # connects lazily: no server needed here
    assert get_rate_limiter() is remote


# --- sliding windows ("20 requests per 10 s", "2,000 lines per hour") ------------------------------------


def test_window_grants_up_to_the_limit_then_says_when_the_oldest_leaves(limiter):
    assert [limiter.acquire_window("w", limit=3, window=0.5) for _ in range(3)] == [0.0] * 3
    wait = limiter.acquire_window("w", limit=3, window=0.5)
    assert 0.3 < wait <= 0.5
    assert limiter.window_used("w", window=0.5) in (0, 3)  # 0: a limiter that cannot tell
    time.sleep(wait + 0.02)
    assert limiter.acquire_window("w", limit=3, window=0.5) == 0.0


def test_window_never_grants_more_than_the_limit_in_any_window(limiter):
    granted = []
    deadline = time.monotonic() + 0.7
    while time.monotonic() < deadline:
        if limiter.acquire_window("burst", limit=5, window=0.3) == 0:
            granted.append(time.monotonic())
        time.sleep(0.005)
    for index, at in enumerate(granted):
        assert len([t for t in granted[index:] if t < at + 0.29]) <= 5


def test_window_cost_and_reserve(limiter):
    assert limiter.acquire_window("lines", limit=10, window=60, cost=7) == 0.0
    # A low-priority caller leaves the reserve: 7 + 2 would eat into the last 2.
    assert limiter.acquire_window("lines", limit=10, window=60, cost=2, reserve=2) > 0
    assert limiter.acquire_window("lines", limit=10, window=60, cost=1, reserve=2) == 0.0
    assert limiter.acquire_window("lines", limit=10, window=60, cost=2) == 0.0  # high priority takes the rest
    assert limiter.acquire_window("lines", limit=10, window=60, cost=1) > 0
    assert limiter.acquire_window("big", limit=10, window=60, cost=11) == float("inf")
