"""Delivering outbox messages to the marketplace: claim, call outside any transaction, record.

Back Market has no idempotency keys, so after an ambiguous failure (a timeout after sending)
the next attempt re-reads the remote order before writing again.
"""

from __future__ import annotations

import logging

from orders.carriers import tracking_url
from orders.models import Order, OutboxMessage, Shipment
from orders.selectors import order_for_outbound
from orders.services.outbox import (
    outbox_claim,
    outbox_due_ids,
    outbox_mark_delivered,
    outbox_mark_failed,
    outbox_mark_retry,
)

from ..base import (
    BaseChannelAdapter,
    CancelReason,
    ChannelAuthError,
    ChannelError,
    ChannelRateLimited,
    ChannelUnavailable,
    LineRef,
    OperationResult,
    OrderRef,
    ShipmentNotice,
    ShippedLine,
)
from ..models import SyncIssue
from .adapters import adapter_for_store
from .stores import store_mark_needs_credentials
from .sync_issues import sync_issue_record

logger = logging.getLogger(__name__)

CREDENTIALS_WAIT_SECONDS = 15 * 60


def order_ref(order: Order) -> OrderRef:
    lines = tuple(
        LineRef(line.external_line_id, line.sku, line.quantity)
        for line in order.lines.all()
        if line.removed_at is None and not line.is_adjustment
    )
    return OrderRef(external_id=order.external_id, order_number=order.order_number, lines=lines)


def shipment_notice(order: Order, shipment: Shipment) -> ShipmentNotice:
    lines = []
    for shipment_line in shipment.lines.select_related("order_line"):
        line = shipment_line.order_line
        serials = tuple(shipment_line.serials) or tuple(s for s in (line.imei or line.serial_number,) if s)
        lines.append(
            ShippedLine(LineRef(line.external_line_id, line.sku, line.quantity), shipment_line.quantity, serials)
        )
    return ShipmentNotice(
        order=order_ref(order),
        lines=tuple(lines),
        carrier_code=shipment.carrier_code,
        service_code=shipment.service_code,
        tracking_number=shipment.tracking_number,
        tracking_url=tracking_url(shipment.carrier_code, shipment.tracking_number),
        shipped_at=shipment.created_at,
        carrier_fee=shipment.carrier_fee,
        note_to_buyer=shipment.note_to_buyer,
    )


def _send(adapter: BaseChannelAdapter, message: OutboxMessage, order: Order) -> OperationResult:
    if message.kind == OutboxMessage.Kind.ACKNOWLEDGE:
        return adapter.acknowledge(order_ref(order))
    if message.kind == OutboxMessage.Kind.NOTIFY_SHIPMENT:
        return adapter.notify_shipment(shipment_notice(order, message.shipment))
    if message.kind == OutboxMessage.Kind.CANCEL:
        ref = order_ref(order)
        wanted = set(message.payload.get("external_line_ids") or [])
        lines = [line for line in ref.lines if line.external_line_id in wanted] if wanted else None
        reason = CancelReason(message.payload.get("reason", CancelReason.OTHER))
        return adapter.cancel(ref, lines=lines, reason=reason)
    raise ValueError(f"unknown outbox kind {message.kind!r}")


def _fail(message: OutboxMessage, order: Order, error: str, *, already_failed: bool = False) -> None:
    if not already_failed:
        outbox_mark_failed(message=message, error=error)
    sync_issue_record(
        store=message.store,
        kind=SyncIssue.Kind.OUTBOUND_FAILED,
        external_id=order.external_id,
        order_id=order.pk,
        payload=message.payload,
        message=f"{message.get_kind_display()} for order {order.order_number} failed: {error}",
    )


def outbox_deliver(*, message_id: int) -> str:
    """One delivery attempt; returns what happened (for logs)."""
    message = outbox_claim(message_id=message_id)
    if message is None:
        return "not due"
    store = message.store
    order = order_for_outbound(order_id=message.order_id)
    if not store.is_active or store.needs_new_credentials:
        outbox_mark_retry(
            message=message,
            error="Waiting: the store is deactivated or needs new credentials.",
            retry_after=CREDENTIALS_WAIT_SECONDS,
        )
        return "waiting for store"
    adapter = adapter_for_store(store)
    try:
        if message.ambiguous and not adapter.outbound_is_idempotent:
            remote = adapter.fetch_order(order.external_id)
            if adapter.outbound_already_applied(kind=message.kind, remote=remote, payload=message.payload):
                outbox_mark_delivered(message=message, result={"confirmed_by": "re-read"})
                return "already applied"
        result = _send(adapter, message, order)
    except ChannelAuthError as exc:
        store_mark_needs_credentials(store_id=store.pk, message=exc.message)
        outbox_mark_retry(message=message, error=exc.message, retry_after=CREDENTIALS_WAIT_SECONDS)
        return "needs credentials"
    except ChannelRateLimited as exc:
        outbox_mark_retry(message=message, error=exc.message, retry_after=exc.retry_after)
        return "rate limited"
    except ChannelUnavailable as exc:
        if not outbox_mark_retry(message=message, error=exc.message, ambiguous=exc.ambiguous):
            _fail(message, order, exc.message, already_failed=True)
            return "failed"
        return "retry"
    except ChannelError as exc:
        _fail(message, order, exc.message)
        return "failed"
    if not result.ok:
        _fail(message, order, result.message or "The marketplace did not accept it.")
        return "failed"
    outbox_mark_delivered(message=message, result={"external_ref": result.external_ref, "message": result.message})
    return "delivered"


def outbox_sweep() -> list[int]:
    """Ids due for delivery (lost broker messages, dead workers, scheduled retries)."""
    return outbox_due_ids()
