"""A fake marketplace for tests and the demo, with the same shape as a real adapter.

Records live in an in-memory ``FakeMarketplace`` (tests script pages, faults and outbound calls
through it); the ``demo`` marketplace generates a steady stream of realistic orders from the
clock, deterministically, so re-imports and restarts see the same orders. No ORM, no HTTP.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .base import (
    Address,
    BaseChannelAdapter,
    CancelReason,
    Capability,
    ChannelAuthError,
    ChannelDataError,
    ChannelKind,
    ChannelRejected,
    ChannelUnavailable,
    ExternalOrder,
    ExternalOrderLine,
    LineRef,
    OperationResult,
    OrderPage,
    OrderRef,
    RecordFailure,
    SettingField,
    ShipmentNotice,
)

# --- the marketplace --------------------------------------------------------------------------------


@dataclass
class FakeMarketplace:
    name: str
    page_size: int = 50
    records: dict[str, dict] = field(default_factory=dict)
    fail_pages: set[int] = field(default_factory=set)  # page numbers (0-based) that answer 503
    reject_token: str = "bad-token"
    fetch_delay: float = 0.0  # seconds per page, to hold a lease in concurrency tests
    calls: list[tuple[str, Any]] = field(default_factory=list)
    fail_outbound: dict[str, Exception] = field(default_factory=dict)  # kind -> error to raise once
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, raw: dict) -> None:
        with self.lock:
            self.records[str(raw["id"])] = raw

    def window(self, since: datetime, until: datetime) -> list[dict]:
        with self.lock:
            rows = [r for r in self.records.values() if since <= _modified(r) <= until]
        return sorted(rows, key=lambda r: (_modified(r), str(r["id"])))

    def get(self, external_id: str) -> dict | None:
        with self.lock:
            return self.records.get(external_id)

    def record_call(self, kind: str, payload: Any) -> None:
        with self.lock:
            self.calls.append((kind, payload))
            error = self.fail_outbound.pop(kind, None)
        if error is not None:
            raise error


MARKETPLACES: dict[str, FakeMarketplace] = {}


def marketplace(name: str) -> FakeMarketplace:
    if name not in MARKETPLACES:
        MARKETPLACES[name] = FakeMarketplace(name)
    return MARKETPLACES[name]


def _modified(raw: Mapping) -> datetime:
    return _parse_dt(raw.get("modified") or raw.get("created"))


# --- the demo stream --------------------------------------------------------------------------------

_PEOPLE = [
    ("Zofia Wójcik", "ul. Piotrkowska 104", "Łódź", "", "90-006", "PL"),
    ("Jürgen Müller", "Königsallee 27", "Düsseldorf", "", "40212", "DE"),
    ("Amélie Dubois", "12 rue de la Paix", "Paris", "", "75002", "FR"),
    ("Olivia Smith", "221B Baker Street", "London", "", "NW1 6XE", "GB"),
    ("James Carter", "1600 Amphitheatre Pkwy", "Mountain View", "CA", "94043", "US"),
    ("Lucía García", "Calle de Alcalá 48", "Madrid", "", "28014", "ES"),
    ("Giulia Rossi", "Via del Corso 12", "Roma", "", "00186", "IT"),
    ("Sanne de Vries", "Damrak 1", "Amsterdam", "", "1012 LG", "NL"),
]
_PRODUCTS = [
    ("IPH13-128-BLK-A", "iPhone 13 128 GB Midnight - Excellent", "329.00", "174", "A-01-03"),
    ("IPH12-64-WHT-B", "iPhone 12 64 GB White - Very good", "239.00", "164", "A-01-07"),
    ("SGS21-128-GRY-A", "Galaxy S21 128 GB Phantom Grey - Excellent", "259.00", "169", "A-02-01"),
    ("PXL7-128-OBS-C", "Pixel 7 128 GB Obsidian - Good", "219.00", "197", "A-02-05"),
    ("IPAD9-64-SLV-A", "iPad 9th gen 64 GB Silver - Excellent", "249.00", "487", "B-01-02"),
    ("MBA-M1-256-A", "MacBook Air M1 256 GB - Excellent", "649.00", "1290", "C-03-01"),
]
DEMO_EVERY = timedelta(minutes=10)
DEMO_HISTORY = timedelta(days=1)


def _demo_record(slot: int) -> dict:
    digest = hashlib.sha256(str(slot).encode()).digest()
    created = datetime.fromtimestamp(slot * DEMO_EVERY.total_seconds(), tz=UTC)
    name, street, city, state, postcode, country = _PEOPLE[digest[0] % len(_PEOPLE)]
    lines = []
    for n in range(1 + digest[1] % 2):
        sku, title, price, grams, location = _PRODUCTS[digest[2 + n] % len(_PRODUCTS)]
        lines.append(
            {
                "id": f"{slot}-{n + 1}",
                "sku": sku,
                "name": title,
                "qty": 1,
                "price": price,
                "grams": grams,
                "location": location,
            }
        )
    status = "unpaid" if digest[4] % 10 == 0 else "paid"
    record = {
        "id": str(slot),
        "number": f"DM-{slot % 10_000_000:07d}",
        "status": status,
        "created": created.isoformat(),
        "modified": created.isoformat(),
        "currency": "USD" if country == "US" else ("GBP" if country == "GB" else "EUR"),
        "customer": {"name": name, "email": f"buyer{slot % 1000}@example.com", "phone": "+33 6 12 34 56 78"},
        "ship_to": {
            "name": name,
            "street1": street,
            "city": city,
            "state": state,
            "postal_code": postcode,
            "country": country,
        },
        "shipping_method": "Standard" if digest[5] % 3 else "Express",
        "payment_method": "Card",
        "shipping": "0.00",
        "lines": lines,
        "gift": digest[6] % 15 == 0,
        "gift_message": "Happy birthday!" if digest[6] % 15 == 0 else "",
    }
    if digest[7] % 40 == 0:  # now and then a record without an address, as real marketplaces send
        record["ship_to"] = None
    return record


def demo_records(since: datetime, until: datetime) -> list[dict]:
    start = max(since, until - DEMO_HISTORY)
    first = int(start.timestamp() // DEMO_EVERY.total_seconds()) + 1
    last = int(until.timestamp() // DEMO_EVERY.total_seconds())
    return [_demo_record(slot) for slot in range(first, last + 1)]


# --- mapping ----------------------------------------------------------------------------------------


def _parse_dt(value: Any) -> datetime:
    if not value:
        raise ChannelDataError("missing date")
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ChannelDataError(f"bad date {value!r}") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _money(value: Any, what: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ChannelDataError(f"{what} is not a number: {value!r}") from exc


def _address(raw: Mapping | None) -> Address | None:
    if not raw:
        return None
    return Address(
        **{
            k: str(raw.get(k) or "")
            for k in ("name", "company", "street1", "street2", "city", "state", "postal_code", "country", "phone")
        }
    )


def map_order(raw: Mapping) -> ExternalOrder:
    """Raw fake record -> ExternalOrder; ChannelDataError names what is wrong."""
    if not raw.get("id"):
        raise ChannelDataError("record has no id")
    try:
        lines = tuple(
            ExternalOrderLine(
                external_line_id=str(line["id"]),
                sku=str(line.get("sku") or ""),
                name=str(line.get("name") or ""),
                quantity=int(line["qty"]),
                unit_price=_money(line.get("price"), "line price") or Decimal("0"),
                weight_grams=_money(line.get("grams"), "line weight"),
                stock_location=str(line.get("location") or ""),
                image_url=str(line.get("image_url") or ""),
                options=tuple((str(o["name"]), str(o["value"])) for o in line.get("options", [])),
            )
            for line in raw.get("lines") or []
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ChannelDataError(f"order {raw.get('id')}: malformed line ({exc})") from exc
    customer = raw.get("customer") or {}
    return ExternalOrder(
        external_id=str(raw["id"]),
        order_number=str(raw.get("number") or raw["id"]),
        external_status=str(raw.get("status") or ""),
        order_date=_parse_dt(raw.get("created")),
        updated_at=_modified(raw),
        lines=lines,
        ship_to=_address(raw.get("ship_to")),
        bill_to=_address(raw.get("bill_to")),
        currency=str(raw.get("currency") or ""),
        customer_name=str(customer.get("name") or ""),
        customer_email=str(customer.get("email") or ""),
        customer_phone=str(customer.get("phone") or ""),
        requested_shipping_service=str(raw.get("shipping_method") or ""),
        payment_method=str(raw.get("payment_method") or ""),
        shipping_amount=_money(raw.get("shipping"), "shipping"),
        discount_amount=_money(raw.get("discount"), "discount"),
        coupon_codes=tuple(raw.get("coupons") or ()),
        gift=bool(raw.get("gift")),
        gift_message=str(raw.get("gift_message") or ""),
        customer_notes=str(raw.get("customer_notes") or ""),
        internal_notes=str(raw.get("internal_notes") or ""),
        needs_acknowledgement=raw.get("status") == "paid" and not raw.get("accepted"),
        raw=dict(raw),
    )


# --- the adapter ------------------------------------------------------------------------------------


class FakeAdapter(BaseChannelAdapter):
    kind = ChannelKind.FAKE.value
    label = "Demo marketplace"
    capabilities = frozenset(
        {Capability.FETCH_ORDERS, Capability.ACKNOWLEDGE, Capability.NOTIFY_SHIPMENT, Capability.CANCEL}
    )
    settings_fields = (
        SettingField(
            "marketplace",
            "Marketplace name",
            required=False,
            default="demo",
            help_text="'demo' streams generated orders; tests use their own names.",
        ),
        SettingField("token", "API token", required=False, secret=True),
    )
    default_status_map = {
        "unpaid": "awaiting_payment",
        "paid": "awaiting_shipment",
        "shipped": "shipped",
        "cancelled": "cancelled",
        "hold": "on_hold",
    }
    shipment_fields_sent = frozenset({"status", "tracking_number", "carrier", "service", "items"})

    @property
    def _name(self) -> str:
        return str(self.context.settings.get("marketplace") or "demo")

    def _market(self) -> FakeMarketplace:
        market = marketplace(self._name)
        if self.context.settings.get("token") == market.reject_token:
            raise ChannelAuthError(
                "The token was refused. Create a new token and paste it in the store settings.", status_code=401
            )
        return market

    def test_connection(self) -> None:
        self._market()

    def _records(self, since: datetime, until: datetime) -> list[dict]:
        market = self._market()
        if self._name == "demo":
            generated = {r["id"]: r for r in demo_records(since, until)}
            generated.update({r["id"]: r for r in market.window(since, until)})  # acknowledged copies
            return sorted(generated.values(), key=lambda r: (_modified(r), r["id"]))
        return market.window(since, until)

    def fetch_orders(self, *, updated_since: datetime, updated_until: datetime, cursor: str | None = None) -> OrderPage:
        market = self._market()
        page_no = int(cursor or 0)
        if market.fetch_delay:
            time.sleep(market.fetch_delay)
        if page_no in market.fail_pages:
            raise ChannelUnavailable(f"page {page_no} answered 503", ambiguous=False, status_code=503)
        rows = self._records(updated_since, updated_until)
        chunk = rows[page_no * market.page_size : (page_no + 1) * market.page_size]
        orders, failures = [], []
        for raw in chunk:
            try:
                orders.append(map_order(raw))
            except ChannelDataError as exc:
                failures.append(RecordFailure(str(raw.get("id") or ""), exc.message, raw))
        more = (page_no + 1) * market.page_size < len(rows)
        return OrderPage(tuple(orders), str(page_no + 1) if more else None, tuple(failures))

    def fetch_order(self, external_id: str) -> ExternalOrder:
        market = self._market()
        raw = market.get(external_id)
        if raw is None and self._name == "demo" and external_id.isdigit():
            raw = _demo_record(int(external_id))
        if raw is None:
            raise ChannelRejected(f"order {external_id} not found", status_code=404)
        return map_order(raw)

    def _touch(self, external_id: str, **changes: Any) -> None:
        market = self._market()
        raw = market.get(external_id) or (_demo_record(int(external_id)) if external_id.isdigit() else None)
        if raw is not None:
            market.put({**raw, **changes, "modified": datetime.now(UTC).isoformat()})

    def acknowledge(self, order: OrderRef) -> OperationResult:
        self._market().record_call("acknowledge", order)
        self._touch(order.external_id, accepted=True)
        return OperationResult(ok=True, external_ref=order.external_id)

    def notify_shipment(self, notice: ShipmentNotice) -> OperationResult:
        self._market().record_call("notify_shipment", notice)
        self._touch(notice.order.external_id, status="shipped", tracking=notice.tracking_number)
        return OperationResult(ok=True, external_ref=notice.tracking_number)

    def cancel(self, order: OrderRef, *, lines: Sequence[LineRef] | None, reason: CancelReason) -> OperationResult:
        self._market().record_call("cancel", (order, lines, reason))
        self._touch(order.external_id, status="cancelled")
        return OperationResult(ok=True)

    def outbound_already_applied(self, *, kind: str, remote: ExternalOrder, payload: Mapping[str, Any]) -> bool:
        if kind == "acknowledge":
            return bool(remote.raw.get("accepted"))
        if kind == "notify_shipment":
            return remote.external_status == "shipped"
        return False
