"""Writing marketplace orders: one page at a time, idempotent by UNIQUE(store, external_id).

The caller (channels.services.order_import_run) fetches and maps; this module decides what an
import may change (field ownership, see orders.models.order) and writes it. Each record gets its
own savepoint, so one record that cannot be written fails alone while the page goes on.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, IntegrityError, models, transaction
from django.utils import timezone

from channels.base import Address, ExternalOrder, ExternalOrderLine
from shipping.core.errors import ApplicationError

from ..models import Order, OrderLine, OrderStatusChange, OutboxMessage
from ..models.order import ADDRESS_PARTS
from ..statuses import FINAL_STATUSES, OrderStatus, StatusOwner, StatusSource, can_transition
from .outbox import outbox_add_many
from .status import order_set_status
from .stock_hooks import StockEvent, orders_stock_changed

if TYPE_CHECKING:
    from channels.models import Store

logger = logging.getLogger(__name__)


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ImportItem:
    external: ExternalOrder
    mapped_status: str | None  # None: the marketplace status has no mapping
    acknowledge: bool = False  # write an outbox "accept" message when the order is created


@dataclass(frozen=True, slots=True)
class ImportResult:
    external_id: str
    outcome: Outcome
    order_id: int | None = None
    unmapped_status: bool = False
    error: str = ""


def _truncate(model: type[models.Model], values: dict[str, Any]) -> dict[str, Any]:
    """Cut strings to their column length: an over-long name must not cost the merchant an order."""
    out = {}
    for name, value in values.items():
        field = model._meta.get_field(name)
        if isinstance(value, str) and getattr(field, "max_length", None):
            value = value[: field.max_length]
        out[name] = value
    return out


def _address(prefix: str, address: Address | None) -> dict[str, Any]:
    address = address or Address()
    values = {f"{prefix}_{part}": getattr(address, part) for part in ADDRESS_PARTS}
    values[f"{prefix}_country"] = (address.country or "").upper()
    return values


def _order_total(ext: ExternalOrder) -> Decimal:
    if ext.order_total is not None:
        return ext.order_total
    total = sum((line.unit_price * line.quantity for line in ext.lines), Decimal("0"))
    total += (ext.shipping_amount or 0) + (ext.tax_amount or 0) - (ext.discount_amount or 0)
    return total


def _total_weight(lines: Sequence[ExternalOrderLine]) -> Decimal | None:
    goods = [line for line in lines if not line.is_adjustment]
    if not goods or any(line.weight_grams is None for line in goods):
        return None
    return sum((line.weight_grams * line.quantity for line in goods), Decimal("0"))


def _channel_fields(ext: ExternalOrder) -> dict[str, Any]:
    """Every [channel]-owned order field, as the marketplace has it now."""
    total = _order_total(ext)
    if total < 0:
        raise ApplicationError(f"Order total is negative ({total}).")
    values = {
        "order_number": ext.order_number,
        "external_status": ext.external_status,
        "external_updated_at": ext.updated_at,
        "external_fingerprint": fingerprint(ext),
        "marketplace": ext.marketplace,
        "order_date": ext.order_date,
        "payment_date": ext.payment_date,
        "ship_by_date": ext.ship_by_date,
        "customer_name": ext.customer_name
        or (ext.bill_to.name if ext.bill_to else "")
        or (ext.ship_to.name if ext.ship_to else ""),
        "customer_email": ext.customer_email,
        "customer_phone": ext.customer_phone,
        "customer_username": ext.customer_username,
        "requested_shipping_service": ext.requested_shipping_service,
        "payment_method": ext.payment_method,
        "currency": (ext.currency or "").upper(),
        "order_total": total,
        "amount_paid": ext.amount_paid,
        "tax_amount": ext.tax_amount,
        "shipping_amount": ext.shipping_amount,
        "discount_amount": ext.discount_amount,
        "coupon_codes": ", ".join(ext.coupon_codes),
        "gift": ext.gift,
        "gift_message": ext.gift_message,
        "customer_notes": ext.customer_notes,
        "total_weight_grams": _total_weight(ext.lines),
        "custom_field_1": ext.custom_field_1,
        "custom_field_2": ext.custom_field_2,
        "custom_field_3": ext.custom_field_3,
        **_address("ship_to", ext.ship_to),
        **_address("bill_to", ext.bill_to),
    }
    return _truncate(Order, values)


def _line_fields(line: ExternalOrderLine) -> dict[str, Any]:
    if line.quantity < 0:
        raise ApplicationError(f"Line {line.external_line_id} has a negative quantity ({line.quantity}).")
    return _truncate(
        OrderLine,
        {
            "sku": line.sku,
            "name": line.name or line.sku or "(no name)",
            "quantity": line.quantity,
            "unit_price": line.unit_price,
            "tax_amount": line.tax_amount,
            "weight_grams": line.weight_grams,
            "options": [{"name": name, "value": value} for name, value in line.options],
            "image_url": line.image_url,
            "stock_location": line.stock_location,
            "upc": line.upc,
            "is_adjustment": line.is_adjustment,
            "external_status": line.external_status,
        },
    )


def _unmapped_reason(ext: ExternalOrder) -> str:
    return f"Marketplace status {ext.external_status!r} is not mapped to an order status."


@dataclass(slots=True)
class _NewOrder:
    item: ImportItem
    order: Order
    lines: list[OrderLine]
    change: OrderStatusChange

    @property
    def wants_ack(self) -> bool:
        return self.item.acknowledge and self.item.external.needs_acknowledgement


def _build(store: Store, item: ImportItem) -> _NewOrder:
    """The unsaved rows of a new order (raises ApplicationError when the record cannot be an order)."""
    ext = item.external
    status = item.mapped_status or OrderStatus.ON_HOLD
    order = Order(
        merchant_id=store.merchant_id,
        store=store,
        external_id=ext.external_id,
        status=status,
        status_owner=StatusOwner.CHANNEL,
        hold_reason=_unmapped_reason(ext)[:300] if item.mapped_status is None else "",
        internal_notes=ext.internal_notes,
        **_channel_fields(ext),
    )
    lines = [OrderLine(external_line_id=line.external_line_id, **_line_fields(line)) for line in ext.lines]
    change = OrderStatusChange(
        old_status="",
        new_status=status,
        source=StatusSource.CHANNEL,
        external_status=ext.external_status,
        note="Imported" if item.mapped_status else _unmapped_reason(ext)[:300],
    )
    return _NewOrder(item, order, lines, change)


def _save_new(batch: Sequence[_NewOrder]) -> None:
    """A few INSERTs for a whole page of new orders (primary keys come back on PostgreSQL and SQLite)."""
    Order.objects.bulk_create([new.order for new in batch])
    for new in batch:
        for line in new.lines:
            line.order = new.order
        new.change.order = new.order
    OrderLine.objects.bulk_create([line for new in batch for line in new.lines])
    OrderStatusChange.objects.bulk_create([new.change for new in batch])
    outbox_add_many(
        [
            OutboxMessage(
                kind=OutboxMessage.Kind.ACKNOWLEDGE,
                dedupe_key=f"acknowledge:{new.order.pk}",
                merchant_id=new.order.merchant_id,
                store_id=new.order.store_id,
                order=new.order,
            )
            for new in batch
            if new.wants_ack
        ]
    )


def _create(store: Store, item: ImportItem) -> Order:
    new = _build(store, item)
    _save_new([new])
    return new.order


def _sync_lines(order: Order, lines: Sequence[ExternalOrderLine]) -> bool:
    """Add new lines, update changed ones, flag (never delete) the ones the marketplace dropped."""
    existing = {line.external_line_id: line for line in order.lines.all()}
    changed = False
    seen = set()
    for ext_line in lines:
        seen.add(ext_line.external_line_id)
        values = _line_fields(ext_line)
        line = existing.get(ext_line.external_line_id)
        if line is None:
            OrderLine.objects.create(order=order, external_line_id=ext_line.external_line_id, **values)
            changed = True
            continue
        dirty = [name for name, value in values.items() if getattr(line, name) != value]
        if line.removed_at is not None:
            line.removed_at = None
            dirty.append("removed_at")
        if dirty:
            for name in dirty:
                if name != "removed_at":
                    setattr(line, name, values[name])
            line.save(update_fields=dirty)
            changed = True
    gone = [line.pk for key, line in existing.items() if key not in seen and line.removed_at is None]
    if gone:
        OrderLine.objects.filter(pk__in=gone).update(removed_at=timezone.now())
        changed = True
    return changed


def _status_from_channel(order: Order, item: ImportItem) -> tuple[str, str] | None:
    """The status an import may move the order to (and why), or None to leave it.

    Never out of shipped or cancelled. While the app owns the status (a person held it, the app
    shipped it), only a marketplace cancellation or shipment gets through.
    """
    ext = item.external
    if order.status in FINAL_STATUSES:
        return None
    if item.mapped_status is None:
        if order.status_owner == StatusOwner.APP or order.status == OrderStatus.ON_HOLD:
            return None
        return OrderStatus.ON_HOLD, _unmapped_reason(ext)
    target = item.mapped_status
    if target == order.status:
        return None
    if order.status_owner == StatusOwner.APP and target not in FINAL_STATUSES:
        return None
    if not can_transition(order.status, target):
        return None
    return target, f"Marketplace status {ext.external_status!r}"


def fingerprint(ext: ExternalOrder) -> str:
    """What the marketplace sent, minus the raw payload: equal digests mean nothing to import."""
    return hashlib.sha256(repr(replace(ext, raw={})).encode()).hexdigest()


def _up_to_date(order: Order, ext: ExternalOrder, *, force: bool) -> bool:
    stored = order.external_updated_at
    if force or stored is None:
        return False
    if ext.updated_at < stored:
        return True  # an older copy arriving late (overlapping windows)
    return ext.updated_at == stored and order.external_fingerprint == fingerprint(ext)


def _update(order: Order, item: ImportItem, *, force: bool) -> Outcome:
    ext = item.external
    if _up_to_date(order, ext, force=force):
        return Outcome.UNCHANGED
    values = _channel_fields(ext)
    dirty = [name for name, value in values.items() if getattr(order, name) != value]
    for name in dirty:
        setattr(order, name, values[name])
    lines_changed = _sync_lines(order, ext.lines)
    move = _status_from_channel(order, item)
    if move is not None:
        status, note = move
        if status == OrderStatus.ON_HOLD:
            order.hold_reason = note[:300]
        order_set_status(
            order=order,
            status=status,
            source=StatusSource.CHANNEL,
            note=note,
            external_status=ext.external_status,
            save=False,
        )
        dirty += ["status", "status_owner", "hold_until", "hold_reason"]
    if not dirty and not lines_changed:
        return Outcome.UNCHANGED
    # external_updated_at alone moving is not a change anyone would notice.
    noticeable = lines_changed or any(name not in ("external_updated_at", "external_fingerprint") for name in dirty)
    order.save(update_fields=[*dict.fromkeys(dirty), "updated_at"])
    return Outcome.UPDATED if noticeable else Outcome.UNCHANGED


def _upsert_one(store: Store, item: ImportItem, existing: Order | None, *, force: bool) -> ImportResult:
    ext = item.external
    if existing is not None and _up_to_date(existing, ext, force=force):
        return ImportResult(ext.external_id, Outcome.UNCHANGED, existing.pk)  # no savepoint, no write
    for attempt in range(2):
        try:
            with transaction.atomic():  # a savepoint: this record fails alone
                if existing is None:
                    order = _create(store, item)
                    outcome = Outcome.CREATED
                else:
                    order = existing
                    outcome = _update(order, item, force=force)
            unmapped = item.mapped_status is None and order.status == OrderStatus.ON_HOLD
            return ImportResult(ext.external_id, outcome, order.pk, unmapped_status=unmapped)
        except IntegrityError as exc:
            # Another import created it between our read and our insert: take the update path.
            existing = Order.objects.select_for_update().filter(store=store, external_id=ext.external_id).first()
            if attempt or existing is None:
                return ImportResult(ext.external_id, Outcome.FAILED, error=f"Could not be saved: {exc}")
        except ApplicationError as exc:
            return ImportResult(ext.external_id, Outcome.FAILED, error=exc.message)
        except DatabaseError as exc:
            logger.warning("order %s of store %s could not be written: %s", ext.external_id, store.pk, exc)
            return ImportResult(ext.external_id, Outcome.FAILED, error=f"Could not be saved: {exc}")
    raise AssertionError("unreachable")


def orders_upsert_from_channel(*, store: Store, items: Sequence[ImportItem], force: bool = False) -> list[ImportResult]:
    """Create or refresh a page of marketplace orders; call inside the caller's page transaction.

    New orders are written together in a few INSERTs; if that fails (a record the database
    refuses, or a concurrent import created one) each record is written on its own, so one bad
    record fails alone. ``force`` re-applies records even when the marketplace says they did not
    change (a retry after the merchant fixed a status mapping).
    """
    ids = [item.external.external_id for item in items]
    existing = {
        order.external_id: order
        for order in Order.objects.select_for_update(of=("self",))
        .filter(store=store, external_id__in=ids)
        .prefetch_related("lines")
    }
    results: dict[int, ImportResult] = {}
    batch: dict[int, _NewOrder] = {}
    seen: set[str] = set()
    for index, item in enumerate(items):
        external_id = item.external.external_id
        if external_id in existing or external_id in seen:
            continue  # updates, and repeats within the page, go one by one below
        seen.add(external_id)
        try:
            batch[index] = _build(store, item)
        except ApplicationError as exc:
            results[index] = ImportResult(external_id, Outcome.FAILED, error=exc.message)
    if batch:
        try:
            with transaction.atomic():
                _save_new(list(batch.values()))
        except DatabaseError:
            logger.info("bulk insert of %s new orders failed; writing them one by one", len(batch))
        else:
            for index, new in batch.items():
                results[index] = ImportResult(
                    new.order.external_id, Outcome.CREATED, new.order.pk, unmapped_status=new.item.mapped_status is None
                )
    for index, item in enumerate(items):
        if index not in results:
            current = existing.get(item.external.external_id)
            if current is None:
                current = Order.objects.filter(store=store, external_id=item.external.external_id).first()
            results[index] = _upsert_one(store, item, current, force=force)
    ordered = [results[index] for index in range(len(items))]
    # Stock follows the page in one bulk call: new orders allocate, changed lines or statuses adjust.
    orders_stock_changed(
        order_ids=[r.order_id for r in ordered if r.outcome in (Outcome.CREATED, Outcome.UPDATED)],
        event=StockEvent.ORDER_IMPORT,
    )
    return ordered
