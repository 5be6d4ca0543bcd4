"""A stateful stand-in for the Back Market seller API (orders, listings, tasks, Backbox), standard library only.

It speaks the wire protocol described in docs/reference/backmarket-api.md, not what our adapter expects:

* ``Authorization: Basic <token>`` (token verbatim), else 401; ``User-Agent: BM-<Company>-<Integration>;<email>``,
  else a WAF-style JSON 403 (``bot-need-challenge``). Every /ws/ response carries ``server: cloudflare`` and a
  ``cf-ray`` header, as Cloudflare sits in front of the real API.
* ``GET /ws/orders`` (filters ``state``, ``date_creation``, ``date_modification``, ``country_code``, ``page``,
  ``page-size``; orders in state 0 and 8 never listed), ``GET /ws/orders/{id}``, ``POST /ws/orders/{id}`` (orderline
  state transitions), ``PATCH /ws/orderlines/{id}`` (write-once IMEI / serial number).
* Listings (§5): ``GET /ws/listings`` (``publication_state``, ``min_quantity``, ``max_quantity``, paged like orders),
  ``GET /ws/listings/{uuid or legacy listing_id}``, ``GET /ws/listings/detail?sku=`` (or ``listing_id=`` / ``id=``),
  ``POST /ws/listings/{id}`` (real-time partial update in the Accept-Language market; ``PATCH`` is 405),
  ``POST /ws/listings`` (CSV bulk create/update -> a task that finishes after ``task_delay`` seconds) and
  ``GET /ws/tasks/{id}``. Price, currency, min/max price and comment are per market, quantity is global; a
  listing is online (publication_state 2) with stock, offline (3) at quantity 0, after ``pub_state: 3`` or with a
  price above its ``max_price``. Each sale (an order the sandbox generates or adds, unless unpaid: state 8) takes
  its units off the listing with that SKU, and generated orders sell listings that are online.
* Backbox (§6): ``GET /ws/backbox/v1/competitors/{listing uuid}``; with ``competitor_moves`` rival prices take a
  seeded random step each time they are read.
* More than ``rate_limit`` requests in ``rate_window`` seconds per token: 429 and blocked ``rate_block`` seconds.
  Per token too (§7.1): more than ``catalog_limit`` requests to ``/ws/listings*`` and ``/ws/tasks*`` in
  ``catalog_window`` seconds: 429, blocked ``catalog_block`` s; more than ``backbox_limit`` Backbox requests in
  ``backbox_window`` s: 429; listing writes above ``write_lines_per_hour`` SKU lines in a sliding
  ``write_window``: 429 (an update counts 1 line, a CSV its data lines).
* Faults for the next /ws/ requests (429, 500, a hang longer than a client timeout, a Cloudflare HTML 403, one
  malformed order in the next list page), from Python (:meth:`BackMarketSandbox.inject`) or over HTTP on
  ``/_sandbox/...`` (see :meth:`BackMarketSandbox._control`). The control paths need no credentials.

Usage::

    with BackMarketSandbox(token="secret", seed=1, orders=20) as sandbox:
        requests.get(f"{sandbox.base_url}/ws/orders", headers={"Authorization": "Basic secret", "User-Agent": UA})

    # listings: seeded ones, or your own; tests usually switch the moving rivals off and shorten the tasks
    with BackMarketSandbox(token="secret", listings=30, task_delay=0.1, competitor_moves=False) as sandbox:
        sandbox.add_listing(sku="MY-SKU", quantity=2, markets={"fr-fr": "199.00", "en-gb": "171.00"})
        sandbox.set_competitors("MY-SKU", [{"market": "FR", "is_winning": False, "price_to_win": "189.00"}])
"""

from __future__ import annotations

import base64
import codecs
import collections
import copy
import csv
import io
import json
import math
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..sandbox_server import SandboxHandler, SandboxServer
from . import sandbox_data as data
from .sandbox_data import format_ts, is_valid_imei, parse_ts

EXAMPLE_USER_AGENT = "BM-Acme-Shipping;ops@acme.example"
USER_AGENT_RE = re.compile(r"^BM-[^;\s]+.*;\s*\S*@\S*")
ALLOWED_NEW_STATES = (2, 3, 4, 5, 6)
FINAL_LINE_STATES = {3, 4, 5, 6, 7}
HIDDEN_ORDER_STATES = {0, 8}
REQUIRED_LINE_STATE = {2: 1, 3: 2, 4: 1, 5: 2, 6: 3}  # new_state -> the state a line must be in
RETURN_REASONS = {0, 1, 11, 12, 13, 21, 22, 23, 24, 25}
FAULT_KINDS = ("cloudflare_403", "status_429", "status_500", "timeout", "malformed")  # order of precedence
MALFORMED_KINDS = ("orderlines_not_list", "missing_order_id", "price_not_number")
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 10, 50
MAX_CSV_LINES = 15_000  # data lines per bulk file (reference §5.5)
MIN_WARRANTY = 12
TASK_TODO, TASK_IN_PROGRESS, TASK_FAILED, TASK_SUCCESS = 0, 2, 8, 9
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LISTING_MARKET_FIELDS = ("price", "currency", "min_price", "max_price", "comment")
LISTING_FIELDS = ("id", "listing_id", "product_id", "backmarket_id", "sku", "title", "quantity", "state", "grade",
                  "publication_state", "warranty_delay", "shippings", "new_battery", "offline_by_seller")  # fmt: skip

