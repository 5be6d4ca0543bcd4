"""The HTTP client every marketplace client subclasses.

It owns the transport policy in one place: timeouts on every request, transport retries only for
idempotent methods, the shared rate limit, one mapping of failures onto ``shipping.core.errors``,
and a redacted ``CallRecord`` of every call for the channel call log.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ContentDecodingError, ProxyError, SSLError
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError, ReadTimeoutError
from urllib3.util import Retry

from .errors import (
    RemoteAuthError,
    RemoteDataError,
    RemoteError,
    RemoteRateLimited,
    RemoteRejected,
    RemoteUnavailable,
    truncate,
)
from .ratelimit import RateLimiter
from .redaction import redact_body, redact_headers, redact_url

logger = logging.getLogger(__name__)

LOG_BODY_LIMIT = 10_000
SUCCESS: Container[int] = range(200, 300)
# Safe to send twice: the only methods retried by the transport, and never "ambiguous".
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
REQUEST_ID_HEADERS = (
    "X-Request-Id",
    "Request-Id",
    "X-Correlation-Id",
    "X-Amzn-RequestId",
    "X-Amz-Request-Id",
    "X-Trace-Id",
    "CF-Ray",
)
_BINARY_TYPES = ("multipart/", "application/pdf", "application/octet-stream", "application/zip", "image/")
DEFAULT_USER_AGENT = "shipping/0.1"


def build_retry() -> Retry:
    # POST/PATCH are absent from allowed_methods: a lost response must never resend an order
    # action. Connect errors are retried for every method (nothing was sent). 429 is not in the
    # forcelist: it goes back to the caller, who reschedules instead of sleeping in a worker.
    return Retry(
        total=3,
        connect=3,
        read=2,
        backoff_factor=0.5,
        backoff_jitter=0.3,
        status_forcelist={500, 502, 503, 504},
        allowed_methods={"GET", "HEAD", "OPTIONS", "PUT", "DELETE"},
        respect_retry_after_header=False,
        raise_on_status=False,
    )


def build_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=build_retry())
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP call, already redacted and truncated: safe to store and show."""

    method: str
    url: str
    status_code: int | None
    duration_ms: int
    request_headers: dict[str, str]
    request_body: str | None
    response_body: str | None
    error: str | None
    request_id: str | None


CallLogger = Callable[[CallRecord], None]


@dataclass(frozen=True, slots=True)
class WindowLimit:
    """A stricter limit on some endpoints, on top of the client's token bucket: at most ``limit`` requests
    in any ``window`` seconds, shared through the rate limiter under ``key``. A request waits inline up to
    ``max_wait`` seconds for room, else raises RemoteRateLimited (the caller reschedules)."""

    key: str
    limit: int
    window: float
    max_wait: float = 1.0


