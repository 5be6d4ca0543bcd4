"""Labels and packing slips for orders: build the document data from models, render, keep the files.

Batches render in Celery on the `documents` queue in chunks of DOCUMENT_CHUNK_SIZE, merged with
pypdf, in pick order (stock location, then SKU). An order that cannot be rendered is reported in
the batch's errors and left out; the batch goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from ..documents.data import AddressBlock, LabelData, PackingSlipData, SlipItem
from ..documents.labels import render_labels
from ..documents.merge import merge_pdfs
from ..documents.packing_slips import render_packing_slips
from ..models import Label, Order, PackingSlip, PrintBatch, Shipment, Warehouse
from ..models.order import ADDRESS_PARTS

logger = logging.getLogger(__name__)
RENDER_TASK = "orders.tasks.render_print_batch"
MAX_BATCH = 5000


def _block(obj, prefix: str) -> AddressBlock:
    return AddressBlock(
        **{part: getattr(obj, f"{prefix}_{part}") or "" for part in ADDRESS_PARTS if part != "residential"}
    )


def _weight_text(grams: Decimal | None) -> str:
    if not grams:
        return ""
    return f"{grams / 1000:.2f} kg" if grams >= 1000 else f"{grams:.0f} g"


def label_data(shipment: Shipment) -> LabelData:
    order = shipment.order
    if not shipment.tracking_number:
        raise ApplicationError(f"Shipment of order {order.order_number} has no tracking number to print.")
    warehouse = shipment.warehouse or Warehouse.objects.filter(merchant_id=order.merchant_id, is_default=True).first()
    if warehouse is None:
        raise ApplicationError("Add a ship-from warehouse (the default one) before printing labels.")
    return LabelData(
        ship_from=_block(warehouse, "address"),
        ship_to=_block(order, "ship_to"),
        carrier_name=shipment.carrier_name,
        service_name=shipment.service_name,
        tracking_number=shipment.tracking_number,
        order_number=order.order_number,
        weight_text=_weight_text(shipment.weight_grams or order.total_weight_grams),
        ship_date=shipment.ship_date,
        reference=order.store.name,
    )


def packing_slip_data(order: Order) -> PackingSlipData:
    store, merchant = order.store, order.merchant
    items = tuple(
        SlipItem(
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            options=tuple((o.get("name", ""), o.get("value", "")) for o in line.options or []),
            stock_location=line.stock_location,
            image_url=line.image_url,
            unit_price=line.unit_price,
        )
        for line in sorted(order.lines.all(), key=lambda line: (line.stock_location, line.sku))
        if line.removed_at is None and line.cancelled_at is None and not line.is_adjustment
    )
    return PackingSlipData(
        company_name=store.company_name or merchant.company_name or merchant.name,
        logo_url=store.logo.url if store.logo else "",
        order_number=order.order_number,
        order_date=order.order_date,
        store_name=store.name,
        customer_name=order.customer_name,
        customer_email=order.customer_email,
        customer_phone=order.customer_phone,
        ship_to=_block(order, "ship_to"),
        bill_to=_block(order, "bill_to") if order.bill_to_name or order.bill_to_street1 else None,
        items=items,
        gift=order.gift,
        gift_message=order.gift_message,
        customer_notes=order.customer_notes,
        requested_service=order.requested_shipping_service,
        paper=merchant.packing_slip_paper,
        currency=order.currency,
    )


def active_shipment(order: Order) -> Shipment:
    shipment = next((s for s in order.shipments.all() if s.voided_at is None), None)
    if shipment is None:
        raise ApplicationError(f"Order {order.order_number} has no shipment yet: mark it shipped to print its label.")
    return shipment


def label_render(*, shipment: Shipment) -> Label:
    """One 4x6 label, kept for reprint."""
    pdf = render_labels([label_data(shipment)])
    label = Label(shipment=shipment, tracking_number=shipment.tracking_number)
    label.file.save(f"label-{shipment.order.order_number}-{shipment.pk}.pdf", ContentFile(pdf), save=True)
    return label


def packing_slip_render(*, order: Order) -> PackingSlip:
    pdf = render_packing_slips([packing_slip_data(order)])
    slip = PackingSlip(order=order)
    slip.file.save(f"packing-slip-{order.order_number}.pdf", ContentFile(pdf), save=True)
    return slip


def _orders(merchant: Merchant, ids: Sequence[int]):
    return (
        Order.objects.filter(merchant=merchant, pk__in=ids)
        .select_related("store", "merchant")
        .prefetch_related("lines", "shipments__warehouse")
    )


def pick_order(orders: Sequence[Order]) -> list[int]:
    """Walk the warehouse once: by the first stock location, then SKU, then order number."""

    def key(order: Order):
        lines = [line for line in order.lines.all() if not line.is_adjustment and line.removed_at is None]
        first = min(((line.stock_location or "~", line.sku) for line in lines), default=("~", ""))
        return (*first, order.order_number)

    return [order.pk for order in sorted(orders, key=key)]


def print_batch_create(
    *, merchant: Merchant, kind: str, order_ids: Sequence[int], actor: AbstractBaseUser | None = None
) -> PrintBatch:
    if kind not in PrintBatch.Kind.values:
        raise ApplicationError(f"Unknown document kind {kind!r}.")
    ids = list(dict.fromkeys(int(i) for i in order_ids))
    if not ids:
        raise ApplicationError("Select at least one order.")
    if len(ids) > MAX_BATCH:
        raise ApplicationError(f"Print at most {MAX_BATCH} orders at once.")
    orders = list(_orders(merchant, ids))
    if len(orders) != len(ids):
        raise ApplicationError("Some of those orders do not exist.")  # or belong to someone else
    with transaction.atomic():
        batch = PrintBatch.objects.create(
            merchant=merchant,
            kind=kind,
            order_ids=pick_order(orders),
            total=len(ids),
            created_by=actor if actor is not None and actor.is_authenticated else None,
        )
        transaction.on_commit(lambda: current_app.send_task(RENDER_TASK, args=[batch.pk]))
    return batch


def _render_chunk(batch: PrintBatch, orders: list[Order]) -> tuple[bytes | None, dict[str, str]]:
    """Render one chunk; an order that fails is reported and left out, the chunk goes on."""
    data, errors = [], {}
    for order in orders:
        try:
            data.append(
                label_data(active_shipment(order)) if batch.kind == PrintBatch.Kind.LABELS else packing_slip_data(order)
            )
        except ApplicationError as exc:
            errors[str(order.pk)] = f"{order.order_number}: {exc.message}"
    if not data:
        return None, errors
    render = render_labels if batch.kind == PrintBatch.Kind.LABELS else render_packing_slips
    try:
        return render(data), errors
    except Exception:  # one bad document must not sink the batch: render this chunk one by one
        logger.exception("rendering a chunk of batch %s failed; retrying order by order", batch.pk)
    parts = []
    for order, item in zip([o for o in orders if str(o.pk) not in errors], data, strict=True):
        try:
            parts.append(render([item]))
        except Exception as exc:
            errors[str(order.pk)] = f"{order.order_number}: could not be rendered ({exc})"
    return (merge_pdfs(parts) if parts else None), errors


def print_batch_render(*, batch_id: int) -> PrintBatch:
    """Render a batch chunk by chunk, recording progress a user can watch; idempotent once done."""
    # Pending, or left "rendering" by a worker that died past the task's time limit (acks_late redelivers it).
    stale = timezone.now() - timedelta(minutes=35)
    claimed = (
        PrintBatch.objects.filter(pk=batch_id)
        .filter(Q(status=PrintBatch.Status.PENDING) | Q(status=PrintBatch.Status.RENDERING, created_at__lt=stale))
        .update(status=PrintBatch.Status.RENDERING, done=0, errors={})
    )
    batch = PrintBatch.objects.select_related("merchant").get(pk=batch_id)
    if not claimed:
        return batch
    size = settings.DOCUMENT_CHUNK_SIZE
    parts, errors = [], {}
    try:
        for start in range(0, len(batch.order_ids), size):
            chunk_ids = batch.order_ids[start : start + size]
            by_id = {order.pk: order for order in _orders(batch.merchant, chunk_ids)}
            pdf, chunk_errors = _render_chunk(batch, [by_id[i] for i in chunk_ids if i in by_id])
            if pdf:
                parts.append(pdf)
            errors.update(chunk_errors)
            PrintBatch.objects.filter(pk=batch.pk).update(done=F("done") + len(chunk_ids), errors=errors)
        if parts:
            batch.file.save(f"{batch.kind}-{batch.pk}.pdf", ContentFile(merge_pdfs(parts)), save=False)
        PrintBatch.objects.filter(pk=batch.pk).update(
            file=batch.file.name or "",
            errors=errors,
            finished_at=timezone.now(),
            status=PrintBatch.Status.DONE if parts else PrintBatch.Status.FAILED,
        )
    except Exception as exc:
        PrintBatch.objects.filter(pk=batch.pk).update(
            status=PrintBatch.Status.FAILED, finished_at=timezone.now(), errors={**errors, "batch": str(exc)}
        )
        raise
    batch.refresh_from_db()
    return batch
