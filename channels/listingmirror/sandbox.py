"""A stateful stand-in for a ShipStation Custom Store (XML v1) endpoint, as Listing Mirror exposes; stdlib only.

It follows docs/reference/shipstation.md §1 (not our adapter):

* One endpoint (``/shipstation`` by default, :attr:`CustomStoreSandbox.endpoint_url`) that branches on ``action``.
  HTTP Basic auth with the generated username/password ("generated credentials", §1.10); anything else gets
  ``401`` + ``WWW-Authenticate: Basic realm="Listing Mirror"`` + a plain-text body.
* ``GET ?action=export&start_date=MM/dd/yyyy HH:mm&end_date=...&page=N`` (UTC): every order whose LastModified is in
  the window, whatever its status, oldest change first, ``page_size`` per page (default 50), as
  ``<Orders pages="N">``. The end bound is inclusive of the whole minute it names (CraftCommerce's ``:59``).
* ``POST ?action=shipnotify&order_number=&carrier=&service=&tracking_number=`` with a ``<ShipNotice>`` body:
  per-line partial shipments (LineItemID, else SKU), several tracking numbers per order, duplicate notices answered
  200 without change, a missing/empty body ships the whole order (WooCommerce).
* Faults for the next requests (401, 500, a hang, a malformed page, an XML bomb) from Python
  (:meth:`CustomStoreSandbox.inject`) or over HTTP on ``/_sandbox/...`` (no credentials; see ``_control``).

Usage::

    with CustomStoreSandbox(username="u", password="p", seed=1, orders=20) as sandbox:
        requests.get(sandbox.endpoint_url, params={"action": "export", "start_date": "01/01/2020 00:00",
                     "end_date": "12/31/2099 23:59"}, auth=("u", "p"))
"""

from __future__ import annotations

import base64
import binascii
import collections
import copy
import hmac
import json
import math
import random
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..sandbox_server import SandboxHandler, SandboxServer
from . import sandbox_data as data

DEFAULT_PATH = "/shipstation"
DEFAULT_PAGE_SIZE = 50  # the reference lists 25/50/100 in the wild; SOL (spree) uses 50
FAULT_KINDS = ("status_401", "status_500", "timeout", "xml_bomb", "malformed_xml")  # order of precedence
REQUEST_FAULTS = ("status_401", "status_500", "timeout")  # taken by any endpoint request
EXPORT_FAULTS = ("xml_bomb", "malformed_xml")  # taken by the next authenticated, valid export
MALFORMED_KINDS = ("truncated", "bare_ampersand", "unclosed_tag")
BOMB_KINDS = ("billion_laughs", "external_entity")
AUTH_FAILED = "Invalid ShipStation username or password."
SERVER_ERROR_HTML = (
    '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>500 Internal Server Error</title>\n'
    "</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or misconfiguration "
    "and was unable to complete your request.</p>\n</body></html>\n"
)
BILLION_LAUGHS_DTD = (
    '<!DOCTYPE Orders [\n  <!ENTITY lol "lol">\n'
    + "".join(f'  <!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">\n' for n in range(1, 10))
    + "]>"
)
EXTERNAL_ENTITY_DTD = '<!DOCTYPE Orders [\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>'


