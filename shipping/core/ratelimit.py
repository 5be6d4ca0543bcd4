"""Token buckets shared by every worker, so N workers together respect one remote's quota.

``acquire`` either takes ``cost`` tokens and returns 0.0, or takes nothing and returns how long
until it could succeed. Callers decide whether to sleep that long or reschedule.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

if TYPE_CHECKING:
    import redis

SETTING = "RATE_LIMITER_URL"


class RateLimiter(ABC):
    @abstractmethod
    def acquire(self, key: str, *, rate: float, capacity: int, cost: int = 1) -> float:
        """Take ``cost`` tokens from bucket ``key`` (refilling at ``rate``/s up to ``capacity``).

        Returns 0.0 when granted, else the seconds to wait before a retry could succeed.
        """

    @abstractmethod
    def acquire_window(self, key: str, *, limit: int, window: float, cost: int = 1, reserve: int = 0) -> float:
        """Take ``cost`` units from a sliding window: at most ``limit`` units in any ``window`` seconds.

        Exact where a token bucket is not ("20 requests per 10 s", "2,000 lines per hour"). ``reserve``
        units stay untouched for others: a low-priority caller (price changes) passes a reserve so that
        high-priority ones (quantities) still find room. Returns 0.0 when granted, else the seconds until
        enough units leave the window (``inf`` when ``cost`` can never fit).
        """

    def window_used(self, key: str, *, window: float) -> int:
        """Units taken in the last ``window`` seconds (for display; 0 when unknown)."""
        return 0


def _validate_window(limit: int, window: float, cost: int, reserve: int) -> None:
    if limit < 1 or not window > 0:
        raise ValueError("a window needs limit >= 1 and window > 0 seconds")
    if cost < 1 or reserve < 0:
        raise ValueError("cost must be >= 1 and reserve >= 0")


def _validate(rate: float, capacity: int, cost: int) -> None:
    if not rate > 0:
        raise ValueError("rate must be > 0 tokens per second")
    if capacity < 1:
        raise ValueError("capacity must be >= 1")
    if not 1 <= cost <= capacity:
        raise ValueError("cost must be between 1 and capacity, or it could never be granted")


class LocalRateLimiter(RateLimiter):
    """In-process buckets: the embedded default. Shared by threads, not by processes."""

    _PRUNE_ABOVE = 10_000  # keys; bounds memory if callers make keys per object

    def __init__(self) -> None:
        # key -> (tokens, monotonic time of that count, time the bucket is full again)
        self._buckets: dict[str, tuple[float, float, float]] = {}
        self._windows: dict[str, list[tuple[float, int]]] = {}  # key -> (monotonic time, units) taken
        self._lock = threading.Lock()

    def acquire(self, key: str, *, rate: float, capacity: int, cost: int = 1) -> float:
        _validate(rate, capacity, cost)
        with self._lock:
            now = time.monotonic()
            tokens, then, _ = self._buckets.get(key, (float(capacity), now, now))
            tokens = min(float(capacity), tokens + (now - then) * rate)
            granted = tokens >= cost
            if granted:
                tokens -= cost
            self._buckets[key] = (tokens, now, now + (capacity - tokens) / rate)
            if len(self._buckets) > self._PRUNE_ABOVE:
                # A full bucket is the same as no bucket: forget those.
                self._buckets = {k: v for k, v in self._buckets.items() if v[2] > now}
            return 0.0 if granted else (cost - tokens) / rate

    def acquire_window(self, key: str, *, limit: int, window: float, cost: int = 1, reserve: int = 0) -> float:
        _validate_window(limit, window, cost, reserve)
        if cost > limit - reserve:
            return float("inf")
        with self._lock:
            now = time.monotonic()
            entries = self._windows.setdefault(key, [])
            entries[:] = [(at, units) for at, units in entries if at > now - window]
            used = sum(units for _, units in entries)
            if used + cost <= limit - reserve:
                entries.append((now, cost))
                return 0.0
            # Wait until enough of the oldest entries have left the window.
            excess = used + cost - (limit - reserve)
            for at, units in entries:
                excess -= units
                if excess <= 0:
                    return max(at + window - now, 1e-6)
            return float("inf")

    def window_used(self, key: str, *, window: float) -> int:
        with self._lock:
            now = time.monotonic()
            return sum(units for at, units in self._windows.get(key, []) if at > now - window)


# Atomic refill-and-take. Clock from the Redis server, so workers' clock skew doesn't matter.
# Returns the wait as a string: Redis truncates Lua numbers to integers.
_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
local elapsed = now - ts
if elapsed < 0 then elapsed = 0 end
tokens = math.min(capacity, tokens + elapsed * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.6f', tokens), 'ts', string.format('%.6f', now))
-- A bucket left alone refills completely by then; an absent key means a full bucket.
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate * 1000) + 1000)
return string.format('%.6f', wait)
"""


