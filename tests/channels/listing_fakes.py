"""An in-memory marketplace for the listing sync's unit tests: listings, writes, Backbox, budget.

It implements the adapter's listing methods the way Back Market behaves (quantities are absolute,
prices are per market currency), records every call, and can be told to fail. The integration tests
run the same services against the Back Market sandbox over HTTP.
"""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

from channels.base import (
    AdapterContext,
    BaseChannelAdapter,
    ChannelRateLimited,
    ChannelRejected,
    ChannelUnavailable,
    Competitor,
    ListingPage,
    ListingTaskState,
    RemoteListing,
)
from shipping.core.ratelimit import LocalRateLimiter


class FakeListings(BaseChannelAdapter):
    kind = "back_market"
    label = "Fake listings"
    page_size = 3
    max_listing_drafts = 15_000

    def __init__(self, *, lines_per_hour: int = 2000, quantity_reserve: int = 0, limiter=None, key: str = "fake"):
        super().__init__(AdapterContext(settings={}, store_key="test"))
        self.listings: dict[str, dict] = {}  # listing uuid -> fields
        self.calls: list[tuple[str, str]] = []  # (method, sku or ref)
        self.writes: list[dict] = []
        self.fail_next: list[Exception] = []  # raised by the next calls, in order
        self.fail_writes: list[Exception | None] = []  # raised by the next writes (None: that one goes through)
        self.competitors: dict[str, list[Competitor] | Exception] = {}
        self.tasks: dict[str, ListingTaskState] = {}
        self.submitted: list[list] = []
        self.limiter = limiter or LocalRateLimiter()
        self.key = key
        self.lines_per_hour, self.quantity_reserve = lines_per_hour, quantity_reserve
        self._task_ids = itertools.count(1000)

    def add(self, sku: str, quantity: int, price: str | None = "100.00", max_price: str | None = None) -> str:
        ref = str(uuid.uuid4())
        self.listings[ref] = {
            "sku": sku,
            "quantity": quantity,
            "price": Decimal(price) if price else None,
            "max_price": Decimal(max_price) if max_price else None,
        }
        return ref

    def by_sku(self, sku: str) -> dict:
        return next(v for v in self.listings.values() if v["sku"].upper() == sku.upper())

    def _remote(self, ref: str) -> RemoteListing:
        row = self.listings[ref]
        return RemoteListing(
            listing_ref=ref,
            sku=row["sku"],
            quantity=row["quantity"],
            price=row["price"],
            currency="USD",
            max_price=row["max_price"],
            publication_state=2 if row["quantity"] else 3,
        )

    def _maybe_fail(self) -> None:
        if self.fail_next:
            raise self.fail_next.pop(0)

    # --- the adapter's listing methods ---------------------------------------------------------------

    def fetch_listings(self, *, cursor: str | None = None) -> ListingPage:
        self.calls.append(("list", cursor or "0"))
        self._maybe_fail()
        refs = sorted(self.listings, key=lambda r: self.listings[r]["sku"])
        start = int(cursor or 0)
        page = refs[start : start + self.page_size]
        following = start + self.page_size
        return ListingPage(
            tuple(self._remote(r) for r in page), str(following) if following < len(refs) else None, total=len(refs)
        )

    def fetch_listing(self, *, listing_ref: str = "", sku: str = "") -> RemoteListing | None:
        self.calls.append(("get", listing_ref or sku))
        self._maybe_fail()
        if listing_ref:
            return self._remote(listing_ref) if listing_ref in self.listings else None
        ref = next((r for r, v in self.listings.items() if v["sku"].upper() == sku.upper()), None)
        return self._remote(ref) if ref else None

    def push_listing(self, update):
        self.calls.append(("post", update.sku))
        self._maybe_fail()
        if self.fail_writes and (error := self.fail_writes.pop(0)) is not None:
            raise error
        row = self.listings[update.listing_ref]
        if update.price is not None and update.price < 0:
            raise ChannelRejected("price must be positive")
        body = {"sku": update.sku}
        if update.quantity is not None:
            row["quantity"] = update.quantity
            body["quantity"] = update.quantity
        if update.price is not None:
            row["price"] = update.price
            body["price"] = update.price
            body["currency"] = update.currency
        self.writes.append(body)
        return self._remote(update.listing_ref)

    def reserve_listing_lines(self, lines: int, *, low_priority: bool = False) -> float:
        return self.limiter.acquire_window(
            f"{self.key}:lines",
            limit=self.lines_per_hour,
            window=3600,
            cost=lines,
            reserve=self.quantity_reserve if low_priority else 0,
        )

    def submit_listing_drafts(self, drafts) -> str:
        self.calls.append(("create", str(len(drafts))))
        self._maybe_fail()
        task_id = str(next(self._task_ids))
        self.submitted.append(list(drafts))
        self.tasks[task_id] = ListingTaskState(task_id, finished=False)
        return task_id

    def finish_task(self, task_id: str, *, refuse: dict[str, str] | None = None) -> None:
        """Back Market ran the task: rows become listings, except the refused SKUs."""
        refuse = refuse or {}
        drafts = self.submitted[int(task_id) - 1000]
        created = []
        for draft in drafts:
            if draft.sku in refuse:
                continue
            ref = self.add(draft.sku, draft.quantity, str(draft.price))
            created.append(self._remote(ref))
        self.tasks[task_id] = ListingTaskState(
            task_id, finished=True, created=tuple(created), row_errors=tuple(refuse.items())
        )

    def fetch_listing_task(self, task_ref: str) -> ListingTaskState:
        self.calls.append(("task", task_ref))
        self._maybe_fail()
        return self.tasks[task_ref]

    def fetch_competitors(self, listing_ref: str) -> list[Competitor]:
        self.calls.append(("backbox", listing_ref))
        value = self.competitors.get(listing_ref, [])
        if isinstance(value, Exception):
            raise value
        return value

    def currency_for_market(self, market: str = "") -> str:
        return "USD"


def rate_limited() -> ChannelRateLimited:
    return ChannelRateLimited("Too many requests", retry_after=10, status_code=429)


def unavailable() -> ChannelUnavailable:
    return ChannelUnavailable("HTTP 500", ambiguous=True, status_code=500)
