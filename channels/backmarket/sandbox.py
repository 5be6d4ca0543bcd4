"""A stateful stand-in for the Back Market seller API (``/ws/orders``, ``/ws/orderlines``), standard library only.

It speaks the wire protocol described in docs/reference/backmarket-api.md, not what our adapter expects:

* ``Authorization: Basic <token>`` (token verbatim), else 401; ``User-Agent: BM-<Company>-<Integration>;<email>``,
  else a WAF-style JSON 403 (``bot-need-challenge``). Every /ws/ response carries ``server: cloudflare`` and a
  ``cf-ray`` header, as Cloudflare sits in front of the real API.
* ``GET /ws/orders`` (filters ``state``, ``date_creation``, ``date_modification``, ``country_code``, ``page``,
  ``page-size``; orders in state 0 and 8 never listed), ``GET /ws/orders/{id}``, ``POST /ws/orders/{id}`` (orderline
  state transitions), ``PATCH /ws/orderlines/{id}`` (write-once IMEI / serial number).
* More than ``rate_limit`` requests in ``rate_window`` seconds per token: 429 and blocked ``rate_block`` seconds.
* Faults for the next /ws/ requests (429, 500, a hang longer than a client timeout, a Cloudflare HTML 403, one
  malformed order in the next list page), from Python (:meth:`BackMarketSandbox.inject`) or over HTTP on
  ``/_sandbox/...`` (see :meth:`BackMarketSandbox._control`). The control paths need no credentials.

Usage::

    with BackMarketSandbox(token="secret", seed=1, orders=20) as sandbox:
        requests.get(f"{sandbox.base_url}/ws/orders", headers={"Authorization": "Basic secret", "User-Agent": UA})
"""

from __future__ import annotations

import base64
import collections
import copy
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
        self._init_server()
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
                self._store(order)
            return [self._render(o) for o in batch]

    def add_order(self, *, state: int = 1, lines: int | list[dict] | None = None, market: str | None = None,
                  **overrides: Any) -> dict:  # fmt: skip
        """Add one generated order in ``state`` and return a copy.

        ``lines``: a number of lines, or one dict of overrides per line (e.g. ``{"listing": "SKU-A", "quantity": 2}``;
        a line's ``price`` follows its quantity unless given). ``market``: e.g. "en-gb". Other keyword arguments
        replace top-level keys (``order_id``, ``shipping_address``, ``date_modification``...; datetimes are
        formatted). Totals are recomputed from the lines unless ``price`` is given.
        """
        if state not in data.LINE_STATE_FOR_ORDER_STATE:
            raise ValueError(f"state must be one of {sorted(data.LINE_STATE_FOR_ORDER_STATE)}")
        with self._lock:
            n_lines = lines if isinstance(lines, int) else (len(lines) if lines else None)
            order = self._gen.order(now=self.now(), market=market, state=state, n_lines=n_lines)
            if isinstance(lines, list):
                for line, line_overrides in zip(order["orderlines"], lines, strict=True):
                    quantity = line_overrides.get("quantity", line["quantity"])
                    if quantity != line["quantity"] and "price" not in line_overrides:
                        unit = data.Decimal(line["price"]) / line["quantity"]
                        line["price"] = data.money(unit * quantity)
                        line["orderline_fee"] = data.money(unit * quantity * data.Decimal("0.10"))
                    if "listing" in line_overrides and "listing_id" not in line_overrides:
                        line["listing_id"] = data.listing_id_for(str(line_overrides["listing"]))
                    line.update(line_overrides)
            for key, value in overrides.items():
                order[key] = format_ts(value, "Z") if isinstance(value, datetime) else value
            if "order_id" in overrides:
                order["delivery_note"] = f"/_sandbox/delivery-notes/{order['order_id']}.pdf"
            if "price" not in overrides:
                data.recompute_totals(order)
            self._store(order)
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
        with self._lock:
            known = scheme.lower() == "basic" and credential.strip() in self._tokens
        if not known:
            return _error_v1(401, "Unauthorized", "Authentication credentials were missing or are invalid.")

        host = headers.get("host") or f"{self.host}:{self.port}"
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

    def _rate_check(self, key: str) -> float | None:
        """None if allowed, else the seconds left in the block."""
        now = time.monotonic()
        with self._lock:
            blocked = self._blocked_until.get(key, 0.0)
            if now < blocked:
                return blocked - now
            hits = self._hits[key]
            while hits and hits[0] <= now - self.rate_window:
                hits.popleft()
            hits.append(now)
            if len(hits) > self.rate_limit:
                hits.clear()
                self._blocked_until[key] = now + self.rate_block
                return self.rate_block
        return None

    def _rate_limited(self, seconds_left: float) -> _Response:
        response = _error_v1(429, "RateLimited", "Too many requests: more than the allowed number of requests in "
                                                  "10 seconds. Requests are blocked for 10 seconds.")  # fmt: skip
        if self.retry_after:
            response.headers.append(("Retry-After", str(max(1, math.ceil(seconds_left)))))
        return response

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

        def link(number: int) -> str:
            kept = [(k, v) for k, v in pairs if k != "page"]
            if number > 1:
                kept.append(("page", str(number)))
            query = urlencode(sorted(kept))  # like DRF's replace_query_param / remove_query_param
            return f"http://{host}{path}" + (f"?{query}" if query else "")

        return _json(200, {
            "count": len(matches),
            "next": link(page + 1) if page < pages else None,
            "previous": link(page - 1) if page > 1 else None,
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
                states = collections.Counter(o["state"] for o in self._orders.values())
                return _json(200, {"token": self.token, "tokens": sorted(self._tokens),
                                   "orders": len(self._orders), "orders_by_state": dict(sorted(states.items())),
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
