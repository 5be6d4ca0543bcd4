"""Shipping an order, or some of its units: the IMEI gate, the shipment, the status, the outbox."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from shipping.core.errors import ApplicationError
from shipping.core.identifiers import classify

from .. import carriers
from ..models import Order, OrderLine, OutboxMessage, Shipment, ShipmentLine, Warehouse
from ..statuses import OrderStatus, StatusSource
from .identifiers import identifier_error, order_line_identifiers
from .notifications import shipment_email_schedule
from .outbox import outbox_add
from .status import order_set_status
from .stock_hooks import StockEvent, orders_stock_changed

SHIPPABLE = {OrderStatus.AWAITING_SHIPMENT, OrderStatus.ON_HOLD}


def shipped_quantities(order: Order) -> dict[int, int]:
    rows = (
        ShipmentLine.objects.filter(shipment__order=order, shipment__voided_at__isnull=True)
        .values("order_line_id")
        .annotate(n=Sum("quantity"))
    )
    return {row["order_line_id"]: row["n"] for row in rows}


def _label(line: OrderLine) -> str:
    return f"Line {line.sku or line.name}"


@transaction.atomic
def shipment_create(
    *,
    order: Order,
    carrier_code: str,
    service_code: str = "",
    tracking_number: str = "",
    ship_date: date | None = None,
    quantities: Mapping[int, int] | None = None,
    serials: Mapping[int, Sequence[str]] | None = None,
    carrier_fee: Decimal | None = None,
    note_to_buyer: str = "",
    warehouse: Warehouse | None = None,
    generate_tracking: bool = False,
    package_code: str = "",
    weight_grams: Decimal | None = None,
    dimensions: tuple[Decimal, Decimal, Decimal] | None = None,
    dimension_units: str = "",
    notify_channel: bool = True,
    notify_customer: bool = True,
    actor: AbstractBaseUser | None = None,
    source: str = StatusSource.USER,
) -> Shipment:
    """Ship the given quantities per order line id (default: everything not shipped yet).

    Orders whose marketplace needs an IMEI or serial per unit (Back Market) are refused, naming
    the line, until every unit has one; they come from ``serials``, the line's own fields, or
    IMEIs typed into Internal Notes.
    """
    order = Order.objects.select_for_update(of=("self",)).select_related("store").get(pk=order.pk)
    if order.status not in SHIPPABLE:
        raise ApplicationError(f"Order {order.order_number} is {order.get_status_display()} and cannot be shipped.")
    found = carriers.carrier(carrier_code)
    if found is None:
        raise ApplicationError(
            f"Unknown carrier {carrier_code!r}.", field_errors={"carrier_code": ["Choose a carrier."]}
        )
    if service_code and found.service(service_code) is None:
        raise ApplicationError(
            f"{found.name} has no service {service_code!r}.", field_errors={"service_code": ["Choose a service."]}
        )
    if dimensions and dimension_units not in ("inches", "centimeters"):
        raise ApplicationError(
            "Give the dimensions' units.", field_errors={"dimension_units": ["inches or centimeters"]}
        )
    if weight_grams is not None and weight_grams <= 0:
        raise ApplicationError("The weight must be positive.", field_errors={"weight": ["Must be positive."]})
    if generate_tracking and not found.self_labelled:
        raise ApplicationError(
            f"Tracking numbers for {found.name} come from {found.name}; we generate them only for own-fleet, "
            "pre-paid and Other shipments.",
            field_errors={"tracking_number": ["Enter the carrier's tracking number."]},
        )
    lines = [line for line in order.lines.all() if line.removed_at is None and line.cancelled_at is None]
    shipped = shipped_quantities(order)
    remaining = {line.pk: line.quantity - shipped.get(line.pk, 0) for line in lines if not line.is_adjustment}
    wanted = dict(quantities) if quantities else {pk: n for pk, n in remaining.items() if n > 0}
    by_id = {line.pk: line for line in lines}
    errors: dict[str, list[str]] = {}
    for line_id, quantity in wanted.items():
        if line_id not in remaining:
            errors.setdefault("lines", []).append(f"Line {line_id} is not a line of order {order.order_number}.")
        elif quantity <= 0 or quantity > remaining[line_id]:
            errors.setdefault("lines", []).append(
                f"{_label(by_id[line_id])}: {remaining[line_id]} unit(s) left to ship, not {quantity}."
            )
    if not wanted:
        errors.setdefault("lines", []).append(f"Order {order.order_number} has nothing left to ship.")
    if errors:
        raise ApplicationError("Nothing was shipped.", field_errors=errors)

    identifiers = _identifiers(order, [by_id[pk] for pk in wanted], wanted, serials or {})
    shipment = Shipment.objects.create(
        order=order,
        warehouse=warehouse or Warehouse.objects.filter(merchant_id=order.merchant_id, is_default=True).first(),
        carrier_code=found.code,
        service_code=service_code,
        tracking_number=tracking_number.strip(),
        ship_date=ship_date or timezone.localdate(),
        carrier_fee=carrier_fee,
        note_to_buyer=note_to_buyer,
        package_code=package_code,
        weight_grams=weight_grams,
        length=dimensions[0] if dimensions else None,
        width=dimensions[1] if dimensions else None,
        height=dimensions[2] if dimensions else None,
        dimension_units=dimension_units if dimensions else "",
        notify_channel=notify_channel,
        notify_customer=notify_customer,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if generate_tracking:
        shipment.tracking_number = carriers.generate_tracking_number(prefix="SH", sequence=shipment.pk)
        shipment.save(update_fields=["tracking_number"])
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(shipment=shipment, order_line_id=pk, quantity=n, serials=list(identifiers.get(pk, ())))
            for pk, n in wanted.items()
        ]
    )
    _remember_identifiers(by_id, identifiers)
    if all(
        shipped.get(pk, 0) + wanted.get(pk, 0) >= n
        for pk, n in ((line.pk, line.quantity) for line in lines if not line.is_adjustment)
    ):
        order_set_status(
            order=order,
            status=OrderStatus.SHIPPED,
            source=source,
            actor=actor,
            note=f"Shipped with {carrier_code} {tracking_number}".strip(),
        )
    if notify_channel and order.store.notifies_shipments:
        outbox_add(
            kind=OutboxMessage.Kind.NOTIFY_SHIPMENT,
            dedupe_key=f"notify_shipment:{shipment.pk}",
            order=order,
            shipment=shipment,
            payload={"external_line_ids": [by_id[pk].external_line_id for pk in wanted]},
        )
    if notify_customer:
        shipment_email_schedule(shipment=shipment, kind="shipped")
    orders_stock_changed(order_ids=[order.pk], event=StockEvent.SHIPMENT, actor=actor)
    return shipment


@transaction.atomic
def shipment_void(*, shipment: Shipment, actor: AbstractBaseUser | None = None) -> Shipment:
    """Void a shipment and its labels; the order can be shipped again (and the channel told again)."""
    shipment = Shipment.objects.select_for_update().select_related("order").get(pk=shipment.pk)
    if shipment.voided_at is not None:
        raise ApplicationError("This shipment is already void.")
    now = timezone.now()
    shipment.voided_at = now
    shipment.save(update_fields=["voided_at"])
    shipment.labels.filter(voided_at__isnull=True).update(voided_at=now)
    order = Order.objects.select_for_update().get(pk=shipment.order_id)
    if order.status == OrderStatus.SHIPPED:
        order_set_status(
            order=order,
            status=OrderStatus.AWAITING_SHIPMENT,
            source=StatusSource.USER,
            actor=actor,
            note=f"Shipment {shipment.tracking_number or shipment.pk} voided",
        )
    orders_stock_changed(order_ids=[order.pk], event=StockEvent.SHIPMENT_VOID, actor=actor)
    return shipment


@transaction.atomic
def shipment_mark_delivered(*, shipment: Shipment) -> Shipment:
    shipment = Shipment.objects.select_for_update().get(pk=shipment.pk)
    if shipment.voided_at is not None:
        raise ApplicationError("A void shipment cannot be delivered.")
    if shipment.delivered_at is None:
        shipment.delivered_at = timezone.now()
        shipment.save(update_fields=["delivered_at"])
        shipment_email_schedule(shipment=shipment, kind="delivered")
    return shipment


def _identifiers(
    order: Order, lines: list[OrderLine], wanted: Mapping[int, int], given: Mapping[int, Sequence[str]]
) -> dict[int, tuple[str, ...]]:
    known = {item.line.pk: item.values for item in order_line_identifiers(order=order)}
    out: dict[int, tuple[str, ...]] = {}
    problems: list[str] = []
    for line in lines:
        values = tuple(v.strip() for v in given.get(line.pk, ()) if v and v.strip()) or known.get(line.pk, ())
        for value in values:
            if error := identifier_error(value):
                problems.append(f"{_label(line)}: {error}")
        if order.store.requires_serials and len(values) < wanted[line.pk]:
            problems.append(
                f"{_label(line)} needs an IMEI or serial number for each unit "
                f"({len(values)} of {wanted[line.pk]}). Enter it on the line or in Internal Notes."
            )
        out[line.pk] = tuple(classify(v)[1] for v in values[: wanted[line.pk]])
    if problems:
        raise ApplicationError(
            f"Order {order.order_number} cannot be marked shipped yet.",
            field_errors={"serials": problems},
            code="serials_missing",
        )
    return out


def _remember_identifiers(lines: Mapping[int, OrderLine], identifiers: Mapping[int, tuple[str, ...]]) -> None:
    """Keep the first identifier on the line (app-owned) so the order page shows what was sent."""
    for pk, values in identifiers.items():
        line = lines[pk]
        if not values or line.imei or line.serial_number:
            continue
        kind, value = classify(values[0])
        if kind == "imei":
            line.imei = value
        else:
            line.serial_number = value[:100]
        line.save(update_fields=["imei", "serial_number"])


def orders_ship_many(
    *, merchant, order_ids: Sequence[int], carrier_code: str, service_code: str = "", actor=None
) -> tuple[int, list[str]]:
    """Mark many of the merchant's orders shipped in full with a carrier the app labels itself (it makes the
    tracking numbers); each order ships or not on its own, and the refused ones say why (e.g. missing IMEIs)."""
    found = carriers.carrier(carrier_code)
    if found is None or not found.self_labelled:
        raise ApplicationError(
            "Marking many orders shipped at once needs a carrier that gets its tracking numbers here "
            "(own fleet, Other); for other carriers enter each tracking number on the order.",
            field_errors={"carrier_code": ["Choose own fleet or Other."]},
        )
    shipped, refused = 0, []
    for order in Order.objects.filter(merchant=merchant, pk__in=order_ids).select_related("store"):
        try:
            shipment_create(
                order=order, carrier_code=carrier_code, service_code=service_code, generate_tracking=True, actor=actor
            )
            shipped += 1
        except ApplicationError as exc:
            refused.append(f"{order.order_number}: {exc.message}")
    return shipped, refused
