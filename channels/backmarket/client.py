"""Back Market seller API over HTTP: auth, headers, pagination, error mapping. No mapping, no ORM."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from shipping.core.errors import RemoteAuthError, RemoteDataError, RemoteError, RemoteUnavailable
from shipping.core.http import CallRecord, HttpClient
from shipping.core.ratelimit import RateLimiter

PAGE_SIZE = 50  # the API's maximum; the parameter is hyphenated: page-size
# At most 200 requests in any 10 s per token (reference §7.1): a bucket of 20 refilled at 18/s
# lets through at most 20 + 18 x 10 = 200 in any 10-second window.
RATE_PER_SECOND = 18.0
BURST = 20

TOKEN_HELP = (
    "Create a new token in the Back Market Back Office under Options → Integrations "
    "(Add new integration) and enter it as the store's API token."
)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", text) or "Merchant"


def user_agent(*, company: str, contact_email: str, integration: str = "Shipping") -> str:
    """`BM-<Company>-<Integration>;<contact email>`, which Back Market requires (reference §1.5)."""
    return f"BM-{_slug(company)}-{_slug(integration)};{contact_email or 'unknown@example.com'}"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class BackMarketClient(HttpClient):
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        market: str,
        company: str,
        contact_email: str,
        rate_limiter: RateLimiter | None = None,
        call_logger: Callable[[CallRecord], None] | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
    ) -> None:
        super().__init__(
            base_url=base_url,
            timeout=timeout,
            rate_limiter=rate_limiter,
            # The limit is per token: key the shared bucket by a digest of it, never the token itself.
            rate_key=f"backmarket:{_digest(token)}",
            rate=RATE_PER_SECOND,
            capacity=BURST,
            call_logger=call_logger,
            user_agent=user_agent(company=company, contact_email=contact_email),
            default_headers={
                "Authorization": f"Basic {token}",  # the token verbatim: it already is the credential
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Accept-Language": market,
            },
        )

    # --- orders --------------------------------------------------------------------------------

    def list_orders(self, *, modified_since: datetime | None = None, next_url: str | None = None) -> dict:
        """One page of GET /ws/orders; follow the envelope's `next` until it is null."""
        if next_url:
            self._check_same_host(next_url)
            return self._json("GET", next_url)
        params: dict[str, Any] = {"page-size": PAGE_SIZE}
        if modified_since is not None:
            params["date_modification"] = rfc3339(modified_since)
        return self._json("GET", "/ws/orders", params=params)

    def get_order(self, order_id: str) -> dict:
        return self._json("GET", f"/ws/orders/{order_id}")

    def update_order(self, order_id: str, body: Mapping[str, Any]) -> dict:
        """POST /ws/orders/{id}: accept (2), ship (3), cancel (4), refund (5, 6). Never retried by transport."""
        return self._json("POST", f"/ws/orders/{order_id}", json={"order_id": int(order_id), **body})

    def set_orderline_identifiers(self, orderline_id: str, *, imei: str = "", serial_number: str = "") -> dict:
        body = {key: value for key, value in (("imei", imei), ("serial_number", serial_number)) if value}
        return self._json("PATCH", f"/ws/orderlines/{orderline_id}", json=body)

    # --- plumbing ------------------------------------------------------------------------------

    def _json(self, method: str, path_or_url: str, **kwargs: Any) -> Any:
        data = self.request_json(method, path_or_url, **kwargs)
        if data is None:
            raise RemoteDataError(f"Back Market answered {method} {path_or_url} with an empty body.")
        return data

    def _check_same_host(self, url: str) -> None:
        # The token travels with every request: never follow a `next` link to another host.
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (ours.scheme, ours.netloc) != (theirs.scheme, theirs.netloc):
            raise RemoteDataError(f"Back Market's next page points to another host: {theirs.netloc}")

    def map_error(self, response: requests.Response) -> RemoteError | None:
        if response.status_code not in (401, 403):
            return None
        if _is_firewall_block(response):
            ray = response.headers.get("cf-ray", "unknown")
            return RemoteUnavailable(
                f"Back Market's firewall (Cloudflare) blocked the request (cf-ray {ray}). It usually clears "
                "by itself; if it persists, send the cf-ray to your Back Market contact.",
                ambiguous=False,
                status_code=response.status_code,
                body=response.text,
            )
        return RemoteAuthError(
            f"The API token was not accepted (HTTP {response.status_code}). {TOKEN_HELP}",
            status_code=response.status_code,
            body=response.text,
        )


def _is_firewall_block(response: requests.Response) -> bool:
    if response.status_code != 403:
        return False
    content_type = response.headers.get("Content-Type", "")
    if "text/html" in content_type or response.headers.get("server", "").lower() == "cloudflare":
        return True
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any(isinstance(e, dict) and e.get("code") == "bot-need-challenge" for e in errors)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def error_message(exc: RemoteError) -> str:
    """Back Market's own words from a 400 body (verbatim), for the merchant."""
    body = (exc.body or "").strip()
    if not body:
        return exc.message
    try:
        data = json.loads(body)
    except ValueError:
        return body
    if isinstance(data, str):
        return data
    if isinstance(data, dict):
        error = data.get("error") or (data.get("errors") or [None])[0]
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if data.get("detail"):
            return str(data["detail"])
    return body
