"""What the ShipStation-compatible API changes: create/update orders (upsert by orderKey), delete, labels.

Orders of a manual store belong to the API client, which sends them whole (ShipStation's "full
replace"). Orders of a connected channel belong to the marketplace: the API changes only what the
app owns there (Internal Notes, holds and tags); everything else it sends is left as the import keeps it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from channels.base import ExternalOrder, ExternalOrderLine
from shipping.accounts.models import Merchant
from shipping.core.errors import ApplicationError

from .. import carriers
from ..documents.labels import render_labels
from ..models import Order, Shipment
from ..statuses import FINAL_STATUSES, OrderStatus, StatusSource
from .documents import label_data, label_render
from .holds import order_hold, order_release_hold
from .order_edit import order_update_internal_notes
from .order_import import ImportItem, Outcome, orders_upsert_from_channel
from .shipments import shipment_create
from .status import order_set_status
from .stock_hooks import StockEvent, orders_stock_changed
from .tags import order_tags_set, tags_for_ids

MANUAL = "manual"  # channels.base.ChannelKind.MANUAL, without importing the channels models


def _find(*, merchant: Merchant, order_key: str, store_id: int | None, order_id: int | None) -> Order | None:
    if order_key:
        qs = Order.objects.filter(merchant=merchant, external_id=order_key)
        if store_id:
            qs = qs.filter(store_id=store_id)
        found = list(qs.select_for_update(of=("self",)).select_related("store")[:2])
        if len(found) > 1:
            raise ApplicationError(
                f"Orders in several stores have the orderKey {order_key!r}; give advancedOptions.storeId.",
                field_errors={"order_key": ["Ambiguous: give advancedOptions.storeId."]},
            )
        if found and order_id and found[0].pk != order_id:
            raise ApplicationError(
                "orderId and orderKey name different orders.", field_errors={"order_id": ["Does not match orderKey."]}
            )
        return found[0] if found else None
    if order_id:
        # Order.DoesNotExist (a 404) when it is not this merchant's.
        return Order.objects.select_for_update(of=("self",)).select_related("store").get(merchant=merchant, pk=order_id)
    return None


def _manual_store(*, merchant: Merchant, store_id: int | None):
    stores = merchant.stores.filter(kind=MANUAL, is_active=True).order_by("pk")
    if store_id:
        store = merchant.stores.filter(pk=store_id).first()
        if store is None:
            raise ApplicationError(
                f"There is no store {store_id}.", field_errors={"advanced_options.store_id": ["Unknown store."]}
            )
        if store.kind != MANUAL:
            raise ApplicationError(
                f"{store.name} is connected to its marketplace, which sends its orders; "
                "create orders in a manual store.",
                field_errors={"advanced_options.store_id": ["Not a manual store."]},
            )
        if not store.is_active:
            raise ApplicationError(f"{store.name} is deactivated.")
        return store
    store = stores.first()
    if store is None:
        raise ApplicationError(
            "Orders created through the API go to a manual store, and there is none: connect one first "
            "(`manage.py connect_store SLUG manual`)."
        )
    return store


def _keyed_lines(
    lines: Sequence[ExternalOrderLine], item_ids: Sequence[int | None], existing: Order | None
) -> tuple[ExternalOrderLine, ...]:
    """Lines without a lineItemKey keep the key of the line their orderItemId names, else their position."""
    known = {line.pk: line.external_line_id for line in existing.lines.all()} if existing else {}
    out, seen = [], set()
    for index, (line, item_id) in enumerate(zip(lines, item_ids, strict=True), 1):
        key = line.external_line_id or known.get(item_id or 0) or str(index)
        if key in seen:
            raise ApplicationError(
                f"Two items have the lineItemKey {key!r}.", field_errors={"items": ["lineItemKey must be unique."]}
            )
        seen.add(key)
        out.append(replace(line, external_line_id=key))
    return tuple(out)


def _apply_hold_or_status(*, order: Order, status: str, hold_until: datetime | None, any_status: bool) -> Order:
    """Holds and releases for every order; other moves only where the client owns the order (manual)."""
    if status == OrderStatus.ON_HOLD:
        if order.status != OrderStatus.ON_HOLD or (hold_until and order.hold_until != hold_until):
            order = order_hold(order=order, until=hold_until, reason="Held through the API", source=StatusSource.API)
    elif order.status == OrderStatus.ON_HOLD and status == OrderStatus.AWAITING_SHIPMENT:
        order = order_release_hold(order=order, source=StatusSource.API)
    elif any_status and status != order.status:
        order_set_status(order=order, status=status, source=StatusSource.API, note="Changed through the API")
    return order


@transaction.atomic
def order_save_from_api(
    *,
    merchant: Merchant,
    external: ExternalOrder,
    status: str,
    item_ids: Sequence[int | None],
    order_id: int | None = None,
    store_id: int | None = None,
    hold_until: datetime | None = None,
    internal_notes: str | None = None,
    weight_grams: Decimal | None = None,
    tag_ids: Sequence[int] | None = None,
) -> tuple[Order, bool]:
    """POST /orders/createorder: returns the order and whether it was created.

    ``external.external_id`` is the orderKey ("" when the client gave none: a new order gets one).
    ``internal_notes`` None means "not sent", so the notes are left alone; so does ``tag_ids`` None for the
    tags (app-owned, so taken on every order; a list, even empty, is the order's tags from now on).
    """
    tags = tags_for_ids(merchant=merchant, tag_ids=tag_ids) if tag_ids is not None else None
    existing = _find(merchant=merchant, order_key=external.external_id, store_id=store_id, order_id=order_id)
    if existing is not None and existing.status in FINAL_STATUSES:
        raise ApplicationError(
            f"Order {existing.order_number} is {existing.get_status_display()} and can no longer be changed."
        )
    if existing is not None and existing.store.kind != MANUAL:
        if internal_notes is not None and internal_notes != existing.internal_notes:
            order_update_internal_notes(order=existing, notes=internal_notes)
        _apply_hold_or_status(order=existing, status=status, hold_until=hold_until, any_status=False)
        if tags is not None:
            order_tags_set(order=existing, tags=tags)
        return existing, False

    store = existing.store if existing is not None else _manual_store(merchant=merchant, store_id=store_id)
    ext = replace(
        external,
        external_id=existing.external_id if existing is not None else (external.external_id or uuid.uuid4().hex),
        updated_at=timezone.now(),
        internal_notes=internal_notes or "",
        lines=_keyed_lines(external.lines, item_ids, existing),
    )
    # An update keeps the status where it is here; the move below is recorded as the API's.
    mapped = existing.status if existing is not None else status
    [result] = orders_upsert_from_channel(store=store, items=[ImportItem(ext, mapped)], force=True)
    if result.outcome == Outcome.FAILED:
        raise ApplicationError(f"The order could not be saved: {result.error}")
    order = Order.objects.select_related("store").get(pk=result.order_id)
    if existing is not None and internal_notes is not None and internal_notes != order.internal_notes:
        order = order_update_internal_notes(order=order, notes=internal_notes)
    if weight_grams:
        Order.objects.filter(pk=order.pk).update(total_weight_grams=weight_grams)
    if status != OrderStatus.ON_HOLD or hold_until is not None or existing is not None:
        _apply_hold_or_status(order=order, status=status, hold_until=hold_until, any_status=True)
        orders_stock_changed(order_ids=[order.pk], event=StockEvent.ORDER_CHANGE)  # e.g. cancelled by the API
    if tags is not None:
        order_tags_set(order=order, tags=tags)
    return order, existing is None


@transaction.atomic
def order_delete_from_api(*, order: Order) -> None:
    """DELETE /orders/{id}: manual orders only, and only before anything shipped."""
    order = Order.objects.select_for_update(of=("self",)).select_related("store").get(pk=order.pk)
    if order.store.kind != MANUAL:
        raise ApplicationError(
            f"Order {order.order_number} comes from {order.store.name}; only orders of a manual store can be deleted."
        )
    if order.shipments.exists():
        raise ApplicationError(f"Order {order.order_number} has shipments and cannot be deleted.")
    orders_stock_changed(order_ids=[order.pk], event=StockEvent.ORDER_DELETED)  # what it holds goes back
    order.delete()


@transaction.atomic
def order_label_create(
    *,
    order: Order,
    carrier_code: str,
    service_code: str = "",
    package_code: str = "",
    ship_date: date | None = None,
    weight_grams: Decimal | None = None,
    dimensions: tuple[Decimal, Decimal, Decimal] | None = None,
    dimension_units: str = "",
    test_label: bool = False,
) -> tuple[Shipment | None, bytes]:
    """POST /orders/createlabelfororder: ship the order and draw its 4x6 label (a PDF).

    Only for carriers the app labels itself (own fleet, pre-paid, Other): it generates the tracking
    number. A test label is drawn with a test number and ships nothing.
    """
    found = carriers.carrier(carrier_code)
    if found is None:
        raise ApplicationError(f"Unknown carrier {carrier_code!r}.", field_errors={"carrier_code": ["Unknown."]})
    if not found.self_labelled:
        message = (
            f"{found.name} labels need a {found.name} carrier account, which is not connected here. Labels are "
            f"generated only for own-fleet, pre-paid and Other shipments; ship with {found.name} by marking the "
            "order shipped with its tracking number (POST /orders/markasshipped)."
        )
        raise ApplicationError(message, field_errors={"carrier_code": [message]})
    if test_label:
        draft = Shipment(
            order=order,
            carrier_code=found.code,
            service_code=service_code,
            tracking_number=carriers.generate_tracking_number(prefix="TEST", sequence=order.pk),
            ship_date=ship_date or timezone.localdate(),
            weight_grams=weight_grams,
        )
        return None, render_labels([label_data(draft)])
    shipment = shipment_create(
        order=order,
        carrier_code=found.code,
        service_code=service_code,
        package_code=package_code,
        ship_date=ship_date,
        weight_grams=weight_grams,
        dimensions=dimensions,
        dimension_units=dimension_units,
        generate_tracking=True,
        source=StatusSource.API,
    )
    label = label_render(shipment=shipment)
    with label.file.open("rb") as fh:
        return shipment, fh.read()
