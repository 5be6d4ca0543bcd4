"""The client side of ShipStation's Custom Store XML protocol v1: export pages, post ship notices."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import requests

from shipping.core.errors import RemoteAuthError, RemoteDataError, RemoteError
from shipping.core.http import CallRecord, HttpClient
from shipping.core.ratelimit import RateLimiter

DATE_FORMAT = "%m/%d/%Y %H:%M"  # UTC, minute granularity (reference §1.2)
MAX_EXPORT_BYTES = 20 * 1024 * 1024


def format_window(since: datetime, until: datetime) -> tuple[str, str]:
    """Minute-granular window whose end minute is inclusive of `until` (the next run overlaps anyway)."""
    start = since.astimezone(UTC).replace(second=0, microsecond=0)
    end = (until.astimezone(UTC) + timedelta(seconds=59)).replace(second=0, microsecond=0)
    return start.strftime(DATE_FORMAT), end.strftime(DATE_FORMAT)


class CustomStoreClient(HttpClient):
    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        credentials_help: str,
        rate_limiter: RateLimiter | None = None,
        call_logger: Callable[[CallRecord], None] | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        user_agent: str = "shipping/0.1 (ShipStation custom store client)",
    ) -> None:
        super().__init__(
            base_url=url,
            timeout=timeout,
            rate_limiter=rate_limiter,
            rate=5.0,  # a shop's web server, not an API gateway: stay gentle
            capacity=5,
            call_logger=call_logger,
            auth=(username, password),
            user_agent=user_agent,
            default_headers={"Accept": "application/xml, text/xml;q=0.9, */*;q=0.5"},
        )
        self.credentials_help = credentials_help

    def export(self, *, since: datetime, until: datetime, page: int) -> bytes:
        start, end = format_window(since, until)
        response = self.request(
            "GET", self.base_url, params={"action": "export", "start_date": start, "end_date": end, "page": page}
        )
        body = response.content
        if len(body) > MAX_EXPORT_BYTES:
            raise RemoteDataError(
                f"The store's export page {page} is {len(body) / 1_048_576:.1f} MB, more than the "
                f"{MAX_EXPORT_BYTES // 1_048_576} MB we accept; lower the page size at the store."
            )
        return body

    def ship_notify(self, *, params: dict[str, str], body: bytes) -> requests.Response:
        """Any 2xx acknowledges; a repeated notice is harmless at the store (reference §1.5)."""
        return self.request(
            "POST",
            self.base_url,
            params={"action": "shipnotify", **params},
            data=body,
            headers={"Content-Type": "application/xml; charset=utf-8"},
        )

    def map_error(self, response: requests.Response) -> RemoteError | None:
        if response.status_code in (401, 403):
            return RemoteAuthError(
                f"The store refused the username and password (HTTP {response.status_code}). {self.credentials_help}",
                status_code=response.status_code,
                body=response.text,
            )
        return None
