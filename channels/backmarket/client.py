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
from shipping.core.http import CallRecord, HttpClient, WindowLimit
from shipping.core.ratelimit import RateLimiter

PAGE_SIZE = 50  # the API's maximum; the parameter is hyphenated: page-size
# At most 200 requests in any 10 s per token (reference §7.1): a bucket of 20 refilled at 18/s
# lets through at most 20 + 18 x 10 = 200 in any 10-second window.
RATE_PER_SECOND = 18.0
BURST = 20

# Stricter limits (reference §7.1), per token: the "catalog" endpoints (every /ws/listings* and /ws/tasks*
# path, as clients treat them) at most 20 requests in any 10 s; the Backbox at most 2 per second. A
# request waits inline for room up to the window's length: a listing run is a long task anyway.
CATALOG_LIMIT, CATALOG_WINDOW = 20, 10.0
BACKBOX_LIMIT, BACKBOX_WINDOW = 2, 1.0
# Back Market counts a request when it arrives, we when we send it: our windows are a little longer.
WINDOW_MARGIN = 1.05
# Listing writes: about 2,000 SKU lines an hour per token (one per POST /ws/listings/{id}, one per CSV row).
LISTING_LINES_PER_HOUR = 2000

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
        limits: Mapping[str, float] | None = None,
    ) -> None:
        limits = limits or {}
        self.token_key = f"backmarket:{_digest(token)}"
        catalog_window = float(limits.get("catalog_window", CATALOG_WINDOW)) * WINDOW_MARGIN
        backbox_window = float(limits.get("backbox_window", BACKBOX_WINDOW)) * WINDOW_MARGIN
        self.catalog_limit = WindowLimit(
            f"{self.token_key}:catalog",
            int(limits.get("catalog_limit", CATALOG_LIMIT)),
            catalog_window,
            max_wait=catalog_window + 1,
        )
        self.backbox_limit = WindowLimit(
            f"{self.token_key}:backbox", int(limits.get("backbox_limit", BACKBOX_LIMIT)), backbox_window, max_wait=2.0
        )
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

    # --- listings ------------------------------------------------------------------------------

    def list_listings(self, *, next_url: str | None = None, page_size: int = PAGE_SIZE) -> dict:
        """One page of GET /ws/listings (its envelope's `next` is the following page, or null)."""
        if next_url:
            self._check_same_host(next_url)
            return self._json("GET", next_url)
        return self._json("GET", "/ws/listings", params={"page-size": page_size})

    def get_listing(self, listing_id: str) -> dict | None:
        """GET /ws/listings/{uuid or legacy id}; None when Back Market has no such listing."""
        return self._json_or_none("GET", f"/ws/listings/{listing_id}")

    def get_listing_by_sku(self, sku: str) -> dict | None:
        return self._json_or_none("GET", "/ws/listings/detail", params={"sku": sku})

    def update_listing(self, listing_id: str, body: Mapping[str, Any], *, market: str | None = None) -> dict:
        """POST /ws/listings/{uuid}: only the fields sent change; a price is in the market's currency."""
        headers = {"Accept-Language": market} if market else None
        return self._json("POST", f"/ws/listings/{listing_id}", json=dict(body), headers=headers)

    def create_listings(self, catalog: str) -> dict:
        """POST /ws/listings with a CSV catalog: returns {"bodymessage": task id}."""
        body = {"catalog": catalog, "quotechar": '"', "delimiter": ",", "encoding": "utf-8"}
        return self._json("POST", "/ws/listings", json=body)

    def get_task(self, task_id: str) -> dict:
        return self._json("GET", f"/ws/tasks/{task_id}")

    def competitors(self, listing_uuid: str) -> list | None:
        """GET /ws/backbox/v1/competitors/{uuid}: a list, or None when Back Market answers 404."""
        return self._json_or_none("GET", f"/ws/backbox/v1/competitors/{listing_uuid}")

    def window_limits(self, method: str, path_or_url: str) -> tuple[WindowLimit, ...]:
        path = urlsplit(path_or_url).path if "://" in path_or_url else path_or_url
        if path.startswith(("/ws/listings", "/ws/tasks")):
            return (self.catalog_limit,)
        if path.startswith("/ws/backbox"):
            return (self.backbox_limit,)
        return ()

    # --- plumbing ------------------------------------------------------------------------------

    def _json_or_none(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, expected=(200, 404), **kwargs)
        if response.status_code == 404:
            return None
        try:
            return response.json()
        except ValueError:
            raise RemoteDataError(
                f"Back Market answered {method} {path} with a body that is not JSON.",
                status_code=response.status_code,
                body=response.text[:2000],
            ) from None

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
