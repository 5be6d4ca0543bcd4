"""40 requests a minute per API key (API_RATE_LIMIT_PER_MINUTE), in fixed one-minute windows, as ShipStation.

The counter lives in the Django cache, which is Redis (shared by every web process) whenever
REDIS_URL is set. shipping.core.ratelimit's token buckets do not fit: they answer "wait or go",
while clients read how many requests are left and when the window resets from the headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    remaining: int
    reset: int  # seconds until the window starts over
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(self.remaining),
            "X-Rate-Limit-Reset": str(self.reset),
        }


def api_quota_take(*, key: str, limit: int, window: int = WINDOW_SECONDS) -> Quota:
    """Count one request against ``key`` in the current window."""
    now = time.time()
    cache_key = f"api-rate:{key}:{int(now // window)}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    reset = max(1, int(window - now % window + 0.999))
    return Quota(limit=limit, remaining=max(0, limit - count), reset=reset, allowed=count <= limit)


class ApiKeyRateThrottle(BaseThrottle):
    """Counts every authenticated request; the view puts the quota in the response headers."""

    def allow_request(self, request, view) -> bool:
        api_key = getattr(request, "auth", None)
        if api_key is None:
            return True
        quota = api_quota_take(key=api_key.key, limit=settings.API_RATE_LIMIT_PER_MINUTE)
        request.rate_quota = quota
        self.quota = quota
        return quota.allowed

    def wait(self) -> float:
        return float(self.quota.reset)