CLOUDFLARE_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" /><meta name="robots" content="noindex, nofollow" /></head>
<body><div id="cf-wrapper"><div id="cf-error-details" class="cf-error-details-wrapper">
<h1 data-translate="block_headline">Sorry, you have been blocked</h1>
<h2 class="cf-subheadline">You are unable to access backmarket.fr</h2>
<p>This website is using a security service to protect itself from online attacks.</p>
<p>Cloudflare Ray ID: <strong class="font-semibold">{ray}</strong></p>
</div></div></body></html>
"""


@dataclass
class RecordedRequest:
    """One request the sandbox received on /ws/ (control requests are not recorded)."""

    method: str
    path: str
    query: dict[str, str]  # last value of each parameter, names as sent (e.g. "page-size")
    headers: dict[str, str]  # names lower-cased
    body: Any = None  # parsed JSON, or the raw text when it is not JSON, or None
    market: str | None = None  # from Accept-Language, e.g. "en-gb"
    status: int | None = None  # filled in when the response is sent
    faults: list[str] = field(default_factory=list)  # e.g. ["timeout"], ["malformed:price_not_number:40000123"]
    raw_query: str = ""
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _json(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> _Response:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _Response(status, body, "application/json", list(headers))


def _request_id() -> str:
    return uuid.uuid4().hex


def _error_v1(status: int, code: str, message: str, *, target: str | None = None) -> _Response:
    """ErrorResponseV1: ``{"error": {code, message, data, docLink, target}, "requestId"}``."""
    error = {"code": code, "message": message, "data": None, "docLink": None, "target": target}
    return _json(status, {"error": error, "requestId": _request_id()})


def _bare(status: int, message: str) -> _Response:
    """The /ws/orders errors: a bare JSON string such as ``"sku not found"``."""
    return _json(status, message)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


class BackMarketSandbox(SandboxServer):
    """The sandbox server and its state. All state lives behind one lock; the HTTP handlers call into it."""

    thread_name = "bm-sandbox"

    def __init__(
        self,
        *,
        token: str | None = None,
        tokens: Iterable[str] = (),
        seed: int | None = 1,
        orders: int = 20,
        host: str = "127.0.0.1",
        port: int = 0,
        new_order_every: float | None = None,
        timeout_seconds: float = 35.0,
        rate_limit: int = 200,
        rate_window: float = 10.0,
        rate_block: float = 10.0,
        retry_after: bool = False,
        clock: Callable[[], datetime] | None = None,
        log: Callable[[str], None] | None = None,
        listings: int = 0,
        task_delay: float = 2.0,
        competitor_moves: bool = True,
        catalog_limit: int = 20,
        catalog_window: float = 10.0,
        catalog_block: float = 10.0,
        backbox_limit: int = 2,
        backbox_window: float = 1.0,
        write_lines_per_hour: int = 2000,
        write_window: float = 3600.0,
    ):
        self._lock = threading.RLock()
        self._gen = data.OrderGenerator(seed)
        self.seed = seed
        self.token = token or self._default_token()
        self._tokens: set[str] = {self.token, *tokens}
        self.host, self.port = host, port
        self.new_order_every = new_order_every
        self.timeout_seconds = timeout_seconds
        self.rate_limit, self.rate_window, self.rate_block = rate_limit, rate_window, rate_block
        self.retry_after = retry_after
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log = log
        self._orders: dict[int, dict] = {}
        self._line_index: dict[int, int] = {}  # orderline id -> order id
        self._faults: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self._malformed_kinds: collections.deque[str] = collections.deque()
        self._malformed_turn = 0
        self._ts_turn = 0
        self._hits: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._blocked_until: dict[str, float] = {}
        self._requests: list[RecordedRequest] = []
        # listings, Backbox, tasks (own random streams: without listings the orders are what they always were)
        self.task_delay = task_delay
        self.competitor_moves = competitor_moves
        self.catalog_limit, self.catalog_window, self.catalog_block = catalog_limit, catalog_window, catalog_block
        self.backbox_limit, self.backbox_window = backbox_limit, backbox_window
        self.write_lines_per_hour, self.write_window = write_lines_per_hour, write_window
        self._listing_gen = data.ListingGenerator(seed)
        self._sales_rng = random.Random(None if seed is None else f"sales:{seed}")  # noqa: S311 - test data
        self._moves_rng = random.Random(None if seed is None else f"moves:{seed}")  # noqa: S311 - test data
        self._listings: dict[str, dict] = {}  # listing uuid -> record (see ListingGenerator), in creation order
        self._sku_index: dict[str, str] = {}  # sku lower-cased -> uuid
        self._legacy_index: dict[int, str] = {}  # listing_id -> uuid
        self._competitors: dict[str, list[dict]] = {}  # listing uuid -> [{market, rival, pinned, pinned_price}]
        self._products: dict[str, dict] = {}  # product uuid -> {product_id, backmarket_id, title, brand, category}
        for product in data.PRODUCTS:
            self._register_product(data.product_uuid(product), product.product_id,
                                   product.title.format(layout=data.MARKETS["fr-fr"].layout), product.brand,
                                   product.category)  # fmt: skip
        self._tasks: dict[int, dict] = {}
        self._next_task_id = 5_000_000
        self._writes: dict[str, collections.deque[tuple[float, int]]] = collections.defaultdict(collections.deque)
        self._init_server()
        self.generate_listings(listings)
        self.generate(orders, historic=True)

    # ------------------------------------------------------------------------------------------------ lifecycle
    def _default_token(self) -> str:
        secret = "".join(self._gen.rng.choice("0123456789abcdef") for _ in range(32))
        return base64.b64encode(f"bm-sandbox:{secret}".encode()).decode()

    def _feed(self) -> None:
        while not self._stopping.wait(self.new_order_every):
            with self._lock:
                self.generate(1)
                waiting = [o for o in self._orders.values() if o["state"] == 10]
                if waiting and self._gen.rng.random() < 0.3:  # a customer finished paying
                    self._set_state(self._gen.rng.choice(waiting), 1)

    # ------------------------------------------------------------------------------------------------ tokens
    @property
    def tokens(self) -> set[str]:
        with self._lock:
            return set(self._tokens)

    def add_token(self, token: str) -> None:
        with self._lock:
            self._tokens.add(token)

    def revoke_token(self, token: str) -> None:
        with self._lock:
            self._tokens.discard(token)

    # ------------------------------------------------------------------------------------------------ faults
    def inject(
        self,
        *,
        status_429: int = 0,
        status_500: int = 0,
        timeout: int = 0,
        malformed: int = 0,
        cloudflare_403: int = 0,
        malformed_kind: str | None = None,
        timeout_seconds: float | None = None,
    ) -> dict[str, int]:
        """Affect the next N /ws/ requests (counts add up). Returns the pending counts.

        One request takes at most one fault, in this order: cloudflare_403, status_429, status_500, timeout.
        ``timeout`` holds the request ``timeout_seconds`` (default 35 s) and then answers it normally, so a write the
        client gave up on still happens. ``malformed`` is taken by the next non-empty ``GET /ws/orders`` page: its
        middle order is broken (``malformed_kind`` one of orderlines_not_list, missing_order_id, price_not_number;
        by default they take turns) and the rest of the page is intact.
        """
        if malformed_kind is not None and malformed_kind not in MALFORMED_KINDS:
            raise ValueError(f"malformed_kind must be one of {', '.join(MALFORMED_KINDS)}")
        counts = {"status_429": status_429, "status_500": status_500, "timeout": timeout, "malformed": malformed,
                  "cloudflare_403": cloudflare_403}  # fmt: skip
        with self._lock:
            for kind, count in counts.items():
                if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                    raise ValueError(f"{kind} must be a count (a non-negative integer)")
                self._faults[kind] += count
            for _ in range(malformed):
                kind = malformed_kind or MALFORMED_KINDS[self._malformed_turn % len(MALFORMED_KINDS)]
                self._malformed_turn += malformed_kind is None
                self._malformed_kinds.append(kind)
            if timeout_seconds is not None:
                self.timeout_seconds = float(timeout_seconds)
            return dict(self._faults)

    @property
    def faults(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = dict.fromkeys(FAULT_KINDS, 0)
            self._malformed_kinds.clear()

    def _take_fault(self) -> str | None:
        with self._lock:
            for kind in FAULT_KINDS[:-1]:
                if self._faults[kind] > 0:
                    self._faults[kind] -= 1
                    return kind
        return None

    # ------------------------------------------------------------------------------------------------ orders
    def now(self) -> datetime:
        return self._clock()

    def _stamp(self) -> str:
        """A UTC timestamp for a change, taking turns between Z, +00:00 and their microsecond variants."""
        self._ts_turn += 1
        return format_ts(self.now(), data.UTC_STYLES[self._ts_turn % len(data.UTC_STYLES)])

    def _store(self, order: dict) -> None:
        order_id = order["order_id"]
        if order_id in self._orders:
            raise ValueError(f"order {order_id} already exists")
        self._orders[order_id] = order
        for line in order.get("orderlines") or []:
            if isinstance(line, dict) and "id" in line:
                self._line_index[line["id"]] = order_id

    def generate(self, count: int, *, historic: bool = False) -> list[dict]:
        """Add ``count`` generated orders (see :meth:`sandbox_data.OrderGenerator.batch`); returns copies.

        New orders have just arrived (modified now); ``historic=True`` spreads them over the last three days, as
        for the orders generated at construction."""
        with self._lock:
            batch = self._gen.batch(count, now=self.now(), historic=historic)
            for order in batch:
                self._bind_to_listings(order)
                self._store(order)
                self._sell(order)
            return [self._render(o) for o in batch]

    def add_order(self, *, state: int = 1, lines: int | list[dict] | None = None, market: str | None = None,
                  **overrides: Any) -> dict:  # fmt: skip
        """Add one generated order in ``state`` and return a copy.

        ``lines``: a number of lines, or one dict of overrides per line (e.g. ``{"listing": "SKU-A", "quantity": 2}``;
        a line's ``price`` follows its quantity unless given; a ``listing`` that is a sandbox listing's SKU takes
        that listing's id, title, product and price in the order's market). Lines without a ``listing`` sell online
        listings when there are some. Unless the order is unpaid (state 8), each line takes its quantity off the
        listing with its SKU. ``market``: e.g. "en-gb". Other keyword arguments
        replace top-level keys (``order_id``, ``shipping_address``, ``date_modification``...; datetimes are
        formatted). Totals are recomputed from the lines unless ``price`` is given.
        """
        if state not in data.LINE_STATE_FOR_ORDER_STATE:
            raise ValueError(f"state must be one of {sorted(data.LINE_STATE_FOR_ORDER_STATE)}")
        with self._lock:
            n_lines = lines if isinstance(lines, int) else (len(lines) if lines else None)
            order = self._gen.order(now=self.now(), market=market, state=state, n_lines=n_lines)
            fixed: set[int] = set()
            if isinstance(lines, list):
                for index, (line, line_overrides) in enumerate(zip(order["orderlines"], lines, strict=True)):
                    quantity = line_overrides.get("quantity", line["quantity"])
                    if quantity != line["quantity"] and "price" not in line_overrides:
                        unit = data.Decimal(line["price"]) / line["quantity"]
                        line["price"] = data.money(unit * quantity)
                        line["orderline_fee"] = data.money(unit * quantity * data.Decimal("0.10"))
                    if "listing" in line_overrides and "listing_id" not in line_overrides:
                        line["listing_id"] = data.listing_id_for(str(line_overrides["listing"]))
                    line.update(line_overrides)
                    if "listing" in line_overrides:
                        fixed.add(index)
                        listing = self._find_listing(str(line_overrides["listing"]), by="sku")
                        if listing is not None:
                            keep = set(line_overrides) - {"listing"}  # the listing's own spelling of the SKU
                            self._line_from_listing(line, listing, order["country_code"], keep=keep)
            self._bind_to_listings(order, skip=fixed)
            for key, value in overrides.items():
                order[key] = format_ts(value, "Z") if isinstance(value, datetime) else value
            if "order_id" in overrides:
                order["delivery_note"] = f"/_sandbox/delivery-notes/{order['order_id']}.pdf"
            if "price" not in overrides:
                data.recompute_totals(order)
            self._store(order)
            self._sell(order)
            return self._render(order)

    def order(self, order_id: int) -> dict:
        """A deep copy of the stored order (as served, with an absolute ``delivery_note`` once started)."""
        with self._lock:
            if order_id not in self._orders:
                raise KeyError(order_id)
            return self._render(self._orders[order_id])

    def orders(self) -> list[dict]:
        """Copies of every order, hidden states included, sorted like the list endpoint."""
        with self._lock:
            return [self._render(o) for o in sorted(self._orders.values(), key=self._sort_key)]

    def update_order(self, order_id: int, **fields: Any) -> dict:
        """Change raw fields of an order (no validation); ``state=N`` also moves its lines to the matching line
        state (e.g. 10 -> 1 = the customer paid). ``date_modification`` is bumped unless given."""
        with self._lock:
            order = self._orders[order_id]
            state = fields.pop("state", None)
            if state is not None:
                self._set_state(order, state)
            for key, value in fields.items():
                order[key] = format_ts(value, "Z") if isinstance(value, datetime) else value
            if "date_modification" not in fields:
                order["date_modification"] = self._stamp()
            self._store_lines(order)
            return self._render(order)

    def _store_lines(self, order: dict) -> None:
        for line in order.get("orderlines") or []:
            if isinstance(line, dict) and "id" in line:
                self._line_index[line["id"]] = order["order_id"]

    def _set_state(self, order: dict, state: int) -> None:
        order["state"] = state
        line_state = data.LINE_STATE_FOR_ORDER_STATE.get(state)
        if line_state is not None:
            for line in order["orderlines"]:
                line["state"] = line_state
        if state in (1, 3, 9) and not order.get("date_payment"):
            order["date_payment"] = self._stamp()
        order["date_modification"] = self._stamp()

    def _render(self, order: dict, host: str | None = None) -> dict:
        out = copy.deepcopy(order)
        note = out.get("delivery_note")
        if isinstance(note, str) and note.startswith("/"):
            if host:
                out["delivery_note"] = f"http://{host}{note}"
            elif self._server is not None:
                out["delivery_note"] = self.base_url + note
        return out

    @staticmethod
    def _sort_key(order: dict) -> tuple:
        try:
            modified = parse_ts(order["date_modification"])
        except (KeyError, TypeError, ValueError):
            modified = datetime.min.replace(tzinfo=UTC)
        return modified, order.get("order_id", 0)

    # ------------------------------------------------------------------------------------------------ listings
    def _register_product(self, product_uuid: str, backmarket_id: int | None, title: str, brand: str = "",
                          category: str = "") -> None:  # fmt: skip
        self._products.setdefault(product_uuid, {"product_id": product_uuid, "backmarket_id": backmarket_id,
                                                 "title": title, "brand": brand, "category": category})  # fmt: skip

    def _product_by_backmarket_id(self, backmarket_id: int) -> dict | None:
        return next((p for p in self._products.values() if p["backmarket_id"] == backmarket_id), None)

    def _index(self, record: dict) -> None:
        self._listings[record["id"]] = record
        self._sku_index[record["sku"].lower()] = record["id"]
        self._legacy_index[record["listing_id"]] = record["id"]

    def _unindex(self, record: dict) -> None:
        self._sku_index.pop(record["sku"].lower(), None)
        self._legacy_index.pop(record["listing_id"], None)

    def _free_listing_id(self, sku: str) -> int:
        listing_id = data.listing_id_for(sku)
        while listing_id in self._legacy_index:
            listing_id += 1
        return listing_id

    def _find_listing(self, key: Any, *, by: str = "any") -> dict | None:
        """The record for a listing UUID, a legacy ``listing_id`` (int or digits) or a SKU (case-insensitive).
        ``by``: "any", "sku", "id" (UUID or legacy id, as the /ws/listings/{id} path takes)."""
        if isinstance(key, bool):
            return None
        if isinstance(key, int):
            return self._listings.get(self._legacy_index.get(key, ""))
        if not isinstance(key, str):
            return None
        text = key.strip()
        if by in ("any", "id"):
            if UUID_RE.match(text):
                found = self._listings.get(text.lower())
                if found is not None:
                    return found
            if text.isdigit() and by == "id":
                return self._listings.get(self._legacy_index.get(int(text), ""))
        if by in ("any", "sku"):
            found = self._listings.get(self._sku_index.get(text.lower(), ""))
            if found is not None or by == "sku":
                return found
        if text.isdigit():
            return self._listings.get(self._legacy_index.get(int(text), ""))
        return None

    def _get_listing(self, key: Any) -> dict:
        record = self._find_listing(key)
        if record is None:
            raise KeyError(key)
        return record

    @staticmethod
    def _market_of(record: dict, market: str | None) -> str:
        """The market a listing is shown in: the asked one when it has a price there, else its first market."""
        return market if market in record["markets"] else next(iter(record["markets"]))

    def _render_listing(self, record: dict, market: str | None = None, *, raw: bool = False) -> dict:
        code = self._market_of(record, market)
        prices = record["markets"][code]
        out = {
            "id": record["id"],
            "listing_id": record["listing_id"],
            "product_id": record["product_id"],
            "backmarket_id": record["backmarket_id"],
            "sku": record["sku"],
            "title": record["title"],
            "quantity": record["quantity"],
            "price": prices["price"],
            "currency": prices["currency"],
            "min_price": prices["min_price"],
            "max_price": prices["max_price"],
            "state": record["state"],
            "grade": record["grade"],
            "publication_state": record["publication_state"],
            "warranty_delay": record["warranty_delay"],
            "comment": prices["comment"],
            "shippings": copy.deepcopy(record["shippings"]),
            "new_battery": record["new_battery"],
        }
        if raw:
            out["markets"] = copy.deepcopy(record["markets"])
            out["offline_by_seller"] = record["offline_by_seller"]
            items = self._competitors.get(record["id"])
            out["competitors"] = self._render_competitors(record, items) if items else None
        return out

    @staticmethod
    def _republish(record: dict) -> None:
        """Online (2) with stock; offline (3) at quantity 0, after pub_state 3, or priced above max_price."""
        over = False
        for prices in record["markets"].values():
            if prices.get("max_price") not in (None, "") and prices.get("price") not in (None, ""):
                over = over or Decimal(str(prices["price"])) > Decimal(str(prices["max_price"]))
        offline = record["quantity"] <= 0 or record["offline_by_seller"] or over
        record["publication_state"] = 3 if offline else 2

    @staticmethod
    def _market_prices(market: str, value: Any) -> dict:
        """One market's fields from a price (str/number/Decimal) or a dict of them."""
        fields = dict(value) if isinstance(value, dict) else {"price": value}
        unknown = set(fields) - set(LISTING_MARKET_FIELDS)
        if unknown:
            raise TypeError(f"unknown market field(s): {', '.join(sorted(unknown))}")
        price = fields.get("price")
        if price is None:
            raise ValueError(f"market {market} needs a price")
        return {
            "price": data.money(Decimal(str(price))),
            "currency": str(fields.get("currency") or data.MARKET_CURRENCIES.get(market, "EUR")).upper(),
            "min_price": None if fields.get("min_price") is None else data.money(Decimal(str(fields["min_price"]))),
            "max_price": fields.get("max_price"),
            "comment": fields.get("comment") or "",
        }

    def generate_listings(self, count: int) -> list[dict]:
        """Add ``count`` seeded listings (products of ``sandbox_data``, SKUs from ``sku_for``; about 60% get a rival
        seller in fr-fr); returns them as served."""
        with self._lock:
            created = []
            for record, rival in self._listing_gen.batch(count, taken=set(self._sku_index)):
                record["listing_id"] = self._free_listing_id(record["sku"])
                self._index(record)
                if rival is not None:
                    self._competitors[record["id"]] = [{"market": "fr-fr", "rival": rival, "pinned": None}]
                created.append(self._render_listing(record))
            return created

    def add_listing(self, **fields: Any) -> dict:
        """Add one listing and return it as served (in its first market).

        Fields: ``sku`` (unique, case-insensitive; default generated), ``product_id`` (UUID) and/or
        ``backmarket_id`` (default: a sandbox product, the one the SKU names if any), ``title``, ``quantity``
        (default 10), ``grade`` and/or ``state`` (default VERY_GOOD), ``warranty_delay`` (12), ``shippings``,
        ``new_battery``, ``id``, ``listing_id``, ``publication_state`` (default from the stock); per market:
        ``market`` (default fr-fr) with ``price``, ``currency``, ``min_price``, ``max_price``, ``comment`` -- or
        ``markets={"fr-fr": "199.00", "en-gb": {"price": "171.00", "max_price": 400}}`` (first = home market).
        ``competitors``: as for :meth:`set_competitors`.
        """
        with self._lock:
            fields = dict(fields)
            competitors = fields.pop("competitors", None)
            market = str(fields.pop("market", "fr-fr")).lower()
            markets = fields.pop("markets", None)
            per_market = {k: fields.pop(k) for k in LISTING_MARKET_FIELDS if k in fields}
            unknown = set(fields) - set(LISTING_FIELDS)
            if unknown:
                raise TypeError(f"unknown listing field(s): {', '.join(sorted(unknown))}")
            sku = str(fields.get("sku") or f"SANDBOX-{len(self._listings) + 1:04d}").strip()
            if sku.lower() in self._sku_index:
                raise ValueError(f"sku {sku} is already listed (SKUs are case-insensitive)")
            offer = next((o for o in data.offers((9, 10, 11, 12)) if o.sku.lower() == sku.lower()), None)
            product = offer.product if offer else data.PRODUCTS[data.listing_id_for(sku) % len(data.PRODUCTS)]
            backmarket_id = fields.get("backmarket_id")
            product_id = fields.get("product_id")
            if product_id is None and backmarket_id is not None:
                known = self._product_by_backmarket_id(int(backmarket_id))
                product_id = (
                    known["product_id"] if known else str(uuid.uuid5(uuid.NAMESPACE_URL, f"bm:{backmarket_id}"))
                )
            if product_id is None:
                product_id = data.product_uuid(product)
                backmarket_id = product.product_id
            product_id = str(uuid.UUID(str(product_id)))
            known = self._products.get(product_id)
            if backmarket_id is None and known is not None:
                backmarket_id = known["backmarket_id"]
            title = fields.get("title") or (known["title"] if known else (offer.title if offer else product.title))
            self._register_product(product_id, None if backmarket_id is None else int(backmarket_id), title)
            grade = fields.get("grade")
            state = fields.get("state")
            if grade is None:
                grade = data.STATE_GRADES[int(state)] if state is not None else (offer.grade if offer else "VERY_GOOD")
            grade = str(grade).upper()
            if grade not in data.GRADE_STATES:
                raise ValueError(f"grade must be one of {', '.join(data.GRADE_STATES)}")
            if markets is None:
                if "price" not in per_market:
                    default = data.offer_price(product, offer.condition if offer else 10, "fr-fr")
                    per_market["price"] = data.convert(default, "fr-fr", market) if market in data.MARKETS else default
                markets = {market: per_market}
            elif per_market:
                raise TypeError("give either markets or price/currency/... for one market, not both")
            if not markets:
                raise ValueError("a listing needs a price in at least one market")
            record_id = str(uuid.UUID(str(fields["id"]))) if fields.get("id") else self._listing_gen.uuid()
            if record_id in self._listings:
                raise ValueError(f"listing {record_id} already exists")
            listing_id = int(fields["listing_id"]) if fields.get("listing_id") is not None else None
            if listing_id is not None and listing_id in self._legacy_index:
                raise ValueError(f"listing_id {listing_id} already exists")
            record = {
                "id": record_id,
                "listing_id": listing_id if listing_id is not None else self._free_listing_id(sku),
                "product_id": product_id,
                "backmarket_id": None if backmarket_id is None else int(backmarket_id),
                "sku": sku,
                "title": title,
                "quantity": int(fields.get("quantity", 10)),
                "state": int(state) if state is not None else data.GRADE_STATES[grade],
                "grade": grade,
                "publication_state": 2,
                "warranty_delay": int(fields.get("warranty_delay", MIN_WARRANTY)),
                "shippings": list(fields.get("shippings") or []),
                "new_battery": bool(fields.get("new_battery", False)),
                "markets": {str(code).lower(): self._market_prices(str(code).lower(), value)
                            for code, value in markets.items()},
                "offline_by_seller": bool(fields.get("offline_by_seller", False)),
            }  # fmt: skip
            self._republish(record)
            if fields.get("publication_state") is not None:
                record["publication_state"] = int(fields["publication_state"])
            self._index(record)
            if competitors is not None:
                self.set_competitors(record_id, competitors)
            return self._render_listing(record)

    def listing(self, id_or_sku: Any, market: str | None = None, *, raw: bool = False) -> dict:
        """One listing as ``GET /ws/listings/{id}`` serves it in ``market`` (default: its first market); KeyError
        when unknown. ``raw=True`` adds ``markets`` (every market's prices), ``offline_by_seller`` and the
        ``competitors`` set for it (None when default)."""
        with self._lock:
            self._advance_tasks()
            return self._render_listing(self._get_listing(id_or_sku), market, raw=raw)

    def listings(self, market: str | None = None, *, raw: bool = False) -> list[dict]:
        """Every listing, in creation order (the list endpoint's order)."""
        with self._lock:
            self._advance_tasks()
            return [self._render_listing(r, market, raw=raw) for r in self._listings.values()]

    def update_listing(self, id_or_sku: Any, *, market: str | None = None, **fields: Any) -> dict:
        """Change raw fields (no Back Market validation). ``price``, ``currency``, ``min_price``, ``max_price`` and
        ``comment`` apply to ``market`` (default: the first; a new market needs a price); ``markets`` merges a
        dict like add_listing's. ``publication_state`` is recomputed from stock/prices unless given. Returns the
        listing as served in ``market``."""
        with self._lock:
            record = self._get_listing(id_or_sku)
            fields = dict(fields)
            per_market = {k: fields.pop(k) for k in LISTING_MARKET_FIELDS if k in fields}
            markets = fields.pop("markets", None) or {}
            unknown = set(fields) - set(LISTING_FIELDS) - {"id"}
            if unknown or "id" in fields:
                raise TypeError(f"cannot set listing field(s): {', '.join(sorted(unknown | ({'id'} & set(fields))))}")
            if "sku" in fields:
                other = self._sku_index.get(str(fields["sku"]).lower())
                if other not in (None, record["id"]):
                    raise ValueError(f"sku {fields['sku']} is already listed")
            if "listing_id" in fields:
                other = self._legacy_index.get(int(fields["listing_id"]))
                if other not in (None, record["id"]):
                    raise ValueError(f"listing_id {fields['listing_id']} already exists")
            code = str(market).lower() if market else next(iter(record["markets"]))
            if per_market:
                if code in record["markets"]:
                    current = record["markets"][code]
                    for key, value in per_market.items():
                        if key in ("price", "min_price") and value is not None:
                            value = data.money(Decimal(str(value)))
                        current[key] = value
                else:
                    markets = {code: per_market, **markets}
            for market_code, value in markets.items():
                record["markets"][str(market_code).lower()] = self._market_prices(str(market_code).lower(), value)
            self._unindex(record)
            if "grade" in fields and "state" not in fields:
                fields["grade"] = str(fields["grade"]).upper()
                fields["state"] = data.GRADE_STATES[fields["grade"]]
            if "state" in fields and "grade" not in fields:
                fields["grade"] = data.STATE_GRADES[int(fields["state"])]
            publication_state = fields.pop("publication_state", None)
            record.update(fields)
            self._index(record)
            self._republish(record)
            if publication_state is not None:
                record["publication_state"] = int(publication_state)
            return self._render_listing(record, code)

    def catalog_offers(self) -> list[dict]:
        """What could be listed in fr-fr: every known (product, grade, layout) with its SKU, the sandbox product's
        UUID and backmarket_id, its usual price and whether a listing has that SKU already."""
        with self._lock:
            return [{"sku": o.sku, "product_id": data.product_uuid(o.product), "backmarket_id": o.product.product_id,
                     "title": o.title, "brand": o.product.brand, "category": o.product.category, "grade": o.grade,
                     "state": data.GRADE_STATES[o.grade], "market": "fr-fr", "currency": "EUR",
                     "price": data.money(data.offer_price(o.product, o.condition, "fr-fr")),
                     "listed": o.sku.lower() in self._sku_index} for o in data.offers()]  # fmt: skip

    # ---- sales
    def _listing_unit_price(self, record: dict, market: str) -> Decimal:
        if market in record["markets"]:
            return Decimal(record["markets"][market]["price"])
        home = next(iter(record["markets"]))
        return data.convert(Decimal(record["markets"][home]["price"]), home, market)

    def _line_from_listing(self, line: dict, record: dict, market: str, *, keep: Iterable[str] = ()) -> None:
        """Make an orderline sell ``record`` (keys in ``keep`` were given by the caller and stay)."""
        keep = set(keep)
        quantity = line.get("quantity") if isinstance(line.get("quantity"), int) else 1
        unit = self._listing_unit_price(record, market)
        mkt = data.MARKETS.get(market)
        product = self._products.get(record["product_id"]) or {}
        values = {
            "listing": record["sku"],
            "listing_id": record["listing_id"],
            "product": record["title"],
            "product_id": record["backmarket_id"],
            "brand": product.get("brand") or line.get("brand"),
            "condition": data.GRADE_CONDITIONS.get(record["grade"], 10),
            "price": data.money(unit * quantity),
            "orderline_fee": data.money(unit * quantity * Decimal("0.10")),
            "sales_taxes": data.money(unit * quantity * (mkt.sales_tax if mkt else Decimal("0"))),
        }
        if "price" in keep:
            keep |= {"orderline_fee", "sales_taxes"}
        was_phone = bool(line.get("imei"))
        line.update({k: v for k, v in values.items() if k not in keep})
        if was_phone and product.get("category") == "laptop" and "imei" not in keep:  # a shipped laptop: a serial
            line["imei"] = ""
            line["serial_number"] = "C02" + "".join(self._sales_rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ")
                                                    for _ in range(9))  # fmt: skip

    def _bind_to_listings(self, order: dict, *, skip: Iterable[int] = ()) -> None:
        """Make the order's lines (but ``skip``) sell online listings with stock: the same product when one is
        listed, else another of the same category, else any; one listing per order; quantity within stock."""
        lines = order.get("orderlines")
        if not self._listings or not isinstance(lines, list):
            return
        skip = set(skip)
        used = {str(li.get("listing", "")).lower() for i, li in enumerate(lines) if i in skip and isinstance(li, dict)}
        for index, line in enumerate(lines):
            if index in skip or not isinstance(line, dict):
                continue
            candidates = [
                r for r in self._listings.values()
                if r["quantity"] > 0 and r["publication_state"] == 2 and r["sku"].lower() not in used
            ]  # fmt: skip
            if not candidates:
                return
            category = next((p.category for p in data.PRODUCTS if p.product_id == line.get("product_id")), None)
            same = [r for r in candidates if r["backmarket_id"] == line.get("product_id")]
            kin = [r for r in candidates if (self._products.get(r["product_id"]) or {}).get("category") == category]
            record = self._sales_rng.choice(same or kin or candidates)
            used.add(record["sku"].lower())
            if isinstance(line.get("quantity"), int) and line["quantity"] > record["quantity"]:
                line["quantity"] = record["quantity"]
            self._line_from_listing(line, record, order.get("country_code") or "fr-fr")
        data.recompute_totals(order)

    def _sell(self, order: dict) -> None:
        """Back Market decrements stock on each sale (§5.4): each line takes its units off its listing."""
        if order.get("state") == 8 or not isinstance(order.get("orderlines"), list):
            return
        for line in order["orderlines"]:
            if not isinstance(line, dict):
                continue
            record = self._find_listing(str(line.get("listing", "")), by="sku")
            quantity = line.get("quantity")
            if record is not None and isinstance(quantity, int) and quantity > 0:
                record["quantity"] = max(0, record["quantity"] - quantity)
                self._republish(record)

    # ------------------------------------------------------------------------------------------------ Backbox
    def _market_code(self, record: dict, value: Any) -> str:
        text = str(value).strip()
        if "-" in text:
            return text.lower()
        country = text.upper()
        for code in (*record["markets"], *data.MARKET_CURRENCIES):
            if data.country_of(code) == country:
                return code
        return f"{text.lower()}-{text.lower()}"

    @staticmethod
    def _amount(value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, dict):
            value = value.get("amount")
            if value is None:
                return None
        return Decimal(str(value))

    def set_competitors(self, listing: Any, competitors: list[dict]) -> list[dict]:
        """What the Backbox answers for a listing: one item per market, ``{market ("FR" or "fr-fr"), is_winning,
        price_to_win, winner_price, min_price}`` (amounts as strings, numbers or ``{amount, currency}``; all but
        ``market`` optional). The values are served as given until the listing's price there changes or
        ``competitor_moves`` moves the rival; from then on a rival seller at ``winner_price`` (when losing) or just
        above ``price_to_win`` (when winning) drives them. ``[]`` restores the default (alone, winning)."""
        with self._lock:
            record = self._get_listing(listing)
            items = []
            for given in competitors:
                given = dict(given)
                unknown = set(given) - {"market", "is_winning", "price_to_win", "winner_price", "min_price", "price"}
                if unknown:
                    raise TypeError(f"unknown competitor field(s): {', '.join(sorted(unknown))}")
                if not given.get("market"):
                    raise ValueError("each competitor needs a market")
                code = self._market_code(record, given["market"])
                ours = self._listing_unit_price(record, code)
                to_win, winner = self._amount(given.get("price_to_win")), self._amount(given.get("winner_price"))
                winning = given.get("is_winning")
                step = self._step(code)
                if winning is False:
                    rival = winner if winner is not None else (to_win + step if to_win is not None else ours)
                elif to_win is not None:
                    rival = to_win + step
                elif winner is not None and winner < ours:
                    rival = winner
                else:
                    rival = None
                pinned = {k: given[k] for k in ("is_winning", "price_to_win", "winner_price", "min_price", "price")
                          if k in given}  # fmt: skip
                items.append({"market": code, "rival": rival, "pinned": pinned, "pinned_price": ours})
            if items:
                self._competitors[record["id"]] = items
            else:
                self._competitors.pop(record["id"], None)
            return self._render_competitors(record, self._competitor_items(record))

    def competitors(self, listing: Any) -> list[dict]:
        """The Backbox answer for a listing as it is now (reading it here does not move the prices)."""
        with self._lock:
            record = self._get_listing(listing)
            return self._render_competitors(record, self._competitor_items(record))

    @staticmethod
    def _step(market: str) -> Decimal:
        return Decimal("100") if data.MARKET_CURRENCIES.get(market) == "JPY" else Decimal("0.01")

    def _competitor_items(self, record: dict) -> list[dict]:
        items = self._competitors.get(record["id"])
        if not items:  # nobody else sells it: alone and winning in each of its markets
            items = [{"market": code, "rival": None, "pinned": None} for code in record["markets"]]
        return items

    def _move_competitors(self, record: dict) -> None:
        """One step of the rivals' random walk (within +-2%); sometimes a rival turns up where there was none."""
        items = self._competitors.setdefault(record["id"], self._competitor_items(record))
        rng = self._moves_rng
        for item in items:
            ours = self._listing_unit_price(record, item["market"])
            currency = data.MARKET_CURRENCIES.get(item["market"], "EUR")
            if item["rival"] is None:
                if rng.random() < 0.1:
                    item["rival"] = data.round_price(ours * Decimal(str(rng.uniform(0.95, 1.05))), currency)
                    item["pinned"] = None
                continue
            moved = data.round_price(item["rival"] * Decimal(str(1 + rng.uniform(-0.02, 0.02))), currency)
            item["rival"] = max(moved, self._step(item["market"]) * 100)
            item["pinned"] = None

    def _render_competitors(self, record: dict, items: list[dict]) -> list[dict]:
        out = []
        for item in items:
            code = item["market"]
            currency = data.MARKET_CURRENCIES.get(code, "EUR")
            prices = record["markets"].get(code)
            if prices is not None:
                currency = prices["currency"]
            ours = self._listing_unit_price(record, code)
            floor = prices["min_price"] if prices else None
            rival = item["rival"]
            to_win = ours if rival is None else rival - self._step(code)
            winning = rival is None or ours <= to_win
            winner = ours if winning else rival

            def amount(value: Any, currency: str = currency) -> dict | None:
                if value is None:
                    return None
                if isinstance(value, dict):
                    return {"amount": str(value.get("amount")), "currency": value.get("currency") or currency}
                return {"amount": data.money(Decimal(str(value))), "currency": currency}

            row = {
                "listing_id": record["id"],
                "product_id": record["product_id"],
                "market": data.country_of(code),
                "is_winning": winning,
                "price": amount(ours),
                "min_price": amount(floor),
                "price_to_win": amount(to_win),
                "winner_price": amount(winner),
            }
            pinned = item.get("pinned")
            if pinned and item.get("pinned_price") == ours:
                for key, value in pinned.items():
                    row[key] = bool(value) if key == "is_winning" else amount(value)
            out.append(row)
        return out

    # ------------------------------------------------------------------------------------------------ tasks
    def task(self, task_id: int) -> dict:
        """A bulk task as ``GET /ws/tasks/{id}`` serves it; KeyError when unknown."""
        with self._lock:
            self._advance_tasks()
            return self._render_task(self._tasks[task_id])

    def tasks(self) -> list[dict]:
        """Every bulk task (with its market, data line count and age), oldest first."""
        with self._lock:
            self._advance_tasks()
            now = time.monotonic()
            return [{**self._render_task(t), "market": t["market"], "lines": t["lines"],
                     "age_seconds": round(now - t["created"], 3)} for t in self._tasks.values()]  # fmt: skip

    @staticmethod
    def _render_task(task: dict) -> dict:
        return {"task_id": task["task_id"], "action_status": task["action_status"],
                "last_action_error": task["last_action_error"], "result": copy.deepcopy(task["result"]),
                "statuscode": 200}  # fmt: skip

    def _advance_tasks(self) -> None:
        """Tasks are todo (0), in progress (2) past half of ``task_delay``, and done (9, or 8) past all of it."""
        now = time.monotonic()
        for task in self._tasks.values():
            if task["action_status"] in (TASK_SUCCESS, TASK_FAILED):
                continue
            elapsed = now - task["created"]
            if elapsed >= self.task_delay:
                self._run_task(task)
            elif elapsed >= self.task_delay / 2:
                task["action_status"] = TASK_IN_PROGRESS

    def _run_task(self, task: dict) -> None:
        def failed(message: str) -> None:
            task.update(action_status=TASK_FAILED, last_action_error=message, result=None)

        try:
            rows = list(csv.reader(io.StringIO(task["catalog"]), delimiter=task["delimiter"],
                                   quotechar=task["quotechar"]))  # fmt: skip
        except csv.Error as exc:
            return failed(f"The catalog is not valid CSV: {exc}")
        numbered = [(n, row) for n, row in enumerate(rows, start=1) if any(cell.strip() for cell in row)]
        if not numbered:
            return failed("The catalog is empty.")
        header = [cell.strip().lower() for cell in numbered[0][1]]
        if "sku" not in header:
            return failed(f"Missing required column 'sku' in the header ({task['delimiter'].join(header)}).")
        success: dict[str, dict] = {}
        errors: dict[str, dict] = {}
        seen: dict[str, int] = {}

        def error(key: str, sku: str, message: str) -> None:
            unique, n = key, 2
            while unique in errors:
                unique, n = f"{key} ({n})", n + 1
            errors[unique] = {"sku": sku, "error": message}

        for line_no, row in numbered[1:]:
            values = {name: (row[i].strip() if i < len(row) else "") for i, name in enumerate(header) if name}
            sku = values.get("sku", "")
            if not sku:
                error(f"line {line_no}", "", f"Line {line_no}: sku is required.")
                continue
            if sku.lower() in seen:
                error(sku, sku, f"Duplicate sku {sku} in the file (first on line {seen[sku.lower()]}); line "
                                f"{line_no} ignored.")  # fmt: skip
                continue
            seen[sku.lower()] = line_no
            record = self._find_listing(sku, by="sku")
            if record is None:
                record, message = self._csv_create(values, task["market"])
            else:
                message = self._csv_update(record, values, task["market"])
            if message:
                error(sku, sku, message)
            else:
                success[sku] = {"sku": record["sku"], "listing_id": record["listing_id"], "id": record["id"],
                                "backmarket_id": record["backmarket_id"],
                                "publication_state": record["publication_state"]}  # fmt: skip
        task.update(action_status=TASK_SUCCESS, last_action_error=None,
                    result={"product_success": success, "product_errors": errors})  # fmt: skip
        return None

    def _csv_create(self, values: dict[str, str], market: str) -> tuple[dict | None, str | None]:
        sku = values["sku"]
        product = None
        product_id, backmarket_id, ean = values.get("product_id"), values.get("backmarket_id"), values.get("ean")
        if product_id:
            if not UUID_RE.match(product_id):
                return None, f"product_id '{product_id}' is not a valid UUID."
            product = self._products.get(product_id.lower())
            if product is None:
                return None, f"Product {product_id} not found."
            if backmarket_id and str(product["backmarket_id"]) != backmarket_id:
                return None, f"backmarket_id {backmarket_id} does not match product {product_id}."
        elif backmarket_id:
            number = _int(backmarket_id)
            product = self._product_by_backmarket_id(number) if number is not None else None
            if product is None:
                return None, f"Product with backmarket_id {backmarket_id} not found."
        elif ean:
            return None, f"No product matches the EAN {ean}; send a product_id."
        else:
            return None, "product_id (or ean) is required to create a listing."
        grade, error = self._csv_grade(values)
        if error:
            return None, error
        if grade is None:
            return None, "grade is required to create a listing (EXCELLENT, VERY_GOOD, GOOD, FAIR, STALLONE, PREMIUM)."
        for name in ("warranty_delay", "price", "currency", "quantity"):
            if not values.get(name):
                return None, f"{name} is required to create a listing."
        changes, error = self._listing_changes(values, market, csv_row=True)
        if error:
            return None, error
        record = {
            "id": self._listing_gen.uuid(),
            "listing_id": self._free_listing_id(sku),
            "product_id": product["product_id"],
            "backmarket_id": product["backmarket_id"],
            "sku": sku,
            "title": product["title"],
            "quantity": 0,
            "state": data.GRADE_STATES[grade],
            "grade": grade,
            "publication_state": 3,
            "warranty_delay": MIN_WARRANTY,
            "shippings": [],
            "new_battery": False,
            "markets": {},
            "offline_by_seller": False,
        }
        self._apply_changes(record, market, changes)
        self._index(record)
        return record, None

    def _csv_update(self, record: dict, values: dict[str, str], market: str) -> str | None:
        grade, error = self._csv_grade(values)
        if error:
            return error
        changes, error = self._listing_changes(values, market, csv_row=True)
        if error:
            return error
        if (
            market not in record["markets"]
            and "price" not in changes
            and any(k in changes for k in ("min_price", "comment"))
        ):
            return f"price is required to sell in the market {market}."
        if grade is not None:
            record["grade"], record["state"] = grade, data.GRADE_STATES[grade]
        self._apply_changes(record, market, changes)
        return None

    @staticmethod
    def _csv_grade(values: dict[str, str]) -> tuple[str | None, str | None]:
        grade, state = values.get("grade", "").upper(), values.get("state", "")
        names = ", ".join(data.GRADE_STATES)
        if grade and grade not in data.GRADE_STATES:
            return None, f"Invalid grade '{values['grade']}': must be one of {names}."
        if state:
            number = _int(state)
            if number not in data.STATE_GRADES:
                return None, f"Invalid state '{state}': must be one of 0, 1, 2, 3, 4, 9."
            if grade and data.GRADE_STATES[grade] != number:
                return None, f"state {state} does not match grade {grade}."
            grade = grade or data.STATE_GRADES[number]
        return grade or None, None

    # ---- validation and changes shared by POST /ws/listings/{id} and the CSV rows
    @staticmethod
    def _decimal(value: Any) -> Decimal | None:
        if isinstance(value, bool):
            return None
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            return None
        return number if number.is_finite() else None

    def _listing_changes(self, body: dict, market: str, *, csv_row: bool = False) -> tuple[dict, str | None]:
        """Validated changes, or the 400 message. Values may be strings; in a CSV row "" means "not given"."""

        def given(name: str) -> bool:
            return name in body and body[name] is not None and (not csv_row or body[name] != "")

        changes: dict[str, Any] = {}
        expected = data.MARKET_CURRENCIES.get(market)
        if expected is None:
            return {}, f"Accept-Language '{market}' is not a Back Market market."
        if given("quantity"):
            quantity = _int(body["quantity"])
            if quantity is None:
                return {}, f"quantity '{body['quantity']}' is not a valid integer."
            if quantity < 0:
                return {}, f"quantity must be 0 or more (got {quantity})."
            changes["quantity"] = quantity
        if given("price"):
            price = self._decimal(body["price"])
            if price is None:
                return {}, f"price '{body['price']}' is not a valid decimal number."
            if price <= 0:
                return {}, f"price must be greater than 0 (got {body['price']})."
            changes["price"] = data.round_price(price, expected)
        currency = str(body["currency"]).strip().upper() if given("currency") else None
        if currency is not None and currency != expected:
            return {}, f"currency {currency} does not match the market {market} ({expected})."
        if "price" in changes and currency is None:
            default = "USD" if market == "en-us" else "EUR"  # what Back Market assumes (§5.4)
            if default != expected:
                return {}, f"currency is required for the market {market} ({expected}); {default} was assumed."
        if "min_price" in body and (body["min_price"] is None or (not csv_row and body["min_price"] == "")):
            changes["min_price"] = None
        elif given("min_price"):
            floor = self._decimal(body["min_price"])
            if floor is None or floor < 0:
                return {}, f"min_price '{body['min_price']}' is not a valid price."
            changes["min_price"] = data.round_price(floor, expected)
        if given("warranty_delay"):
            warranty = _int(body["warranty_delay"])
            if warranty is None or warranty < MIN_WARRANTY:
                return {}, f"warranty_delay must be at least {MIN_WARRANTY} (months), got {body['warranty_delay']}."
            changes["warranty_delay"] = warranty
        if given("comment"):
            if not isinstance(body["comment"], str) or len(body["comment"]) > 500:
                return {}, "comment must be a string of at most 500 characters."
            changes["comment"] = body["comment"]
        if not csv_row and given("pub_state"):
            pub_state = _int(body["pub_state"])
            if pub_state not in (2, 3):
                return {}, f"pub_state must be 2 (online) or 3 (offline), got {body['pub_state']}."
            changes["pub_state"] = pub_state
        shippings = []
        for n in (1, 2, 3):
            names = [f"shipper_{n}", f"shipper_display_{n}", f"shipping_delay_{n}", f"shipping_price_{n}"]
            if not any(given(name) for name in names):
                continue
            delay = _int(body.get(names[2])) if given(names[2]) else None
            price = self._decimal(body.get(names[3])) if given(names[3]) else None
            if not given(names[0]):
                return {}, f"shipper_{n} is required with shipping_delay_{n} / shipping_price_{n}."
            if given(names[2]) and (delay is None or delay < 0):
                return {}, f"shipping_delay_{n} '{body[names[2]]}' is not a valid number of hours."
            if given(names[3]) and (price is None or price < 0):
                return {}, f"shipping_price_{n} '{body[names[3]]}' is not a valid price."
            shippings.append({"shipper": str(body[names[0]]), "shipper_display": str(body.get(names[1])
                              or body[names[0]]), "shipping_delay": delay,
                              "shipping_price": None if price is None else data.money(price)})  # fmt: skip
        if shippings:
            changes["shippings"] = shippings
        return changes, None

    def _apply_changes(self, record: dict, market: str, changes: dict) -> None:
        if "price" in changes and market not in record["markets"]:
            record["markets"][market] = {"price": None, "currency": data.MARKET_CURRENCIES[market],
                                         "min_price": None, "max_price": None, "comment": ""}  # fmt: skip
        elif market not in record["markets"] and any(k in changes for k in ("min_price", "comment")):
            home = next(iter(record["markets"]))
            converted = data.convert(Decimal(record["markets"][home]["price"]), home, market)
            record["markets"][market] = {"price": data.money(converted), "currency": data.MARKET_CURRENCIES[market],
                                         "min_price": None, "max_price": None, "comment": ""}  # fmt: skip
        prices = record["markets"].get(market)
        if prices is not None:
            if "price" in changes:
                prices["price"] = data.money(changes["price"])
                prices["currency"] = data.MARKET_CURRENCIES[market]
            if "min_price" in changes:
                prices["min_price"] = None if changes["min_price"] is None else data.money(changes["min_price"])
            if "comment" in changes:
                prices["comment"] = changes["comment"]
        if "quantity" in changes:
            record["quantity"] = changes["quantity"]
        if "warranty_delay" in changes:
            record["warranty_delay"] = changes["warranty_delay"]
        if "pub_state" in changes:
            record["offline_by_seller"] = changes["pub_state"] == 3
        if "shippings" in changes:
            record["shippings"] = changes["shippings"]
        self._republish(record)

    # ------------------------------------------------------------------------------------------------ log
    @property
    def requests(self) -> list[RecordedRequest]:
        """The /ws/ requests received so far, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ------------------------------------------------------------------------------------------------ HTTP: /ws/
    def _ws(self, method: str, path: str, pairs: list[tuple[str, str]], raw_query: str, headers: dict[str, str],
            raw_body: bytes, client: str) -> _Response:  # fmt: skip
        body = _parse_body(raw_body)
        language = headers.get("accept-language")
        market = language.split(",")[0].split(";")[0].strip().lower() if language else None
        record = RecordedRequest(method, path, dict(pairs), headers, body, market, raw_query=raw_query,
                                 at=self.now())  # fmt: skip
        with self._lock:
            self._requests.append(record)
        response = self._ws_response(method, path, pairs, headers, body, client, record)
        ray = f"{uuid.uuid4().hex[:16]}-CDG"
        response.headers += [("cf-ray", ray)]
        if response.status == 403 and response.content_type.startswith("text/html"):
            response.body = response.body.replace(b"{ray}", ray.encode())
        record.status = response.status
        if self._log:
            self._log(f"{method} {path}{'?' + raw_query if raw_query else ''} -> {response.status}"
                      + (f" [{', '.join(record.faults)}]" if record.faults else ""))  # fmt: skip
        return response

    def _ws_response(self, method, path, pairs, headers, body, client, record) -> _Response:
        fault = self._take_fault()
        if fault:
            record.faults.append(fault)
        if fault == "cloudflare_403":
            return _Response(403, CLOUDFLARE_HTML.encode(), "text/html; charset=UTF-8")
        if fault == "status_429":
            return self._rate_limited(self.rate_block)
        if fault == "status_500":
            return _error_v1(500, "InternalServerError", "An unexpected error occurred.")
        if fault == "timeout":
            self._stopping.wait(self.timeout_seconds)

        if not USER_AGENT_RE.match(headers.get("user-agent", "")):
            challenge = {"code": "bot-need-challenge", "message": "Forbidden",
                         "challengePath": "/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page"}  # fmt: skip
            return _json(403, {"errors": [challenge], "requestId": _request_id()})

        authorization = headers.get("authorization", "")
        limited = self._rate_check(authorization or f"ip:{client}")
        if limited is not None:
            return self._rate_limited(limited)

        scheme, _, credential = authorization.partition(" ")
        token = credential.strip()
        with self._lock:
            known = scheme.lower() == "basic" and token in self._tokens
        if not known:
            return _error_v1(401, "Unauthorized", "Authentication credentials were missing or are invalid.")

        host = headers.get("host") or f"{self.host}:{self.port}"
        if re.match(r"/ws/(listings|tasks)(/|$)", path):
            limited = self._rate_check(f"catalog:{token}", limit=self.catalog_limit, window=self.catalog_window,
                                       block=self.catalog_block)  # fmt: skip
            if limited is not None:
                return self._rate_limited(limited, f"Too many requests: more than {self.catalog_limit} catalog "
                                                   f"requests in {self.catalog_window:g} seconds. Requests are "
                                                   f"blocked for {self.catalog_block:g} seconds.")  # fmt: skip
            return self._catalog(method, path, pairs, host, body, record.market, token)
        if m := re.fullmatch(r"/ws/backbox/v1/competitors/([^/]+)/?", path):
            limited = self._rate_check(f"backbox:{token}", limit=self.backbox_limit, window=self.backbox_window,
                                       block=0)  # fmt: skip
            if limited is not None:
                return self._rate_limited(limited, f"Too many requests: more than {self.backbox_limit} Backbox "
                                                   f"requests in {self.backbox_window:g} second(s).")  # fmt: skip
            if method != "GET":
                return _bare(405, f'Method "{method}" not allowed.')
            return self._get_competitors(m.group(1))
        if m := re.fullmatch(r"/ws/orders/?", path):
            if method != "GET":
                return _bare(405, f'Method "{method}" not allowed.')
            return self._list_orders(path, pairs, host, record)
        if m := re.fullmatch(r"/ws/orders/([^/]+)/?", path):
            order_id = _int(m.group(1))
            if method == "GET":
                with self._lock:
                    order = self._orders.get(order_id) if order_id is not None else None
                    return _json(200, self._render(order, host)) if order else _bare(404, "order not found")
            if method == "POST":
                return self._update_order(order_id, body, host)
            return _bare(405, f'Method "{method}" not allowed.')
        if m := re.fullmatch(r"/ws/orderlines/([^/]+)/?", path):
            if method != "PATCH":
                return _bare(405, f'Method "{method}" not allowed.')
            return self._patch_line(_int(m.group(1)), body)
        return _bare(404, "Webservices unavailable")

    def _rate_check(self, key: str, *, limit: int | None = None, window: float | None = None,
                    block: float | None = None) -> float | None:  # fmt: skip
        """None if allowed, else the seconds left in the block (the overall limit unless others are given).

        Past ``limit`` requests in ``window`` seconds the key is blocked ``block`` seconds; with ``block=0`` only
        the requests over the limit are refused (and not counted), as a plain sliding window. Requests are timed on
        arrival, so a hit leaves the window up to 50 ms early (5% of shorter windows): a client that spaces its
        requests by exactly the window on its own clock is not refused because of network jitter."""
        limit = self.rate_limit if limit is None else limit
        window = self.rate_window if window is None else window
        block = self.rate_block if block is None else block
        grace = min(0.05, window * 0.05)
        now = time.monotonic()
        with self._lock:
            blocked = self._blocked_until.get(key, 0.0)
            if now < blocked:
                return blocked - now
            hits = self._hits[key]
            while hits and hits[0] <= now - window + grace:
                hits.popleft()
            if block <= 0:
                if len(hits) >= limit:
                    return max(0.0, hits[0] + window - grace - now)
                hits.append(now)
                return None
            hits.append(now)
            if len(hits) > limit:
                hits.clear()
                self._blocked_until[key] = now + block
                return block
        return None

    def _rate_limited(self, seconds_left: float, message: str | None = None) -> _Response:
        message = message or ("Too many requests: more than the allowed number of requests in 10 seconds. "
                              "Requests are blocked for 10 seconds.")  # fmt: skip
        response = _error_v1(429, "RateLimited", message)
        if self.retry_after:
            response.headers.append(("Retry-After", str(max(1, math.ceil(seconds_left)))))
        return response

    def _write_check(self, token: str, lines: int) -> _Response | None:
        """The listing write cap (§7.1, ~2,000 SKU lines an hour): a 429 if ``lines`` more would pass it."""
        now = time.monotonic()
        with self._lock:
            writes = self._writes[token]
            while writes and writes[0][0] <= now - self.write_window:
                writes.popleft()
            used = sum(n for _, n in writes)
            if used + lines <= self.write_lines_per_hour:
                return None
            wait = writes[0][0] + self.write_window - now if writes else self.write_window
        return self._rate_limited(wait, f"Too many listing updates: {used} SKU lines in the last "
                                        f"{self.write_window / 3600:g} hour(s), {lines} more would pass the limit of "
                                        f"{self.write_lines_per_hour}.")  # fmt: skip

    def _write_record(self, token: str, lines: int) -> None:
        with self._lock:
            self._writes[token].append((time.monotonic(), lines))

    # ---- /ws/listings*, /ws/tasks*
    def _catalog(self, method: str, path: str, pairs: list[tuple[str, str]], host: str, body: Any,
                 market: str | None, token: str) -> _Response:  # fmt: skip
        with self._lock:
            self._advance_tasks()
        if re.fullmatch(r"/ws/listings/?", path):
            if method == "GET":
                return self._list_listings(path, pairs, host, market)
            if method == "POST":
                return self._bulk_listings(body, market, token)
            return _bare(405, f'Method "{method}" not allowed.')
        if re.fullmatch(r"/ws/listings/detail/?", path):
            if method != "GET":
                return _bare(405, f'Method "{method}" not allowed.')
            params = dict(pairs)
            key = next(((name, params[name].strip()) for name in ("sku", "listing_id", "id")
                        if params.get(name, "").strip()), None)  # fmt: skip
            if key is None:
                return _error_v1(400, "BadRequest", "One of sku, listing_id or id is required.", target="sku")
            with self._lock:
                record = self._find_listing(key[1], by="sku" if key[0] == "sku" else "id")
                if record is None:
                    return _error_v1(404, "NotFound", f"Listing with {key[0]} {key[1]} not found.")
                return _json(200, self._render_listing(record, market))
        if m := re.fullmatch(r"/ws/listings/([^/]+)/?", path):
            if method == "GET":
                with self._lock:
                    record = self._find_listing(m.group(1), by="id")
                    if record is None:
                        return _error_v1(404, "NotFound", f"Listing {m.group(1)} not found.")
                    return _json(200, self._render_listing(record, market))
            if method == "POST":
                return self._update_listing(m.group(1), body, market, token)
            return _bare(405, f'Method "{method}" not allowed.')
        if m := re.fullmatch(r"/ws/tasks/([^/]+)/?", path):
            if method != "GET":
                return _bare(405, f'Method "{method}" not allowed.')
            task_id = _int(m.group(1))
            with self._lock:
                task = self._tasks.get(task_id) if task_id is not None else None
                if task is None:
                    return _error_v1(404, "NotFound", f"Task {m.group(1)} not found.")
                return _json(200, self._render_task(task))
        return _bare(404, "Webservices unavailable")

    def _list_listings(self, path: str, pairs: list[tuple[str, str]], host: str, market: str | None) -> _Response:
        params = dict(pairs)
        filters: dict[str, int] = {}
        for name in ("publication_state", "min_quantity", "max_quantity"):
            if params.get(name, "").strip():
                number = _int(params[name])
                if number is None or (name == "publication_state" and not 0 <= number <= 4):
                    expected = "an integer from 0 to 4" if name == "publication_state" else "an integer"
                    return _error_v1(400, "BadRequest", f"{name}: '{params[name]}' is not {expected}.", target=name)
                filters[name] = number
        size = _int(params.get("page-size", ""))
        size = DEFAULT_PAGE_SIZE if size is None or size < 1 else min(size, MAX_PAGE_SIZE)
        page = _int(params.get("page", "1") or "1")
        with self._lock:
            matches = [
                r for r in self._listings.values()
                if ("publication_state" not in filters or r["publication_state"] == filters["publication_state"])
                and ("min_quantity" not in filters or r["quantity"] >= filters["min_quantity"])
                and ("max_quantity" not in filters or r["quantity"] <= filters["max_quantity"])
            ]  # fmt: skip
            pages = max(1, math.ceil(len(matches) / size))
            if page is None or page < 1 or page > pages:
                return _json(404, {"detail": "Invalid page."})
            results = [self._render_listing(r, market) for r in matches[(page - 1) * size : page * size]]
        return _json(200, {
            "count": len(matches),
            "next": _link(host, path, pairs, page + 1) if page < pages else None,
            "previous": _link(host, path, pairs, page - 1) if page > 1 else None,
            "results": results,
        })  # fmt: skip

    def _update_listing(self, key: str, body: Any, market: str | None, token: str) -> _Response:
        with self._lock:
            record = self._find_listing(key, by="id")
            if record is None:
                return _error_v1(404, "NotFound", f"Listing {key} not found.")
            limited = self._write_check(token, 1)
            if limited is not None:
                return limited
            if not isinstance(body, dict):
                return _bare(400, "Invalid body: expected a JSON object")
            sku = body.get("sku")
            if sku not in (None, "") and str(sku).strip().lower() != record["sku"].lower():
                return _bare(400, "sku cannot be changed")
            code = market or next(iter(record["markets"]))
            changes, error = self._listing_changes(body, code)
            if error:
                return _bare(400, error)
            self._apply_changes(record, code, changes)
            self._write_record(token, 1)
            out = {**self._render_listing(record, code), "statuscode": 200}
            if "shippings" in changes:
                out["shippings_response"] = [f"shipper_{n}: {s['shipper']} saved"
                                             for n, s in enumerate(changes["shippings"], start=1)]  # fmt: skip
            return _json(200, out)

    def _bulk_listings(self, body: Any, market: str | None, token: str) -> _Response:
        if not isinstance(body, dict) or body.get("catalog") in (None, ""):
            return _bare(400, "parameter catalog not found")
        catalog = body["catalog"]
        if not isinstance(catalog, str):
            return _bare(400, "parameter catalog must be a string (the CSV file's content)")
        delimiter = body.get("delimiter") or ","
        quotechar = body.get("quotechar") or '"'
        for name, value in (("delimiter", delimiter), ("quotechar", quotechar)):
            if not isinstance(value, str) or len(value) != 1:
                return _bare(400, f"parameter {name} must be a single character")
        encoding = body.get("encoding") or "utf-8"
        try:
            codecs.lookup(str(encoding))
        except LookupError:
            return _bare(400, f"encoding {encoding} is not supported")
        lines = max(0, sum(1 for line in catalog.splitlines() if line.strip()) - 1)  # data lines, header excluded
        if lines > MAX_CSV_LINES:
            return _bare(400, f"The catalog has {lines} lines; a file may have at most {MAX_CSV_LINES} lines.")
        with self._lock:
            limited = self._write_check(token, lines)
            if limited is not None:
                return limited
            self._next_task_id += 1
            task_id = self._next_task_id
            self._tasks[task_id] = {
                "task_id": task_id, "created": time.monotonic(), "market": market or "fr-fr", "catalog": catalog,
                "delimiter": delimiter, "quotechar": quotechar, "lines": lines, "action_status": TASK_TODO,
                "last_action_error": None, "result": None,
            }  # fmt: skip
            self._write_record(token, lines)
        return _json(200, {"bodymessage": task_id, "statuscode": 200})

    # ---- GET /ws/backbox/v1/competitors/{uuid}
    def _get_competitors(self, key: str) -> _Response:
        with self._lock:
            record = self._listings.get(key.lower()) if UUID_RE.match(key) else None
            if record is None:
                message = f"Listing {key} not found."
                if not UUID_RE.match(key):
                    message += " The competitors API takes the listing UUID (id), not the numeric listing_id."
                return _error_v1(404, "NotFound", message)
            if self.competitor_moves:
                self._move_competitors(record)
            return _json(200, self._render_competitors(record, self._competitor_items(record)))

    # ---- GET /ws/orders
    def _list_orders(self, path: str, pairs: list[tuple[str, str]], host: str, record: RecordedRequest) -> _Response:
        params = dict(pairs)
        filters: dict[str, Any] = {}
        for name in ("date_creation", "date_modification"):
            if params.get(name):
                try:
                    filters[name] = parse_ts(params[name])
                except ValueError:
                    return _bare(400, f"{name}: '{params[name]}' is not a valid date-time (use e.g. "
                                      "2026-01-01T00:00:00Z)")  # fmt: skip
        if params.get("state"):
            state = _int(params["state"])
            if state is None:
                return _bare(400, f"state: '{params['state']}' is not a valid integer")
            filters["state"] = state
        if params.get("country_code"):
            filters["country_code"] = params["country_code"].strip().lower()
        size = _int(params.get("page-size", ""))
        size = DEFAULT_PAGE_SIZE if size is None or size < 1 else min(size, MAX_PAGE_SIZE)
        page = _int(params.get("page", "1") or "1")

        with self._lock:
            matches = [o for o in self._orders.values() if self._matches(o, filters)]
            matches.sort(key=self._sort_key)
            pages = max(1, math.ceil(len(matches) / size))
            if page is None or page < 1 or page > pages:
                return _json(404, {"detail": "Invalid page."})
            results = [self._render(o, host) for o in matches[(page - 1) * size : page * size]]
            if results and self._malformed_kinds:
                self._faults["malformed"] -= 1
                kind = self._malformed_kinds.popleft()
                victim = results[len(results) // 2]
                record.faults.append(f"malformed:{kind}:{victim.get('order_id')}")
                _break(victim, kind)

        return _json(200, {
            "count": len(matches),
            "next": _link(host, path, pairs, page + 1) if page < pages else None,
            "previous": _link(host, path, pairs, page - 1) if page > 1 else None,
            "results": results,
        })  # fmt: skip

    @staticmethod
    def _matches(order: dict, filters: dict[str, Any]) -> bool:
        if order.get("state") in HIDDEN_ORDER_STATES:
            return False
        if "state" in filters and order.get("state") != filters["state"]:
            return False
        if "country_code" in filters and order.get("country_code") != filters["country_code"]:
            return False
        for name in ("date_creation", "date_modification"):
            if name in filters:
                try:
                    if parse_ts(order[name]) < filters[name]:
                        return False
                except (KeyError, TypeError, ValueError):
                    return False
        return True

    # ---- POST /ws/orders/{id}
    def _update_order(self, order_id: int | None, body: Any, host: str) -> _Response:
        with self._lock:
            order = self._orders.get(order_id) if order_id is not None else None
            if order is None:
                return _bare(404, "order not found")
            if not isinstance(body, dict):
                return _bare(400, "Invalid body: expected a JSON object")
            error = self._apply(order, body)
            if error:
                return _bare(400, error)
            return _json(200, self._render(order, host))

    def _apply(self, order: dict, body: dict) -> str | None:
        """Validate everything, then change the order; returns the 400 message or None."""
        for key in ("order_id", "id"):
            if key in body and _int(body[key]) != order["order_id"]:
                return f"{key} {body[key]} does not match the order {order['order_id']} of the URL"
        if "new_state" not in body or body["new_state"] is None:
            return "new_state is required"
        new_state = _int(body["new_state"])
        if new_state not in ALLOWED_NEW_STATES:
            return f"new_state {body['new_state']} must be in 2,3,4,5,6"
        lines = order["orderlines"]
        sku = body.get("sku")
        sku = sku.strip() if isinstance(sku, str) else ""
        if sku:
            targets = [li for li in lines if str(li["listing"]).lower() == sku.lower()]
            if not targets:
                return "sku not found"
        elif new_state == 3:
            targets = [li for li in lines if li["state"] not in (4, 5, 6, 7)]
        else:
            return "sku not found"

        for name, limit in (("tracking_number", 200), ("tracking_url", 300), ("shipper", 200),
                            ("return_message", 500), ("serial_number", 50)):  # fmt: skip
            value = body.get(name)
            if value is not None and (not isinstance(value, str) or len(value) > limit):
                return f"{name} must be a string of at most {limit} characters"
        if body.get("return_reason") is not None and _int(body["return_reason"]) not in RETURN_REASONS:
            return f"return_reason {body['return_reason']} is not a valid return reason"
        date_shipping = None
        if new_state == 3:
            if not (body.get("tracking_number") or "").strip():
                return "tracking_number is required when new_state is 3"
            if body.get("date_shipping"):
                try:
                    date_shipping = parse_ts(str(body["date_shipping"]))
                except ValueError:
                    return f"date_shipping '{body['date_shipping']}' is not a valid date-time"
        imei, serial = body.get("imei") or "", body.get("serial_number") or ""
        if new_state == 3 and (imei or serial):
            if not (len(lines) == 1 and lines[0]["quantity"] == 1):
                return ("imei and serial_number can only be sent when the order has exactly one orderline with "
                        "quantity 1; use PATCH /ws/orderlines/{id} for each line")  # fmt: skip
            if imei and not is_valid_imei(imei):
                return f"imei '{imei}' is not a valid IMEI (15 digits with a valid check digit)"
            for name, value in (("imei", imei), ("serial_number", serial)):
                if value and lines[0].get(name) and lines[0][name] != value:
                    return f"{name} is already registered for orderline {lines[0]['id']} and cannot be corrected"

        required = REQUIRED_LINE_STATE[new_state]
        if not targets:
            return "no orderline of this order can be shipped"
        for line in targets:
            if line["state"] == required:
                continue
            if line["state"] == new_state:
                verb = {2: "accepted", 3: "shipped", 4: "cancelled", 5: "refunded", 6: "refunded"}[new_state]
                return f"orderline {line['id']} (sku {line['listing']}) is already {verb} (state {new_state})"
            return (f"orderline {line['id']} (sku {line['listing']}) is in state {line['state']}; "
                    f"new_state {new_state} needs state {required}")  # fmt: skip

        # ---- valid: apply
        for line in targets:
            line["state"] = new_state
            if new_state in (4, 5, 6) and body.get("return_reason") is not None:
                line["return_reason"] = _int(body["return_reason"])
            if new_state == 6 and body.get("return_message") is not None:
                line["return_message"] = body["return_message"]
            if new_state == 3 and body.get("shipper"):
                line["shipper"] = body["shipper"]
        if new_state == 3:
            order["tracking_number"] = body["tracking_number"]
            order["tracking_url"] = body.get("tracking_url") or ""
            if body.get("shipper"):
                order["shipper"] = order["shipper_display"] = body["shipper"]
            order["date_shipping"] = format_ts(date_shipping or self.now(), "Z")
            order["expected_dispatch_date"] = None
            if body.get("vat_type"):
                order["vat_type"] = body["vat_type"]
            if imei:
                lines[0]["imei"] = imei
            if serial:
                lines[0]["serial_number"] = serial
        states = [li["state"] for li in lines]
        if all(s in FINAL_LINE_STATES for s in states):
            order["state"] = 9
        elif 1 in states:
            order["state"] = 1
        elif 2 in states:
            order["state"] = 3
        order["date_modification"] = self._stamp()
        return None

    # ---- PATCH /ws/orderlines/{id}
    def _patch_line(self, line_id: int | None, body: Any) -> _Response:
        with self._lock:
            order_id = self._line_index.get(line_id) if line_id is not None else None
            order = self._orders.get(order_id) if order_id is not None else None
            line = next((li for li in (order or {}).get("orderlines", []) if li.get("id") == line_id), None)
            if line is None:
                return _error_v1(404, "NotFound", f"Orderline {line_id} not found.")
            if not isinstance(body, dict):
                return _error_v1(422, "ValidationError", "Expected a JSON object with imei and/or serial_number.")
            values = {k: body.get(k) for k in ("imei", "serial_number") if body.get(k) not in (None, "")}
            if not values:
                return _error_v1(422, "ValidationError", "At least one of imei or serial_number is required.")
            if "imei" in values and not is_valid_imei(values["imei"]):
                return _error_v1(422, "ValidationError", "imei must be a valid IMEI (15 digits with a valid check "
                                                         "digit).", target="imei")  # fmt: skip
            serial = values.get("serial_number")
            if serial is not None and (not isinstance(serial, str) or len(serial) > 50):
                return _error_v1(422, "ValidationError", "serial_number must be a string of at most 50 characters.",
                                 target="serial_number")  # fmt: skip
            for name, value in values.items():
                if line.get(name) and line[name] != value:
                    message = f"{name} is already registered for orderline {line_id} and cannot be corrected."
                    return _error_v1(422, "ValidationError", message, target=name)
            changed = any(line.get(name) != value for name, value in values.items())
            line.update(values)
            if changed:
                order["date_modification"] = self._stamp()
            return _json(200, {"id": line["id"], "imei": line.get("imei", ""),
                               "serial_number": line.get("serial_number", "")})  # fmt: skip

    # ------------------------------------------------------------------------------------------------ HTTP: control
    def _control(self, method: str, path: str, body: Any) -> _Response:
        """The control API (no credentials; not under /ws/, not rate-limited, not logged):

        GET  /_sandbox                       summary: token(s), order counts, pending faults, endpoints
        GET  /_sandbox/faults                pending fault counts
        POST /_sandbox/faults                {"status_429": 2, "status_500": 1, "timeout": 1, "malformed": 1,
                                              "cloudflare_403": 1, "malformed_kind": "...", "timeout_seconds": 0.5}
                                             or {"clear": true}
        GET  /_sandbox/tokens                {"tokens": [...]}
        POST /_sandbox/tokens                {"revoke": "old"} and/or {"add": "new"}
        GET  /_sandbox/orders                summary of every order (hidden states too)
        POST /_sandbox/orders                {"count": N} generate N now, or {"order": {add_order keyword args}}
        GET  /_sandbox/orders/{id}           the raw order
        POST /_sandbox/orders/{id}           {raw fields}, e.g. {"state": 1} (the customer paid)
        GET  /_sandbox/requests              the last 200 recorded /ws/ requests
        GET  /_sandbox/delivery-notes/{id}.pdf  the packing slip the order's delivery_note points to
        GET  /_sandbox/listings              every listing, raw (+ markets, offline_by_seller, competitors)
        POST /_sandbox/listings              {"listing": {add_listing keyword args}} or {"count": N} generate N
        GET  /_sandbox/listings/{id_or_sku}  one listing, raw (UUID, legacy listing_id or SKU)
        POST /_sandbox/listings/{id_or_sku}  {raw fields, optional "market"}, e.g. {"quantity": 0} or
                                             {"market": "en-gb", "price": "199.00", "max_price": 300}
        GET  /_sandbox/competitors/{uuid}    the Backbox answer as it is now (reading it here moves nothing)
        POST /_sandbox/competitors/{uuid}    {"competitors": [{"market": "FR", "is_winning": false,
                                              "price_to_win": "239.00", "winner_price": "240.00"}, ...]}
        POST /_sandbox/competitors           {"moves": false} stops (true restarts) the rivals' random walk
        GET  /_sandbox/tasks                 every bulk CSV task (status, result, market, lines, age)
        GET  /_sandbox/offers                what could be listed: SKU, product UUID, grade, usual fr-fr price
        """
        try:
            return self._control_route(method, path, body)
        except (TypeError, ValueError, KeyError) as exc:
            return _json(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _control_route(self, method: str, path: str, body: Any) -> _Response:
        body = body if isinstance(body, dict) else {}
        path = path.rstrip("/") or "/"
        if path == "/_sandbox" and method == "GET":
            with self._lock:
                self._advance_tasks()
                states = collections.Counter(o["state"] for o in self._orders.values())
                publication = collections.Counter(r["publication_state"] for r in self._listings.values())
                task_states = collections.Counter(t["action_status"] for t in self._tasks.values())
                limits = {"rate_limit": self.rate_limit, "rate_window": self.rate_window,
                          "catalog_limit": self.catalog_limit, "catalog_window": self.catalog_window,
                          "catalog_block": self.catalog_block, "backbox_limit": self.backbox_limit,
                          "backbox_window": self.backbox_window, "write_lines_per_hour": self.write_lines_per_hour,
                          "write_window": self.write_window}  # fmt: skip
                return _json(200, {"token": self.token, "tokens": sorted(self._tokens),
                                   "orders": len(self._orders), "orders_by_state": dict(sorted(states.items())),
                                   "listings": len(self._listings),
                                   "listings_by_publication_state": dict(sorted(publication.items())),
                                   "tasks": len(self._tasks),
                                   "tasks_by_action_status": dict(sorted(task_states.items())),
                                   "task_delay": self.task_delay, "competitor_moves": self.competitor_moves,
                                   "limits": limits,
                                   "faults": dict(self._faults), "timeout_seconds": self.timeout_seconds,
                                   "example_user_agent": EXAMPLE_USER_AGENT,
                                   "endpoints": [ln.strip() for ln in (self._control.__doc__ or "").splitlines()
                                                 if ln.strip().startswith(("GET", "POST"))]})  # fmt: skip
        if path == "/_sandbox/faults":
            if method == "POST":
                if body.pop("clear", False):
                    self.clear_faults()
                unknown = set(body) - {*FAULT_KINDS, "malformed_kind", "timeout_seconds"}
                if unknown:
                    raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
                self.inject(**body)
            return _json(200, {"faults": self.faults, "timeout_seconds": self.timeout_seconds})
        if path == "/_sandbox/tokens":
            if method == "POST":
                if body.get("revoke"):
                    self.revoke_token(body["revoke"])
                if body.get("add"):
                    self.add_token(body["add"])
            return _json(200, {"tokens": sorted(self.tokens)})
        if path == "/_sandbox/orders":
            if method == "POST":
                if "order" in body:
                    created = [self.add_order(**body["order"])]
                else:
                    created = self.generate(int(body.get("count", 1)))
                return _json(201, {"created": [o["order_id"] for o in created], "orders": created})
            with self._lock:
                summary = [{"order_id": o.get("order_id"), "state": o.get("state"),
                            "country_code": o.get("country_code"), "date_modification": o.get("date_modification"),
                            "lines": [{"id": li.get("id"), "listing": li.get("listing"), "state": li.get("state"),
                                       "quantity": li.get("quantity")} for li in o.get("orderlines") or []]}
                           for o in sorted(self._orders.values(), key=self._sort_key)]  # fmt: skip
            return _json(200, summary)
        if m := re.fullmatch(r"/_sandbox/orders/(\d+)", path):
            order_id = int(m.group(1))
            if method == "POST":
                return _json(200, self.update_order(order_id, **body))
            try:
                return _json(200, self.order(order_id))
            except KeyError:
                return _json(404, {"error": f"no order {order_id}"})
        if path == "/_sandbox/listings":
            if method == "POST":
                if "listing" in body:
                    created = [self.add_listing(**body["listing"])]
                else:
                    created = self.generate_listings(int(body.get("count", 1)))
                raw = [self.listing(c["id"], raw=True) for c in created]
                return _json(201, {"created": [c["id"] for c in created], "listings": raw})
            return _json(200, self.listings(raw=True))
        if m := re.fullmatch(r"/_sandbox/listings/([^/]+)", path):
            key = m.group(1)
            with self._lock:
                if self._find_listing(key) is None:
                    return _json(404, {"error": f"no listing {key}"})
                if method == "POST":
                    self.update_listing(key, **body)
                return _json(200, self.listing(key, raw=True))
        if path == "/_sandbox/competitors" and method == "POST":
            if "moves" in body:
                self.competitor_moves = bool(body["moves"])
            return _json(200, {"competitor_moves": self.competitor_moves})
        if m := re.fullmatch(r"/_sandbox/competitors/([^/]+)", path):
            key = m.group(1)
            with self._lock:
                if self._find_listing(key) is None:
                    return _json(404, {"error": f"no listing {key}"})
                if method == "POST":
                    items = body.get("competitors")
                    if not isinstance(items, list):
                        raise ValueError('expected {"competitors": [...]}')
                    return _json(200, self.set_competitors(key, items))
                return _json(200, self.competitors(key))
        if path == "/_sandbox/tasks":
            return _json(200, self.tasks())
        if path == "/_sandbox/offers":
            return _json(200, self.catalog_offers())
        if path == "/_sandbox/requests":
            rows = [{"method": r.method, "path": r.path, "query": r.query, "market": r.market, "status": r.status,
                     "faults": r.faults, "user_agent": r.headers.get("user-agent"), "at": r.at.isoformat()}
                    for r in self.requests[-200:]]  # fmt: skip
            return _json(200, rows)
        if m := re.fullmatch(r"/_sandbox/delivery-notes/(\d+)\.pdf", path):
            with self._lock:
                order = self._orders.get(int(m.group(1)))
                if order is None:
                    return _json(404, {"error": "no such order"})
                text = [f"Back Market sandbox - delivery note for order {order['order_id']}", ""]
                text += [f"{li.get('quantity')} x {li.get('listing')}  (orderline {li.get('id')})"
                         for li in order.get("orderlines") or [] if isinstance(li, dict)]  # fmt: skip
            return _Response(200, data.minimal_pdf(text), "application/pdf")
        return _json(404, {"error": f"unknown control path {method} {path}"})


def _link(host: str, path: str, pairs: list[tuple[str, str]], number: int) -> str:
    """The absolute URL of page ``number``, the other parameters kept (like DRF's replace/remove_query_param)."""
    kept = [(k, v) for k, v in pairs if k != "page"]
    if number > 1:
        kept.append(("page", str(number)))
    query = urlencode(sorted(kept))
    return f"http://{host}{path}" + (f"?{query}" if query else "")


def _break(order: dict, kind: str) -> None:
    """Make ``order`` (a served copy) malformed in a way a mapper must reject."""
    if kind == "orderlines_not_list":
        lines = order.get("orderlines") or [{}]
        order["orderlines"] = lines[0]  # one object instead of a list of them
    elif kind == "missing_order_id":
        order.pop("order_id", None)
    elif kind == "price_not_number":
        order["price"] = "N/A"
        for line in order.get("orderlines") or []:
            line["price"] = "N/A"


def _parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Handler(SandboxHandler):
    server_version = "cloudflare"
    sys_version = ""
    banner = "cloudflare"
    server: ThreadingHTTPServer

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        sandbox: BackMarketSandbox = self.server.sandbox  # type: ignore[attr-defined]
        length = _int(self.headers.get("Content-Length") or "0") or 0
        raw = self.rfile.read(length) if length > 0 else b""
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        try:
            if split.path == "/ws" or split.path.startswith("/ws/"):
                headers = {k.lower(): v for k, v in self.headers.items()}
                response = sandbox._ws(method, split.path, pairs, split.query, headers, raw, self.client_address[0])
            elif split.path == "/_sandbox" or split.path.startswith("/_sandbox/"):
                response = sandbox._control(method, split.path, _parse_body(raw))
            else:
                response = _bare(404, "Not found")
        except Exception as exc:  # a sandbox bug: say so rather than dropping the connection
            response = _error_v1(500, "SandboxError", f"{type(exc).__name__}: {exc}")
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. the timeout fault)
            self.close_connection = True


BackMarketSandbox.handler_class = _Handler  # defined below the sandbox, which it serves