class HttpClient:
    def __init__(
        self,
        *,
        base_url: str,
        timeout: tuple[float, float] = (5.0, 30.0),
        rate_limiter: RateLimiter | None = None,
        rate_key: str | None = None,
        rate: float = 1.0,
        capacity: int = 1,
        max_inline_wait: float = 1.0,
        call_logger: CallLogger | None = None,
        default_headers: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        session: requests.Session | None = None,
    ) -> None:
        connect, read = timeout  # a (connect, read) pair: never None, never one number
        if not (connect > 0 and read > 0):
            raise ValueError("timeout must be a (connect, read) pair of positive seconds")
        self.base_url = base_url
        self.timeout = (float(connect), float(read))
        self.rate_limiter = rate_limiter
        self.rate_key = rate_key or urlsplit(base_url).netloc
        self.rate = rate
        self.capacity = capacity
        self.max_inline_wait = max_inline_wait
        self.call_logger = call_logger
        self.default_headers = {"User-Agent": user_agent, **(default_headers or {})}
        self.auth = auth
        self.session = session or build_session()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- public API ---------------------------------------------------------------------------

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        # Not urljoin: it drops the last segment of a base like https://api.example/v2.
        return f"{self.base_url.rstrip('/')}/{path_or_url.lstrip('/')}"

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        expected: Container[int] = SUCCESS,
    ) -> requests.Response:
        """Send one request; return the response if its status is ``expected``, else raise RemoteError."""
        method = method.upper()
        self._throttle()
        for limit in self.window_limits(method, path_or_url):
            self._throttle_window(limit)
        prepared = self.session.prepare_request(
            requests.Request(
                method,
                self.url_for(path_or_url),
                params=params,
                json=json,
                data=data,
                headers={**self.default_headers, **(headers or {})},
                auth=self.auth,
            )
        )
        started = time.monotonic()
        response: requests.Response | None = None
        failure: BaseException | None = None
        try:
            try:
                response = self._send(prepared)
            except requests.RequestException as exc:
                mapped = self._map_exception(method, exc)
                if mapped is None:
                    raise  # our bug (bad URL, ...), not the remote's: let it surface as is
                raise mapped from exc
            error = self.map_error(response) or self._map_status(method, response, expected)
            if error is not None:
                raise error
            return response
        except BaseException as exc:
            failure = exc
            raise
        finally:
            self._log_call(prepared, response, failure, started)

    def request_json(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        """``request`` and decode the body; a 204 gives None, a non-JSON body RemoteDataError."""
        response = self.request(method, path_or_url, **kwargs)
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except ValueError:
            raise RemoteDataError(
                "Expected a JSON response body.", status_code=response.status_code, body=_text(response)
            ) from None

    def get_json(
        self,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expected: Container[int] = SUCCESS,
    ) -> Any:
        return self.request_json("GET", path_or_url, params=params, headers=headers, expected=expected)

    # --- hooks for subclasses -----------------------------------------------------------------

    def map_error(self, response: requests.Response) -> RemoteError | None:
        """Called first for every response: return an error to raise, or None for the default mapping.

        E.g. a Cloudflare HTML 403 is a block, not refused credentials; or a 200 with an error payload.
        """
        return None

    def window_limits(self, method: str, path_or_url: str) -> Sequence[WindowLimit]:
        """The endpoint-specific limits this request counts against (e.g. a marketplace's catalog endpoints)."""
        return ()

    def default_retry_after(self) -> float:
        """Seconds to wait after a 429 without a usable Retry-After; jittered so workers spread out."""
        return 10.0 + random.uniform(0.0, 5.0)  # noqa: S311 - jitter, not cryptography

    # --- internals ----------------------------------------------------------------------------

    def _throttle(self) -> None:
        if self.rate_limiter is not None:
            limiter, key = self.rate_limiter, self.rate_key
            self._wait_for(
                lambda: limiter.acquire(key, rate=self.rate, capacity=self.capacity),
                max_wait=self.max_inline_wait,
                what=f"Rate limit for {key}",
            )

    def _throttle_window(self, limit: WindowLimit) -> None:
        if self.rate_limiter is not None:
            limiter = self.rate_limiter
            self._wait_for(
                lambda: limiter.acquire_window(limit.key, limit=limit.limit, window=limit.window),
                max_wait=limit.max_wait,
                what=f"Limit of {limit.limit} requests per {limit.window:g} s for {limit.key}",
            )

    @staticmethod
    def _wait_for(acquire: Callable[[], float], *, max_wait: float, what: str) -> None:
        """Sleep until the limiter grants, up to ``max_wait`` in all; past that the caller reschedules
        (workers never sleep long)."""
        waited = 0.0
        while True:
            wait = acquire()
            if wait <= 0:
                return
            if waited + wait > max_wait:
                raise RemoteRateLimited(f"{what} reached; retry in {wait:.2f}s.", retry_after=wait)
            time.sleep(wait)
            waited += wait

    def _send(self, prepared: requests.PreparedRequest) -> requests.Response:
        # What Session.request does after preparing: proxies/CA bundle from the environment.
        settings = self.session.merge_environment_settings(prepared.url, {}, None, None, None)
        return self.session.send(prepared, timeout=self.timeout, **settings)

    def _map_status(self, method: str, response: requests.Response, expected: Container[int]) -> RemoteError | None:
        status = response.status_code
        if status in expected:
            return None
        body = _text(response)
        label = f"{status} {response.reason or ''}".strip()
        if status in (401, 403):
            return RemoteAuthError(body.strip() or label, status_code=status, body=body)
        if status == 429:
            return RemoteRateLimited(
                f"Rate limited by the remote ({label}).",
                retry_after=self._retry_after(response),
                status_code=status,
                body=body,
            )
        if status >= 500:
            return RemoteUnavailable(
                f"Remote unavailable ({label}).",
                ambiguous=method not in IDEMPOTENT_METHODS,
                status_code=status,
                body=body,
            )
        if status >= 400:
            # The remote's own words, verbatim: users fix their data from this message.
            return RemoteRejected(truncate(body) if body.strip() else label, status_code=status, body=body)
        return RemoteDataError(f"Unexpected response status {label}.", status_code=status, body=body)

    def _map_exception(self, method: str, exc: requests.RequestException) -> RemoteError | None:
        # "ambiguous": the request may have been processed, and sending it again is not safe.
        host = urlsplit(exc.request.url if exc.request is not None else self.base_url).netloc
        unsafe = method not in IDEMPOTENT_METHODS
        if isinstance(exc, requests.ConnectTimeout):
            return RemoteUnavailable(f"Timed out connecting to {host}.", ambiguous=False)
        if isinstance(exc, requests.Timeout):
            return RemoteUnavailable(f"Timed out waiting for {host} to answer.", ambiguous=unsafe)
        if isinstance(exc, requests.ConnectionError):
            cause = _root_cause(exc)
            # requests reports read timeouts that exhausted the transport retries this way.
            problem = "timed out" if isinstance(cause, ReadTimeoutError) else f"failed ({type(cause).__name__})"
            return RemoteUnavailable(
                f"Connection to {host} {problem}.",
                ambiguous=unsafe and _may_have_been_sent(exc),
            )
        if isinstance(exc, ChunkedEncodingError | ContentDecodingError):
            return RemoteUnavailable(f"Incomplete response from {host}.", ambiguous=unsafe)
        if isinstance(exc, requests.TooManyRedirects):
            return RemoteRejected(f"Too many redirects from {host}.")
        return None

    def _retry_after(self, response: requests.Response) -> float:
        value = (response.headers.get("Retry-After") or "").strip()
        if value:
            try:
                seconds = float(value)
            except ValueError:
                try:
                    when = parsedate_to_datetime(value)
                except (TypeError, ValueError, IndexError):
                    when = None
                if when is not None:
                    if when.tzinfo is None:
                        when = when.replace(tzinfo=UTC)
                    return max(0.0, (when - datetime.now(UTC)).total_seconds())
            else:
                if math.isfinite(seconds):
                    return max(0.0, seconds)
        return self.default_retry_after()

    def _log_call(
        self,
        prepared: requests.PreparedRequest,
        response: requests.Response | None,
        failure: BaseException | None,
        started: float,
    ) -> None:
        if self.call_logger is None:
            return
        try:
            record = CallRecord(
                method=prepared.method or "",
                url=redact_url(prepared.url or ""),
                status_code=response.status_code if response is not None else None,
                duration_ms=round((time.monotonic() - started) * 1000),
                request_headers=redact_headers(prepared.headers),
                request_body=_loggable_body(prepared.body, prepared.headers.get("Content-Type")),
                response_body=(
                    _loggable_body(response.content, response.headers.get("Content-Type"), response.encoding)
                    if response is not None
                    else None
                ),
                error=f"{type(failure).__name__}: {failure}"[:1000] if failure is not None else None,
                request_id=_request_id(response),
            )
            self.call_logger(record)
        except Exception:
            # The call log is diagnostics: losing an entry must never fail or alter the call.
            logger.exception("call_logger failed for %s %s", prepared.method, redact_url(prepared.url or ""))


def _text(response: requests.Response) -> str:
    # Without a declared charset requests would guess (slowly); remote APIs speak UTF-8.
    return response.content.decode(response.encoding or "utf-8", errors="replace")


def _loggable_body(body: Any, content_type: str | None, encoding: str | None = None) -> str | None:
    if body is None or body in (b"", ""):
        return None
    kind = (content_type or "").lower()
    if not isinstance(body, str | bytes):
        return "<streamed body>"
    if kind.startswith(_BINARY_TYPES):
        return f"<{len(body)} bytes {kind.split(';')[0]}>"
    if isinstance(body, bytes):
        body = body.decode(encoding or "utf-8", errors="replace")
    return truncate(redact_body(body, content_type), LOG_BODY_LIMIT)


def _request_id(response: requests.Response | None) -> str | None:
    if response is None:
        return None
    for name in REQUEST_ID_HEADERS:
        if value := response.headers.get(name):
            return value
    return None


def _root_cause(exc: BaseException) -> BaseException:
    reason = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return reason.reason if isinstance(reason, MaxRetryError) and reason.reason is not None else reason


def _may_have_been_sent(exc: requests.ConnectionError) -> bool:
    """False only when the connection provably failed before any byte of the request left."""
    if isinstance(exc, SSLError | ProxyError):
        return False
    # NameResolutionError is a NewConnectionError. Anything else (reset, "Connection aborted",
    # remote closed without response, unknown) may have hit the server after it got the request.
    return not isinstance(_root_cause(exc), NewConnectionError | ConnectTimeoutError)
