"""Back Market adapter: orders in, acceptance, shipment (with IMEI/serial) and cancellation out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from shipping.core.errors import RemoteRejected
from shipping.core.identifiers import classify

from ..base import (
    BaseChannelAdapter,
    CancelReason,
    Capability,
    ChannelDataError,
    ChannelKind,
    ChannelRejected,
    Competitor,
    ExternalOrder,
    LineRef,
    ListingDraft,
    ListingPage,
    ListingTaskState,
    ListingUpdate,
    OperationResult,
    OrderPage,
    OrderRef,
    RecordFailure,
    RemoteListing,
    ShipmentNotice,
    ShippedLine,
)
from . import listings, mapper
from .client import LISTING_LINES_PER_HOUR, BackMarketClient, error_message
from .settings import SETTINGS_FIELDS, base_url_for, currency_for, market_for

ACCEPT, SHIP, CANCEL_UNACCEPTED, REFUND_UNSHIPPED = 2, 3, 4, 5


class BackMarketAdapter(BaseChannelAdapter):
    kind = ChannelKind.BACK_MARKET.value
    label = "Back Market"
    capabilities = frozenset(
        {
            Capability.FETCH_ORDERS,
            Capability.ACKNOWLEDGE,
            Capability.NOTIFY_SHIPMENT,
            Capability.CANCEL,
            Capability.PUSH_LISTINGS,
            Capability.READ_LISTINGS,
            Capability.CREATE_LISTINGS,
            Capability.REPRICE,
        }
    )
    settings_fields = SETTINGS_FIELDS
    default_status_map = mapper.DEFAULT_STATUS_MAP
    # ShipStation's table for Back Market: status, tracking number, carrier, service (in the
    # shipper name) and carrier fee yes; note to buyer and item information no. The API has no
    # fee field, so the fee stays with us.
    shipment_fields_sent = frozenset({"status", "tracking_number", "carrier", "service", "serials"})
    requires_serials = True  # every unit shipped needs an IMEI or serial number
    max_listing_drafts = listings.MAX_CSV_ROWS

    @classmethod
    def validate_settings(cls, values: Mapping[str, Any]) -> dict[str, list[str]]:
        if values.get("region") == "custom" and not values.get("base_url"):
            return {"base_url": ["A custom region needs its base URL."]}
        if values.get("region") != "custom" and values.get("base_url"):
            return {"base_url": ["Only the custom region takes a base URL."]}
        return {}

    def __init__(self, context) -> None:
        super().__init__(context)
        settings = dict(context.settings)
        self.client = BackMarketClient(
            base_url=base_url_for(settings),
            token=str(settings.get("token") or ""),
            market=market_for(settings),
            company=context.merchant_name,
            contact_email=context.merchant_email,
            rate_limiter=context.rate_limiter,
            call_logger=context.call_logger,
            timeout=context.http_timeout,
            limits=context.limits,
        )
        self.market = market_for(settings)
        self.listing_lines_per_hour = int(context.limits.get("listing_lines_per_hour", LISTING_LINES_PER_HOUR))
        # Price changes leave this much of the hourly budget to quantity pushes.
        self.quantity_reserve = int(context.limits.get("quantity_reserve", max(1, self.listing_lines_per_hour // 10)))

    # --- inbound -------------------------------------------------------------------------------

    def test_connection(self) -> None:
        self.client.get_json("/ws/orders", params={"page-size": 1})

    def fetch_orders(self, *, updated_since: datetime, updated_until: datetime, cursor: str | None = None) -> OrderPage:
        # Back Market filters by a lower bound only; newer records arriving early are harmless.
        page = self.client.list_orders(modified_since=updated_since, next_url=cursor)
        results = page.get("results") if isinstance(page, Mapping) else None
        if not isinstance(results, list):
            raise ChannelDataError("Back Market's order list has no results array.")
        orders, failures = [], []
        for raw in results:
            try:
                orders.append(mapper.map_order(raw))
            except ChannelDataError as exc:
                external_id = str(raw.get("order_id") or "") if isinstance(raw, Mapping) else ""
                failures.append(RecordFailure(external_id, exc.message, raw if isinstance(raw, Mapping) else {}))
        return OrderPage(tuple(orders), page.get("next") or None, tuple(failures))

    def fetch_order(self, external_id: str) -> ExternalOrder:
        return mapper.map_order(self.client.get_order(external_id))

    # --- outbound ------------------------------------------------------------------------------

    def _post(self, order_id: str, body: dict) -> dict:
        try:
            return self.client.update_order(order_id, body)
        except RemoteRejected as exc:
            raise ChannelRejected(
                f"Back Market refused {body.get('new_state')} for order {order_id}: {error_message(exc)}",
                status_code=exc.status_code,
                body=exc.body,
            ) from exc

    def _accept(self, order_id: str, states: Mapping[str, tuple[str, int]], skus: Sequence[str] | None = None) -> int:
        """new_state 2 once per distinct SKU that still has a line waiting (state 1)."""
        waiting = list(dict.fromkeys(sku for sku, state in states.values() if state == 1))
        if skus is not None:
            waiting = [sku for sku in waiting if sku in skus]
        for sku in waiting:
            self._post(order_id, {"new_state": ACCEPT, "sku": sku})
        return len(waiting)

    def acknowledge(self, order: OrderRef) -> OperationResult:
        states = mapper.line_states(self.client.get_order(order.external_id))
        accepted = self._accept(order.external_id, states)
        return OperationResult(ok=True, external_ref=order.external_id, message=f"accepted {accepted} SKU(s)")

    def notify_shipment(self, notice: ShipmentNotice) -> OperationResult:
        order_id = notice.order.external_id
        remote = self.client.get_order(order_id)
        states = mapper.line_states(remote)
        shipped_ids = {line.line.external_line_id for line in notice.lines}
        unknown = shipped_ids - states.keys()
        if unknown:
            raise ChannelRejected(f"Order {order_id} at Back Market has no orderline {', '.join(sorted(unknown))}.")
        to_ship = {lid for lid in shipped_ids if states[lid][1] not in mapper.FINAL_LINE_STATES}
        if not to_ship:
            return OperationResult(ok=True, external_ref=order_id, message="already shipped at Back Market")
        skus = [states[lid][0] for lid in to_ship]
        self._accept(order_id, states, skus)  # shipping implies acceptance; Back Market needs state 2 first
        whole_order = to_ship == {lid for lid, (_, st) in states.items() if st not in mapper.FINAL_LINE_STATES}
        lines = {line.line.external_line_id: line for line in notice.lines if line.line.external_line_id in to_ship}
        inline = self._inline_identifier(remote, lines) if whole_order else None
        if inline is None:
            for line in lines.values():
                self._send_identifier(remote, line)
        if whole_order:
            kind, value = inline or ("", "")
            self._post(
                order_id,
                mapper.ship_body(
                    notice, imei=value if kind == "imei" else "", serial=value if kind == "serial" else ""
                ),
            )
        else:
            for sku in dict.fromkeys(skus):
                self._post(order_id, mapper.ship_body(notice, sku=sku))
        return OperationResult(ok=True, external_ref=notice.tracking_number, message=f"shipped {len(to_ship)} line(s)")

    def _inline_identifier(self, remote: Mapping, lines: Mapping[str, ShippedLine]) -> tuple[str, str] | None:
        """Inline on the ship call only for an order of exactly one line of quantity 1 (reference §8)."""
        raw_lines = remote.get("orderlines") or []
        if len(raw_lines) != 1 or int(raw_lines[0].get("quantity") or 1) != 1 or len(lines) != 1:
            return None
        line = next(iter(lines.values()))
        if not line.serials:
            return ("", "")
        kind, value = classify(line.serials[0])
        existing = str(raw_lines[0].get(_field(kind)) or "")
        if existing:  # write-once: already registered, so do not send it again
            self._check_same(existing, value, line.line.external_line_id)
            return ("", "")
        return kind, value

    def _send_identifier(self, remote: Mapping, line: ShippedLine) -> None:
        """PATCH /ws/orderlines/{id}: one identifier per line (Back Market keeps one per line)."""
        if not line.serials:
            return
        kind, value = classify(line.serials[0])
        raw_line = next(
            (r for r in remote.get("orderlines") or [] if str(r.get("id")) == line.line.external_line_id), {}
        )
        existing = str(raw_line.get(_field(kind)) or "")
        if existing:
            self._check_same(existing, value, line.line.external_line_id)
            return
        try:
            self.client.set_orderline_identifiers(
                line.line.external_line_id, **({"imei": value} if kind == "imei" else {"serial_number": value})
            )
        except RemoteRejected as exc:
            raise ChannelRejected(
                f"Back Market refused the {kind} {value} for orderline {line.line.external_line_id}: "
                f"{error_message(exc)}",
                status_code=exc.status_code,
                body=exc.body,
            ) from exc

    @staticmethod
    def _check_same(existing: str, value: str, line_id: str) -> None:
        if existing != value:
            raise ChannelRejected(
                f"Orderline {line_id} already has {existing} at Back Market, which cannot be corrected; "
                f"we have {value}. Fix the unit on our side or contact Back Market."
            )

    def cancel(self, order: OrderRef, *, lines: Sequence[LineRef] | None, reason: CancelReason) -> OperationResult:
        """new_state 4 for lines not yet accepted, 5 for accepted ones, per SKU; shipped lines refuse."""
        states = mapper.line_states(self.client.get_order(order.external_id))
        wanted = {line.external_line_id for line in lines} if lines else set(states)
        shipped = sorted(lid for lid in wanted if states.get(lid, ("", 0))[1] in (3, 6))
        if shipped:
            raise ChannelRejected(
                f"Orderline {', '.join(shipped)} of order {order.external_id} has shipped and cannot be cancelled; "
                "a refund after shipping goes through a Back Market return."
            )
        sent = 0
        for sku, state in dict.fromkeys((states[lid][0], states[lid][1]) for lid in wanted if lid in states):
            if state == 1:
                self._post(order.external_id, {"new_state": CANCEL_UNACCEPTED, "sku": sku})
            elif state == 2:
                self._post(order.external_id, {"new_state": REFUND_UNSHIPPED, "sku": sku})
            else:
                continue
            sent += 1
        return OperationResult(ok=True, external_ref=order.external_id, message=f"cancelled {sent} SKU(s)")

    # --- listings ------------------------------------------------------------------------------

    def fetch_listings(self, *, cursor: str | None = None) -> ListingPage:
        page = self.client.list_listings(next_url=cursor)
        results = page.get("results") if isinstance(page, Mapping) else None
        if not isinstance(results, list):
            raise ChannelDataError("Back Market's listing list has no results array.")
        found, failures = [], []
        for raw in results:
            try:
                found.append(listings.map_listing(raw))
            except ChannelDataError as exc:
                ref = str(raw.get("sku") or raw.get("id") or "") if isinstance(raw, Mapping) else ""
                failures.append(RecordFailure(ref, exc.message, raw if isinstance(raw, Mapping) else {}))
        total = page.get("count") if isinstance(page.get("count"), int) else None
        return ListingPage(tuple(found), page.get("next") or None, tuple(failures), total)

    def fetch_listing(self, *, listing_ref: str = "", sku: str = "") -> RemoteListing | None:
        raw = self.client.get_listing(listing_ref) if listing_ref else self.client.get_listing_by_sku(sku)
        return None if raw is None else listings.map_listing(raw)

    def push_listing(self, update: ListingUpdate) -> RemoteListing:
        body = listings.update_body(update)
        if update.price is not None and not update.currency:
            body["currency"] = currency_for(update.market or self.market)
        try:
            raw = self.client.update_listing(update.listing_ref, body, market=update.market or None)
        except RemoteRejected as exc:
            raise ChannelRejected(
                f"Back Market refused the update of {update.sku}: {error_message(exc)}",
                status_code=exc.status_code,
                body=exc.body,
            ) from exc
        return listings.map_listing(raw)

    def reserve_listing_lines(self, lines: int, *, low_priority: bool = False) -> float:
        if self.context.rate_limiter is None:
            return 0.0
        return self.context.rate_limiter.acquire_window(
            f"{self.client.token_key}:listing-lines",
            limit=self.listing_lines_per_hour,
            window=3600.0,
            cost=lines,
            reserve=self.quantity_reserve if low_priority else 0,
        )

    def submit_listing_drafts(self, drafts: Sequence[ListingDraft]) -> str:
        try:
            return listings.task_id_of(self.client.create_listings(listings.drafts_csv(drafts)))
        except RemoteRejected as exc:
            raise ChannelRejected(
                f"Back Market refused the listing file: {error_message(exc)}",
                status_code=exc.status_code,
                body=exc.body,
            ) from exc

    def fetch_listing_task(self, task_ref: str) -> ListingTaskState:
        return listings.map_task(task_ref, self.client.get_task(task_ref))

    def fetch_competitors(self, listing_ref: str) -> list[Competitor]:
        return listings.map_competitors(self.client.competitors(listing_ref))

    def currency_for_market(self, market: str = "") -> str:
        return currency_for(market or self.market)

    def outbound_already_applied(self, *, kind: str, remote: ExternalOrder, payload: Mapping[str, Any]) -> bool:
        states = [int(line.external_status or 0) for line in remote.lines]
        if kind == "acknowledge":
            return 1 not in states
        if kind == "notify_shipment":
            wanted = set(payload.get("external_line_ids") or [])
            lines = [line for line in remote.lines if not wanted or line.external_line_id in wanted]
            return bool(lines) and all(int(line.external_status or 0) in (3, 6) for line in lines)
        if kind == "cancel":
            return bool(states) and all(s in (4, 5) for s in states)
        return False


def _field(kind: str) -> str:
    return "imei" if kind == "imei" else "serial_number"