@dataclass
class RecordedRequest:
    """One request the sandbox received outside /_sandbox/."""

    method: str
    path: str
    query: dict[str, str]  # last value of each parameter, decoded
    headers: dict[str, str]  # names lower-cased
    body: str | None  # the raw body as text (UTF-8, errors replaced), None when empty
    raw_query: str = ""
    status: int | None = None  # filled in when the response is ready
    faults: list[str] = field(default_factory=list)  # e.g. ["timeout"], ["malformed_xml:truncated"]
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_dict(self) -> dict:
        return {"method": self.method, "path": self.path, "query": self.query, "raw_query": self.raw_query,
                "headers": self.headers, "body": self.body, "status": self.status, "faults": self.faults,
                "at": self.at.isoformat()}  # fmt: skip


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def _text(status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> _Response:
    return _Response(status, (message + "\n").encode("utf-8"), "text/plain; charset=utf-8", list(headers))


def _json(status: int, payload: Any) -> _Response:
    return _Response(status, json.dumps(payload, ensure_ascii=False, default=str).encode(), "application/json")


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except ValueError:
        return data.parse_window_date(text)[0]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child_text(element: ET.Element | None, name: str) -> str | None:
    if element is None:
        return None
    for child in element:
        if _local(child.tag) == name:
            return (child.text or "").strip()
    return None


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((c for c in element if _local(c.tag) == name), None)


class NoticeError(ValueError):
    """A shipnotify request the endpoint refuses (the message becomes the plain-text 4xx body)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class CustomStoreSandbox(SandboxServer):
    """The sandbox server and its state. All state lives behind one lock; the HTTP handlers call into it."""

    thread_name = "lm-sandbox"

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,  # run_sandbox's --token: taken as the password
        seed: int | None = 1,
        orders: int = 20,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = DEFAULT_PAGE_SIZE,
        path: str = DEFAULT_PATH,
        new_order_every: float | None = None,
        timeout_seconds: float = 35.0,
        marketplace_label: str = "Listing Mirror",
        allow_query_auth: bool = False,
        clock: Callable[[], datetime] | None = None,
        log: Callable[[str], None] | None = None,
    ):
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._lock = threading.RLock()
        self._gen = data.OrderGenerator(seed)
        creds = random.Random(f"credentials:{seed}")  # noqa: S311 - own stream: the orders don't depend on given credentials
        self.username = username or "lm-ss-" + "".join(creds.choice("0123456789abcdef") for _ in range(8))
        self.password = (
            password
            or token
            or "".join(creds.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789") for _ in range(24))
        )
        self.seed = seed
        self.host, self.port = host, port
        self.path = "/" + path.strip("/")
        self.page_size = page_size
        self.new_order_every = new_order_every
        self.timeout_seconds = timeout_seconds
        self.marketplace_label = marketplace_label
        self.allow_query_auth = allow_query_auth
        self._clock = clock or (lambda: datetime.now(UTC))
        self._log = log
        self._orders: dict[str, dict] = {}
        self._by_number: dict[str, str] = {}
        self._faults: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        self._malformed_kinds: collections.deque[str] = collections.deque()
        self._bomb_kinds: collections.deque[str] = collections.deque()
        self._malformed_turn = 0
        self._requests: list[RecordedRequest] = []
        self._init_server()
        self.generate(orders, historic=True)

    # ------------------------------------------------------------------------------------------------ lifecycle
    @property
    def endpoint_url(self) -> str:
        """The "URL to custom XML page" a ShipStation user would type in."""
        return self.base_url + self.path

    @property
    def token(self) -> str:
        """run_sandbox's name for the secret: the password."""
        return self.password

    def _feed(self) -> None:
        moves = {"Unpaid": ("Paid",), "Hold": ("Paid",), "Paid": ("Hold", "Cancelled")}
        while not self._stopping.wait(self.new_order_every):
            with self._lock:
                self.generate(1)
                rng = self._gen.rng
                if rng.random() < 0.3:  # a buyer paid, a hold was released, an order was held or cancelled
                    candidates = [o for o in self._orders.values() if o["status"] in moves]
                    if candidates:
                        order = rng.choice(candidates)
                        choices = moves[order["status"]]
                        new = choices[0] if order["status"] != "Paid" or rng.random() < 0.7 else choices[1]
                        self._change_status(order, new)

    # ------------------------------------------------------------------------------------------------ faults
    def inject(
        self,
        *,
        status_401: int = 0,
        status_500: int = 0,
        timeout: int = 0,
        malformed_xml: int = 0,
        xml_bomb: int = 0,
        no_ship_to: int = 0,
        custom_status: int = 0,
        malformed_kind: str | None = None,
        xml_bomb_kind: str | None = None,
        timeout_seconds: float | None = None,
    ) -> dict[str, int]:
        """Affect the next N endpoint requests (counts add up); returns the pending counts.

        One request takes at most one of status_401, status_500, timeout (in that order). ``timeout`` holds the
        request ``timeout_seconds`` (default 35 s) and then answers it normally, so a shipnotify the client gave up
        on still happens. ``xml_bomb`` and ``malformed_xml`` are taken by the next authenticated, valid export (bomb
        first): ``xml_bomb_kind`` billion_laughs (default; a DTD of nested entities referenced in CustomerNotes) or
        external_entity (``SYSTEM "file:///etc/passwd"``); ``malformed_kind`` truncated, bare_ampersand or
        unclosed_tag (by default they take turns). ``no_ship_to`` and ``custom_status`` add that many orders now
        (status Paid without ShipTo / a status outside Unpaid, Paid, Shipped, Cancelled, Hold).
        """
        return self._inject(
            status_401=status_401,
            status_500=status_500,
            timeout=timeout,
            malformed_xml=malformed_xml,
            xml_bomb=xml_bomb,
            no_ship_to=no_ship_to,
            custom_status=custom_status,
            malformed_kind=malformed_kind,
            xml_bomb_kind=xml_bomb_kind,
            timeout_seconds=timeout_seconds,
        )[0]

    def _inject(self, *, status_401=0, status_500=0, timeout=0, malformed_xml=0, xml_bomb=0, no_ship_to=0,
                custom_status=0, malformed_kind=None, xml_bomb_kind=None, timeout_seconds=None):  # fmt: skip
        if malformed_kind is not None and malformed_kind not in MALFORMED_KINDS:
            raise ValueError(f"malformed_kind must be one of {', '.join(MALFORMED_KINDS)}")
        if xml_bomb_kind is not None and xml_bomb_kind not in BOMB_KINDS:
            raise ValueError(f"xml_bomb_kind must be one of {', '.join(BOMB_KINDS)}")
        counts = {"status_401": status_401, "status_500": status_500, "timeout": timeout,
                  "malformed_xml": malformed_xml, "xml_bomb": xml_bomb, "no_ship_to": no_ship_to,
                  "custom_status": custom_status}  # fmt: skip
        for kind, count in counts.items():
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise ValueError(f"{kind} must be a count (a non-negative integer)")
        added: list[str] = []
        with self._lock:
            for kind in FAULT_KINDS:
                self._faults[kind] += counts[kind]
            for _ in range(malformed_xml):
                kind = malformed_kind or MALFORMED_KINDS[self._malformed_turn % len(MALFORMED_KINDS)]
                self._malformed_turn += malformed_kind is None
                self._malformed_kinds.append(kind)
            self._bomb_kinds.extend([xml_bomb_kind or BOMB_KINDS[0]] * xml_bomb)
            if timeout_seconds is not None:
                self.timeout_seconds = float(timeout_seconds)
            for _ in range(no_ship_to):
                added.append(self.add_order(status="Paid", ship_to=None)["order_id"])
            for _ in range(custom_status):
                added.append(self.add_order(status=self._gen.rng.choice(data.CUSTOM_STATUSES))["order_id"])
            return dict(self._faults), added

    @property
    def faults(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults = dict.fromkeys(FAULT_KINDS, 0)
            self._malformed_kinds.clear()
            self._bomb_kinds.clear()

    def _take(self, kinds: Iterable[str]) -> str | None:
        with self._lock:
            for kind in kinds:
                if self._faults[kind] > 0:
                    self._faults[kind] -= 1
                    if kind == "malformed_xml":
                        return f"malformed_xml:{self._malformed_kinds.popleft()}"
                    if kind == "xml_bomb":
                        return f"xml_bomb:{self._bomb_kinds.popleft()}"
                    return kind
        return None

    # ------------------------------------------------------------------------------------------------ orders
    def now(self) -> datetime:
        return self._clock().astimezone(UTC).replace(microsecond=0)

    def _store(self, order: dict) -> None:
        if order["order_id"] in self._orders:
            raise ValueError(f"order {order['order_id']} already exists")
        if order["order_number"] in self._by_number:
            raise ValueError(f"order number {order['order_number']} already exists")
        self._orders[order["order_id"]] = order
        self._by_number[order["order_number"]] = order["order_id"]

    def generate(self, count: int, *, historic: bool = False) -> list[dict]:
        """Add ``count`` generated orders and return copies. New orders were just modified; ``historic=True``
        spreads them over the last three days (as for the orders generated at construction). A batch of 10 or
        more holds exactly one order without ShipTo and one with a custom status (see OrderGenerator.batch)."""
        with self._lock:
            batch = self._gen.batch(count, now=self.now(), historic=historic)
            for order in batch:
                self._store(order)
            return [_jsonable(copy.deepcopy(o)) for o in batch]

    def add_order(
        self,
        *,
        status: str = "Paid",
        items: int | list[dict] | None = None,
        ship_to: bool | str | dict | None = True,
        channel: str | None = None,
        country: str | None = None,
        tag: str | None = None,
        full: bool = False,
        adjustment: bool | None = None,
        **overrides: Any,
    ) -> dict:
        """Add one generated order and return a copy of its raw state.

        ``status``: any string (Listing Mirror's are Unpaid, Paid, Shipped, Cancelled, Hold). ``items``: a number of
        lines, or one dict of overrides per line (``{"sku": "A", "quantity": 2}``; ``{"adjustment": True,
        "unit_price": "-5.00"}`` makes a discount line). ``ship_to``: True (generated), None/False (no ShipTo
        element), "empty" (``<ShipTo/>``) or a dict merged into the generated address. ``channel``: a Listing
        Mirror integration ("Amazon US", "eBay", "Walmart", "Shopify", ...); ``country``/``tag`` pick the buyer
        (tag: polish, german, japanese, cyrillic, greek). ``full``: every element of the reference's table.
        ``adjustment``: True adds a coupon line, False removes any. Other keywords replace top-level keys
        (``order_id``, ``order_number``, ``last_modified``/``order_date`` as datetime or string,
        ``customer_notes``, ``date_style``, ``text_style``, ``export_line_item_ids``...). Totals are recomputed
        unless ``order_total`` is given.
        """
        if not isinstance(status, str) or not status.strip():
            raise ValueError("status must be a non-empty string")
        if channel is not None and channel not in data.CHANNELS:
            raise ValueError(f"channel must be one of {', '.join(data.CHANNELS)}")
        with self._lock:
            n_items = items if isinstance(items, int) else (len(items) if items else None)
            ship_flag: bool | str = ship_to if ship_to in (True, "empty") or isinstance(ship_to, dict) else False
            order = self._gen.order(now=self.now(), status="Paid", channel=channel, country=country, tag=tag,
                                    n_items=n_items, ship_to=True if isinstance(ship_flag, dict) else ship_flag,
                                    full=full)  # fmt: skip
            if isinstance(ship_to, dict):
                order["ship_to"].update(ship_to)
            chan = data.CHANNELS[order["custom_field2"]]
            if isinstance(items, list):
                lines = [li for li in order["items"] if not li["adjustment"]]
                built = []
                for line, line_overrides in zip(lines, items, strict=False):
                    if line_overrides.get("adjustment"):
                        line = self._gen.adjustment(chan, Decimal("10"))
                    built.append({**line, **line_overrides})
                order["items"] = built
            if adjustment is True and not any(li["adjustment"] for li in order["items"]):
                subtotal = sum((Decimal(li["unit_price"]) * li["quantity"] for li in order["items"]), Decimal(0))
                order["items"].append(self._gen.adjustment(chan, subtotal))
            elif adjustment is False:
                order["items"] = [li for li in order["items"] if not li["adjustment"]]
            for key, value in overrides.items():
                order[key] = _as_datetime(value) if key in ("order_date", "last_modified") else value
            if "order_total" not in overrides:
                data.recompute_totals(order)
            order["status"] = status
            if status == "Shipped":
                self._gen.mark_shipped(order, when=order["last_modified"])
            self._store(order)
            return self._raw(order)

    def no_ship_to(self, *, empty: bool = False, **overrides: Any) -> dict:
        """Add a Paid order without a ship-to address: no ShipTo element, or ``<ShipTo/>`` with ``empty=True``."""
        return self.add_order(ship_to="empty" if empty else None, **{"status": "Paid", **overrides})

    def _find(self, key: str) -> dict:
        key = str(key)
        order = self._orders.get(key) or self._orders.get(self._by_number.get(key, ""))
        if order is None:
            raise KeyError(key)
        return order

    def order(self, order_id: str) -> dict:
        """The raw state of one order (by OrderID or OrderNumber): items with ``shipped_quantity``, ``shipments``
        (every notice applied) and ``tracking_numbers``; datetimes as ISO strings."""
        with self._lock:
            return self._raw(self._find(order_id))

    def orders(self) -> list[dict]:
        """Raw copies of every order, oldest change first (the export order)."""
        with self._lock:
            return [self._raw(o) for o in sorted(self._orders.values(), key=_sort_key)]

    def set_status(self, order_id: str, status: str) -> dict:
        """Change an order's OrderStatus (any string); bumps LastModified. Items and shipments are untouched."""
        if not isinstance(status, str) or not status.strip():
            raise ValueError("status must be a non-empty string")
        with self._lock:
            order = self._find(order_id)
            self._change_status(order, status)
            return self._raw(order)

    def update_order(self, order_id: str, **fields: Any) -> dict:
        """Replace raw top-level fields (no validation); bumps LastModified unless ``last_modified`` is given."""
        with self._lock:
            order = self._find(order_id)
            status = fields.pop("status", None)
            if status is not None:
                self._change_status(order, status)
            for key, value in fields.items():
                if key in ("order_id", "order_number"):
                    raise ValueError(f"{key} cannot be changed")
                order[key] = _as_datetime(value) if key in ("order_date", "last_modified") else value
            if "last_modified" not in fields:
                order["last_modified"] = self.now()
            return self._raw(order)

    def _change_status(self, order: dict, status: str) -> None:
        order["status"] = status
        order["last_modified"] = self.now()

    def _raw(self, order: dict) -> dict:
        return _jsonable(copy.deepcopy(order))

    # ------------------------------------------------------------------------------------------------ log
    @property
    def requests(self) -> list[RecordedRequest]:
        """The endpoint requests received so far, oldest first (a copy of the list)."""
        with self._lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    # ------------------------------------------------------------------------------------------------ HTTP: endpoint
    def _endpoint(self, method: str, path: str, pairs: list[tuple[str, str]], raw_query: str,
                  headers: dict[str, str], raw_body: bytes) -> _Response:  # fmt: skip
        query = dict(pairs)
        text = raw_body.decode("utf-8", "replace") if raw_body else None
        record = RecordedRequest(method, path, query, headers, text, raw_query=raw_query, at=self._clock())
        with self._lock:
            self._requests.append(record)
        response = self._endpoint_response(method, path, query, headers, raw_body, record)
        record.status = response.status
        if self._log:
            self._log(f"{method} {path}{'?' + raw_query if raw_query else ''} -> {response.status}"
                      + (f" [{', '.join(record.faults)}]" if record.faults else ""))  # fmt: skip
        return response

    def _endpoint_response(self, method, path, query, headers, raw_body, record) -> _Response:
        if path.rstrip("/") != self.path:
            return _text(404, "Not Found")
        fault = self._take(REQUEST_FAULTS)
        if fault:
            record.faults.append(fault)
        if fault == "status_401":
            return self._unauthorized()
        if fault == "status_500":
            return _Response(500, SERVER_ERROR_HTML.encode(), "text/html; charset=iso-8859-1")
        if fault == "timeout":
            self._stopping.wait(self.timeout_seconds)
        if not self._authenticated(headers.get("authorization", ""), query):
            return self._unauthorized()
        action = (query.get("action") or "").strip().lower()
        if action == "export":
            if method not in ("GET", "POST", "HEAD"):
                return _text(405, "export takes GET", [("Allow", "GET")])
            return self._export(query, record)
        if action == "shipnotify":
            if method != "POST":
                return _text(405, "shipnotify takes POST", [("Allow", "POST")])
            return self._shipnotify(query, raw_body)
        return _text(400, f"Invalid or missing action {query.get('action', '')!r}: expected export or shipnotify.")

    def _unauthorized(self) -> _Response:
        return _text(401, AUTH_FAILED, [("WWW-Authenticate", f'Basic realm="{self.marketplace_label}"')])

    def _authenticated(self, authorization: str, query: dict[str, str]) -> bool:
        scheme, _, credential = authorization.strip().partition(" ")
        user = password = None
        if scheme.lower() == "basic" and credential.strip():
            try:
                decoded = base64.b64decode(credential.strip(), validate=True)
            except (binascii.Error, ValueError):
                return False
            try:
                pair = decoded.decode("utf-8")
            except UnicodeDecodeError:
                pair = decoded.decode("latin-1")
            user, sep, password = pair.partition(":")
            if not sep:
                return False
        elif self.allow_query_auth and "SS-UserName" in query:  # ShipStation's example URL carries these too
            user, password = query.get("SS-UserName", ""), query.get("SS-Password", "")
        if user is None or password is None:
            return False
        ok_user = hmac.compare_digest(user.encode(), self.username.encode())
        ok_password = hmac.compare_digest(password.encode(), self.password.encode())
        return ok_user and ok_password

    # ---- export
    def _export(self, query: dict[str, str], record: RecordedRequest) -> _Response:
        bounds = []
        for name in ("start_date", "end_date"):
            raw = query.get(name)
            if raw is None or not raw.strip():
                return _text(400, f"Missing required param: {name}")
            try:
                bounds.append(data.parse_window_date(raw))
            except ValueError:
                return _text(400, f"Invalid {name} {raw!r}: expected MM/dd/yyyy HH:mm (UTC).")
        page_raw = (query.get("page") or "1").strip()
        if not re.fullmatch(r"\d{1,6}", page_raw) or int(page_raw) < 1:
            return _text(400, f"Invalid page {query.get('page')!r}: expected a positive integer.")
        page = int(page_raw)
        (start, _), (end, precision) = bounds
        end_exclusive = end + precision  # "12:05" covers 12:05:00-12:05:59
        with self._lock:
            matching = sorted((o for o in self._orders.values() if start <= o["last_modified"] < end_exclusive),
                              key=_sort_key)  # fmt: skip
            pages = math.ceil(len(matching) / self.page_size)
            chunk = matching[(page - 1) * self.page_size : page * self.page_size]
            fault = self._take(EXPORT_FAULTS)
            if fault:
                record.faults.append(fault)
            body = self._render_export(chunk, pages, fault)
        return _Response(200, body.encode("utf-8"), "text/xml; charset=utf-8")

    def _render_export(self, chunk: list[dict], pages: int, fault: str | None) -> str:
        if fault is None:
            return data.render_page(chunk, pages)
        kind = fault.split(":", 1)[1]
        if kind == "billion_laughs":
            return data.render_page(chunk, pages, dtd=BILLION_LAUGHS_DTD, raw={"CustomerNotes": "&lol9;"},
                                    root_text="" if chunk else "&lol9;")  # fmt: skip
        if kind == "external_entity":
            return data.render_page(chunk, pages, dtd=EXTERNAL_ENTITY_DTD, raw={"CustomerNotes": "&xxe;"},
                                    root_text="" if chunk else "&xxe;")  # fmt: skip
        if kind == "bare_ampersand":
            return data.render_page(chunk, pages, raw={"ShippingMethod": "Standard & Free"},
                                    root_text="" if chunk else "R&D")  # fmt: skip
        text = data.render_page(chunk, pages, root_text="" if chunk else "\n")
        if kind == "unclosed_tag":
            cut = text.rfind("</Order>") if chunk else text.rfind("</Orders>")
            return text[:cut] + text[cut:].replace("</Order>" if chunk else "</Orders>", "", 1)
        return text[: max(len(text) * 3 // 5, 60)]  # truncated mid-document

    # ---- shipnotify
    def _shipnotify(self, query: dict[str, str], raw_body: bytes) -> _Response:
        try:
            notice = _parse_notice(raw_body)
        except NoticeError as exc:
            return _text(exc.status, str(exc))
        with self._lock:
            try:
                return self._apply_notice(query, notice)
            except NoticeError as exc:
                return _text(exc.status, str(exc))

    def _apply_notice(self, query: dict[str, str], notice: dict | None) -> _Response:
        body = notice or {}
        number = (query.get("order_number") or "").strip() or body.get("OrderNumber") or ""
        body_id = body.get("OrderID") or ""
        if not number and not body_id:
            raise NoticeError("Missing required param: order_number")
        if number:
            order_id = self._by_number.get(number)
            if order_id is None:
                raise NoticeError(f"Order not found: {number}", 404)
            if body_id and body_id != order_id:
                raise NoticeError(f"ShipNotice OrderID {body_id} is not order_number {number}'s OrderID.")
        else:
            if body_id not in self._orders:
                raise NoticeError(f"Order not found: {body_id}", 404)
            order_id = body_id
        order = self._orders[order_id]
        carrier = (query.get("carrier") or "").strip() or body.get("Carrier") or ""
        if not carrier:
            raise NoticeError("Missing required param: carrier")
        if order["status"] == "Cancelled":
            raise NoticeError(f"Order {order['order_number']} is Cancelled; the shipment was not recorded.")
        service = (query.get("service") or "").strip() or body.get("Service") or ""
        tracking = (query.get("tracking_number") or "").strip() or body.get("TrackingNumber") or ""
        items = order["items"]
        shippable = [n for n, it in enumerate(items) if not it.get("adjustment")]
        notice_items = body.get("items") or []
        ship_all = not notice_items

        requested: dict[int, int] = {}
        unmatched: list[dict] = []
        ignored: list[dict] = []
        if ship_all:
            requested = {n: items[n]["quantity"] - items[n]["shipped_quantity"] for n in shippable}
            requested = {n: q for n, q in requested.items() if q > 0}
        for entry in notice_items:
            index = self._match_item(items, entry, requested)
            if index is None:
                unmatched.append(entry)
            elif items[index].get("adjustment"):
                ignored.append(entry)
            else:
                requested[index] = requested.get(index, 0) + entry["quantity"]
        if notice_items and not requested:
            raise NoticeError(f"None of the ShipNotice items match a shippable line of order {order['order_number']}.")

        signature = sorted([items[n]["line_item_id"], q] for n, q in requested.items())
        key = tracking.upper()
        for previous in order["shipments"]:
            same = previous.get("tracking_key", previous["tracking_number"].upper()) == key and (
                key or (previous["carrier"], previous["service"]) == (carrier, service)
            )
            if same and (ship_all or previous.get("ship_all") or previous.get("signature") == signature):
                return _text(200, f"Duplicate notice for order {order['order_number']} (tracking {tracking or '-'}): "
                                  "nothing changed.")  # fmt: skip

        applied, excess = [], []
        for index, quantity in requested.items():
            item = items[index]
            can = max(0, min(quantity, item["quantity"] - item["shipped_quantity"]))
            item["shipped_quantity"] += can
            applied.append({"line_item_id": item["line_item_id"], "sku": item["sku"], "quantity": can})
            if quantity > can:
                excess.append({"line_item_id": item["line_item_id"], "sku": item["sku"], "quantity": quantity - can})
        order["shipments"].append({
            "tracking_number": tracking, "tracking_key": key, "carrier": carrier, "service": service,
            "ship_date": body.get("ShipDate"), "label_create_date": body.get("LabelCreateDate"),
            "shipping_cost": body.get("ShippingCost"), "notify_customer": body.get("NotifyCustomer"),
            "notes": {k: body[k] for k in ("CustomerNotes", "InternalNotes", "NotesToCustomer") if body.get(k)},
            "recipient": body.get("Recipient"), "items": applied, "excess": excess, "unmatched": unmatched,
            "ignored": ignored, "ship_all": ship_all, "body_present": notice is not None, "signature": signature,
            "source": "shipnotify", "received_at": self.now(),
        })  # fmt: skip
        if tracking and tracking not in order["tracking_numbers"]:
            order["tracking_numbers"].append(tracking)
        if all(items[n]["shipped_quantity"] >= items[n]["quantity"] for n in shippable):
            order["status"] = "Shipped"
        order["last_modified"] = self.now()
        return _text(200, f"Shipment recorded for order {order['order_number']} (tracking {tracking or '-'}); "
                          f"status {order['status']}.")  # fmt: skip

    @staticmethod
    def _match_item(items: list[dict], entry: dict, requested: dict[int, int]) -> int | None:
        """LineItemID first; otherwise (or if unknown) SKU, taking the first line with that SKU that still has
        something left to ship (duplicate SKUs are filled in order, as Magento does)."""
        line_id = entry.get("LineItemID")
        if line_id:
            for n, item in enumerate(items):
                if item.get("line_item_id") == line_id:
                    return n
        sku = entry.get("SKU")
        if sku:
            same = [n for n, item in enumerate(items) if item.get("sku") == sku]
            for n in same:
                if items[n]["quantity"] - items[n]["shipped_quantity"] - requested.get(n, 0) > 0:
                    return n
            return same[0] if same else None
        return None

    # ------------------------------------------------------------------------------------------------ HTTP: control
    def _control(self, method: str, path: str, body: Any) -> _Response:
        """The control API (no credentials; not recorded):

        GET  /_sandbox                        summary: endpoint, credentials, order counts, pending faults
        GET  /_sandbox/faults                 pending fault counts
        POST /_sandbox/faults                 {"status_401": 1, "status_500": 1, "timeout": 1, "malformed_xml": 1,
                                               "xml_bomb": 1, "no_ship_to": 1, "custom_status": 1,
                                               "malformed_kind": "...", "xml_bomb_kind": "...",
                                               "timeout_seconds": 0.5} or {"clear": true}
        GET  /_sandbox/config                 page_size, timeout_seconds, allow_query_auth
        POST /_sandbox/config                 {"page_size": 10, "timeout_seconds": 1, "allow_query_auth": true}
        GET  /_sandbox/orders                 one summary row per order (export order)
        POST /_sandbox/orders                 {"count": N} generate N now, or {"order": {add_order keyword args}}
        GET  /_sandbox/orders/{id}            the raw order (by OrderID or OrderNumber)
        POST /_sandbox/orders/{id}            {"status": "Hold"} and/or raw top-level fields; bumps LastModified
        POST /_sandbox/orders/{id}/status     {"status": "Paid"}
        GET  /_sandbox/requests               the last 200 endpoint requests (method, query, headers, body...)
        POST /_sandbox/requests               {"clear": true}
        """
        try:
            return self._control_route(method, path, body)
        except KeyError as exc:
            return _json(404, {"error": f"no order {exc.args[0]}"})
        except (TypeError, ValueError) as exc:
            return _json(400, {"error": f"{type(exc).__name__}: {exc}"})

    def _control_route(self, method: str, path: str, body: Any) -> _Response:
        body = body if isinstance(body, dict) else {}
        path = path.rstrip("/") or "/"
        if path == "/_sandbox" and method == "GET":
            with self._lock:
                statuses = collections.Counter(o["status"] for o in self._orders.values())
                return _json(200, {
                    "label": self.marketplace_label, "endpoint_url": self.endpoint_url, "username": self.username,
                    "password": self.password, "orders": len(self._orders), "orders_by_status": dict(statuses),
                    "faults": dict(self._faults), "page_size": self.page_size,
                    "timeout_seconds": self.timeout_seconds, "allow_query_auth": self.allow_query_auth,
                    "endpoints": [ln.strip() for ln in (self._control.__doc__ or "").splitlines()
                                  if ln.strip().startswith(("GET", "POST"))]})  # fmt: skip
        if path == "/_sandbox/faults":
            added: list[str] = []
            if method == "POST":
                if body.pop("clear", False):
                    self.clear_faults()
                unknown = set(body) - {*FAULT_KINDS, "no_ship_to", "custom_status", "malformed_kind",
                                       "xml_bomb_kind", "timeout_seconds"}  # fmt: skip
                if unknown:
                    raise ValueError(f"unknown fault(s): {', '.join(sorted(unknown))}")
                added = self._inject(**body)[1]
            return _json(200, {"faults": self.faults, "timeout_seconds": self.timeout_seconds, "added": added})
        if path == "/_sandbox/config":
            if method == "POST":
                with self._lock:
                    if "page_size" in body:
                        if int(body["page_size"]) < 1:
                            raise ValueError("page_size must be at least 1")
                        self.page_size = int(body["page_size"])
                    if "timeout_seconds" in body:
                        self.timeout_seconds = float(body["timeout_seconds"])
                    if "allow_query_auth" in body:
                        self.allow_query_auth = bool(body["allow_query_auth"])
            return _json(200, {"page_size": self.page_size, "timeout_seconds": self.timeout_seconds,
                               "allow_query_auth": self.allow_query_auth})  # fmt: skip
        if path == "/_sandbox/orders":
            if method == "POST":
                if "order" in body:
                    created = [self.add_order(**body["order"])]
                else:
                    created = self.generate(int(body.get("count", 1)))
                return _json(201, {"created": [o["order_id"] for o in created], "orders": created})
            rows = [{"order_id": o["order_id"], "order_number": o["order_number"], "status": o["status"],
                     "last_modified": o["last_modified"], "channel": o.get("custom_field2"),
                     "ship_to": bool(isinstance(o.get("ship_to"), dict)), "tracking_numbers": o["tracking_numbers"],
                     "items": [{"line_item_id": i["line_item_id"], "sku": i["sku"], "quantity": i["quantity"],
                                "shipped_quantity": i["shipped_quantity"], "adjustment": i["adjustment"]}
                               for i in o["items"]]}
                    for o in self.orders()]  # fmt: skip
            return _json(200, rows)
        if m := re.fullmatch(r"/_sandbox/orders/([^/]+)(/status)?", path):
            key = unquote(m.group(1))
            if method == "POST" and m.group(2):
                return _json(200, self.set_status(key, body.get("status")))
            if method == "POST":
                return _json(200, self.update_order(key, **body))
            return _json(200, self.order(key))
        if path == "/_sandbox/requests":
            if method == "POST" and body.get("clear"):
                self.clear_requests()
            return _json(200, [r.as_dict() for r in self.requests[-200:]])
        return _json(404, {"error": f"unknown control path {method} {path}"})


def _sort_key(order: dict) -> tuple:
    return order["last_modified"], order["order_id"]


def _parse_notice(raw: bytes) -> dict | None:
    """The ShipNotice body as a dict, or None when the body is missing/blank (then the whole order ships)."""
    if not raw or not raw.strip():
        return None
    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", raw, re.IGNORECASE):
        raise NoticeError("DOCTYPE/ENTITY declarations are not allowed in a ShipNotice.")
    try:
        root = ET.fromstring(raw)  # noqa: S314 - DTDs refused above; trusted test traffic
    except ET.ParseError as exc:
        raise NoticeError(f"ShipNotice body is not well-formed XML: {exc}") from exc
    if _local(root.tag) != "ShipNotice":
        raise NoticeError(f"Expected a <ShipNotice> document, got <{_local(root.tag)}>.")
    notice: dict[str, Any] = {}
    for name in ("OrderID", "OrderNumber", "CustomerCode", "LabelCreateDate", "ShipDate", "Carrier", "Service",
                 "TrackingNumber", "ShippingCost", "CustomerNotes", "InternalNotes", "NotesToCustomer",
                 "NotifyCustomer"):  # fmt: skip
        value = _child_text(root, name)
        if value is not None:
            notice[name] = value
    recipient = _child(root, "Recipient")
    if recipient is not None:
        notice["Recipient"] = {_local(c.tag): (c.text or "").strip() for c in recipient}
    items = []
    container = _child(root, "Items")
    for element in list(container) if container is not None else []:
        if _local(element.tag) != "Item":
            continue
        entry: dict[str, Any] = {k: _child_text(element, k) for k in ("LineItemID", "SKU", "Name", "UPC")}
        quantity = _child_text(element, "Quantity")
        try:
            number = Decimal(quantity or "")
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number != number.to_integral_value() or number < 0:
            raise NoticeError(f"Invalid Quantity {quantity!r} for item {entry.get('SKU') or entry.get('LineItemID')}.")
        entry["quantity"] = int(number)
        if entry["quantity"] > 0:
            items.append(entry)
    notice["items"] = items
    return notice


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if "chunked" in (handler.headers.get("Transfer-Encoding") or "").lower():
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                break
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
        return b"".join(chunks)
    try:
        length = int(handler.headers.get("Content-Length") or "0")
    except ValueError:
        length = 0
    return handler.rfile.read(length) if length > 0 else b""


class _Handler(SandboxHandler):
    banner = "Apache"
    server: ThreadingHTTPServer

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def _dispatch(self, method: str) -> None:
        sandbox: CustomStoreSandbox = self.server.sandbox  # type: ignore[attr-defined]
        raw = _read_body(self)
        split = urlsplit(self.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        try:
            if split.path == "/_sandbox" or split.path.startswith("/_sandbox/"):
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                response = sandbox._control(method, split.path, body)
            else:
                headers = {k.lower(): v for k, v in self.headers.items()}
                response = sandbox._endpoint(method, split.path, pairs, split.query, headers, raw)
        except Exception as exc:  # a sandbox bug: say so rather than dropping the connection
            response = _text(500, f"Sandbox error: {type(exc).__name__}: {exc}")
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


ListingMirrorSandbox = CustomStoreSandbox


CustomStoreSandbox.handler_class = _Handler  # defined below the sandbox, which it serves