# A sorted set per window: member "<time>:<units>:<nonce>" scored by time. Sums in Lua; the sets stay small
# (one member per grant, at most `limit` of them), and expire when the window has passed.
_WINDOW_LUA = """
if redis.replicate_commands then redis.replicate_commands() end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local reserve = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local entries = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #entries, 2 do
  local units = tonumber(string.match(entries[i], ':(%d+):'))
  used = used + units
end
local room = limit - reserve
if used + cost <= room then
  local seq = redis.call('INCR', KEYS[1] .. ':seq')
  redis.call('PEXPIRE', KEYS[1] .. ':seq', math.ceil(window * 1000) + 1000)
  redis.call('ZADD', KEYS[1], now, string.format('%.6f:%d:%d', now, cost, seq))
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000) + 1000)
  return '0'
end
local excess = used + cost - room
for i = 1, #entries, 2 do
  local units = tonumber(string.match(entries[i], ':(%d+):'))
  excess = excess - units
  if excess <= 0 then
    local wait = tonumber(entries[i + 1]) + window - now
    if wait < 0.000001 then wait = 0.000001 end
    return string.format('%.6f', wait)
  end
end
return 'inf'
"""


class RedisRateLimiter(RateLimiter):
    """Buckets in Redis, shared by every process using the same server."""

    def __init__(
        self,
        url: str | None = None,
        *,
        client: redis.Redis | None = None,
        key_prefix: str = "ratelimit:",
    ) -> None:
        if client is None:
            if not url:
                raise ValueError("RedisRateLimiter needs a url or a client")
            import redis as redis_lib  # only needed when Redis is configured

            client = redis_lib.Redis.from_url(url)
        self.client = client
        self.key_prefix = key_prefix
        self._script = client.register_script(_LUA)
        self._window_script = client.register_script(_WINDOW_LUA)

    def acquire(self, key: str, *, rate: float, capacity: int, cost: int = 1) -> float:
        _validate(rate, capacity, cost)
        wait = float(self._script(keys=[self.key_prefix + key], args=[repr(float(rate)), capacity, cost]))
        # The script rounds to microseconds; never report "granted" for a refusal.
        return 0.0 if wait <= 0 else max(wait, 1e-6)

    def acquire_window(self, key: str, *, limit: int, window: float, cost: int = 1, reserve: int = 0) -> float:
        _validate_window(limit, window, cost, reserve)
        if cost > limit - reserve:
            return float("inf")
        answer = self._window_script(
            keys=[self.key_prefix + "w:" + key], args=[limit, repr(float(window)), cost, reserve]
        )
        wait = float(answer.decode() if isinstance(answer, bytes) else answer)
        return 0.0 if wait <= 0 else wait

    def window_used(self, key: str, *, window: float) -> int:
        full = self.key_prefix + "w:" + key
        now = self.client.time()
        since = now[0] + now[1] / 1_000_000 - window
        return sum(int(member.split(b":")[1]) for member in self.client.zrangebyscore(full, since, "+inf"))


_instance: RateLimiter | None = None
_instance_lock = threading.Lock()


def get_rate_limiter() -> RateLimiter:
    """The process-wide limiter: Redis when ``settings.RATE_LIMITER_URL`` is set, else local."""
    global _instance
    with _instance_lock:
        if _instance is None:
            url = getattr(settings, SETTING, "")
            _instance = RedisRateLimiter(url) if url else LocalRateLimiter()
        return _instance


def reset_rate_limiter() -> None:
    global _instance
    with _instance_lock:
        _instance = None


@receiver(setting_changed)
def _reset_on_setting_changed(*, setting: str, **kwargs: object) -> None:
    if setting == SETTING:
        reset_rate_limiter()
